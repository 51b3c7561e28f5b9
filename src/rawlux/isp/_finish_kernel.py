"""The per-pixel end of the pipeline in one vectorised pass: camera matrix × exposure, the filmic tone curve with
hue preservation, the output matrix, gamut handling and the transfer function (``finish``).

The stages ``colour``, ``exposure``, ``tone`` and ``output`` are each a function of one pixel; the runner
(``pipeline/run.py``) fuses a run of them into one call of :func:`finish`, and the tone and output stages
call it on their own too (with the other parts switched off), so there is one implementation of each.

Everything is written so that LLVM vectorises it (16 floats per AVX-512 instruction): the powers are computed
from the float's bits (exponent + a degree-8 polynomial of the mantissa for log2, a degree-6 polynomial and an
exponent for exp2; ≤ 4e-7 relative error), with no table lookups (gathers, which the compiler will not
vectorise on many CPUs) and no branches (selects). Each row is split into three channel planes of scratch
(in L1/L2), worked on plane by plane, and written back interleaved.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._kernels import _compress, _pull_in

#: log2(1 + t) for t = m − 1, m in [√½, √2) (Chebyshev fit, degree 8; ≤ 1.1e-7 absolute)
_LOG2 = (4.1276956699864975e-08, 1.442694834814359, -0.7213611580243235, 0.48093263122744867,
         -0.35998312028827223, 0.28684820702065666, -0.2511142268342064, 0.23610973850105965,
         -0.1419951463808977)
#: 2^f for f in [−½, ½] (Chebyshev fit, degree 6; ≤ 1.1e-7 relative)
_EXP2 = (0.9999999999595484, 0.6931472067106201, 0.24022651213595422, 0.05550327214209392,
         0.009618025602924336, 0.0013400432165282107, 0.00015469731986654986)

# transfer functions as (threshold, slope, k, gamma): v < threshold → slope·v, else k·v^gamma − (k − 1)
TRANSFERS = {
    "srgb": (0.0031308, 12.92, 1.055, 1.0 / 2.4),
    "rec709": (0.018053968510807, 4.5, 1.09929682680944, 0.45),
    "linear": (2.0, 1.0, 1.0, 1.0),
}


def transfer_params(tf: str) -> np.ndarray:
    """The :data:`TRANSFERS` row of a transfer function name (``gammaG`` too), as float32[4]."""
    if tf.startswith("gamma"):
        return np.array([0.0, 0.0, 1.0, 1.0 / float(tf[5:])], np.float32)
    return np.array(TRANSFERS[tf], np.float32)


@nb.njit(cache=True, fastmath=True, error_model="numpy", inline="always")
def _pow_plane(x, c, out, bits):  # pragma: no cover - compiled
    """out[k] = x[k]^c for x ≥ 0 (0 → ~2^-126·…, i.e. 0 for every use here); ``bits`` is int32 scratch of the
    same length. Three passes over the plane, each vectorised."""
    xi = x.view(np.int32)
    fb = bits.view(np.float32)
    n = x.shape[0]
    for k in range(n):
        bits[k] = (xi[k] & 0x007FFFFF) | 0x3F800000          # the mantissa as a float in [1, 2)
    s2 = np.float32(1.4142135)
    half = np.float32(0.5)
    one = np.float32(1.0)
    lo = np.float32(-126.0)
    hi = np.float32(127.0)
    for k in range(n):
        e = np.float32((xi[k] >> 23) - 127)
        m = fb[k]
        big = m > s2
        m = m * half if big else m
        e = e + one if big else e
        t = m - one
        p = np.float32(_LOG2[8])
        p = p * t + np.float32(_LOG2[7])
        p = p * t + np.float32(_LOG2[6])
        p = p * t + np.float32(_LOG2[5])
        p = p * t + np.float32(_LOG2[4])
        p = p * t + np.float32(_LOG2[3])
        p = p * t + np.float32(_LOG2[2])
        p = p * t + np.float32(_LOG2[1])
        p = p * t + np.float32(_LOG2[0])
        y = min(max(c * (e + p), lo), hi)
        r = np.floor(y + half)
        f = y - r
        q = np.float32(_EXP2[6])
        q = q * f + np.float32(_EXP2[5])
        q = q * f + np.float32(_EXP2[4])
        q = q * f + np.float32(_EXP2[3])
        q = q * f + np.float32(_EXP2[2])
        q = q * f + np.float32(_EXP2[1])
        q = q * f + np.float32(_EXP2[0])
        out[k] = q
        bits[k] = (np.int32(r) + 127) << 23                     # 2^r as float bits
    for k in range(n):
        out[k] *= fb[k]


@nb.njit(cache=True, parallel=True, fastmath=True, error_model="numpy")
def finish(img, m_in, clamp_in, tone, c, s_c, peak, hue_pres, encode, m_out, compress, tf, out):  # pragma: no cover
    """The per-pixel end of the pipeline on an H×W×3 float32 image (``out`` may be ``img``).

    1. ``m_in`` (3×3: camera matrix × exposure gain, or the identity); negatives to 0 when ``clamp_in``;
    2. when ``tone``: each channel through y = peak·x^c/(x^c + s_c), then moved toward the position it had
       between the pixel's min and max by ``hue_pres`` (keeps hue);
    3. when ``encode``: ``m_out`` (3×3 to the output space), gamut handling (``compress``: 0 none, 1 smooth
       compression toward the pixel's max for scene-referred sources, 2 only pixels with a channel below 0,
       pulled in along their hue line), clip to [0, 1], and the transfer function ``tf``
       (threshold, slope, k, gamma: :func:`transfer_params`)."""
    h, w, _ = img.shape
    rows = 8
    nchunk = (h + rows - 1) // rows
    zero = np.float32(0.0)
    one = np.float32(1.0)
    tiny = np.float32(1e-12)
    eps9 = np.float32(1e-9)
    thr = tf[0]
    slope = tf[1]
    kk = tf[2]
    gam = tf[3]
    km1 = kk - one
    for chunk in nb.prange(nchunk):
        a = np.empty(3 * w, np.float32)      # the three channel planes of one row: r | g | b
        t = np.empty(3 * w, np.float32)
        bits = np.empty(3 * w, np.int32)
        ar = a[0:w]
        ag = a[w:2 * w]
        ab = a[2 * w:3 * w]
        tr = t[0:w]
        tg = t[w:2 * w]
        tb = t[2 * w:3 * w]
        for y in range(chunk * rows, min(h, chunk * rows + rows)):
            src = img[y]
            for x in range(w):
                r0 = src[x, 0]
                g0 = src[x, 1]
                b0 = src[x, 2]
                r = m_in[0, 0] * r0 + m_in[0, 1] * g0 + m_in[0, 2] * b0
                g = m_in[1, 0] * r0 + m_in[1, 1] * g0 + m_in[1, 2] * b0
                b = m_in[2, 0] * r0 + m_in[2, 1] * g0 + m_in[2, 2] * b0
                ar[x] = max(r, zero) if clamp_in else r
                ag[x] = max(g, zero) if clamp_in else g
                ab[x] = max(b, zero) if clamp_in else b
            if tone:
                _pow_plane(a, c, t, bits)
                for k in range(3 * w):
                    v = t[k]
                    t[k] = peak * v / (v + s_c)
                for x in range(w):
                    r = ar[x]
                    g = ag[x]
                    b = ab[x]
                    yr = tr[x]
                    yg = tg[x]
                    yb = tb[x]
                    xmax = max(r, max(g, b))
                    xmin = min(r, min(g, b))
                    span = xmax - xmin
                    ymax = max(yr, max(yg, yb))
                    ymin = min(yr, min(yg, yb))
                    sl = (ymax - ymin) / max(span, tiny)
                    hp = hue_pres if span > tiny else zero
                    ar[x] = yr + hp * (ymin + (r - xmin) * sl - yr)
                    ag[x] = yg + hp * (ymin + (g - xmin) * sl - yg)
                    ab[x] = yb + hp * (ymin + (b - xmin) * sl - yb)
            dst = out[y]
            if not encode:
                for x in range(w):
                    dst[x, 0] = ar[x]
                    dst[x, 1] = ag[x]
                    dst[x, 2] = ab[x]
                continue
            for x in range(w):
                r0 = ar[x]
                g0 = ag[x]
                b0 = ab[x]
                r = m_out[0, 0] * r0 + m_out[0, 1] * g0 + m_out[0, 2] * b0
                g = m_out[1, 0] * r0 + m_out[1, 1] * g0 + m_out[1, 2] * b0
                b = m_out[2, 0] * r0 + m_out[2, 1] * g0 + m_out[2, 2] * b0
                ach = max(r, max(g, b))
                if compress == 1:               # scene-referred: smooth compression toward the max
                    if ach > eps9:
                        r = _compress(ach, r)
                        g = _compress(ach, g)
                        b = _compress(ach, b)
                elif compress == 2:             # display-referred: only pixels with a channel below 0 move
                    mn = min(r, min(g, b))
                    if mn < zero and ach > eps9:
                        r = _pull_in(ach, mn, r)
                        g = _pull_in(ach, mn, g)
                        b = _pull_in(ach, mn, b)
                ar[x] = min(max(r, zero), one)
                ag[x] = min(max(g, zero), one)
                ab[x] = min(max(b, zero), one)
            _pow_plane(a, gam, t, bits)
            for k in range(3 * w):
                v = a[k]
                t[k] = slope * v if v < thr else kk * t[k] - km1
            for x in range(w):
                dst[x, 0] = tr[x]
                dst[x, 1] = tg[x]
                dst[x, 2] = tb[x]
