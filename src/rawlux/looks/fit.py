"""Learn a look from before/after examples (``rawlux look fit --pairs DIR -o mine.toml``).

Pairs are matched by name: ``X.before.EXT`` with ``X.after.EXT``, or ``before/X.EXT`` with
``after/X.EXT`` (any image type rawlux reads; the two may differ in size and be misaligned by a few
pixels). Each pair is brought to a common working size (long side 512), the *after* image is aligned
to the *before* image by phase correlation, edges are weighted out (the sharpest quarter of the
picture is not used: residual misalignment, resampling and JPEG ringing change colours there that the
look did not), and both are averaged down 4× over what is left, giving colour correspondences.

The model is the one a look file can hold: a tone curve (``[curve] points``, per channel, on the
working encoding) followed by a 3D LUT (``[lut]``, 17³, ``space = "rec2020"`` = the same encoding).
The curve is a monotone fit of the per-channel tonal change (binned medians, pool-adjacent-violators).
The LUT is identity plus a correction solved by regularised least squares (Zeng et al. 2020's idea of
smoothness priors on a learned LUT): the data term uses the same tetrahedral weights the LUT is
applied with, a second-difference (curvature) term keeps it smooth — affine corrections such as a
channel mix or a monochrome projection are free, and colours not seen in the examples are reached by
smooth continuation — and a tiny ridge term keeps the system well posed. With ``source="raw"`` (the
*after* images are rawlux renders of raw files) they are taken back through the output stage's gamut
compression for raw sources, which the fitted look's render applies again; for renders of JPEG/PNG/
TIFF/HEIF files and for images from other tools (``source="image"``, the default) nothing is undone:
those keep in-gamut colours as they are. (Undoing a compression that never happened pushed saturated
colours outwards and cost 0.2–0.4 ΔE00 held out.)

Held-out quality: with two or more pairs, each pair is predicted by a fit on the others (leave one
out) and the mean CIEDE2000 is reported; the look written is fitted on all pairs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, LookError, ParameterError

from ..io.formats import PHOTO_EXTENSIONS as IMAGE_EXTS  # noqa: E402 - the one table (io/formats.py)
WORK_LONG = 512
LUT_N = 17
CURVE_X = np.linspace(0.0, 1.0, 11)


@dataclass
class Pair:
    name: str
    before: Path
    after: Path


@dataclass
class FitResult:
    curve_points: list[list[float]]
    lut_table: np.ndarray                      # (N, N, N, 3) on the working encoding
    held_out: list[tuple[str, float]] = field(default_factory=list)   # (pair, mean ΔE00)
    train_de: float = float("nan")

    @property
    def held_out_mean(self) -> float:
        return float(np.mean([d for _, d in self.held_out])) if self.held_out else float("nan")


def find_pairs(folder: str | Path) -> list[Pair]:
    d = Path(folder)
    if not d.is_dir():
        raise ParameterError(f"--pairs {d}: not a folder")
    pairs: dict[str, dict[str, Path]] = {}
    for sub in ("before", "after"):
        sd = d / sub
        if sd.is_dir():
            for f in sorted(sd.iterdir()):
                if f.suffix.lower() in IMAGE_EXTS:
                    pairs.setdefault(f.stem, {})[sub] = f
    for f in sorted(d.iterdir()):
        if f.is_file() and f.suffix.lower() in IMAGE_EXTS:
            stem = f.stem
            for sub in ("before", "after"):
                if stem.endswith("." + sub):
                    pairs.setdefault(stem[: -len(sub) - 1], {})[sub] = f
    out = [Pair(k, v["before"], v["after"]) for k, v in sorted(pairs.items()) if len(v) == 2]
    if not out:
        raise ParameterError(f"--pairs {d}: no pairs found; name them X.before.jpg + X.after.jpg, or put the "
                             f"same file names in {d}/before/ and {d}/after/")
    return out


def _load(path: Path, uncompress: bool = False) -> np.ndarray:
    """Display-linear Rec.2020 H×W×3 float32 of an image file, resized to WORK_LONG on its long side.
    ``uncompress`` undoes rawlux's output gamut compression in the file's colour space, so an *after*
    image gives the colours the look stages produced (the output stage compresses them again)."""
    import cv2

    from ..io.decode import open_image

    frame = open_image(str(path))
    if frame.meta.kind != "image":
        raise InputError(f"{path}: look fitting needs rendered images (JPEG, PNG, TIFF, HEIF), not raw files; "
                         f"develop the raw with the natural look first", path=path)
    px = frame.pixels
    if uncompress:
        from ..colour import spaces
        from .bake import uncompress as undo

        sp = frame.meta.extra.get("input_space", "srgb")
        if sp in spaces.OUTPUT_SPACES:
            fwd = np.asarray(spaces.rgb_to_rgb(spaces.WORKING, sp), np.float32)
            back = np.asarray(spaces.rgb_to_rgb(sp, spaces.WORKING), np.float32)
            flat = undo((px.reshape(-1, 3) @ fwd.T).astype(np.float64)).astype(np.float32) @ back.T
            px = np.ascontiguousarray(flat.reshape(px.shape))
    h, w = px.shape[:2]
    s = WORK_LONG / max(h, w)
    if s < 1:
        px = cv2.resize(px, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.clip(px, 0.0, None), np.float32)


def correspondences(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Aligned, downsampled (N×3, N×3) display-linear colours of a pair."""
    import cv2

    h, w = before.shape[:2]
    if after.shape[:2] != (h, w):
        after = cv2.resize(after, (w, h), interpolation=cv2.INTER_AREA)
    wts = np.array([0.2627, 0.678, 0.0593], np.float32)
    gb = np.sqrt(np.clip(before @ wts, 0.0, None))
    ga = np.sqrt(np.clip(after @ wts, 0.0, None))
    win = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(gb.astype(np.float64), ga.astype(np.float64), win.astype(np.float64))
    if abs(dx) < w / 8 and abs(dy) < h / 8:
        m = np.float32([[1, 0, -dx], [0, 1, -dy]])
        after = cv2.warpAffine(after, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    m = 8                                                     # drop the borders the shift may have filled
    before, after, gb = before[m:h - m, m:w - m], after[m:h - m, m:w - m], gb[m:h - m, m:w - m]
    # edges: where a residual misalignment, a resampling or JPEG ringing changes colours that the look did
    # not; weight them out (smooth areas carry the colour mapping) and average what is left per 4×4 cell.
    # Dropping the sharpest quarter: held-out ΔE00 on JPEG q92 afters shifted 3 px and resized 1.66 -> 1.31
    # (cinema), 1.93 -> 1.75 (mono-warm); dropping half helped cinema as much but hurt monochrome looks
    gx = cv2.Sobel(gb, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gb, cv2.CV_32F, 0, 1, ksize=3)
    grad = cv2.dilate(np.sqrt(gx * gx + gy * gy), np.ones((3, 3), np.uint8))
    wt = (grad <= float(np.percentile(grad, 75))).astype(np.float32)      # all but the sharpest quarter
    area = dict(fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    ws = cv2.resize(wt, None, **area)
    keep = ws.reshape(-1) >= 0.5
    if keep.sum() < 64:                                       # nearly all edges (a texture): keep everything
        wt[:] = 1.0
        ws = cv2.resize(wt, None, **area)
        keep = np.ones(ws.size, bool)
    b = cv2.resize(before * wt[..., None], None, **area) / np.maximum(ws, 1e-6)[..., None]
    a = cv2.resize(after * wt[..., None], None, **area) / np.maximum(ws, 1e-6)[..., None]
    return b.reshape(-1, 3)[keep].astype(np.float64), a.reshape(-1, 3)[keep].astype(np.float64)


def _pav(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pool-adjacent-violators: the non-decreasing sequence closest to y (weights w)."""
    vals, wts, cnt = [], [], []
    for yi, wi in zip(y, w):
        vals.append(yi); wts.append(wi); cnt.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            v2, w2, c2 = vals.pop(), wts.pop(), cnt.pop()
            tw = wts[-1] + w2
            vals[-1] = (vals[-1] * wts[-1] + v2 * w2) / tw if tw > 0 else v2
            wts[-1] = tw
            cnt[-1] += c2
    return np.repeat(vals, cnt)


def fit_curve(xe: np.ndarray, ye: np.ndarray) -> list[list[float]]:
    """Control points of a monotone per-channel curve ye ≈ c(xe) (encoded values, channels pooled)."""
    x = xe.reshape(-1)
    y = ye.reshape(-1)
    nb = 32
    edges = np.linspace(0.0, 1.0, nb + 1)
    idx = np.clip(np.digitize(x, edges) - 1, 0, nb - 1)
    cnt = np.bincount(idx, minlength=nb).astype(np.float64)
    centres = 0.5 * (edges[:-1] + edges[1:])
    med = centres.copy()
    for i in np.nonzero(cnt >= 5)[0]:
        med[i] = np.median(y[idx == i])
    # sparse bins lean on identity; anchor the ends
    wts = np.minimum(cnt, 200.0) + 1.0
    med = (med * cnt + centres * 10.0) / (cnt + 10.0)
    mono = _pav(med, wts)
    xs = np.r_[0.0, centres, 1.0]
    ys = np.r_[min(mono[0], 0.0) if cnt[0] < 5 else max(0.0, mono[0] - (mono[1] - mono[0]) / 2), mono,
               1.0 if cnt[-1] < 5 else min(1.0, mono[-1] + (mono[-1] - mono[-2]) / 2)]
    ys = np.maximum.accumulate(np.clip(ys, 0.0, 1.0))
    pts = np.interp(CURVE_X, xs, ys)
    return [[round(float(a), 4), round(float(b), 4)] for a, b in zip(CURVE_X, pts)]


def _tetra_weights(u: np.ndarray, n: int):
    """Sparse matrix (M × n³) of tetrahedral interpolation weights (the order apply_tetra uses)."""
    from scipy import sparse

    n1 = n - 1
    c = np.clip(u, 0.0, 1.0) * n1
    i0 = np.minimum(c.astype(np.int64), n1 - 1)
    f = c - i0
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    order = np.argsort(-f, axis=1, kind="stable")            # axes by decreasing fraction
    fs = np.take_along_axis(f, order, axis=1)
    m = u.shape[0]
    step = np.zeros((m, 3), np.int64)
    verts = [i0.copy()]
    cur = i0.copy()
    for k in range(3):
        cur = cur.copy()
        cur[np.arange(m), order[:, k]] += 1
        verts.append(cur)
    w = np.stack([1.0 - fs[:, 0], fs[:, 0] - fs[:, 1], fs[:, 1] - fs[:, 2], fs[:, 2]], axis=1)
    cols = np.stack([(v[:, 0] * n + v[:, 1]) * n + v[:, 2] for v in verts], axis=1)
    rows = np.repeat(np.arange(m), 4)
    _ = (fx, fy, fz, step)
    return sparse.csr_matrix((w.reshape(-1), (rows, cols.reshape(-1))), shape=(m, n ** 3))


def _laplacian(n: int):
    """DᵀD for D = second differences along each axis of the n³ grid: penalises curvature, so affine
    corrections (a channel mix, a monochrome projection) cost nothing and unseen colours extrapolate
    smoothly."""
    from scipy import sparse

    idx = np.arange(n ** 3).reshape(n, n, n)
    parts = []
    for ax in range(3):
        a = np.take(idx, range(n - 2), axis=ax).reshape(-1)
        b = np.take(idx, range(1, n - 1), axis=ax).reshape(-1)
        c = np.take(idx, range(2, n), axis=ax).reshape(-1)
        e = a.shape[0]
        r = np.arange(e)
        parts.append(sparse.csr_matrix((np.r_[np.ones(e), -2.0 * np.ones(e), np.ones(e)],
                                        (np.r_[r, r, r], np.r_[a, b, c])), shape=(e, n ** 3)))
    g = sparse.vstack(parts)
    return (g.T @ g).tocsc()


def fit_lut(ue: np.ndarray, te: np.ndarray, n: int = LUT_N, smooth: float = 0.0002, ridge: float = 1e-6) -> np.ndarray:
    """A smooth n³ LUT T with T(ue) ≈ te (both encoded, M×3): identity + regularised correction."""
    from scipy import sparse
    from scipy.sparse.linalg import splu

    a = _tetra_weights(ue, n)
    m = ue.shape[0]
    ata = (a.T @ a) / m
    lhs = (ata + smooth * _laplacian(n) / n + ridge * sparse.identity(n ** 3)).tocsc()
    solver = splu(lhs)
    resid = te - np.clip(ue, 0.0, 1.0)
    g = np.linspace(0.0, 1.0, n)
    ident = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    d = np.stack([solver.solve((a.T @ resid[:, c]) / m) for c in range(3)], axis=1)
    return (ident + d).reshape(n, n, n, 3)


def _model_apply(lin: np.ndarray, points: list[list[float]], table: np.ndarray) -> np.ndarray:
    from ..colour import oklab as cm
    from .ingredients.curve import CurveParams, apply as curve_apply
    from .lutfiles import Lut

    x = curve_apply(lin, CurveParams(points=tuple(tuple(p) for p in points)))
    v = cm.encode(x)
    out = Lut(table.astype(np.float32)).apply(v.astype(np.float32)).astype(np.float64)
    return cm.decode(out)


def _fit(data: list[tuple[np.ndarray, np.ndarray]]) -> tuple[list[list[float]], np.ndarray]:
    from ..colour import oklab as cm
    from .ingredients.curve import CurveParams, apply as curve_apply

    b = np.concatenate([d[0] for d in data])
    a = np.concatenate([d[1] for d in data])
    be, ae = cm.encode(b), cm.encode(a)
    pts = fit_curve(be, ae)
    b2 = curve_apply(b, CurveParams(points=tuple(tuple(p) for p in pts)))
    table = fit_lut(cm.encode(b2), ae)
    return pts, table


def delta_e(lin_a: np.ndarray, lin_b: np.ndarray) -> float:
    """Mean CIEDE2000 between two display-linear Rec.2020 colour sets."""
    from ..colour.difference import delta_e00_rgb

    return float(np.mean(delta_e00_rgb(lin_a, lin_b)))


FIT_SOURCES = ("image", "raw")


def fit_pairs(folder: str | Path, progress=None, source: str = "image") -> tuple[FitResult, list[Pair]]:
    """Fit a look on the pairs in ``folder``. ``source``: what the *after* images were rendered from —
    "image" (JPEG/PNG/TIFF/HEIF files, or another tool), or "raw" (rawlux renders of raw files)."""
    if source not in FIT_SOURCES:
        raise ParameterError(f"fit source {source!r} is not one of: {', '.join(FIT_SOURCES)}")
    pairs = find_pairs(folder)
    data = []
    for p in pairs:
        if progress:
            progress(f"reading {p.name}")
        data.append(correspondences(_load(p.before), _load(p.after, uncompress=source == "raw")))
    held: list[tuple[str, float]] = []
    if len(pairs) >= 2:
        for i, p in enumerate(pairs):
            pts, table = _fit([d for j, d in enumerate(data) if j != i])
            held.append((p.name, delta_e(_model_apply(data[i][0], pts, table), data[i][1])))
            if progress:
                progress(f"held out {p.name}: mean ΔE00 {held[-1][1]:.2f}")
    pts, table = _fit(data)
    b = np.concatenate([d[0] for d in data])
    a = np.concatenate([d[1] for d in data])
    res = FitResult(pts, table, held, delta_e(_model_apply(b, pts, table), a))
    return res, pairs


def write_look(res: FitResult, out: str | Path, pairs: list[Pair] | None = None) -> tuple[Path, Path]:
    """Write ``out`` (.toml) and its LUT (same name, .cube) next to it."""
    from ..io.atomic import write_text
    from .lutfiles import Lut, write_cube

    o = Path(out)
    if o.suffix.lower() != ".toml":
        raise ParameterError(f"-o {o}: the fitted look is a .toml file")
    cube = o.with_suffix(".cube")
    note = (f"fitted by rawlux look fit on {len(pairs or [])} pair(s); held-out mean dE00 "
            f"{res.held_out_mean:.2f}" if res.held_out else "fitted by rawlux look fit (one pair: no held-out score)")
    write_cube(cube, Lut(res.lut_table.astype(np.float32), title=o.stem),
               [note, "input/output: Rec.2020 primaries, BT.709/2020 transfer function, display-referred"])
    pts = ", ".join(f"[{x}, {y}]" for x, y in res.curve_points)
    import json                                  # JSON strings are valid TOML basic strings (quotes escaped)
    text = (f'schema_version = 1\nname = {json.dumps(o.stem)}\n'
            f'description = {json.dumps(f"Learned from examples ({note}).")}\n'
            f'inherits = "natural"\n\n[curve]\npoints = [{pts}]\n\n'
            f'[lut]\npath = {json.dumps(cube.name)}\nspace = "rec2020"\n')
    write_text(o, text)
    return o, cube


__all__ = ["find_pairs", "fit_pairs", "write_look", "FitResult", "Pair", "LookError"]
