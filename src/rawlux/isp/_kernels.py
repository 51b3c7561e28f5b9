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


@nb.njit(cache=True, parallel=True, fastmath=True, error_model="numpy")
def quantise(img, scale, bgr, out):  # pragma: no cover - compiled
    """[0,1] float → integers (out's dtype) with rounding; channel order reversed when ``bgr``. Each row is
    quantised as one flat run of 3·W values (vectorised), then its red and blue swapped in place: 4× the
    speed of a per-channel loop with the swap in its index (12 MP, 8-bit: 0.033 → 0.008 s)."""
    h, w, _ = img.shape
    half = np.float32(0.5)
    zero = np.float32(0.0)
    for y in nb.prange(h):
        s = img[y].reshape(3 * w)
        d = out[y].reshape(3 * w)
        for k in range(3 * w):
            d[k] = min(max(s[k] * scale + half, zero), scale)
        if bgr:
            dd = out[y]
            for x in range(w):
                t = dd[x, 0]
                dd[x, 0] = dd[x, 2]
                dd[x, 2] = t


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
