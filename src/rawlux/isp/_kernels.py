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


TONE_LUT_MAX = 256.0   # scene-linear range covered by the table (8 stops above 1.0); beyond, exact maths


@nb.njit(cache=True, inline="always")
def _tone_one(lut, n, scale, v, c, s_c, peak):  # pragma: no cover - compiled
    """One channel of the curve: the table on its square-root grid below TONE_LUT_MAX, the exact maths above."""
    if v < TONE_LUT_MAX:
        f = np.sqrt(v * scale)
        i = min(int(f), n - 1)
        t = f - np.float32(i)
        a = lut[i]
        return a + t * (lut[i + 1] - a)
    vc = v ** c
    return peak * vc / (vc + s_c)


@nb.njit(cache=True, parallel=True, fastmath=True)
def sigmoid_tone_lut(img, lut, c, s_c, peak, hue_pres, out):  # pragma: no cover - compiled
    """Per-channel log-logistic curve y = peak·x^c/(x^c + s^c), read from ``lut`` (n + 1 entries on a
    square-root grid over [0, TONE_LUT_MAX]: fine steps in the shadows; beyond it, the exact maths), then each
    channel moved toward the position it had between the pixel's min and max (keeps hue) by ``hue_pres``.
    Scalars only in the loop (no per-row scratch arrays), so the three channels stay in registers."""
    h, w, _ = img.shape
    n = lut.shape[0] - 1
    scale = np.float32(n * n / TONE_LUT_MAX)            # table position = sqrt(v · n² / max)
    zero = np.float32(0.0)
    for y in nb.prange(h):
        for x in range(w):
            r = max(img[y, x, 0], zero)
            g = max(img[y, x, 1], zero)
            b = max(img[y, x, 2], zero)
            yr = _tone_one(lut, n, scale, r, c, s_c, peak)
            yg = _tone_one(lut, n, scale, g, c, s_c, peak)
            yb = _tone_one(lut, n, scale, b, c, s_c, peak)
            if hue_pres > 0:
                xmax = max(r, max(g, b))
                xmin = min(r, min(g, b))
                span = xmax - xmin
                if span > 1e-12:
                    ymax = max(yr, max(yg, yb))
                    ymin = min(yr, min(yg, yb))
                    slope = (ymax - ymin) / span
                    yr += hue_pres * (ymin + (r - xmin) * slope - yr)
                    yg += hue_pres * (ymin + (g - xmin) * slope - yg)
                    yb += hue_pres * (ymin + (b - xmin) * slope - yb)
            out[y, x, 0] = yr
            out[y, x, 1] = yg
            out[y, x, 2] = yb


@nb.njit(cache=True, inline="always")
def _compress(ach, v):  # pragma: no cover - compiled
    """Scene-referred sources: bring a channel toward the achromatic value when its distance
    d = (ach - v)/ach passes 0.8 (smoothly, so gradients stay smooth): distances up to 1.2 (v down to
    -0.2·ach) land inside the gamut, along the hue line."""
    d = (ach - v) / ach
    if d > 0.8:
        e = d - np.float32(0.8)
        d = np.float32(0.8) + e / (np.float32(1.0) + e / np.float32(0.4))
        return ach - d * ach
    return v


@nb.njit(cache=True, inline="always")
def _pull_in(ach, mn, v):  # pragma: no cover - compiled
    """Display-referred sources: move only out-of-gamut pixels (a channel below 0) in along their hue line,
    scaling every channel's distance from the max so the lowest lands on 0; in-gamut pixels are untouched
    (a JPEG developed with no look comes back unchanged)."""
    return ach - (ach - v) * (ach / (ach - mn))


@nb.njit(cache=True, inline="always")
def _encode(lut, n, v):  # pragma: no cover - compiled
    """``lut`` (n + 1 entries over [0, 1]) at ``v``, linear between entries, clamped at both ends."""
    if v <= 0:
        return lut[0]
    if v >= 1:
        return lut[n]
    f = v * n
    i = int(f)
    if i >= n:                      # v a hair under 1 rounds up to n in float32
        i = n - 1
    t = f - i
    return lut[i] + t * (lut[i + 1] - lut[i])


@nb.njit(cache=True, parallel=True, fastmath=True)
def output_encode(img, m, lut, compress, out):  # pragma: no cover - compiled
    """Matrix to the output space, hue-keeping gamut handling (compress: 0 none, 1 smooth, 2 out-of-gamut
    pixels only), clip, transfer function by table."""
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
            if compress == 1:
                ach = max(r, max(g, b))
                if ach > 1e-9:
                    r = _compress(ach, r)
                    g = _compress(ach, g)
                    b = _compress(ach, b)
            elif compress == 2:
                ach = max(r, max(g, b))
                mn = min(r, min(g, b))
                if mn < 0 and ach > 1e-9:
                    r = _pull_in(ach, mn, r)
                    g = _pull_in(ach, mn, g)
                    b = _pull_in(ach, mn, b)
            out[y, x, 0] = _encode(lut, n, r)
            out[y, x, 1] = _encode(lut, n, g)
            out[y, x, 2] = _encode(lut, n, b)


@nb.njit(cache=True, parallel=True, fastmath=True)
def cfa_superpixels(cfa, code, thr, rgb, anyclip):  # pragma: no cover - compiled
    """Half-resolution RGB from 2×2 CFA blocks (mean of same-colour sites; a channel with a clipped site takes
    that site's max) and a flag per block: any site at/above its colour's threshold."""
    h2 = rgb.shape[0]
    w2 = rgb.shape[1]
    for by in nb.prange(h2):
        for bx in range(w2):
            s0 = np.float32(0.0)
            s1 = np.float32(0.0)
            s2 = np.float32(0.0)
            n0 = 0
            n1 = 0
            n2 = 0
            m0 = np.float32(0.0)
            m1 = np.float32(0.0)
            m2 = np.float32(0.0)
            clipped = False
            for i in range(4):
                v = cfa[2 * by + (i >> 1), 2 * bx + (i & 1)]
                c = code[i]
                if v >= thr[c]:
                    clipped = True
                if c == 0:
                    s0 += v
                    n0 += 1
                    m0 = max(m0, v)
                elif c == 1:
                    s1 += v
                    n1 += 1
                    m1 = max(m1, v)
                else:
                    s2 += v
                    n2 += 1
                    m2 = max(m2, v)
            r = s0 / max(n0, 1)
            g = s1 / max(n1, 1)
            b = s2 / max(n2, 1)
            rgb[by, bx, 0] = m0 if m0 >= thr[0] else r
            rgb[by, bx, 1] = m1 if m1 >= thr[1] else g
            rgb[by, bx, 2] = m2 if m2 >= thr[2] else b
            anyclip[by, bx] = clipped


@nb.njit(cache=True, parallel=True, fastmath=True)
def cfa_writeback(cfa, code, thr, rec, h2, w2):  # pragma: no cover - compiled
    """Raise clipped CFA sites to the bilinearly sampled half-resolution reconstruction of their colour."""
    hh = rec.shape[0]
    ww = rec.shape[1]
    for y in nb.prange(h2):
        fy = (y + 0.5) * 0.5 - 0.5
        if fy < 0:
            fy = 0.0
        y0 = min(int(fy), hh - 1)
        y1 = min(y0 + 1, hh - 1)
        ty = fy - y0
        for x in range(w2):
            c = code[((y & 1) << 1) | (x & 1)]
            v = cfa[y, x]
            if v < thr[c]:
                continue
            fx = (x + 0.5) * 0.5 - 0.5
            if fx < 0:
                fx = 0.0
            x0 = min(int(fx), ww - 1)
            x1 = min(x0 + 1, ww - 1)
            tx = fx - x0
            e = ((rec[y0, x0, c] * (1 - tx) + rec[y0, x1, c] * tx) * (1 - ty)
                 + (rec[y1, x0, c] * (1 - tx) + rec[y1, x1, c] * tx) * ty)
            if e > v:
                cfa[y, x] = e


@nb.njit(cache=True, parallel=True, fastmath=True)
def quantise(img, scale, bgr, out):  # pragma: no cover - compiled
    """[0,1] float → integers (out's dtype) with rounding; channel order reversed when ``bgr``."""
    h, w, _ = img.shape
    for y in nb.prange(h):
        for x in range(w):
            for k in range(3):
                v = img[y, x, k] * scale + np.float32(0.5)
                if v < 0:
                    v = np.float32(0.0)
                elif v > scale:
                    v = scale
                out[y, x, 2 - k if bgr else k] = v


@nb.njit(cache=True, parallel=True, fastmath=True)
def matrix3(img, m, out):  # pragma: no cover - compiled
    """out = img · mᵀ per pixel (out may be img: each pixel is read before it is written)."""
    h, w, _ = img.shape
    for y in nb.prange(h):
        for x in range(w):
            r = img[y, x, 0]
            g = img[y, x, 1]
            b = img[y, x, 2]
            out[y, x, 0] = m[0, 0] * r + m[0, 1] * g + m[0, 2] * b
            out[y, x, 1] = m[1, 0] * r + m[1, 1] * g + m[1, 2] * b
            out[y, x, 2] = m[2, 0] * r + m[2, 1] * g + m[2, 2] * b


@nb.njit(cache=True, parallel=True, fastmath=True)
def separable_gain(view, rowgain, i0, f):  # pragma: no cover - compiled
    """view[y, x] *= rowgain[y, i0[x]]·(1 − f[x]) + rowgain[y, i0[x] + 1]·f[x]: a gain map that is bilinear
    between its columns, with each row's column profile (``rowgain``, already interpolated between the
    map's rows) given; ``view`` may be strided (a CFA plane)."""
    h, w = view.shape
    for y in nb.prange(h):
        for x in range(w):
            j = i0[x]
            t = f[x]
            view[y, x] *= rowgain[y, j] * (np.float32(1.0) - t) + rowgain[y, j + 1] * t
