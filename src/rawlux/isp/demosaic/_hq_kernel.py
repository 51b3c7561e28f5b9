"""The numba kernel of :mod:`rawlux.isp.demosaic.hq` (see there for the method).

Every tile of the mosaic is loaded once with a mirrored margin (even, so it keeps the CFA phase) and worked on
in tile-sized buffers; tiles run in parallel. Box filters are running sums along the lines (float64
accumulators) followed by short sums across the lines; every filter mirrors about the edge pixel of the padded
tile, whose margin is wide enough that the mirrored values never reach the written part by more than a few
float32 roundings (checked by the tests against one big tile).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._tiles import mirror as _mirror


@njit(cache=True, fastmath=True, error_model="numpy")
def _box_mean(src, rx, ry, tmp, dst):
    """Box means of the planes ``src[k]`` (k × n × L) over (2 ry + 1) lines × (2 rx + 1) pixels, mirrored."""
    npl, n, ln = src.shape
    w = 2 * rx + 1
    idx = np.empty(ln + w, np.int64)
    for j in range(ln + w):
        idx[j] = _mirror(j - rx - 1, ln)      # window of x: idx[x + 1] ... idx[x + w]; idx[x] leaves
    for k in range(npl):
        for y in range(n):
            row = src[k, y]
            out = tmp[k, y]
            s = 0.0
            for j in range(1, w + 1):
                s += row[idx[j]]
            out[0] = s
            lo = min(rx + 1, ln)
            hi = max(lo, ln - rx)
            for x in range(1, lo):
                s += row[idx[x + w]] - row[idx[x]]
                out[x] = s
            for x in range(lo, hi):                 # interior: no mirrored index
                s += row[x + rx] - row[x - rx - 1]
                out[x] = s
            for x in range(max(hi, 1), ln):
                s += row[idx[x + w]] - row[idx[x]]
                out[x] = s
    inv = np.float32(1.0 / (w * (2 * ry + 1)))
    for k in range(npl):
        for y in range(n):
            out = dst[k, y]
            first = tmp[k, _mirror(y - ry, n)]
            for x in range(ln):
                out[x] = first[x]
            for dy in range(-ry + 1, ry + 1):
                row = tmp[k, _mirror(y + dy, n)]
                for x in range(ln):
                    out[x] += row[x]
            for x in range(ln):
                out[x] *= inv


@njit(cache=True, fastmath=True, error_model="numpy")
def _interp_lines(lines, gpar, g0, c0):
    """Initial guides: each kind kept at its sites, the mean of its two neighbours along the line elsewhere."""
    n, ln = lines.shape
    for y in range(n):
        for x in range(ln):
            v = lines[y, x]
            nb = np.float32(0.5) * (lines[y, _mirror(x - 1, ln)] + lines[y, _mirror(x + 1, ln)])
            if (x & 1) == gpar:
                g0[y, x] = v
                c0[y, x] = nb
            else:
                g0[y, x] = nb
                c0[y, x] = v


@njit(cache=True, fastmath=True, error_model="numpy")
def _step(lines, gpar, gg, cg, rx, ry, eps, reg, gn, cn, crit, grad):
    """One residual-interpolation iteration along the lines (guided-filter fits both ways).

    Green is predicted from the chroma guide and the chroma from the green guide by local linear models
    (slope from the local covariance, coefficients averaged over the window); the residuals at each kind's
    own sites are interpolated along the line and added back, giving the next guides ``gn``, ``cn``. ``crit``:
    how much the guides changed, ``grad``: the gradient of that change along the line.
    """
    n, ln = lines.shape
    p5 = np.empty((5, n, ln), np.float32)
    t5 = np.empty((5, n, ln), np.float32)
    for y in range(n):
        for x in range(ln):
            c = cg[y, x]
            g = gg[y, x]
            p5[0, y, x] = c
            p5[1, y, x] = g
            p5[2, y, x] = c * c
            p5[3, y, x] = g * g
            p5[4, y, x] = c * g
    _box_mean(p5, rx, ry, t5, p5)
    q4 = p5[:4]
    for y in range(n):
        for x in range(ln):
            mc = p5[0, y, x]
            mg = p5[1, y, x]
            cov = p5[4, y, x] - mc * mg
            vc = max(p5[2, y, x] - mc * mc, np.float32(0.0))
            vg = max(p5[3, y, x] - mg * mg, np.float32(0.0))
            e = reg * (mc * mc + mg * mg) + eps      # pulls the slopes towards 1 (colour difference)
            ag = (cov + e) / (vc + e)
            ac = (cov + e) / (vg + e)
            q4[0, y, x] = ag
            q4[1, y, x] = mg - ag * mc
            q4[2, y, x] = ac
            q4[3, y, x] = mc - ac * mg
    _box_mean(q4, rx, ry, t5[:4], q4)
    rg = t5[0]
    rc = t5[1]
    tg = t5[2]
    tc = t5[3]
    for y in range(n):
        for x in range(ln):
            vg_ = q4[0, y, x] * cg[y, x] + q4[1, y, x]
            vc_ = q4[2, y, x] * gg[y, x] + q4[3, y, x]
            tg[y, x] = vg_
            tc[y, x] = vc_
            if (x & 1) == gpar:
                rg[y, x] = lines[y, x] - vg_
                rc[y, x] = 0.0
            else:
                rg[y, x] = 0.0
                rc[y, x] = lines[y, x] - vc_
    half = np.float32(0.5)
    dg = p5[4]
    dc = t5[4]
    for y in range(n):
        for x in range(ln):
            a = gg[y, x] - tg[y, x]
            b = cg[y, x] - tc[y, x]
            dg[y, x] = a
            dc[y, x] = b
            crit[y, x] = abs(a) + abs(b)
    for y in range(n):
        for x in range(ln):
            if x == 0 or x == ln - 1:
                xm = _mirror(x - 1, ln)
                xp = _mirror(x + 1, ln)
            else:
                xm = x - 1
                xp = x + 1
            if (x & 1) == gpar:
                gn[y, x] = lines[y, x]
                cn[y, x] = tc[y, x] + half * (rc[y, xm] + rc[y, xp])
            else:
                gn[y, x] = tg[y, x] + half * (rg[y, xm] + rg[y, xp])
                cn[y, x] = lines[y, x]
            grad[y, x] = abs(dg[y, xp] - dg[y, xm]) + abs(dc[y, xp] - dc[y, xm])


@njit(cache=True, fastmath=True, error_model="numpy")
def _gauss5(a, out):
    """5×5 Gaussian (sigma 2), separable, mirrored."""
    h, w = a.shape
    k = np.empty(5, np.float32)
    s = 0.0
    for i in range(5):
        k[i] = np.exp(-((i - 2.0) ** 2) / 8.0)
        s += k[i]
    for i in range(5):
        k[i] /= s
    tmp = np.empty((h, w), np.float32)
    k0, k1, k2 = k[0], k[1], k[2]
    for y in range(h):
        row = a[y]
        out_ = tmp[y]
        for x in range(w):
            if x < 2 or x >= w - 2:
                v = np.float32(0.0)
                for i in range(5):
                    v += k[i] * row[_mirror(x + i - 2, w)]
                out_[x] = v
            else:
                out_[x] = k0 * (row[x - 2] + row[x + 2]) + k1 * (row[x - 1] + row[x + 1]) + k2 * row[x]
    for y in range(h):
        for x in range(w):
            out[y, x] = 0.0
        for i in range(5):
            row = tmp[_mirror(y + i - 2, h)]
            for x in range(w):
                out[y, x] += k[i] * row[x]


@njit(cache=True, fastmath=True, error_model="numpy")
def ari_green(p, green_at, iterations, eps, reg, out):
    """Green at every pixel of the padded tile ``p`` (0..255 scale) by adaptive residual interpolation.

    ``green_at[i, j]``: green sits at rows ≡ i, columns ≡ j (mod 2). Per axis and kind of line the guides are
    iterated with windows growing by one pixel a step; per pixel and axis the iteration whose change criterion
    (smoothed change² × smoothed gradient of the change) is smallest is kept; the two axes are averaged with the
    inverse of their criteria.
    """
    hp, wp = p.shape
    nh = hp // 2
    nv = wp // 2
    lh = np.empty((2, nh, wp), np.float32)
    lv = np.empty((2, nv, hp), np.float32)
    for k in range(2):
        for y in range(nh):
            for x in range(wp):
                lh[k, y, x] = p[2 * y + k, x]
        for yb in range(0, nv, 16):
            for x in range(hp):
                for y in range(yb, min(nv, yb + 16)):
                    lv[k, y, x] = p[x, 2 * y + k]
    gh = np.empty((2, nh, wp), np.float32)
    ch = np.empty((2, nh, wp), np.float32)
    gv = np.empty((2, nv, hp), np.float32)
    cv = np.empty((2, nv, hp), np.float32)
    par_h = np.empty(2, np.int64)
    par_v = np.empty(2, np.int64)
    for k in range(2):
        par_h[k] = 0 if green_at[k, 0] else 1
        par_v[k] = 0 if green_at[0, k] else 1
        _interp_lines(lh[k], par_h[k], gh[k], ch[k])
        _interp_lines(lv[k], par_v[k], gv[k], cv[k])
    gn_h = np.empty((nh, wp), np.float32)
    cn_h = np.empty((nh, wp), np.float32)
    cr_h = np.empty((nh, wp), np.float32)
    gr_h = np.empty((nh, wp), np.float32)
    gn_v = np.empty((nv, hp), np.float32)
    cn_v = np.empty((nv, hp), np.float32)
    cr_v = np.empty((nv, hp), np.float32)
    gr_v = np.empty((nv, hp), np.float32)
    crit = np.empty((2, hp, wp), np.float32)
    grad = np.empty((2, hp, wp), np.float32)
    green = np.empty((2, hp, wp), np.float32)
    cs = np.empty((hp, wp), np.float32)
    gs = np.empty((hp, wp), np.float32)
    best_g = np.zeros((2, hp, wp), np.float32)
    best_w = np.full((2, hp, wp), np.float32(3e38), np.float32)
    for t in range(iterations):
        rx = 2 + t
        ry = (1 + t) // 2
        for k in range(2):
            _step(lh[k], par_h[k], gh[k], ch[k], rx, ry, eps, reg, gn_h, cn_h, cr_h, gr_h)
            gh[k, :, :] = gn_h
            ch[k, :, :] = cn_h
            for y in range(nh):
                for x in range(wp):
                    crit[0, 2 * y + k, x] = cr_h[y, x]
                    grad[0, 2 * y + k, x] = gr_h[y, x]
                    green[0, 2 * y + k, x] = gn_h[y, x]
            _step(lv[k], par_v[k], gv[k], cv[k], rx, ry, eps, reg, gn_v, cn_v, cr_v, gr_v)
            gv[k, :, :] = gn_v
            cv[k, :, :] = cn_v
            for yb in range(0, nv, 16):               # transposed back in blocks of 16 lines (cache)
                ye = min(nv, yb + 16)
                for x in range(hp):
                    for y in range(yb, ye):
                        crit[1, x, 2 * y + k] = cr_v[y, x]
                        grad[1, x, 2 * y + k] = gr_v[y, x]
                        green[1, x, 2 * y + k] = gn_v[y, x]
        for a in range(2):
            _gauss5(crit[a], cs)
            _gauss5(grad[a], gs)
            for y in range(hp):
                for x in range(wp):
                    wv = cs[y, x] * cs[y, x] * gs[y, x]
                    if wv < best_w[a, y, x]:
                        best_w[a, y, x] = wv
                        best_g[a, y, x] = green[a, y, x]
    tiny = np.float32(1e-10)
    for y in range(hp):
        for x in range(wp):
            w0 = np.float32(1.0) / (best_w[0, y, x] + tiny)
            w1 = np.float32(1.0) / (best_w[1, y, x] + tiny)
            out[y, x] = (w0 * best_g[0, y, x] + w1 * best_g[1, y, x]) / (w0 + w1)


@njit(cache=True, fastmath=True, error_model="numpy")
def _balanced(a, r, out):
    """Mean over (2r + 1)² with the window's end rows and columns at half weight, separable, mirrored."""
    h, w = a.shape
    norm = np.float32(1.0 / (2 * r))
    tmp = np.empty((h, w), np.float32)
    for y in range(h):
        row = a[y]
        for x in range(w):
            if x < r or x >= w - r:
                v = np.float32(0.5) * (row[_mirror(x - r, w)] + row[_mirror(x + r, w)])
                for i in range(-r + 1, r):
                    v += row[_mirror(x + i, w)]
            else:
                v = np.float32(0.5) * (row[x - r] + row[x + r])
                for i in range(-r + 1, r):
                    v += row[x + i]
            tmp[y, x] = v * norm
    for y in range(h):
        lo = tmp[_mirror(y - r, h)]
        hi = tmp[_mirror(y + r, h)]
        for x in range(w):
            out[y, x] = np.float32(0.5) * (lo[x] + hi[x])
        for i in range(-r + 1, r):
            row = tmp[_mirror(y + i, h)]
            for x in range(w):
                out[y, x] += row[x]
        for x in range(w):
            out[y, x] *= norm


@njit(cache=True, fastmath=True, error_model="numpy", inline="always")
def _dir_weight(g, r, y, x, dy, dx, h, w):
    if y >= 2 and x >= 2 and y < h - 2 and x < w - 2:
        yc = y + dy
        xc = x + dx
        yo = y - dy
        xo = x - dx
        y2 = y + 2 * dy
        x2 = x + 2 * dx
    else:
        yc = _mirror(y + dy, h)
        xc = _mirror(x + dx, w)
        yo = _mirror(y - dy, h)
        xo = _mirror(x - dx, w)
        y2 = _mirror(y + 2 * dy, h)
        x2 = _mirror(x + 2 * dx, w)
    grad = (abs(g[yc, xc] - g[yo, xo]) + abs(g[y, x] - g[y2, x2]) + abs(r[yc, xc] - r[yo, xo])
            + np.float32(1e-4))
    return np.float32(1.0) / grad, r[yc, xc]


@njit(cache=True, fastmath=True, error_model="numpy")
def chroma(p, g, sy, sx, r, eps, out):
    """One chroma plane (sampled at rows ≡ sy, columns ≡ sx) from its samples and the full green.

    A local linear model (slope minimising the residual's Laplacian energy on the sampled sites, (2r + 1)²
    windows, coefficients averaged with the window ends at half weight) predicts the chroma from green; the
    residuals at the samples are interpolated at the other chroma's sites from the four diagonal neighbours, then
    at green sites from the four axial ones, each weighted by the inverse green and residual gradients.
    """
    h, w = p.shape
    s5 = np.zeros((5, h, w), np.float32)
    t5 = np.empty((5, h, w), np.float32)
    for y in range(sy, h, 2):
        yu = _mirror(y - 2, h)
        yd = _mirror(y + 2, h)
        for x in range(sx, w, 2):
            xl = _mirror(x - 2, w)
            xr = _mirror(x + 2, w)
            lg = np.float32(4.0) * g[y, x] - g[yu, x] - g[yd, x] - g[y, xl] - g[y, xr]
            lt = np.float32(4.0) * p[y, x] - p[yu, x] - p[yd, x] - p[y, xl] - p[y, xr]
            s5[0, y, x] = lg * lt
            s5[1, y, x] = lg * lg
            s5[2, y, x] = g[y, x]
            s5[3, y, x] = p[y, x]
            s5[4, y, x] = 1.0
    _box_mean(s5, r, r, t5, s5)        # means: the ratios below do not depend on the normalisation
    area = np.float32((2 * r + 1) * (2 * r + 1))
    a = t5[0]
    b = t5[1]
    for y in range(h):
        for x in range(w):
            num = s5[0, y, x] * area
            den = s5[1, y, x] * area
            av = num / (den + eps) if den > eps else np.float32(1.0)
            nn = max(s5[4, y, x], np.float32(1e-10))
            a[y, x] = av
            b[y, x] = s5[3, y, x] / nn - av * (s5[2, y, x] / nn)
    _balanced(a, r, t5[2])
    _balanced(b, r, t5[3])
    res = t5[4]
    for y in range(h):
        for x in range(w):
            xh = t5[2, y, x] * g[y, x] + t5[3, y, x]
            out[y, x] = xh
            res[y, x] = p[y, x] - xh if ((y & 1) == sy and (x & 1) == sx) else np.float32(0.0)
    oy = 1 - sy
    ox = 1 - sx
    for y in range(oy, h, 2):                  # the other chroma's sites: four diagonal neighbours
        for x in range(ox, w, 2):
            num = np.float32(0.0)
            den = np.float32(0.0)
            for dy in (-1, 1):
                for dx in (-1, 1):
                    wt, v = _dir_weight(g, res, y, x, dy, dx, h, w)
                    num += wt * v
                    den += wt
            res[y, x] = num / den
    for y in range(h):                         # green sites: four axial neighbours
        for x in range((y + sx + sy + 1) & 1, w, 2):
            num = np.float32(0.0)
            den = np.float32(0.0)
            for d in range(4):
                dy = (-1, 1, 0, 0)[d]
                dx = (0, 0, -1, 1)[d]
                wt, v = _dir_weight(g, res, y, x, dy, dx, h, w)
                num += wt * v
                den += wt
            res[y, x] = num / den
    for y in range(h):
        for x in range(w):
            out[y, x] += res[y, x]


@njit(cache=True, parallel=True, fastmath=True, error_model="numpy")
def hq_tiles(cfa, g_ri, out, green_at, r_row, r_col, th, tw, m, iterations, ari_weight, eps_ri, reg, eps_ml,
             chroma_r, scale):
    """Demosaic ``cfa`` into ``out`` tile by tile (``g_ri``: a first green, blended with the ARI green)."""
    h, w = cfa.shape
    nty = (h + th - 1) // th
    ntx = (w + tw - 1) // tw
    b_row = 1 - r_row
    b_col = 1 - r_col
    for t in prange(nty * ntx):
        y0 = (t // ntx) * th
        x0 = (t % ntx) * tw
        y1 = min(h, y0 + th)
        x1 = min(w, x0 + tw)
        hp = y1 - y0 + 2 * m
        wp = x1 - x0 + 2 * m
        hp += hp & 1
        wp += wp & 1
        p = np.empty((hp, wp), np.float32)
        gr = np.empty((hp, wp), np.float32)
        for yy in range(hp):
            sy = _mirror(y0 - m + yy, h)
            for xx in range(wp):
                sx = _mirror(x0 - m + xx, w)
                p[yy, xx] = cfa[sy, sx] * scale
                gr[yy, xx] = g_ri[sy, sx] * scale
        ga = np.empty((hp, wp), np.float32)
        ari_green(p, green_at, iterations, eps_ri, reg, ga)
        gw = np.float32(ari_weight)
        for yy in range(hp):
            for xx in range(wp):
                if green_at[yy & 1, xx & 1]:
                    ga[yy, xx] = p[yy, xx]
                else:
                    v = gw * ga[yy, xx] + (np.float32(1.0) - gw) * gr[yy, xx]
                    ga[yy, xx] = v if np.isfinite(v) else gr[yy, xx]
        rr = np.empty((hp, wp), np.float32)
        bb = np.empty((hp, wp), np.float32)
        chroma(p, ga, r_row, r_col, chroma_r, eps_ml, rr)
        chroma(p, ga, b_row, b_col, chroma_r, eps_ml, bb)
        inv = np.float32(1.0 / scale)
        for yy in range(y1 - y0):
            for xx in range(x1 - x0):
                out[y0 + yy, x0 + xx, 0] = rr[yy + m, xx + m] * inv
                out[y0 + yy, x0 + xx, 1] = ga[yy + m, xx + m] * inv
                out[y0 + yy, x0 + xx, 2] = bb[yy + m, xx + m] * inv
