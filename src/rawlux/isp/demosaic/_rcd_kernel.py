"""The numba kernel of :mod:`rawlux.isp.demosaic.rcd` (see there for the method)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._tiles import load_tile

EPS = np.float32(1e-5)
EPS2 = np.float32(1e-10)


@njit(cache=True, inline="always")
def _decide(centre, n0, n1, n2, n3):
    """The discriminator at a site, or the mean of its neighbours' where that is more decided."""
    nb = np.float32(0.25) * (n0 + n1 + n2 + n3)
    if abs(np.float32(0.5) - centre) < abs(np.float32(0.5) - nb):
        return nb
    return centre


@njit(cache=True, inline="always")
def _ratio(lc, ln):
    """Ratio correction 2·lc / (lc + ln), kept to [0.25, 4] and neutral where the low-pass is not positive."""
    s = lc + ln
    if lc <= EPS or ln <= EPS:
        return np.float32(1.0)
    r = np.float32(2.0) * lc / s
    return min(max(r, np.float32(0.25)), np.float32(4.0))


@njit(cache=True, inline="always")
def _axial(ch, g, yy, xx, d):
    """Colour difference of one chroma at a green site from its four axial neighbours (per-channel gradients)."""
    gc = g[yy, xx]
    gn = EPS + abs(gc - g[yy - 2, xx]) + abs(ch[yy - 1, xx] - ch[yy + 1, xx]) + abs(ch[yy - 1, xx] - ch[yy - 3, xx])
    gs = EPS + abs(gc - g[yy + 2, xx]) + abs(ch[yy + 1, xx] - ch[yy - 1, xx]) + abs(ch[yy + 1, xx] - ch[yy + 3, xx])
    gw = EPS + abs(gc - g[yy, xx - 2]) + abs(ch[yy, xx - 1] - ch[yy, xx + 1]) + abs(ch[yy, xx - 1] - ch[yy, xx - 3])
    ge = EPS + abs(gc - g[yy, xx + 2]) + abs(ch[yy, xx + 1] - ch[yy, xx - 1]) + abs(ch[yy, xx + 1] - ch[yy, xx + 3])
    en = ch[yy - 1, xx] - g[yy - 1, xx]
    es = ch[yy + 1, xx] - g[yy + 1, xx]
    ew = ch[yy, xx - 1] - g[yy, xx - 1]
    ee = ch[yy, xx + 1] - g[yy, xx + 1]
    ev = (gs * en + gn * es) / (gn + gs)
    eh = (ge * ew + gw * ee) / (gw + ge)
    return ev + d * (eh - ev)


@njit(cache=True, parallel=True, fastmath=True, error_model="numpy")
def rcd_tiles(cfa, out, r_row, r_col, th_, tw_, m):
    h, w = cfa.shape
    nty = (h + th_ - 1) // th_
    ntx = (w + tw_ - 1) // tw_
    half = np.float32(0.5)
    quarter = np.float32(0.25)
    for t in prange(nty * ntx):
        y0 = (t // ntx) * th_
        x0 = (t % ntx) * tw_
        th = min(th_, h - y0)
        tw = min(tw_, w - x0)
        hp = th + 2 * m
        wp = tw + 2 * m
        c = load_tile(cfa, y0, x0, hp, wp, m)
        # green sites: (yy + xx + r_row + r_col) odd  (tile origin has the image's CFA phase)
        gpar = (r_row + r_col + 1) & 1

        # 1. vertical/horizontal and diagonal discrimination: the square of the 7-tap colour-difference
        #    high-pass (c[-3] - c[-1] - c[+1] + c[+3]) - 3 (c[-2] + c[+2]) + 6 c[0] along each direction
        va = np.zeros((hp, wp), np.float32)
        ha = np.zeros((hp, wp), np.float32)
        pa = np.zeros((hp, wp), np.float32)
        qa = np.zeros((hp, wp), np.float32)
        six = np.float32(6.0)
        three = np.float32(3.0)
        for yy in range(3, hp - 3):
            for xx in range(3, wp - 3):
                c6 = six * c[yy, xx]
                t = ((c[yy - 3, xx] - c[yy - 1, xx] - c[yy + 1, xx] + c[yy + 3, xx])
                     - three * (c[yy - 2, xx] + c[yy + 2, xx]) + c6)
                va[yy, xx] = t * t
                t = ((c[yy, xx - 3] - c[yy, xx - 1] - c[yy, xx + 1] + c[yy, xx + 3])
                     - three * (c[yy, xx - 2] + c[yy, xx + 2]) + c6)
                ha[yy, xx] = t * t
                t = ((c[yy - 3, xx - 3] - c[yy - 1, xx - 1] - c[yy + 1, xx + 1] + c[yy + 3, xx + 3])
                     - three * (c[yy - 2, xx - 2] + c[yy + 2, xx + 2]) + c6)
                pa[yy, xx] = t * t
                t = ((c[yy - 3, xx + 3] - c[yy - 1, xx + 1] - c[yy + 1, xx - 1] + c[yy + 3, xx - 3])
                     - three * (c[yy - 2, xx + 2] + c[yy + 2, xx - 2]) + c6)
                qa[yy, xx] = t * t
        # summed over the pixel and its two neighbours along the direction, floored at eps^2
        vh = np.full((hp, wp), half, np.float32)
        pq = np.full((hp, wp), half, np.float32)
        lpf = np.zeros((hp, wp), np.float32)
        for yy in range(1, hp - 1):
            for xx in range(1, wp - 1):
                lpf[yy, xx] = (c[yy, xx] + half * (c[yy - 1, xx] + c[yy + 1, xx] + c[yy, xx - 1] + c[yy, xx + 1])
                               + quarter * (c[yy - 1, xx - 1] + c[yy - 1, xx + 1]
                                            + c[yy + 1, xx - 1] + c[yy + 1, xx + 1]))
        for yy in range(4, hp - 4):
            for xx in range(4, wp - 4):
                sv = max(va[yy - 1, xx] + va[yy, xx] + va[yy + 1, xx], EPS2)
                sh = max(ha[yy, xx - 1] + ha[yy, xx] + ha[yy, xx + 1], EPS2)
                vh[yy, xx] = sv / (sv + sh)
                sp = max(pa[yy - 1, xx - 1] + pa[yy, xx] + pa[yy + 1, xx + 1], EPS2)
                sq = max(qa[yy - 1, xx + 1] + qa[yy, xx] + qa[yy + 1, xx - 1], EPS2)
                pq[yy, xx] = sp / (sp + sq)

        # 2. green everywhere
        g = c.copy()
        for yy in range(5, hp - 5):
            x_start = 5 + ((yy + 5 + gpar + 1) & 1)  # first red/blue site at or after column 5
            for xx in range(x_start, wp - 5, 2):
                cc = c[yy, xx]
                lc = lpf[yy, xx]
                gn = (EPS + abs(c[yy - 1, xx] - c[yy + 1, xx]) + abs(cc - c[yy - 2, xx])
                      + abs(c[yy - 1, xx] - c[yy - 3, xx]) + abs(c[yy - 2, xx] - c[yy - 4, xx]))
                gs = (EPS + abs(c[yy + 1, xx] - c[yy - 1, xx]) + abs(cc - c[yy + 2, xx])
                      + abs(c[yy + 1, xx] - c[yy + 3, xx]) + abs(c[yy + 2, xx] - c[yy + 4, xx]))
                gw = (EPS + abs(c[yy, xx - 1] - c[yy, xx + 1]) + abs(cc - c[yy, xx - 2])
                      + abs(c[yy, xx - 1] - c[yy, xx - 3]) + abs(c[yy, xx - 2] - c[yy, xx - 4]))
                ge = (EPS + abs(c[yy, xx + 1] - c[yy, xx - 1]) + abs(cc - c[yy, xx + 2])
                      + abs(c[yy, xx + 1] - c[yy, xx + 3]) + abs(c[yy, xx + 2] - c[yy, xx + 4]))
                en = c[yy - 1, xx] * _ratio(lc, lpf[yy - 2, xx])
                es = c[yy + 1, xx] * _ratio(lc, lpf[yy + 2, xx])
                ew = c[yy, xx - 1] * _ratio(lc, lpf[yy, xx - 2])
                ee = c[yy, xx + 1] * _ratio(lc, lpf[yy, xx + 2])
                ev = (gs * en + gn * es) / (gn + gs)
                eh = (ge * ew + gw * ee) / (gw + ge)
                d = _decide(vh[yy, xx], vh[yy - 1, xx - 1], vh[yy - 1, xx + 1], vh[yy + 1, xx - 1],
                            vh[yy + 1, xx + 1])
                g[yy, xx] = ev + d * (eh - ev)

        # 3. red at blue sites, blue at red sites (diagonal colour differences)
        r = c.copy()
        b = c.copy()
        for yy in range(7, hp - 7):
            x_start = 7 + ((yy + 7 + gpar + 1) & 1)
            is_red_row = (yy & 1) == r_row
            for xx in range(x_start, wp - 7, 2):
                gc = g[yy, xx]
                dnw = c[yy - 1, xx - 1] - g[yy - 1, xx - 1]
                dne = c[yy - 1, xx + 1] - g[yy - 1, xx + 1]
                dsw = c[yy + 1, xx - 1] - g[yy + 1, xx - 1]
                dse = c[yy + 1, xx + 1] - g[yy + 1, xx + 1]
                gnw = (EPS + abs(c[yy - 1, xx - 1] - c[yy + 1, xx + 1]) + abs(c[yy - 1, xx - 1] - c[yy - 3, xx - 3])
                       + abs(gc - g[yy - 2, xx - 2]))
                gse = (EPS + abs(c[yy + 1, xx + 1] - c[yy - 1, xx - 1]) + abs(c[yy + 1, xx + 1] - c[yy + 3, xx + 3])
                       + abs(gc - g[yy + 2, xx + 2]))
                gne = (EPS + abs(c[yy - 1, xx + 1] - c[yy + 1, xx - 1]) + abs(c[yy - 1, xx + 1] - c[yy - 3, xx + 3])
                       + abs(gc - g[yy - 2, xx + 2]))
                gsw = (EPS + abs(c[yy + 1, xx - 1] - c[yy - 1, xx + 1]) + abs(c[yy + 1, xx - 1] - c[yy + 3, xx - 3])
                       + abs(gc - g[yy + 2, xx - 2]))
                ep = (gse * dnw + gnw * dse) / (gnw + gse)
                eq = (gsw * dne + gne * dsw) / (gne + gsw)
                d = _decide(pq[yy, xx], pq[yy - 1, xx - 1], pq[yy - 1, xx + 1], pq[yy + 1, xx - 1],
                            pq[yy + 1, xx + 1])
                v = gc + ep + d * (eq - ep)
                if is_red_row:
                    b[yy, xx] = v
                else:
                    r[yy, xx] = v

        # 4. red and blue at green sites (axial colour differences), and write the tile out
        for yy in range(m, m + th):
            oy = y0 + yy - m
            for xx in range(m, m + tw):
                ox = x0 + xx - m
                gc = g[yy, xx]
                if ((yy + xx + gpar) & 1) == 0:
                    d = _decide(vh[yy, xx], vh[yy - 1, xx - 1], vh[yy - 1, xx + 1], vh[yy + 1, xx - 1],
                                vh[yy + 1, xx + 1])
                    out[oy, ox, 0] = gc + _axial(r, g, yy, xx, d)
                    out[oy, ox, 2] = gc + _axial(b, g, yy, xx, d)
                else:
                    out[oy, ox, 0] = r[yy, xx]
                    out[oy, ox, 2] = b[yy, xx]
                out[oy, ox, 1] = gc
