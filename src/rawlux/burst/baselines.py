"""Baseline merges the benchmark prints beside rawlux's: what a burst gives without local alignment.

- ``plain_average``: the mosaics averaged as they are (hand-shake becomes blur);
- ``global_average``: each frame aligned by one similarity transform (ECC, Evangelidis & Psarakis
  2008, as in OpenCV), resampled per CFA plane with the same Catmull–Rom resampler as the merge, then
  averaged; with ``robust=True`` each pixel is weighted by a simple per-pixel temporal robustness
  ``exp(-(alt - ref)² / (k·2σ²))`` from the same noise model.
"""
from __future__ import annotations

import numpy as np

from .align import TileFlow, bayer_grey
from .merge import Accumulator, MergeParams


def plain_average(cfas: list[np.ndarray]) -> np.ndarray:
    return np.mean(np.stack(cfas), axis=0).astype(np.float32)


def global_transform(ref_grey: np.ndarray, alt_grey: np.ndarray) -> np.ndarray:
    """2×3 similarity taking reference grey pixels to alternate grey pixels (ECC, translation start
    from phase correlation)."""
    import cv2

    a = cv2.GaussianBlur(ref_grey, (0, 0), 1.0)
    b = cv2.GaussianBlur(alt_grey, (0, 0), 1.0)
    win = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
    (sx, sy), _ = cv2.phaseCorrelate(a, b, win)
    warp = np.array([[1, 0, sx], [0, 1, sy]], np.float32)
    try:
        _, warp = cv2.findTransformECC(a, b, warp, cv2.MOTION_EUCLIDEAN,
                                       (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5), None, 5)
    except cv2.error:
        pass
    return warp


def flow_from_transform(m: np.ndarray, shape: tuple[int, int], step: int = 16) -> TileFlow:
    """A TileFlow sampling a grey-pixel similarity on a grid (mosaic pixels)."""
    h, w = shape
    cy = np.arange(0.5, h, step, dtype=np.float64)
    cx = np.arange(0.5, w, step, dtype=np.float64)
    gy, gx = (cy[:, None] - 0.5) / 2.0, (cx[None, :] - 0.5) / 2.0
    x2 = m[0, 0] * gx + m[0, 1] * gy + m[0, 2]
    y2 = m[1, 0] * gx + m[1, 1] * gy + m[1, 2]
    return TileFlow((2 * (y2 - gy)).astype(np.float32), (2 * (x2 - gx)).astype(np.float32), cy, cx, (h, w))


def resample(cfa: np.ndarray, flow: TileFlow, pattern: str) -> np.ndarray:
    """Frame ``cfa`` resampled onto the reference grid through ``flow`` (per plane, Catmull–Rom)."""
    acc = Accumulator(cfa.shape, pattern, MergeParams())
    acc.add(cfa, flow, np.ones((cfa.shape[0] // 2, cfa.shape[1] // 2), np.float32))
    return acc.result(cfa)


def global_average(cfas: list[np.ndarray], ref: int, pattern: str, *, robust: bool = False,
                   noise: tuple[float, float] = (0.0, 1e-6), k: float = 4.0) -> np.ndarray:
    import cv2

    r = cfas[ref]
    rg = bayer_grey(r)
    num = r.astype(np.float32).copy()
    den = np.ones_like(num)
    a, b = noise
    ref_s = cv2.blur(r, (3, 3)) if robust else None
    for i, c in enumerate(cfas):
        if i == ref:
            continue
        m = global_transform(rg, bayer_grey(c))
        al = resample(c, flow_from_transform(m, r.shape), pattern)
        if robust:
            var = a * np.maximum(ref_s, 0) + b
            wgt = np.exp(-((al - r) ** 2) / (k * 2.0 * var)).astype(np.float32)
        else:
            wgt = 1.0
        num += wgt * al
        den += wgt
    return (num / den).astype(np.float32)
