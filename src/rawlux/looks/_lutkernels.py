"""numba kernels for LUT application (imported lazily: numba start-up is not paid by the CLI)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

_CHUNK = 4096


@njit(cache=True, inline="always")
def _tetra_one(t, n, x, y, z, out, k):
    """Tetrahedral interpolation in the flat table ``t`` (N³×3, r slowest) at grid coordinates x, y, z."""
    n1 = n - 1
    i = min(int(x), n1 - 1)
    j = min(int(y), n1 - 1)
    l = min(int(z), n1 - 1)
    fx = x - np.float32(i)
    fy = y - np.float32(j)
    fz = z - np.float32(l)
    sr = n * n * 3
    sg = n * 3
    base = i * sr + j * sg + l * 3
    # the tetrahedron: walk 000 -> a -> b -> 111 along the axes sorted by fraction
    if fx >= fy:
        if fy >= fz:
            w0, w1, w2, oa, ob = fx, fy, fz, sr, sr + sg
        elif fx >= fz:
            w0, w1, w2, oa, ob = fx, fz, fy, sr, sr + 3
        else:
            w0, w1, w2, oa, ob = fz, fx, fy, 3, sr + 3
    else:
        if fz > fy:
            w0, w1, w2, oa, ob = fz, fy, fx, 3, sg + 3
        elif fz > fx:
            w0, w1, w2, oa, ob = fy, fz, fx, sg, sg + 3
        else:
            w0, w1, w2, oa, ob = fy, fx, fz, sg, sr + sg
    o1 = sr + sg + 3
    a0 = np.float32(1.0) - w0
    a1 = w0 - w1
    a2 = w1 - w2
    for c in range(3):
        out[k, c] = (a0 * t[base + c] + a1 * t[base + oa + c] + a2 * t[base + ob + c]
                     + w2 * t[base + o1 + c])


@njit(cache=True, inline="always")
def _coord(v, lo, scale, n1):
    x = (v - lo) * scale
    if not (x > 0.0):          # also catches NaN
        return np.float32(0.0)
    if x > n1:
        return np.float32(n1)
    return x


@njit(cache=True, parallel=True, fastmath=True)
def apply_tetra(src, table, dmin, dmax, out):
    """out[k] = table(src[k]) by tetrahedral interpolation; src, out: (M, 3) float32."""
    m = src.shape[0]
    n = table.shape[0]
    n1 = n - 1
    t = table.reshape(-1)
    s0 = np.float32(n1 / (dmax[0] - dmin[0]))
    s1 = np.float32(n1 / (dmax[1] - dmin[1]))
    s2 = np.float32(n1 / (dmax[2] - dmin[2]))
    nchunks = (m + _CHUNK - 1) // _CHUNK
    for ch in prange(nchunks):
        k0 = ch * _CHUNK
        k1 = min(m, k0 + _CHUNK)
        for k in range(k0, k1):
            x = _coord(src[k, 0], dmin[0], s0, n1)
            y = _coord(src[k, 1], dmin[1], s1, n1)
            z = _coord(src[k, 2], dmin[2], s2, n1)
            _tetra_one(t, n, x, y, z, out, k)


@njit(cache=True, parallel=True, fastmath=True)
def apply_1d(src, table, dmin, dmax, out):
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
                i = min(int(x), n1 - 1)
                f = x - i
                out[k, c] = table[i, c] + f * (table[i + 1, c] - table[i, c])
