"""The numba kernel of :mod:`rawlux.isp.demosaic.ri` (see there for the method).

Every tile of the mosaic is loaded once with a mirrored margin (even, so it keeps the CFA phase), worked on in
tile-sized buffers and written out; tiles run in parallel. All box filters are separable sums over the tile,
written as plain loops along rows so that LLVM vectorises them.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._tiles import load_tile

MARGIN = 32  # the support of the whole method (see ``ri_tiles``), rounded up to even


@njit(cache=True, fastmath=True, error_model="numpy")
def _axis_difference(p, d, gpar, reg, ky, kx):
    """Green minus chroma along the rows of the tile ``p`` (directional residual interpolation).

    On each row, green and chroma alternate; each is predicted from the other's linear interpolation by a
    local linear model fitted on its own sites over ``ky`` same-kind rows × ``kx`` columns (guided filter: slope
    (cov + e) / (var + e), e = ``reg`` · (mean² + mean²) / 2, so flat windows fall back to colour difference);
    the residuals are interpolated along the row and added back. ``d`` receives g − c, valid ``kx // 2 + 9`` columns and ``4 (ky // 2)`` rows in from the
    tile's edges. ``kx // 2`` must be odd (the window then ends on sites of the other kind).

    The rows stream through ring buffers (a few rows of each quantity, in cache), and the loops run over 1-D
    row slices indexed from 0 (no negative-index checks), so that LLVM vectorises them.
    """
    hp, wp = p.shape
    ry = ky // 2  # rows of the same kind: y - 2 ry ... y + 2 ry
    rx = kx // 2  # columns x - rx ... x + rx; own kind at even offsets, the other kind at odd ones
    half = np.float32(0.5)
    ring = 8
    while ring < 4 * ry + 1:
        ring *= 2
    rm = ring - 1
    # q: the products v·p and v², the other kind's linear interpolation v, and p;
    # s: their own-kind sums along the row (offsets 0, ±2, ..., ±(rx - 1)), valid on [xs0, xs0 + ns); the
    # other kind's follow as S[x - 1] + q[x + rx]; cf: the coefficients of the green fit (0, 1) and of the
    # chroma fit (2, 3), valid on [x0, x0 + nc)
    q = np.zeros((4, ring, wp), np.float32)
    s = np.empty((4, ring, wp), np.float32)
    cf = np.empty((4, ring, wp), np.float32)
    xs0 = 3 + rx - 1
    ns = wp - 2 * xs0
    x0 = xs0 + 1
    nc = ns - 2
    xa = x0 + rx
    na = nc - 2 * rx
    n_own = np.float32(1.0 / ((rx // 2 * 2 + 1) * (2 * ry + 1)))
    n_oth = np.float32(1.0 / ((rx + 1) * (2 * ry + 1)))
    norm = np.float32(1.0 / (2 * rx * 2 * ry))
    tiny = np.float32(1e-10)
    t = np.empty((4, nc), np.float32)
    u = np.empty((4, nc), np.float32)
    m = np.empty((4, na), np.float32)
    res = np.empty(wp, np.float32)
    hat = np.empty(wp, np.float32)   # the prediction of the kind not sampled at each pixel
    for row in range(hp):
        # --- q and s of row ``row``
        rq = row & rm
        pr = p[row]
        vr = q[2, rq]
        n = wp - 2
        a = pr[0:n]
        b = pr[2:n + 2]
        o = vr[1:n + 1]
        for i in range(n):
            o[i] = half * (a[i] + b[i])
        pp = q[3, rq]
        for i in range(wp):
            pp[i] = pr[i]
        n = wp - 6
        pc = pr[3:3 + n]
        vc = vr[3:3 + n]
        o0 = q[0, rq, 3:3 + n]
        o1 = q[1, rq, 3:3 + n]
        for i in range(n):
            o0[i] = vc[i] * pc[i]
            o1[i] = vc[i] * vc[i]
        for c in range(4):
            qr = q[c, rq]
            o = s[c, rq, xs0:xs0 + ns]
            a = qr[xs0:xs0 + ns]
            for i in range(ns):
                o[i] = a[i]
            for k in range(2, rx, 2):
                a = qr[xs0 - k:xs0 - k + ns]
                b = qr[xs0 + k:xs0 + k + ns]
                for i in range(ns):
                    o[i] += a[i] + b[i]
        # --- coefficients of row y = row - 2 ry (window rows y - 2 ry ... y + 2 ry = row)
        y = row - 2 * ry
        if y < 2 * ry:
            continue
        for c in range(4):
            tc = t[c]
            uc = u[c]
            for i in range(nc):
                tc[i] = np.float32(0.0)
                uc[i] = np.float32(0.0)
            for j in range(-ry, ry + 1):
                yy = (y + 2 * j) & rm
                a = s[c, yy, x0:x0 + nc]
                b = s[c, yy, x0 - 1:x0 - 1 + nc]
                e = q[c, yy, x0 + rx:x0 + rx + nc]
                for i in range(nc):
                    tc[i] += a[i]
                    uc[i] += b[i] + e[i]
        off = (x0 + y + gpar) & 1   # 0: column x0 is green
        yr = y & rm
        c0 = cf[0, yr, x0:x0 + nc]
        c1 = cf[1, yr, x0:x0 + nc]
        c2 = cf[2, yr, x0:x0 + nc]
        c3 = cf[3, yr, x0:x0 + nc]
        for i in range(nc):
            mv = t[2, i] * n_own
            mp = t[3, i] * n_own
            e = reg * (mv * mv + mp * mp) + tiny
            ao = (t[0, i] * n_own - mv * mp + e) / (t[1, i] * n_own - mv * mv + e)
            bo = mp - ao * mv
            mv = u[2, i] * n_oth
            mp = u[3, i] * n_oth
            e = reg * (mv * mv + mp * mp) + tiny
            at = (u[0, i] * n_oth - mv * mp + e) / (u[1, i] * n_oth - mv * mv + e)
            bt = mp - at * mv
            green = ((i + off) & 1) == 0
            c0[i] = ao if green else at
            c1[i] = bo if green else bt
            c2[i] = at if green else ao
            c3[i] = bt if green else bo
        # --- output row z = y - 2 ry: coefficients averaged over the window, its end rows and columns at half
        # weight (both CFA phases weigh the same); the predictions, the residuals at the sampled sites, and
        # the colour difference
        z = y - 2 * ry
        if z < 4 * ry:
            continue
        for c in range(4):
            tc = t[c]
            a = cf[c, (z - 2 * ry) & rm, x0:x0 + nc]
            b = cf[c, (z + 2 * ry) & rm, x0:x0 + nc]
            for i in range(nc):
                tc[i] = half * (a[i] + b[i])
            for j in range(-ry + 1, ry):
                a = cf[c, (z + 2 * j) & rm, x0:x0 + nc]
                for i in range(nc):
                    tc[i] += a[i]
            mc = m[c]
            a = tc[rx:rx + na]
            for i in range(na):
                mc[i] = a[i]
            a = tc[0:na]
            b = tc[2 * rx:2 * rx + na]
            for i in range(na):
                mc[i] += half * (a[i] + b[i])
            for k in range(1, rx):
                a = tc[rx - k:rx - k + na]
                b = tc[rx + k:rx + k + na]
                for i in range(na):
                    mc[i] += a[i] + b[i]
        off = (xa + z + gpar) & 1
        pr = p[z, xa:xa + na]
        vr = q[2, z & rm, xa:xa + na]
        rr = res[xa:xa + na]
        hr = hat[xa:xa + na]
        for i in range(na):
            green = ((i + off) & 1) == 0
            pv = pr[i]
            gh = norm * (m[0, i] * (vr[i] if green else pv) + m[1, i])   # green from the chroma
            ch = norm * (m[2, i] * (pv if green else vr[i]) + m[3, i])   # chroma from the green
            rr[i] = pv - (gh if green else ch)
            hr[i] = ch if green else gh
        n = na - 2
        rl = res[xa:xa + n]
        rn = res[xa + 2:xa + 2 + n]
        hc = hat[xa + 1:xa + 1 + n]
        pc = p[z, xa + 1:xa + 1 + n]
        dr = d[z, xa + 1:xa + 1 + n]
        off = (xa + 1 + z + gpar) & 1
        for i in range(n):
            full = hc[i] + half * (rl[i] + rn[i])
            dr[i] = pc[i] - full if ((i + off) & 1) == 0 else full - pc[i]


@njit(cache=True, fastmath=True, error_model="numpy")
def _fuse_green(p, dh, dv, g, gpar, lo):
    """Green at chroma sites: the axis colour differences from the four one-sided neighbourhoods, each weighted
    by the inverse square of its colour-difference gradient energy (3×3, the window's centre one pixel to that
    side), after Pekkucuksen & Altunbasak. ``dh``, ``dv`` are valid from ``lo`` in; ``g`` is written from
    ``lo + 5`` in."""
    hp, wp = p.shape
    # rows stream through ring buffers: gradients of row r, their 3×3 sums of row r - 1, green of row r - 2
    rm = 7
    n = wp - 2 * lo - 2
    gh = np.empty((8, n), np.float32)   # column i holds x = lo + 1 + i
    gv = np.empty((8, n), np.float32)
    n3 = n - 2
    sh = np.empty((8, n3), np.float32)  # column i holds x = lo + 2 + i
    sv = np.empty((8, n3), np.float32)
    th = np.empty(n, np.float32)
    tv = np.empty(n, np.float32)
    e6 = np.float32(1e-6)
    one = np.float32(1.0)
    f0 = np.float32(0.5)
    f1 = np.float32(0.3)
    f2 = np.float32(0.2)
    x5 = lo + 5
    n5 = wp - 2 * x5
    for row in range(lo + 1, hp - lo - 1):
        a = dh[row, lo + 2:lo + 2 + n]
        b = dh[row, lo:lo + n]
        c = dv[row + 1, lo + 1:lo + 1 + n]
        e = dv[row - 1, lo + 1:lo + 1 + n]
        oh = gh[row & rm]
        ov = gv[row & rm]
        for i in range(n):
            oh[i] = abs(a[i] - b[i])
            ov[i] = abs(c[i] - e[i])
        # 3×3 box sums of row y: columns into a row buffer, then along the row
        y = row - 1
        if y < lo + 2:
            continue
        a = gh[(y - 1) & rm]
        b = gh[y & rm]
        c = gh[(y + 1) & rm]
        for i in range(n):
            th[i] = a[i] + b[i] + c[i]
        a = gv[(y - 1) & rm]
        b = gv[y & rm]
        c = gv[(y + 1) & rm]
        for i in range(n):
            tv[i] = a[i] + b[i] + c[i]
        oh = sh[y & rm]
        ov = sv[y & rm]
        for i in range(n3):
            oh[i] = th[i] + th[i + 1] + th[i + 2]
            ov[i] = tv[i] + tv[i + 1] + tv[i + 2]
        # green of row z
        z = y - 1
        if z < lo + 5:
            continue
        shz = sh[z & rm]
        shw = shz[2:2 + n5]
        she = shz[4:4 + n5]
        svn = sv[(z - 1) & rm, 3:3 + n5]
        svs = sv[(z + 1) & rm, 3:3 + n5]
        h0 = dh[z, x5:x5 + n5]
        hw1 = dh[z, x5 - 1:x5 - 1 + n5]
        hw2 = dh[z, x5 - 2:x5 - 2 + n5]
        he1 = dh[z, x5 + 1:x5 + 1 + n5]
        he2 = dh[z, x5 + 2:x5 + 2 + n5]
        v0 = dv[z, x5:x5 + n5]
        vn1 = dv[z - 1, x5:x5 + n5]
        vn2 = dv[z - 2, x5:x5 + n5]
        vs1 = dv[z + 1, x5:x5 + n5]
        vs2 = dv[z + 2, x5:x5 + n5]
        pr = p[z, x5:x5 + n5]
        gr = g[z, x5:x5 + n5]
        off = (x5 + z + gpar) & 1
        for i in range(n5):
            a = shw[i] + e6
            ww = one / (a * a)
            a = she[i] + e6
            we = one / (a * a)
            a = svn[i] + e6
            wn = one / (a * a)
            a = svs[i] + e6
            ws = one / (a * a)
            ee = f0 * h0[i] + f1 * he1[i] + f2 * he2[i]
            ew = f0 * h0[i] + f1 * hw1[i] + f2 * hw2[i]
            es = f0 * v0[i] + f1 * vs1[i] + f2 * vs2[i]
            en = f0 * v0[i] + f1 * vn1[i] + f2 * vn2[i]
            dd = (ww * ew + we * ee + wn * en + ws * es) / (ww + we + wn + ws)
            gr[i] = pr[i] if ((i + off) & 1) == 0 else pr[i] + dd


@njit(cache=True, fastmath=True, error_model="numpy", inline="always")
def _inv_grad(ga, gb, gc, gd, ra, rb, e4):
    return np.float32(1.0) / (abs(ga - gb) + abs(gc - gd) + abs(ra - rb) + e4)


@njit(cache=True, fastmath=True, error_model="numpy")
def _chroma(p, g, out, sy, sx, lo, k, eps):
    """One chroma plane (sampled where ``y % 2 == sy and x % 2 == sx``) from its samples and the full green.

    Minimised-Laplacian RI in 2-D: a local linear model chroma ≈ a·g + b over k×k windows, fitted on the
    sampled sites with the slope minimising the energy of the residual's Laplacian (5-point, on the sampled
    lattice); coefficients averaged over the window (ends at half weight); the residual of the prediction is
    interpolated edge-directed, first at the other chroma's sites from the four diagonal neighbours, then at
    green sites from the four axial ones, each weighted by the inverse of the green and residual gradients.
    ``g`` is valid from ``lo`` in; ``out`` (a plane) is written from ``lo + 2 (k // 2) + 5`` in.
    """
    hp, wp = p.shape
    r = k // 2
    four = np.float32(4.0)
    zero = np.float32(0.0)
    one = np.float32(1.0)
    half = np.float32(0.5)
    # masked lg·lt, lg², g, p (zero away from the sampled sites), summed along the sampled rows (t), the
    # fit's coefficients (cf) and their window means: rows stream through ring buffers
    ring = 8
    while ring < 2 * r + 1:
        ring *= 2
    rm = ring - 1
    a0 = lo + 2
    na = wp - 2 * a0
    b0 = a0 + r
    nb = wp - 2 * b0
    c0 = b0 + r
    nc = wp - 2 * c0
    norm = np.float32(1.0 / (4 * r * r))
    q = np.empty((4, na), np.float32)
    t = np.empty((4, ring, wp), np.float32)
    cf = np.empty((2, ring, wp), np.float32)
    acc = np.empty((4, nb), np.float32)
    m = np.empty((2, nc), np.float32)
    xh = np.empty((hp, wp), np.float32)
    res = np.empty((hp, wp), np.float32)
    for row in range(a0, hp - a0):
        if (row & 1) == sy:
            gc = g[row, a0:a0 + na]
            gw = g[row, a0 - 2:a0 - 2 + na]
            ge = g[row, a0 + 2:a0 + 2 + na]
            gn = g[row - 2, a0:a0 + na]
            gs = g[row + 2, a0:a0 + na]
            pc = p[row, a0:a0 + na]
            pw = p[row, a0 - 2:a0 - 2 + na]
            pe = p[row, a0 + 2:a0 + 2 + na]
            pn = p[row - 2, a0:a0 + na]
            ps = p[row + 2, a0:a0 + na]
            off = (a0 + sx) & 1   # 0: column a0 is sampled
            for i in range(na):
                lg = four * gc[i] - gw[i] - ge[i] - gn[i] - gs[i]
                lt = four * pc[i] - pw[i] - pe[i] - pn[i] - ps[i]
                smp = ((i + off) & 1) == 0
                q[0, i] = lg * lt if smp else zero
                q[1, i] = lg * lg if smp else zero
                q[2, i] = gc[i] if smp else zero
                q[3, i] = pc[i] if smp else zero
            rr = row & rm
            for c in range(4):
                o = t[c, rr, b0:b0 + nb]
                qc = q[c]
                for i in range(nb):
                    o[i] = qc[i + r]
                for j in range(1, r + 1):
                    a = qc[r - j:r - j + nb]
                    b = qc[r + j:r + j + nb]
                    for i in range(nb):
                        o[i] += a[i] + b[i]
        # coefficients of row y (window rows y - r ... y + r = row; only the sampled rows hold sums)
        y = row - r
        if y < b0:
            continue
        ny = 0
        for c in range(4):
            ac = acc[c]
            for i in range(nb):
                ac[i] = zero
            for j in range(-r, r + 1):
                if ((y + j) & 1) != sy:
                    continue
                if c == 0:
                    ny += 1
                a = t[c, (y + j) & rm, b0:b0 + nb]
                for i in range(nb):
                    ac[i] += a[i]
        n_a = np.float32(1.0 / (ny * (r + 1)))   # columns x - r ... x + r hold r + 1 sampled ones
        n_b = np.float32(1.0 / (ny * r))         # or r (which, by the parity of x - r)
        off = (b0 - r + sx) & 1
        yr = y & rm
        ca = cf[0, yr, b0:b0 + nb]
        cb = cf[1, yr, b0:b0 + nb]
        for i in range(nb):
            s1 = acc[1, i]
            a = acc[0, i] / (s1 + eps) if s1 > eps else one
            n = n_a if ((i + off) & 1) == 0 else n_b
            ca[i] = a
            cb[i] = (acc[3, i] - a * acc[2, i]) * n
        # output row z: the window means of the coefficients (ends at half weight), the prediction, the residual
        z = y - r
        if z < c0:
            continue
        for c in range(2):
            ac = acc[c]
            a = cf[c, (z - r) & rm, b0:b0 + nb]
            b = cf[c, (z + r) & rm, b0:b0 + nb]
            for i in range(nb):
                ac[i] = half * (a[i] + b[i])
            for j in range(-r + 1, r):
                a = cf[c, (z + j) & rm, b0:b0 + nb]
                for i in range(nb):
                    ac[i] += a[i]
            mc = m[c]
            a = ac[0:nc]
            b = ac[2 * r:2 * r + nc]
            e = ac[r:r + nc]
            for i in range(nc):
                mc[i] = e[i] + half * (a[i] + b[i])
            for j in range(1, r):
                a = ac[r - j:r - j + nc]
                b = ac[r + j:r + j + nc]
                for i in range(nc):
                    mc[i] += a[i] + b[i]
        gr = g[z, c0:c0 + nc]
        pr = p[z, c0:c0 + nc]
        xr = xh[z, c0:c0 + nc]
        rr_ = res[z, c0:c0 + nc]
        for i in range(nc):
            v = norm * (m[0, i] * gr[i] + m[1, i])
            xr[i] = v
            rr_[i] = pr[i] - v
    e4 = np.float32(1e-4)
    # the other chroma's sites: residual from the four diagonal neighbours
    d0 = c0 + 2
    nd = wp - 2 * d0
    for y in range(d0, hp - d0):
        if (y & 1) == sy:
            continue
        g0 = g[y, d0:d0 + nd]
        gnw = g[y - 1, d0 - 1:d0 - 1 + nd]
        gne = g[y - 1, d0 + 1:d0 + 1 + nd]
        gsw = g[y + 1, d0 - 1:d0 - 1 + nd]
        gse = g[y + 1, d0 + 1:d0 + 1 + nd]
        gnw2 = g[y - 2, d0 - 2:d0 - 2 + nd]
        gne2 = g[y - 2, d0 + 2:d0 + 2 + nd]
        gsw2 = g[y + 2, d0 - 2:d0 - 2 + nd]
        gse2 = g[y + 2, d0 + 2:d0 + 2 + nd]
        rnw = res[y - 1, d0 - 1:d0 - 1 + nd]
        rne = res[y - 1, d0 + 1:d0 + 1 + nd]
        rsw = res[y + 1, d0 - 1:d0 - 1 + nd]
        rse = res[y + 1, d0 + 1:d0 + 1 + nd]
        ro = res[y, d0:d0 + nd]
        off = (d0 + sx) & 1   # 1: column d0 is the other chroma's
        for i in range(nd):
            w0 = _inv_grad(gnw[i], gse[i], g0[i], gnw2[i], rnw[i], rse[i], e4)
            w1 = _inv_grad(gne[i], gsw[i], g0[i], gne2[i], rne[i], rsw[i], e4)
            w2 = _inv_grad(gsw[i], gne[i], g0[i], gsw2[i], rsw[i], rne[i], e4)
            w3 = _inv_grad(gse[i], gnw[i], g0[i], gse2[i], rse[i], rnw[i], e4)
            v = (w0 * rnw[i] + w1 * rne[i] + w2 * rsw[i] + w3 * rse[i]) / (w0 + w1 + w2 + w3)
            if ((i + off) & 1) == 1:
                ro[i] = v
    # green sites: from the four axial neighbours; then chroma = prediction + residual
    e0 = d0 + 1
    ne = wp - 2 * e0
    for y in range(e0, hp - e0):
        g0 = g[y, e0:e0 + ne]
        gn = g[y - 1, e0:e0 + ne]
        gs = g[y + 1, e0:e0 + ne]
        gw = g[y, e0 - 1:e0 - 1 + ne]
        ge = g[y, e0 + 1:e0 + 1 + ne]
        gn2 = g[y - 2, e0:e0 + ne]
        gs2 = g[y + 2, e0:e0 + ne]
        gw2 = g[y, e0 - 2:e0 - 2 + ne]
        ge2 = g[y, e0 + 2:e0 + 2 + ne]
        rn = res[y - 1, e0:e0 + ne]
        rs = res[y + 1, e0:e0 + ne]
        rw = res[y, e0 - 1:e0 - 1 + ne]
        re = res[y, e0 + 1:e0 + 1 + ne]
        ro = res[y, e0:e0 + ne]
        xr = xh[y, e0:e0 + ne]
        o = out[y, e0:e0 + ne]
        # green where the column parity differs from the row's sampled-or-other-chroma alignment
        off = 0 if ((y & 1) == sy) == ((e0 & 1) == sx) else 1   # 0: column e0 holds a known residual
        for i in range(ne):
            w0 = _inv_grad(gn[i], gs[i], g0[i], gn2[i], rn[i], rs[i], e4)
            w1 = _inv_grad(gs[i], gn[i], g0[i], gs2[i], rs[i], rn[i], e4)
            w2 = _inv_grad(gw[i], ge[i], g0[i], gw2[i], rw[i], re[i], e4)
            w3 = _inv_grad(ge[i], gw[i], g0[i], ge2[i], re[i], rw[i], e4)
            v = (w0 * rn[i] + w1 * rs[i] + w2 * rw[i] + w3 * re[i]) / (w0 + w1 + w2 + w3)
            o[i] = xr[i] + (ro[i] if ((i + off) & 1) == 0 else v)


@njit(cache=True, parallel=True, fastmath=True, error_model="numpy")
def ri_tiles(cfa, out, r_row, r_col, th_, tw_, m, eps, reg, axis_ky, axis_kx, chroma_k):
    h, w = cfa.shape
    nty = (h + th_ - 1) // th_
    ntx = (w + tw_ - 1) // tw_
    gpar = (r_row + r_col + 1) & 1
    for t in prange(nty * ntx):
        y0 = (t // ntx) * th_
        x0 = (t % ntx) * tw_
        th = min(th_, h - y0)
        tw = min(tw_, w - x0)
        hp = th + 2 * m
        wp = tw + 2 * m
        p = load_tile(cfa, y0, x0, hp, wp, m)
        pt = np.ascontiguousarray(p.T)
        dh = np.empty((hp, wp), np.float32)
        dvt = np.empty((wp, hp), np.float32)
        _axis_difference(p, dh, gpar, reg, axis_ky, axis_kx)
        _axis_difference(pt, dvt, gpar, reg, axis_ky, axis_kx)
        dv = np.ascontiguousarray(dvt.T)
        g = np.empty((hp, wp), np.float32)
        lo = axis_kx // 2 + 9   # where dh and dv are both valid
        _fuse_green(p, dh, dv, g, gpar, lo)
        rp = np.empty((hp, wp), np.float32)
        bp = np.empty((hp, wp), np.float32)
        lo_g = lo + 5
        _chroma(p, g, rp, r_row, r_col, lo_g, chroma_k, eps)
        _chroma(p, g, bp, 1 - r_row, 1 - r_col, lo_g, chroma_k, eps)
        for yy in range(th):
            o = out[y0 + yy]
            rr = rp[m + yy, m:m + tw]
            gg = g[m + yy, m:m + tw]
            bb = bp[m + yy, m:m + tw]
            for xx in range(tw):
                o[x0 + xx, 0] = rr[xx]
                o[x0 + xx, 1] = gg[xx]
                o[x0 + xx, 2] = bb[xx]
