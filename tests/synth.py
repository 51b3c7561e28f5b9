"""A synthetic raw generator with known ground truth.

Known scene (XYZ per pixel, e.g. the 24 ColorChecker patches rendered from their spectral reflectances
under a CIE illuminant) → camera RGB through a known XYZ→camera matrix (a Luther camera, so the DNG
colour model is exact for it) → Bayer mosaic → exposure, Poisson–Gaussian noise, black level, white level,
quantisation → a RAW-state :class:`rawlux.Frame` with the DNG colour metadata, and optionally a DNG
written with :func:`rawlux.io.dngwrite.write_dng`.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COLOUR_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "colour"

#: EXIF LightSource codes of the illuminants used here
ILLUMINANT_CODES = {"A": 17, "D65": 21, "D50": 23}

_CROSSTALK = np.array([[0.80, 0.15, 0.05],
                       [0.10, 0.80, 0.10],
                       [0.05, 0.20, 0.75]])
_CAMERA_PRIMARIES = ((0.68, 0.31), (0.28, 0.66), (0.14, 0.05))
_CAMERA_GAINS = np.array([0.55, 1.0, 0.65])   # unequal channel sensitivities: the neutral is not grey


def camera_matrix() -> np.ndarray:
    """A plausible XYZ→camera matrix (DNG ColorMatrix): wide primaries, channel crosstalk, unequal gains."""
    P = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in _CAMERA_PRIMARIES]).T
    wd65 = np.array([0.3127 / 0.3290, 1.0, (1 - 0.3127 - 0.3290) / 0.3290])
    P = P * np.linalg.solve(P, wd65)            # camera RGB (1,1,1) = D65 white before gains
    return np.diag(_CAMERA_GAINS) @ _CROSSTALK @ np.linalg.inv(P)


def reflectances(path: Path | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(wavelengths nm, patch names, reflectance array [n_wl, 24]) of the ColorChecker."""
    p = path or COLOUR_DIR / "BabelColor_Average_spectral_reflectance.csv"
    with open(p, newline="") as fh:
        rows = list(csv.reader(fh))
    names = rows[0][1:]
    arr = np.array([[float(v) for v in r] for r in rows[1:] if r])
    return arr[:, 0], names, arr[:, 1:]


def checker_xyz(illuminant: str = "D65") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """XYZ of the 24 patches lit by a CIE illuminant (perfect white Y = 1), and the illuminant's white XYZ."""
    import colour

    wl, names, refl = reflectances()
    shape = colour.SpectralShape(float(wl[0]), float(wl[-1]), float(wl[1] - wl[0]))
    cmfs = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"].copy().align(shape).values
    spd = colour.SDS_ILLUMINANTS[illuminant].copy().align(shape).values
    k = 1.0 / np.sum(spd * cmfs[:, 1])
    xyz = k * (refl * spd[:, None]).T @ cmfs
    white = k * spd @ cmfs
    return xyz, white, names


def chart_image(values: np.ndarray, patch: int = 32, gap: int = 8, cols: int = 6,
                background: np.ndarray | None = None) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Lay out N colours (N×3) as a grid of square patches; return the image and each patch's (y, x, h, w)."""
    n = len(values)
    rows = (n + cols - 1) // cols
    h, w = gap + rows * (patch + gap), gap + cols * (patch + gap)
    bg = np.asarray(background if background is not None else values.mean(axis=0) * 0.5, np.float64)
    img = np.empty((h, w, 3), np.float64)
    img[:] = bg
    boxes = []
    for i, v in enumerate(values):
        y, x = gap + (i // cols) * (patch + gap), gap + (i % cols) * (patch + gap)
        img[y:y + patch, x:x + patch] = v
        boxes.append((y, x, patch, patch))
    return img, boxes


PATTERN_CODES = {"RGGB": (0, 1, 1, 2), "BGGR": (2, 1, 1, 0), "GRBG": (1, 0, 2, 1), "GBRG": (1, 2, 0, 1)}


def mosaic(rgb: np.ndarray, pattern: str = "RGGB") -> np.ndarray:
    """Sample an H×W×3 image through a Bayer colour filter array."""
    code = PATTERN_CODES[pattern]
    out = np.empty(rgb.shape[:2], rgb.dtype)
    for i, c in enumerate(code):
        out[i // 2::2, i % 2::2] = rgb[i // 2::2, i % 2::2, c]
    return out


@dataclass
class SynthRaw:
    frame: "object"            # rawlux.Frame in RAW state (uint16 mosaic)
    camera_rgb: np.ndarray     # noise-free camera RGB, normalised to the white level
    neutral: np.ndarray        # camera response to the illuminant's white, G = 1


def synth_raw(xyz_image: np.ndarray, white_xyz: np.ndarray, *, xyz_to_cam: np.ndarray | None = None,
              illuminant: str = "D65", pattern: str = "RGGB", bits: int = 12, black: int = 64,
              exposure: float = 0.6, full_well: float = 20000.0, read_noise: float = 1.5,
              seed: int = 0, dual: bool = True):
    """A RAW-state Frame of a scene given as XYZ, with the DNG tags a camera would write.

    ``exposure`` is the raw level (fraction of white − black) that the illuminant's white reaches in the
    strongest channel. Noise: Poisson shot noise at ``full_well`` electrons for full scale, Gaussian read
    noise in DN. ``dual`` writes the same matrix for illuminant A and D65 (exact for a Luther camera).
    """
    from rawlux.frame import Frame, Metadata, State

    cm = camera_matrix() if xyz_to_cam is None else np.asarray(xyz_to_cam, np.float64)
    cam = xyz_image @ cm.T
    cam_white = cm @ np.asarray(white_xyz, np.float64)
    scale = exposure / cam_white.max()
    cam = np.clip(cam * scale, 0, None)
    white_level = 2 ** bits - 1
    span = white_level - black
    rng = np.random.default_rng(seed)
    mos = mosaic(cam, pattern)
    electrons = rng.poisson(np.clip(mos, 0, 1.5) * full_well) / full_well
    dn = black + electrons * span + rng.normal(0.0, read_noise, mos.shape)
    raw = np.clip(np.rint(dn), 0, white_level).astype(np.uint16)
    neutral = cam_white / cam_white[1]
    meta = Metadata(source=None, kind="raw", cfa_pattern=pattern)
    meta.black_level = np.full((2, 2), float(black), np.float32)
    meta.white_level = float(white_level)
    meta.saturation = np.ones(3, np.float32)
    meta.as_shot_neutral = neutral
    if dual:
        meta.color_matrix1, meta.illuminant1 = cm.copy(), ILLUMINANT_CODES["A"]
        meta.color_matrix2, meta.illuminant2 = cm.copy(), ILLUMINANT_CODES["D65"]
    else:
        meta.color_matrix1, meta.illuminant1 = cm.copy(), ILLUMINANT_CODES.get(illuminant, 21)
    meta.make, meta.model = "Synthetic", "Luther camera"
    meta.exif = {"Make": "Synthetic", "Model": "Luther camera", "ExposureTime": 0.01, "FNumber": 4.0,
                 "ISO": 100, "DateTimeOriginal": "2024:05:06 07:08:09"}
    return SynthRaw(Frame(raw, State.RAW, meta), cam, neutral)


def write_dng(path: Path, synth: SynthRaw) -> Path:
    from rawlux.io.dngwrite import write_dng as _w
    return _w(path, synth.frame)
