"""numba kernels of the look stages (imported on first use)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True, fastmath=True)
def vignette_apply(img, dx2, dy2, table, out):  # pragma: no cover - compiled
    h, w, _ = img.shape
    t1 = table.shape[0] - 1
    for y in prange(h):
        ry = dy2[y]
        for x in range(w):
            r2 = (dx2[x] + ry) * t1
            if r2 >= t1:
                g = table[t1]
            else:
                i = int(r2)
                f = r2 - np.float32(i)
                g = table[i] + f * (table[i + 1] - table[i])
            out[y, x, 0] = img[y, x, 0] * g
            out[y, x, 1] = img[y, x, 1] * g
            out[y, x, 2] = img[y, x, 2] * g


@njit(cache=True, parallel=True, fastmath=True)
def luma_sqrt(img, wts, out):  # pragma: no cover - compiled
    """out = sqrt(max(Y, 0)) with Y = wts · rgb (clipped to 1)."""
    h, w, _ = img.shape
    for y in prange(h):
        for x in range(w):
            v = wts[0] * img[y, x, 0] + wts[1] * img[y, x, 1] + wts[2] * img[y, x, 2]
            v = min(max(v, np.float32(0.0)), np.float32(1.0))
            out[y, x] = np.sqrt(v)


@njit(cache=True, inline="always")
def _gain(v, bse, use_c, camt, bl, use_s, samt, thr):  # pragma: no cover - compiled
    v2 = v
    if use_c:
        m = np.float32(4.0) * v * (np.float32(1.0) - v)
        v2 += camt * (v - bse) * m
    if use_s:
        d = v - bl
        if d > thr:
            v2 += samt * (d - thr)
        elif d < -thr:
            v2 += samt * (d + thr)
    if v > np.float32(1e-3):
        v2 = max(v2, np.float32(0.0))
        g = (v2 / v) * (v2 / v)
        return min(max(g, np.float32(0.25)), np.float32(4.0))
    return np.float32(1.0)


@njit(cache=True, inline="always")
def _shape(v):  # pragma: no cover - compiled
    """The grid encoding of the grade LUT: square root of display-linear values, clamped to [0, 1]."""
    if not (v > 0.0):
        return np.float32(0.0)
    if v >= 1.0:
        return np.float32(1.0)
    return np.sqrt(v)


@njit(cache=True, parallel=True, fastmath=True)
def grade_apply(img, ye, base, camt, blur, samt, thr, lut, n, noise, noise_r, noise_b, amt, response, colour,
                wts, out):  # pragma: no cover - compiled
    """Per pixel: × detail gain (clarity from ye - base, sharpening from ye - blur; ye = √Y), grid encoding
    (square root), tetrahedral 3D LUT → display-linear, + grain. Planes are 1×1 dummies when unused; lut
    is flat (n³·3, r slowest) or empty."""
    h, w, _ = img.shape
    use_gain = ye.shape[0] == h
    use_c = camt != 0.0 and base.shape[0] == h
    use_s = samt != 0.0 and blur.shape[0] == h
    use_lut = lut.shape[0] == n * n * n * 3 and n > 1
    use_grain = noise.shape[0] == h and amt != 0.0
    use_colour = noise_r.shape[0] == h and colour != 0.0
    n1 = n - 1
    sr = n * n * 3
    sg = n * 3
    o1 = sr + sg + 3
    fn1 = np.float32(n1)
    for y in prange(h):
        for x in range(w):
            r = img[y, x, 0]
            g = img[y, x, 1]
            b = img[y, x, 2]
            if use_gain:
                k = _gain(ye[y, x], base[y, x] if use_c else np.float32(0.0), use_c, camt,
                          blur[y, x] if use_s else np.float32(0.0), use_s, samt, thr)
                r *= k
                g *= k
                b *= k
            if use_lut:
                cx = _shape(r) * fn1
                cy = _shape(g) * fn1
                cz = _shape(b) * fn1
                i = min(int(cx), n1 - 1)
                j = min(int(cy), n1 - 1)
                l = min(int(cz), n1 - 1)
                fx = cx - np.float32(i)
                fy = cy - np.float32(j)
                fz = cz - np.float32(l)
                p0 = i * sr + j * sg + l * 3
                if fx >= fy:
                    if fy >= fz:
                        w0 = fx
                        w1 = fy
                        w2 = fz
                        oa = sr
                        ob = sr + sg
                    elif fx >= fz:
                        w0 = fx
                        w1 = fz
                        w2 = fy
                        oa = sr
                        ob = sr + 3
                    else:
                        w0 = fz
                        w1 = fx
                        w2 = fy
                        oa = 3
                        ob = sr + 3
                else:
                    if fz > fy:
                        w0 = fz
                        w1 = fy
                        w2 = fx
                        oa = 3
                        ob = sg + 3
                    elif fz > fx:
                        w0 = fy
                        w1 = fz
                        w2 = fx
                        oa = sg
                        ob = sg + 3
                    else:
                        w0 = fy
                        w1 = fx
                        w2 = fz
                        oa = sg
                        ob = sr + sg
                a0 = np.float32(1.0) - w0
                a1 = w0 - w1
                a2 = w1 - w2
                pa = p0 + oa
                pb = p0 + ob
                pc = p0 + o1
                r = a0 * lut[p0] + a1 * lut[pa] + a2 * lut[pb] + w2 * lut[pc]
                g = a0 * lut[p0 + 1] + a1 * lut[pa + 1] + a2 * lut[pb + 1] + w2 * lut[pc + 1]
                b = a0 * lut[p0 + 2] + a1 * lut[pa + 2] + a2 * lut[pb + 2] + w2 * lut[pc + 2]
            if use_grain:
                yy = wts[0] * r + wts[1] * g + wts[2] * b
                yy = min(max(yy, np.float32(0.0)), np.float32(1.0))
                yg = np.sqrt(yy)
                resp = (np.float32(1.0) - response) + response * np.float32(4.0) * yg * (np.float32(1.0) - yg)
                d = amt * resp * noise[y, x]
                yg2 = max(yg + d, np.float32(0.0))
                delta = yg2 * yg2 - yy
                r += delta
                g += delta
                b += delta
                if use_colour:
                    c = colour * amt * resp * np.float32(2.0) * yg
                    r += c * noise_r[y, x]
                    b += c * noise_b[y, x]
                    g -= c * np.float32(0.5) * (noise_r[y, x] + noise_b[y, x])
            out[y, x, 0] = r
            out[y, x, 1] = g
            out[y, x, 2] = b


@njit(cache=True, parallel=True)
def hash_lattice(seed, out):  # pragma: no cover - compiled
    """Approximately unit-Gaussian values at integer lattice points, a pure function of (seed, row,
    column): a splitmix64-style hash split into four 16-bit uniforms, summed (Irwin–Hall) and scaled."""
    h, w = out.shape
    s = np.uint64(seed) * np.uint64(0x165667B19E3779F9)
    m16 = np.uint64(0xFFFF)
    scale = np.float32(np.sqrt(3.0) / 65535.0)
    for y in prange(h):
        ky = np.uint64(y) * np.uint64(0x9E3779B97F4A7C15)
        for x in range(w):
            k = ky ^ (np.uint64(x) * np.uint64(0xC2B2AE3D27D4EB4F)) ^ s
            k ^= k >> np.uint64(30)
            k *= np.uint64(0xBF58476D1CE4E5B9)
            k ^= k >> np.uint64(27)
            k *= np.uint64(0x94D049BB133111EB)
            k ^= k >> np.uint64(31)
            t = (k & m16) + ((k >> np.uint64(16)) & m16) + ((k >> np.uint64(32)) & m16) + (k >> np.uint64(48))
            out[y, x] = np.float32(t) * scale - np.float32(2.0 * np.sqrt(3.0))
