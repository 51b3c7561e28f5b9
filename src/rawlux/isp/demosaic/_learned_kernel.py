"""The numba kernels of :mod:`rawlux.isp.demosaic.learned` (see there for the method): the bucket of a pixel
(CFA site kind × gradient angle × strength × coherence, from the structure tensor of the base green) and the
per-bucket linear correction over a window of the base RGB. The training script uses the same bucket code."""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always", fastmath=True)
def _bucket(jxx, jyy, jxy, mean, jc, kind, n_ang, s_thr, c_thr, h_thr):
    """Bucket index: (((kind · n_ang + angle) · n_str + strength) · n_coh + coherence) · n_chroma + chroma."""
    tr = jxx + jyy
    d = math.sqrt((jxx - jyy) * (jxx - jyy) + 4.0 * jxy * jxy)
    l1 = max(0.5 * (tr + d), 0.0)
    l2 = max(0.5 * (tr - d), 0.0)
    s1 = math.sqrt(l1)
    s2 = math.sqrt(l2)
    # dominant gradient angle in (-pi/2, pi/2], bins centred on the axes
    ang = 0.5 * math.atan2(2.0 * jxy, jxx - jyy)
    a = int(math.floor(ang * (n_ang / math.pi) + 0.5)) % n_ang
    strength = s1 / (abs(mean) + 1e-4)
    coh = (s1 - s2) / (s1 + s2 + 1e-12)
    si = 0
    for t in range(s_thr.shape[0]):
        if strength > s_thr[t]:
            si = t + 1
    ci = 0
    for t in range(c_thr.shape[0]):
        if coh > c_thr[t]:
            ci = t + 1
    sc = math.sqrt(max(jc, 0.0))
    chroma = sc / (sc + s1 + 1e-12)
    hi = 0
    for t in range(h_thr.shape[0]):
        if chroma > h_thr[t]:
            hi = t + 1
    n_s = s_thr.shape[0] + 1
    n_c = c_thr.shape[0] + 1
    n_h = h_thr.shape[0] + 1
    return (((kind * n_ang + a) * n_s + si) * n_c + ci) * n_h + hi


@njit(cache=True, parallel=True, fastmath=True)
def bucket_map(jxx, jyy, jxy, mean, jc, kinds, n_ang, s_thr, c_thr, h_thr):
    """H×W int32 bucket indices (``kinds``: the 2×2 site kinds of the pattern)."""
    h, w = jxx.shape
    out = np.empty((h, w), np.int32)
    for y in prange(h):
        for x in range(w):
            out[y, x] = _bucket(jxx[y, x], jyy[y, x], jxy[y, x], mean[y, x], jc[y, x], kinds[y & 1, x & 1], n_ang,
                                s_thr, c_thr, h_thr)
    return out


@njit(cache=True, parallel=True, fastmath=True)
def apply_filters(bp, jxx, jyy, jxy, mean, jc, kinds, n_ang, s_thr, c_thr, h_thr, weights, offs, out):
    """out = base + per-bucket filters · (window of base − centre), per channel.

    ``bp``: the base RGB padded by the window radius (H+2r)×(W+2r)×3; ``weights``: buckets × 3 × nf;
    ``offs``: nf × 3 (dy, dx, channel) of the features, relative to the centre."""
    h, w = jxx.shape
    nf = offs.shape[0]
    r = (bp.shape[0] - h) // 2
    for y in prange(h):
        f = np.empty(nf, np.float32)
        for x in range(w):
            b = _bucket(jxx[y, x], jyy[y, x], jxy[y, x], mean[y, x], jc[y, x], kinds[y & 1, x & 1], n_ang, s_thr,
                        c_thr, h_thr)
            yy = y + r
            xx = x + r
            for i in range(nf):
                c = offs[i, 2]
                f[i] = bp[yy + offs[i, 0], xx + offs[i, 1], c] - bp[yy, xx, c]
            for c in range(3):
                wt = weights[b, c]
                s = np.float32(0.0)
                for i in range(nf):
                    s += wt[i] * f[i]
                out[y, x, c] = bp[yy, xx, c] + s
