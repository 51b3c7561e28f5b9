"""numba kernels of the look stages and of LUT application (imported on first use; one file, so numba's cache
is invalidated together for the kernels that share ``tetra_at``)."""
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
def _enc(v):  # pragma: no cover - compiled
    """The grid encoding of the grade LUT: square root of display-linear values, clamped to [0, 1]
    (NaN -> 0). Written as selects, not branches, so LLVM emits no jumps."""
    v = v if v > np.float32(0.0) else np.float32(0.0)
    v = v if v < np.float32(1.0) else np.float32(1.0)
    return np.sqrt(v)


@njit(cache=True, inline="always")
def tetra_at(lut, n, cx, cy, cz):  # pragma: no cover - compiled
    """Tetrahedral interpolation at grid coordinates cx, cy, cz (each in [0, n-1]; anything else,
    NaN included, is clamped to a valid cell) in the flat table ``lut``: n³ nodes of four floats
    (R, G, B, padding; r slowest).

    The tetrahedron is the walk 000 → a → b → 111 along the axes sorted by fraction. It is picked with
    integer arithmetic on comparison results, not with branches or selects (which LLVM turns back into
    jumps): on photographs the six-way choice mispredicts so often that the branchy form took 117 ms
    per 12 MP against 70 ms for this one. The fourth float per node keeps the strides powers of two
    (93 ms with three). Ties give the ambiguous vertex zero weight, so any pick among them is right.
    """
    n1 = n - 1
    sr = n * n * 4
    sg = n * 4
    o1 = sr + sg + 4
    i = max(min(int(cx), n1 - 1), 0)          # clamped twice: memory-safe whatever the input
    j = max(min(int(cy), n1 - 1), 0)
    l = max(min(int(cz), n1 - 1), 0)
    fx = cx - np.float32(i)
    fy = cy - np.float32(j)
    fz = cz - np.float32(l)
    w0 = max(fx, max(fy, fz))
    w2 = min(fx, min(fy, fz))
    w1 = fx + fy + fz - w0 - w2
    cxy = np.int64(fx >= fy)
    cxz = np.int64(fx >= fz)
    cyz = np.int64(fy >= fz)
    # first step along the largest fraction; second vertex = 111 minus the step of the smallest
    oa = sr * (cxy & cxz) + sg * ((1 - cxy) & cyz) + 4 * ((1 - cxz) & (1 - cyz))
    ob = o1 - (4 * (cyz & cxz) + sg * ((1 - cyz) & cxy) + sr * ((1 - cxz) & (1 - cxy)))
    a0 = np.float32(1.0) - w0
    a1 = w0 - w1
    a2 = w1 - w2
    p0 = i * sr + j * sg + l * 4
    pa = p0 + oa
    pb = p0 + ob
    pc = p0 + o1
    ro = a0 * lut[p0] + a1 * lut[pa] + a2 * lut[pb] + w2 * lut[pc]
    go = a0 * lut[p0 + 1] + a1 * lut[pa + 1] + a2 * lut[pb + 1] + w2 * lut[pc + 1]
    bo = a0 * lut[p0 + 2] + a1 * lut[pa + 2] + a2 * lut[pb + 2] + w2 * lut[pc + 2]
    return ro, go, bo


@njit(cache=True, inline="always")
def tetra(lut, n, r, g, b):  # pragma: no cover - compiled
    """``tetra_at`` over √-encoded display-linear r, g, b (the grade LUT's grid)."""
    fn1 = np.float32(n - 1)
    return tetra_at(lut, n, _enc(r) * fn1, _enc(g) * fn1, _enc(b) * fn1)


_CHUNK = 4096


@njit(cache=True, inline="always")
def _coord(v, lo, scale, n1):  # pragma: no cover - compiled
    x = (v - lo) * scale
    x = x if x > np.float32(0.0) else np.float32(0.0)       # also catches NaN
    return x if x < n1 else np.float32(n1)


@njit(cache=True, parallel=True, fastmath=True)
def apply_tetra(src, lut, n, dmin, dmax, out):  # pragma: no cover - compiled
    """out[k] = table(src[k]) by tetrahedral interpolation; src, out: (M, 3) float32; lut: flat n³·4
    (see ``tetra_at``) over the per-channel domain [dmin, dmax]."""
    m = src.shape[0]
    n1 = n - 1
    s0 = np.float32(n1 / (dmax[0] - dmin[0]))
    s1 = np.float32(n1 / (dmax[1] - dmin[1]))
    s2 = np.float32(n1 / (dmax[2] - dmin[2]))
    nchunks = (m + _CHUNK - 1) // _CHUNK
    for ch in prange(nchunks):
        k0 = ch * _CHUNK
        k1 = min(m, k0 + _CHUNK)
        for k in range(k0, k1):
            r, g, b = tetra_at(lut, n, _coord(src[k, 0], dmin[0], s0, n1), _coord(src[k, 1], dmin[1], s1, n1),
                               _coord(src[k, 2], dmin[2], s2, n1))
            out[k, 0] = r
            out[k, 1] = g
            out[k, 2] = b


@njit(cache=True, parallel=True, fastmath=True)
def apply_1d(src, table, dmin, dmax, out):  # pragma: no cover - compiled
    """Per-channel linear interpolation in an (N, 3) table."""
    m = src.shape[0]
    n1 = table.shape[0] - 1
    nchunks = (m + _CHUNK - 1) // _CHUNK
    for ch in prange(nchunks):
        k0 = ch * _CHUNK
        k1 = min(m, k0 + _CHUNK)
        for k in range(k0, k1):
            for c in range(3):
                x = _coord(src[k, c], dmin[c], np.float32(n1 / (dmax[c] - dmin[c])), n1)
                i = max(min(int(x), n1 - 1), 0)
                f = x - i
                out[k, c] = table[i, c] + f * (table[i + 1, c] - table[i, c])


def padded(table: np.ndarray) -> np.ndarray:
    """An (N, N, N, 3) table as the kernels read it: flat, four float32 per node (R, G, B, 0)."""
    n = table.shape[0]
    p = np.zeros((n ** 3, 4), np.float32)
    p[:, :3] = table.reshape(-1, 3)
    return p.reshape(-1)


@njit(cache=True, parallel=True, fastmath=True)
def grade_apply(img, ye, base, camt, blur, samt, thr, lut, n, noise, noise_r, noise_b, amt, response, colour,
                wts, out):  # pragma: no cover - compiled
    """Per pixel: × detail gain (clarity from ye - base, sharpening from ye - blur; ye = √Y), grid encoding
    (square root), tetrahedral 3D LUT → display-linear, + grain. ``ye`` is 1×1 when there is no detail
    gain; ``base``/``blur`` are then ignored, and when only one of them is wanted the caller passes ``ye``
    for the other with a zero amount. Noise planes are 1×1 when unused; lut is flat (n³·4, see
    ``tetra``) or empty.

    Each row runs as up to three loops: the gain (branch-free, so it vectorises), the LUT, the grain
    (vectorises too). Kept in one loop the gain's division and the LUT's loads share one dependency
    chain per pixel, and that was ~55 ms slower per 12 MP.
    """
    h, w, _ = img.shape
    use_gain = ye.shape[0] == h
    use_lut = lut.shape[0] == n * n * n * 4 and n > 1
    use_grain = noise.shape[0] == h and amt != 0.0
    use_colour = noise_r.shape[0] == h and colour != 0.0
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for y in prange(h):
        kk = np.empty(w, np.float32)
        if use_gain:
            for x in range(w):
                v = ye[y, x]
                m = np.float32(4.0) * v * (one - v)
                d = v - blur[y, x]
                v2 = v + camt * (v - base[y, x]) * m + samt * (d - min(max(d, -thr), thr))
                v2 = max(v2, zero)
                q = v2 / max(v, np.float32(1e-3))
                k = min(max(q * q, np.float32(0.25)), np.float32(4.0))
                kk[x] = k if v > np.float32(1e-3) else one
        for x in range(w):
            k = kk[x] if use_gain else one
            r = img[y, x, 0] * k
            g = img[y, x, 1] * k
            b = img[y, x, 2] * k
            if use_lut:
                r, g, b = tetra(lut, n, r, g, b)
            out[y, x, 0] = r
            out[y, x, 1] = g
            out[y, x, 2] = b
        if use_grain:
            for x in range(w):
                r = out[y, x, 0]
                g = out[y, x, 1]
                b = out[y, x, 2]
                yy = wts[0] * r + wts[1] * g + wts[2] * b
                yy = min(max(yy, zero), one)
                yg = np.sqrt(yy)
                resp = (one - response) + response * np.float32(4.0) * yg * (one - yg)
                d = amt * resp * noise[y, x]
                yg2 = max(yg + d, zero)
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
