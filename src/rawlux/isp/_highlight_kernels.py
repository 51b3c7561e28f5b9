"""numba kernels of the highlights stage: the per-clipped-pixel rebuild, in one parallel pass over the
half-resolution image (no index arrays, no K×3 temporaries), and the point-wise steps of the low-resolution
chroma estimate around its two Gaussian blurs."""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True, fastmath=True)
def rebuild_clipped(rgb, anyc, chroma, scale_y, scale_x, clip, thr, out):  # pragma: no cover - compiled
    """For every pixel (y, x) of the H×W×3 ``rgb`` flagged in ``anyc``: rebuild its clipped channels and write
    the result to ``out`` (which may be ``rgb`` itself: each pixel reads only its own value).

    ``chroma`` (h×w×3, float32) is the colour of the unclipped surroundings at low resolution, sampled
    bilinearly at the pixel centre (``scale_y``, ``scale_x``: low-resolution size / full size). Per pixel:
    the unclipped channels give the scale ``s`` of the chroma (least squares), a clipped channel becomes
    max(v, chroma·s); the result is pulled toward neutral as more channels clip (1 → 1/9, 2 → 4/9 faded in
    with how far the rebuilt colour rises above the clip, 3 → fully neutral at ≥ the highest clip level),
    and is never darker than the data."""
    H, W = anyc.shape
    h = chroma.shape[0]
    w = chroma.shape[1]
    one = np.float32(1.0)
    zero = np.float32(0.0)
    c0 = max(clip[0], np.float32(1e-6))
    c1 = max(clip[1], np.float32(1e-6))
    c2 = max(clip[2], np.float32(1e-6))
    cmax = max(clip[0], max(clip[1], clip[2]))
    t0 = thr[0]
    t1 = thr[1]
    t2 = thr[2]
    # bilinear column weights, once per column (float64 coordinates, as in a direct evaluation)
    xs0 = np.empty(W, np.int64)
    xs1 = np.empty(W, np.int64)
    txs = np.empty(W, np.float32)
    for x in range(W):
        fx = (x + 0.5) * scale_x - 0.5          # the pixel centre in low-resolution pixels
        fx = min(max(fx, 0.0), w - 1.0)
        x0 = min(np.int64(fx), w - 1)
        xs0[x] = x0
        xs1[x] = min(x0 + 1, w - 1)
        txs[x] = np.float32(fx - x0)
    # rows dealt out in turn (row y to slot y % nslot), so that a large clipped area (a sky at the top) is shared
    # among the threads rather than falling to one of them
    nslot = min(H, 64)
    for slot in nb.prange(nslot):
        for y in range(slot, H, nslot):
            # bilinear row weights
            fy = (y + 0.5) * scale_y - 0.5
            fy = min(max(fy, 0.0), h - 1.0)
            y0 = min(np.int64(fy), h - 1)
            y1 = min(y0 + 1, h - 1)
            ty = np.float32(fy - y0)
            uy = one - ty
            for x in range(W):
                if not anyc[y, x]:
                    continue
                x0 = xs0[x]
                x1 = xs1[x]
                tx = txs[x]
                ux = one - tx
                ch0 = ((chroma[y0, x0, 0] * ux + chroma[y0, x1, 0] * tx) * uy
                       + (chroma[y1, x0, 0] * ux + chroma[y1, x1, 0] * tx) * ty)
                ch1 = ((chroma[y0, x0, 1] * ux + chroma[y0, x1, 1] * tx) * uy
                       + (chroma[y1, x0, 1] * ux + chroma[y1, x1, 1] * tx) * ty)
                ch2 = ((chroma[y0, x0, 2] * ux + chroma[y0, x1, 2] * tx) * uy
                       + (chroma[y1, x0, 2] * ux + chroma[y1, x1, 2] * tx) * ty)
                v0 = rgb[y, x, 0]
                v1 = rgb[y, x, 1]
                v2 = rgb[y, x, 2]
                k0 = v0 >= t0
                k1 = v1 >= t1
                k2 = v2 >= t2
                # least-squares scale of the chroma from the unclipped channels
                u0 = zero if k0 else one
                u1 = zero if k1 else one
                u2 = zero if k2 else one
                s_num = v0 * ch0 * u0 + v1 * ch1 * u1 + v2 * ch2 * u2
                s_den = ch0 * ch0 * u0 + ch1 * ch1 * u1 + ch2 * ch2 * u2
                s = s_num / max(s_den, np.float32(1e-12)) if s_den > np.float32(1e-12) else zero
                r0 = max(v0, ch0 * s) if k0 else v0
                r1 = max(v1, ch1 * s) if k1 else v1
                r2 = max(v2, ch2 * s) if k2 else v2
                n = np.int64(k0) + np.int64(k1) + np.int64(k2)
                # max over the clipped channels of rec / clip (0 when none)
                excess = max(r0 / c0 if k0 else zero, max(r1 / c1 if k1 else zero, r2 / c2 if k2 else zero))
                peak = max(r0, max(r1, r2))
                if n >= 3:
                    t = one
                    neutral = max(peak, cmax)
                else:
                    fade = min(max((excess - one) / np.float32(0.15), zero), one)
                    fade = fade * fade * (np.float32(3.0) - np.float32(2.0) * fade)
                    nf = np.float32(n) / np.float32(3.0)
                    t = nf * nf * fade
                    neutral = peak
                out[y, x, 0] = max(r0 + t * (neutral - r0), v0)
                out[y, x, 1] = max(r1 + t * (neutral - r1), v1)
                out[y, x, 2] = max(r2 + t * (neutral - r2), v2)


# The two kernels below evaluate the low-resolution chroma estimate with the same float32 operations, in the
# same order, as the numpy expressions they replace (no fastmath: the values are bit-identical), in one pass
# each instead of a handful of temporaries.

@nb.njit(cache=True)
def chroma_weights(small, sm_any, wgt, wchroma):  # pragma: no cover - compiled
    """lum = r + g + b; wgt = [sm_any < 0.01] · lum; wchroma = wgt · small / max(lum, 1e-6)."""
    h, w = sm_any.shape
    lim = np.float32(0.01)
    eps = np.float32(1e-6)
    for y in range(h):
        for x in range(w):
            a = small[y, x, 0]
            b = small[y, x, 1]
            c = small[y, x, 2]
            lum = a + b + c
            wg = np.float32(1.0 if sm_any[y, x] < lim else 0.0) * lum
            d = lum if lum > eps else eps
            wgt[y, x] = wg
            wchroma[y, x, 0] = wg * a / d
            wchroma[y, x, 1] = wg * b / d
            wchroma[y, x, 2] = wg * c / d


@nb.njit(cache=True)
def chroma_normalise(num, den, chroma):  # pragma: no cover - compiled
    """chroma = num / max(den, 1e-12), and 1/3 where den ≤ 1e-8 (no unclipped surroundings)."""
    h, w = den.shape
    eps = np.float32(1e-12)
    empty = np.float32(1e-8)
    third = np.float32(1.0 / 3.0)
    for y in range(h):
        for x in range(w):
            dd = den[y, x]
            if dd <= empty:
                chroma[y, x, 0] = third
                chroma[y, x, 1] = third
                chroma[y, x, 2] = third
            else:
                q = dd if dd > eps else eps
                chroma[y, x, 0] = num[y, x, 0] / q
                chroma[y, x, 1] = num[y, x, 1] / q
                chroma[y, x, 2] = num[y, x, 2] / q
