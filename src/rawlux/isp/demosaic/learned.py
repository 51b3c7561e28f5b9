"""The ``quality`` method: the default ``ri`` demosaic plus a learned, per-bucket linear correction.

In the manner of RAISR (Romano, Isidoro and Milanfar, "RAISR: Rapid and Accurate Image Super Resolution", 2016),
applied to demosaicing residuals: every pixel is put in a bucket by

- its CFA site kind (red, blue, green on a red row, green on a blue row), which covers the four patterns;
- the structure tensor of the base green (central differences, Gaussian-smoothed products): the dominant
  gradient angle (8 bins centred on the axes), the strength (square root of the larger eigenvalue relative to the
  local mean green: exposure-independent) and the coherence ((√λ1 − √λ2)/(√λ1 + √λ2)), 3 bins each;
- the share of colour-difference gradients (R − G, B − G of the base) in the local gradient energy, 3 bins: it
  tells smooth-chroma regions, where colour differences interpolate well, from sharp colour edges;

and each bucket holds, per missing channel, a linear filter over the differences between the base RGB in a 5×5
window and the base RGB at the centre; the filter's output is added to the base. The filters were fitted by ridge
least squares on residuals (truth − ``ri``) of images rendered from real raw files, never demosaiced (each colour
plane binned from the Bayer samples), and shrunk per bucket by leave-one-source-out validation;
``scripts/train_demosaic_quality.py`` regenerates the shipped weights ``learned_weights.npz`` (about 0.5 MB) and
states where the training data come from. The filters are constrained to give zero on flat fields and on linear
ramps of any channel, so the correction never moves a smooth gradient; they are linear in the image and the buckets
are exposure-independent, so scaling the mosaic scales the result. The channel sampled at a site is left as
``ri`` has it. On ``benchmarks/bench_demosaic.py`` it gains about 0.6 dB over ``ri`` on McMaster and 0.2 dB on the
photographs, at about 6 MP/s on a 12 MP mosaic with two threads (numbers there). Run time: numpy, OpenCV and one
numba kernel (rows in parallel); no learning framework.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ...frame import BAYER_PATTERNS

WEIGHTS = Path(__file__).with_name("learned_weights.npz")


@lru_cache(maxsize=1)
def load_model(path: str = str(WEIGHTS)) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def site_kinds(pattern: str) -> np.ndarray:
    """2×2 int64 kinds of the pattern's sites: 0 red, 1 blue, 2 green on a red row, 3 green on a blue row."""
    code = BAYER_PATTERNS[pattern]
    k = np.empty((2, 2), np.int64)
    for i, c in enumerate(code):
        y, x = divmod(i, 2)
        if c == 0:
            k[y, x] = 0
        elif c == 2:
            k[y, x] = 1
        else:
            k[y, x] = 2 if code[2 * y + (1 - x)] == 0 else 3
    return k


def structure(base: np.ndarray, sigma: float) -> tuple[np.ndarray, ...]:
    """Smoothed structure tensor (Jxx, Jyy, Jxy) of the base green, its smoothed mean, and the smoothed gradient
    energy of the colour differences R − G and B − G, float32."""
    import cv2

    def grad(a):
        a = np.ascontiguousarray(a, np.float32)
        return (cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=1, scale=0.5, borderType=cv2.BORDER_REFLECT_101),
                cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=1, scale=0.5, borderType=cv2.BORDER_REFLECT_101))

    def blur(a):
        return cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)

    g = np.ascontiguousarray(base[..., 1])
    gx, gy = grad(g)
    rx, ry = grad(base[..., 0] - g)
    bx, by = grad(base[..., 2] - g)
    jc = blur(rx * rx + ry * ry + bx * bx + by * by)
    return blur(gx * gx), blur(gy * gy), blur(gx * gy), blur(g), jc


def correct(base: np.ndarray, pattern: str, model: dict[str, np.ndarray]) -> np.ndarray:
    """Apply the model's per-bucket filters to an H×W×3 base demosaic."""
    from ._learned_kernel import apply_filters

    h, w = base.shape[:2]
    r = int(model["radius"])
    jxx, jyy, jxy, mean, jc = structure(base, float(model["sigma"]))
    bp = np.pad(base, ((r, r), (r, r), (0, 0)), mode="reflect")
    out = np.empty((h, w, 3), np.float32)
    apply_filters(bp, jxx, jyy, jxy, mean, jc, site_kinds(pattern), int(model["n_ang"]), model["s_thr"],
                  model["c_thr"], model["h_thr"], model["weights"], model["offs"], out)
    return out


def quality(cfa: np.ndarray, pattern: str) -> np.ndarray:
    """Demosaic an H×W float32 Bayer mosaic (white-balanced) into H×W×3 float32."""
    from . import get_method

    model = load_model()
    c = np.nan_to_num(np.ascontiguousarray(cfa, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    base = get_method(str(model.get("base", "ri")))(c, pattern)
    out = correct(base, pattern, model)
    bad = ~np.isfinite(out)
    if bad.any():
        out[bad] = base[bad]
    return out
