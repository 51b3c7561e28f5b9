"""The numba kernel of :mod:`rawlux.isp.demosaic.rcd` (see there for the method)."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

EPS = np.float32(1e-5)
EPS2 = np.float32(1e-10)


@njit(cache=True, inline="always")
def _mirror(i, n):
    """Index i mirrored about the first and last sample (reflect-101); keeps the parity of i."""
    if n == 1:
        return 0
    p = 2 * (n - 1)
    i = i % p
    if i < 0:
        i += p
    if i >= n:
        i = p - i
    return i


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


@njit(cache=True, parallel=True, fastmath=True)
def rcd_tiles(cfa, out, r_row, r_col, th_, tw_, m):
    h, w = cfa.shape
    nty = (h + th_ - 1) // th_
    ntx = (w + tw_ - 1) // tw_
    half = np.float32(0.5)
    quarter = np.float32(0.25)
    one = np.float32(1.0)
    for t in prange(nty * ntx):
        y0 = (t // ntx) * th_
        x0 = (t % ntx) * tw_
        th = min(th_, h - y0)
        tw = min(tw_, w - x0)
        hp = th + 2 * m
        wp = tw + 2 * m
        c = np.empty((hp, wp), np.float32)
        xs = np.empty(wp, np.int64)
        for xx in range(wp):
            xs[xx] = _mirror(x0 - m + xx, w)
        for yy in range(hp):
            sy = _mirror(y0 - m + yy, h)
            for xx in range(wp):
                c[yy, xx] = cfa[sy, xs[xx]]
        # green sites: (yy + xx + r_row + r_col) odd  (tile origin has the image's CFA phase)
        gpar = (r_row + r_col + 1) & 1

        # 1. vertical/horizontal and diagonal energies
        va = np.empty((hp, wp), np.float32)
        ha = np.empty((hp, wp), np.float32)
        pa = np.empty((hp, wp), np.float32)
        qa = np.empty((hp, wp), np.float32)
        for yy in range(2, hp - 2):
            for xx in range(2, wp - 2):
                cc = np.float32(2.0) * c[yy, xx]
                d1 = c[yy - 1, xx] - c[yy + 1, xx]
                d2 = cc - c[yy - 2, xx] - c[yy + 2, xx]
                va[yy, xx] = d1 * d1 + half * d2 * d2
                d1 = c[yy, xx - 1] - c[yy, xx + 1]
                d2 = cc - c[yy, xx - 2] - c[yy, xx + 2]
                ha[yy, xx] = d1 * d1 + half * d2 * d2
                d1 = c[yy - 1, xx - 1] - c[yy + 1, xx + 1]
                d2 = cc - c[yy - 2, xx - 2] - c[yy + 2, xx + 2]
                pa[yy, xx] = d1 * d1 + half * d2 * d2
                d1 = c[yy - 1, xx + 1] - c[yy + 1, xx - 1]
                d2 = cc - c[yy - 2, xx + 2] - c[yy + 2, xx - 2]
                qa[yy, xx] = d1 * d1 + half * d2 * d2
        # every value read below lies in the ranges written (see the margins)
        vh = np.empty((hp, wp), np.float32)
        pq = np.empty((hp, wp), np.float32)
        lpf = np.empty((hp, wp), np.float32)
        for yy in range(3, hp - 3):
            for xx in range(3, wp - 3):
                sv = va[yy - 1, xx] + va[yy, xx] + va[yy + 1, xx] + EPS2
                sh = ha[yy, xx - 1] + ha[yy, xx] + ha[yy, xx + 1] + EPS2
                vh[yy, xx] = sv / (sv + sh)
                sp = pa[yy - 1, xx - 1] + pa[yy, xx] + pa[yy + 1, xx + 1] + EPS2
                sq = qa[yy - 1, xx + 1] + qa[yy, xx] + qa[yy + 1, xx - 1] + EPS2
                pq[yy, xx] = sp / (sp + sq)
                lpf[yy, xx] = (c[yy, xx] + half * (c[yy - 1, xx] + c[yy + 1, xx] + c[yy, xx - 1] + c[yy, xx + 1])
                               + quarter * (c[yy - 1, xx - 1] + c[yy - 1, xx + 1]
                                            + c[yy + 1, xx - 1] + c[yy + 1, xx + 1]))

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
        for yy in range(5, hp - 5):
            x_start = 5 + ((yy + 5 + gpar + 1) & 1)
            is_red_row = (yy & 1) == r_row
            for xx in range(x_start, wp - 5, 2):
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
                    gn = EPS + abs(gc - g[yy - 2, xx]) + abs(g[yy - 1, xx] - g[yy + 1, xx])
                    gs = EPS + abs(gc - g[yy + 2, xx]) + abs(g[yy - 1, xx] - g[yy + 1, xx])
                    gw = EPS + abs(gc - g[yy, xx - 2]) + abs(g[yy, xx - 1] - g[yy, xx + 1])
                    ge = EPS + abs(gc - g[yy, xx + 2]) + abs(g[yy, xx - 1] - g[yy, xx + 1])
                    gn += abs(r[yy - 1, xx] - r[yy + 1, xx]) + abs(b[yy - 1, xx] - b[yy + 1, xx])
                    gs += abs(r[yy - 1, xx] - r[yy + 1, xx]) + abs(b[yy - 1, xx] - b[yy + 1, xx])
                    gw += abs(r[yy, xx - 1] - r[yy, xx + 1]) + abs(b[yy, xx - 1] - b[yy, xx + 1])
                    ge += abs(r[yy, xx - 1] - r[yy, xx + 1]) + abs(b[yy, xx - 1] - b[yy, xx + 1])
                    d = _decide(vh[yy, xx], vh[yy - 1, xx - 1], vh[yy - 1, xx + 1], vh[yy + 1, xx - 1],
                                vh[yy + 1, xx + 1])
                    wvn = gs / (gn + gs)
                    whw = ge / (gw + ge)
                    rv = wvn * (r[yy - 1, xx] - g[yy - 1, xx]) + (one - wvn) * (r[yy + 1, xx] - g[yy + 1, xx])
                    rh = whw * (r[yy, xx - 1] - g[yy, xx - 1]) + (one - whw) * (r[yy, xx + 1] - g[yy, xx + 1])
                    bv = wvn * (b[yy - 1, xx] - g[yy - 1, xx]) + (one - wvn) * (b[yy + 1, xx] - g[yy + 1, xx])
                    bh = whw * (b[yy, xx - 1] - g[yy, xx - 1]) + (one - whw) * (b[yy, xx + 1] - g[yy, xx + 1])
                    out[oy, ox, 0] = gc + rv + d * (rh - rv)
                    out[oy, ox, 2] = gc + bv + d * (bh - bv)
                else:
                    out[oy, ox, 0] = r[yy, xx]
                    out[oy, ox, 2] = b[yy, xx]
                out[oy, ox, 1] = gc
