"""numba kernel of the HDR highlights rendition (one fused pass per pixel; see ``ultrahdr.highlight_gain`` for
the maths, which the numpy reference there spells out)."""
from __future__ import annotations

import numba as nb
import numpy as np

from ..isp.kernels import compress_to_gamut as _compress  # the output stage's smooth gamut compression
from ..isp.kernels import table_lookup as _lut


@nb.njit(cache=True, parallel=True, fastmath=True)
def highlights(scene, m, sdr_enc, dec_lut, m_sdr, base, use_base, peak, knee_lo, knee_hi, out):  # pragma: no cover
    """out = base · gain, gain = clip(((C + ε)/(D + ε))^w, 1/16, peak) per channel, where C = the scene (working
    space) through ``m`` with gamut compression and a soft cap at ``peak`` on the brightest channel, D = the SDR
    render (``sdr_enc``, display-encoded) decoded by ``dec_lut`` and put in the same primaries by ``m_sdr``, and
    w = smoothstep((max D − knee_lo)/(knee_hi − knee_lo)). ``use_base`` false: base = D."""
    h, w_, _ = scene.shape
    n = dec_lut.shape[0] - 1
    tiny = np.float32(1e-4)
    span = np.float32(knee_hi - knee_lo)
    lo_g = np.float32(1.0 / 16.0)
    for y in nb.prange(h):
        c = np.empty(3, np.float32)
        d = np.empty(3, np.float32)
        e = np.empty(3, np.float32)
        for x in range(w_):
            for k in range(3):
                e[k] = _lut(dec_lut, n, sdr_enc[y, x, k])
            for k in range(3):
                d[k] = m_sdr[k, 0] * e[0] + m_sdr[k, 1] * e[1] + m_sdr[k, 2] * e[2]
            dm = max(d[0], max(d[1], d[2]))
            t = (dm - np.float32(knee_lo)) / span
            if t <= 0:
                for k in range(3):
                    out[y, x, k] = base[y, x, k] if use_base else d[k]
                continue
            if t > 1:
                t = np.float32(1.0)
            wt = t * t * (np.float32(3.0) - np.float32(2.0) * t)
            s0 = max(scene[y, x, 0], np.float32(0.0))
            s1 = max(scene[y, x, 1], np.float32(0.0))
            s2 = max(scene[y, x, 2], np.float32(0.0))
            for k in range(3):
                c[k] = m[k, 0] * s0 + m[k, 1] * s1 + m[k, 2] * s2
            ach = max(c[0], max(c[1], c[2]))
            if ach > 1e-9:
                for k in range(3):
                    c[k] = max(_compress(ach, c[k]), np.float32(0.0))
                q = ach / peak
                q2 = q * q
                soft = (np.float32(1.0) + q2 * q2) ** np.float32(-0.25)
            else:
                soft = np.float32(1.0)
            for k in range(3):
                c[k] = c[k] * soft
            # saturation (1 − min/max) at most the SDR pixel's: hue and brightness from the scene
            cmax = max(c[0], max(c[1], c[2]))
            if cmax > 1e-9:
                sat_c = np.float32(1.0) - min(c[0], min(c[1], c[2])) / cmax
                dmn = max(min(d[0], min(d[1], d[2])), np.float32(0.0))
                sat_d = np.float32(1.0) - dmn / max(dm, np.float32(1e-9))
                if sat_c > sat_d:
                    kk = sat_d / sat_c
                    for k in range(3):
                        c[k] = cmax - (cmax - c[k]) * kk
            for k in range(3):
                g = ((c[k] + tiny) / (max(d[k], np.float32(0.0)) + tiny)) ** wt
                g = min(max(g, lo_g), peak)
                b = base[y, x, k] if use_base else d[k]
                out[y, x, k] = b * g
