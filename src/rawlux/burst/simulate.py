"""Burst simulator: a clean scene → N raw frames with known hand-shake, motion and noise.

Each frame sees the scene through a similarity transform (sub-pixel translation, small rotation
about the frame centre), optionally with a textured object that moves in some frames, then is
sampled through a Bayer CFA with the camera's white balance, given Poisson–Gaussian noise (a
phone-sized sensor: ``var = a·v + b`` in normalised units, ``a`` ∝ ISO) and quantised to 14 bits.
The truth is the clean, white-balanced camera RGB seen by the reference frame; ``mask`` marks
where the moving object is in the reference view.

    sim = simulate_burst(scene_rgb_linear, n=8, iso=3200, shift=16, rotation=0.5, seed=1)
    sim.frames          # RAW-state Frames (uint16 mosaics with full metadata)
    sim.truth           # H×W×3 float32, white-balanced camera RGB of frame sim.ref
    sim.displacement(k) # H×W×2 true (dy, dx): ref pixel → frame k pixel, in pixels
    sim.write(folder)   # DNG files, one per frame
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..frame import BAYER_PATTERNS, Frame, Metadata, State

#: XYZ → linear sRGB (D65), used to give the simulated camera a consistent colour matrix
_XYZ_TO_RGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])
_D65_XYZ = np.array([0.95047, 1.0, 1.08883])


def sensor_noise(iso: float, full_well: float = 3000.0, read_noise: float = 3.0) -> tuple[float, float]:
    """(a, b) of ``var = a·v + b`` (v normalised to white = 1) for a small sensor at ``iso``.

    ``full_well`` electrons at ISO 100 and ``read_noise`` electrons: gain scales with ISO/100.
    """
    gain = max(float(iso), 1.0) / 100.0
    electrons_at_white = full_well / gain
    return 1.0 / electrons_at_white, (read_noise / electrons_at_white) ** 2


def load_scene(path: str | Path, scale: float = 1.0) -> np.ndarray:
    """An 8-bit sRGB image → linear float32 RGB in [0, 1], upsampled by ``scale`` (bicubic)."""
    import cv2
    import tifffile
    from PIL import Image

    p = str(path)
    if p.lower().endswith((".tif", ".tiff")):
        img = tifffile.imread(p)
    else:
        with Image.open(p) as im:
            img = np.asarray(im.convert("RGB"))
    x = img[..., :3].astype(np.float32) / (255.0 if img.dtype == np.uint8 else 65535.0)
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)
    if scale != 1.0:
        h, w = lin.shape[:2]
        lin = cv2.resize(lin, (int(round(w * scale)), int(round(h * scale))), interpolation=cv2.INTER_CUBIC)
    return np.clip(lin, 0.0, 1.0)


@dataclass
class SimBurst:
    frames: list[Frame]
    truth: np.ndarray                      # H×W×3, white-balanced camera RGB of the reference view
    ref: int
    matrices: list[np.ndarray]             # 2×3: frame pixel → scene pixel
    mask: np.ndarray | None                # H×W bool: moving object in the reference view
    noise: tuple[float, float]
    neutral: np.ndarray
    exposures: list[float] = field(default_factory=list)
    truths: list[np.ndarray] = field(default_factory=list)  # per-frame clean views (WB'd, unit exposure)

    def displacement(self, k: int) -> np.ndarray:
        """True (dy, dx) taking each reference pixel to where the same scene point lies in frame k."""
        h, w = self.truth.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        a = np.vstack([self.matrices[self.ref], [0, 0, 1]])
        b = np.vstack([self.matrices[k], [0, 0, 1]])
        m = np.linalg.inv(b) @ a
        x2 = m[0, 0] * xx + m[0, 1] * yy + m[0, 2]
        y2 = m[1, 0] * xx + m[1, 1] * yy + m[1, 2]
        return np.stack([y2 - yy, x2 - xx], axis=-1).astype(np.float32)

    def write(self, folder: str | Path, stem: str = "burst") -> list[Path]:
        from ..io.dngwrite import write_dng

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, f in enumerate(self.frames):
            paths.append(write_dng(folder / f"{stem}_{i:02d}.dng", f))
        return paths


def _frame_matrix(theta_deg: float, ty: float, tx: float, h: int, w: int, oy: float, ox: float) -> np.ndarray:
    """Frame pixel → scene pixel: rotate by theta about the frame centre, then translate."""
    t = np.deg2rad(theta_deg)
    c, s = np.cos(t), np.sin(t)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    # scene = R (p - c) + c + offset + t
    m = np.array([[c, -s, 0.0], [s, c, 0.0]])
    m[:, 2] = -m[:, :2] @ np.array([cx, cy]) + np.array([cx + ox + tx, cy + oy + ty])
    return m


def _paste_object(scene: np.ndarray, texture: np.ndarray, r: int, pos) -> np.ndarray:
    """``scene`` with ``texture`` pasted as a soft disc of radius ``r`` centred at ``pos`` (y, x), sub-pixel."""
    import cv2

    sh, sw = scene.shape[:2]
    tex = cv2.resize(texture, (2 * r + 1, 2 * r + 1), interpolation=cv2.INTER_AREA)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    alpha = np.clip(r + 0.5 - np.hypot(yy, xx), 0, 1).astype(np.float32)
    # place with a sub-pixel offset: warp texture + alpha into the scene canvas
    cy, cx = pos
    m = np.array([[1, 0, cx - r], [0, 1, cy - r]], dtype=np.float64)
    t_w = cv2.warpAffine(tex, m, (sw, sh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT)
    a_w = cv2.warpAffine(alpha, m, (sw, sh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return scene * (1 - a_w[..., None]) + t_w * a_w[..., None]


def simulate_burst(scene: np.ndarray, n: int = 8, *, size: tuple[int, int] | None = None, iso: float = 3200,
                   shift: float = 16.0, rotation: float = 0.5, seed: int = 0, ref: int = 0,
                   pattern: str = "RGGB", neutral: tuple[float, float, float] = (0.52, 1.0, 0.68),
                   moving_object: np.ndarray | None = None, object_radius: int = 60,
                   object_moves: float = 0.5, exposures: list[float] | None = None,
                   blur: list[float] | None = None, noise: tuple[float, float] | None = None,
                   black: int = 512, white: int = 16383, keep_views: bool = False) -> SimBurst:
    """Simulate a hand-held raw burst of ``n`` frames from a linear RGB ``scene`` (values in [0, 1]).

    ``size`` (h, w): frame size (default: the scene less a margin for the shake). ``moving_object``:
    an RGB texture pasted as a soft disc that jumps 25–60 px in a fraction ``object_moves`` of the
    frames other than the reference. ``exposures``: per-frame relative exposure (brackets).
    ``blur``: per-frame motion-blur length in pixels. ``noise``: (a, b), default from ``iso``.
    ``keep_views``: keep every frame's clean view in ``truths`` (memory: n full RGB images).
    """
    import cv2

    rng = np.random.default_rng(seed)
    sh, sw = scene.shape[:2]
    margin = int(np.ceil(shift + 2 + np.deg2rad(rotation) * max(sh, sw) * 0.75))
    if size is None:
        size = (sh - 2 * margin, sw - 2 * margin)
    h, w = (int(size[0]) // 2) * 2, (int(size[1]) // 2) * 2
    if h < 16 or w < 16 or h + 2 * margin > sh or w + 2 * margin > sw:
        raise ValueError(f"scene {sw}×{sh} too small for {w}×{h} frames with ±{shift}px shake")
    oy, ox = (sh - h) / 2.0, (sw - w) / 2.0
    a, b = noise if noise is not None else sensor_noise(iso)
    neutral_a = np.asarray(neutral, dtype=np.float64)
    exposures = list(exposures) if exposures is not None else [1.0] * n
    blur = list(blur) if blur is not None else [0.0] * n

    # object: a soft-edged disc of texture, placed in scene coordinates
    obj_pos = []
    centre = np.array([sh / 2.0 + rng.uniform(-0.15, 0.15) * h, sw / 2.0 + rng.uniform(-0.15, 0.15) * w])
    movers = set()
    if moving_object is not None:
        others = [k for k in range(n) if k != ref]
        n_move = int(round(object_moves * len(others)))
        movers = set(rng.choice(others, size=n_move, replace=False).tolist()) if n_move else set()
    for k in range(n):
        if k in movers:
            ang = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(25, 60)
            obj_pos.append(centre + dist * np.array([np.sin(ang), np.cos(ang)]))
        else:
            obj_pos.append(centre.copy())

    def scene_for(k: int) -> np.ndarray:
        if moving_object is None:
            return scene
        return _paste_object(scene, moving_object, object_radius, obj_pos[k])

    mask = None
    if moving_object is not None:
        r = object_radius
        cy, cx = obj_pos[ref]
        # object disc mapped into the reference view (the reference's matrix is drawn first below)
    code = np.array(BAYER_PATTERNS[pattern]).reshape(2, 2)
    cfa_idx = np.tile(code, (h // 2, w // 2))
    frames, mats, truths = [], [], []
    truth = None
    cm = np.diag(neutral_a) @ _XYZ_TO_RGB
    cm = cm / (cm @ _D65_XYZ)[:, None] * neutral_a[:, None]   # D65 white → the camera neutral
    for k in range(n):
        th = rng.uniform(-rotation, rotation)
        ty, tx = rng.uniform(-shift, shift, size=2)
        if k == ref:
            th *= 0.5
        m = _frame_matrix(th, ty, tx, h, w, oy, ox)
        mats.append(m)
        sc = scene_for(k)
        if blur[k] > 0:  # motion blur: average of positions along a random direction
            steps = max(3, int(np.ceil(blur[k])) * 2 + 1)
            ang = rng.uniform(0, np.pi)
            view = np.zeros((h, w, 3), np.float32)
            for s_ in np.linspace(-blur[k] / 2, blur[k] / 2, steps):
                mm = m.copy()
                mm[:, 2] += s_ * np.array([np.cos(ang), np.sin(ang)])
                view += cv2.warpAffine(sc, mm, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP)
            view /= steps
        else:
            view = cv2.warpAffine(sc, m, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP)
        view = np.clip(view, 0.0, None).astype(np.float32)
        if k == ref:
            truth = view * np.float32(exposures[ref])
        if keep_views:
            truths.append(view)
        cam = view * (neutral_a * exposures[k]).astype(np.float32)
        del view
        v = np.take_along_axis(cam, cfa_idx[..., None], axis=2)[..., 0]
        del cam
        v = np.clip(v, 0.0, None)
        photons = (rng.poisson(v / a) * a).astype(np.float32) if a > 0 else v
        noisy = photons + rng.normal(0.0, np.sqrt(b), size=v.shape).astype(np.float32) if b > 0 else photons
        dn = np.clip(np.rint(black + noisy * (white - black)), 0, white).astype(np.uint16)
        meta = Metadata(source=None, kind="raw", make="rawlux", model="burst simulator", cfa_pattern=pattern)
        meta.black_level = np.full((2, 2), float(black), np.float32)
        meta.white_level = float(white)
        meta.saturation = np.ones(3, np.float32)
        meta.as_shot_neutral = neutral_a.copy()
        meta.color_matrix1 = cm.copy()
        meta.illuminant1 = 21
        meta.noise_profile = (float(a), float(b)) * 3
        meta.exif = {"Make": "rawlux", "Model": "burst simulator", "ISO": int(iso),
                     "ExposureTime": 0.01 * exposures[k], "FNumber": 2.0, "FocalLength": 5.0}
        frames.append(Frame(dn, State.RAW, meta))
    if moving_object is not None:
        mref = np.vstack([mats[ref], [0, 0, 1]])
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        sx = mref[0, 0] * xx + mref[0, 1] * yy + mref[0, 2]
        sy = mref[1, 0] * xx + mref[1, 1] * yy + mref[1, 2]
        mask = np.hypot(sy - cy, sx - cx) <= r - 1.0
    return SimBurst(frames, truth.astype(np.float32), ref, mats, mask, (a, b), neutral_a,
                    exposures=exposures, truths=truths)


def mcmaster_scene(index: int, data: str | Path, scale: float = 1.6) -> np.ndarray:
    """McMaster image ``index`` (1–18) as a linear scene, upsampled by ``scale``."""
    return load_scene(Path(data) / "demosaic" / "mcmaster" / f"{index}.tif", scale)


def wb_cfa(cfa: np.ndarray, pattern: str, neutral: np.ndarray) -> np.ndarray:
    """White-balance a normalised mosaic by the camera neutral (divide each CFA colour by it)."""
    code = BAYER_PATTERNS[pattern]
    out = np.array(cfa, dtype=np.float32, copy=True)
    for i, c in enumerate(code):
        out[i // 2::2, i % 2::2] /= np.float32(neutral[c])
    return out


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, border: int = 24) -> float:
    """PSNR (peak 1) of ``a`` against ``b``, ``border`` pixels excluded, inside ``mask`` if given."""
    sl = (slice(border, -border or None), slice(border, -border or None))
    d = (np.clip(a, 0, 1) - np.clip(b, 0, 1))[sl].astype(np.float64) ** 2
    if mask is not None:
        d = d[mask[sl]]
    mse = float(np.mean(d))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def score(cfa: np.ndarray, sim: SimBurst, *, method: str | None = None, border: int = 24) -> tuple[float, float | None]:
    """(PSNR overall, PSNR inside the moving object) of a normalised mosaic after the same demosaic."""
    from ..isp.demosaic import demosaic

    pattern = sim.frames[sim.ref].meta.cfa_pattern or "RGGB"
    rgb = demosaic(wb_cfa(cfa, pattern, sim.neutral), pattern, method)
    whole = psnr(rgb, sim.truth, None, border)
    inside = psnr(rgb, sim.truth, sim.mask, border) if sim.mask is not None else None
    return whole, inside
