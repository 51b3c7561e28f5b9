"""Compiled kernels of :mod:`rawlux.isp.localtone` (kept apart so that loading the stage, e.g. to build a
recipe, does not import numba: only running it does)."""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True, fastmath=True)
def _log_lum(img, wr, wg, wb, out):  # pragma: no cover - compiled
    h, w, _ = img.shape
    for y in nb.prange(h):
        for x in range(w):
            l = wr * img[y, x, 0] + wg * img[y, x, 1] + wb * img[y, x, 2]
            out[y, x] = np.log2(max(l, np.float32(1e-6)))


@nb.njit(cache=True, parallel=True, fastmath=True)
def _apply_gain(img, loglum, a, b, sh, hi, detail, anchor, out):  # pragma: no cover - compiled
    """base = a·L + b (coefficients already upsampled); new log lum = curve(base) + detail·(L − base)."""
    h, w, _ = img.shape
    for y in nb.prange(h):
        for x in range(w):
            L = loglum[y, x]
            base = a[y, x] * L + b[y, x]
            d = base - anchor
            # compress the base toward the anchor: lift sh·u/(u + sh + 1) below, pull hi·u/(u + hi + 1) above;
            # the slope stays positive (the order of tones is kept) and the change saturates at sh / hi stops
            if d < 0:
                u = -d
                nb_ = d + sh * u / (u + sh + np.float32(1.0))
            else:
                nb_ = d - hi * d / (d + hi + np.float32(1.0))
            newL = anchor + nb_ + detail * (L - base)
            g = np.float32(2.0) ** (newL - L)
            out[y, x, 0] = img[y, x, 0] * g
            out[y, x, 1] = img[y, x, 1] * g
            out[y, x, 2] = img[y, x, 2] * g
