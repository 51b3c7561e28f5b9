"""Small numba kernels shared by the spine stages (per-pixel work no library does in one pass)."""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True, fastmath=True)
def levels_mosaic(raw, black2, scale2, dh, dv, out):  # pragma: no cover - compiled
    """out = (raw - black[y%2, x%2] - dh[x] - dv[y]) * scale[y%2, x%2]."""
    h, w = raw.shape
    use_h = dh.shape[0] == w
    use_v = dv.shape[0] == h
    for y in nb.prange(h):
        yy = y & 1
        bv = dv[y] if use_v else np.float32(0.0)
        for x in range(w):
            xx = x & 1
            b = black2[yy, xx] + bv
            if use_h:
                b += dh[x]
            out[y, x] = (np.float32(raw[y, x]) - b) * scale2[yy, xx]


@nb.njit(cache=True, parallel=True, fastmath=True)
def gain_mosaic(cfa, gain2):  # pragma: no cover - compiled
    h, w = cfa.shape
    for y in nb.prange(h):
        yy = y & 1
        g0 = gain2[yy, 0]
        g1 = gain2[yy, 1]
        for x in range(0, w - 1, 2):
            cfa[y, x] *= g0
            cfa[y, x + 1] *= g1
        if w & 1:
            cfa[y, w - 1] *= g0


@nb.njit(cache=True, inline="always")
def _curve(v, c, s_c, peak):  # pragma: no cover - compiled
    if v <= 0:
        return np.float32(0.0)
    vc = v ** c
    return peak * vc / (vc + s_c)


@nb.njit(cache=True, parallel=True, fastmath=True)
def sigmoid_tone(img, gain, c, s_c, peak, hue_pres, out):  # pragma: no cover - compiled
    """Per-channel log-logistic curve y = peak·x^c/(x^c + s^c) on gain·img, then move each channel
    toward the position it had between the pixel's min and max (keeps hue) by ``hue_pres``."""
    h, w, _ = img.shape
    for y in nb.prange(h):
        for x in range(w):
            r = max(img[y, x, 0] * gain, np.float32(0.0))
            g = max(img[y, x, 1] * gain, np.float32(0.0))
            b = max(img[y, x, 2] * gain, np.float32(0.0))
            yr = _curve(r, c, s_c, peak)
            yg = _curve(g, c, s_c, peak)
            yb = _curve(b, c, s_c, peak)
            if hue_pres > 0:
                xmax = max(r, max(g, b))
                xmin = min(r, min(g, b))
                span = xmax - xmin
                if span > 1e-12:
                    ymax = max(yr, max(yg, yb))
                    ymin = min(yr, min(yg, yb))
                    yspan = ymax - ymin
                    yr += hue_pres * (ymin + (r - xmin) / span * yspan - yr)
                    yg += hue_pres * (ymin + (g - xmin) / span * yspan - yg)
                    yb += hue_pres * (ymin + (b - xmin) / span * yspan - yb)
            out[y, x, 0] = yr
            out[y, x, 1] = yg
            out[y, x, 2] = yb


@nb.njit(cache=True, inline="always")
def _compress(ach, v):  # pragma: no cover - compiled
    """Bring a channel toward the achromatic value when its distance d = (ach - v)/ach passes 0.8:
    distances up to 1.2 (i.e. v down to -0.2·ach) land inside the gamut, along the hue line."""
    d = (ach - v) / ach
    if d > 0.8:
        e = d - np.float32(0.8)
        d = np.float32(0.8) + e / (np.float32(1.0) + e / np.float32(0.4))
        return ach - d * ach
    return v


@nb.njit(cache=True, inline="always")
def _encode(lut, n, v):  # pragma: no cover - compiled
    if v <= 0:
        return lut[0]
    if v >= 1:
        return lut[n]
    f = v * n
    i = int(f)
    t = f - i
    return lut[i] + t * (lut[i + 1] - lut[i])


@nb.njit(cache=True, parallel=True, fastmath=True)
def output_encode(img, m, lut, compress, out):  # pragma: no cover - compiled
    """Matrix to the output space, hue-keeping gamut compression, clip, transfer function by table."""
    h, w, _ = img.shape
    n = lut.shape[0] - 1
    for y in nb.prange(h):
        for x in range(w):
            r0 = img[y, x, 0]
            g0 = img[y, x, 1]
            b0 = img[y, x, 2]
            r = m[0, 0] * r0 + m[0, 1] * g0 + m[0, 2] * b0
            g = m[1, 0] * r0 + m[1, 1] * g0 + m[1, 2] * b0
            b = m[2, 0] * r0 + m[2, 1] * g0 + m[2, 2] * b0
            if compress:
                ach = max(r, max(g, b))
                if ach > 1e-9:
                    r = _compress(ach, r)
                    g = _compress(ach, g)
                    b = _compress(ach, b)
            out[y, x, 0] = _encode(lut, n, r)
            out[y, x, 1] = _encode(lut, n, g)
            out[y, x, 2] = _encode(lut, n, b)
