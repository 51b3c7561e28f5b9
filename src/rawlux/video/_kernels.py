"""numba kernels of the video grade: one pass over the Y'CbCr 4:2:0 planes of a frame.

8-bit sources: ``build_table8`` evaluates the whole per-pixel grade below for every 8-bit (Y', Cb, Cr), once per
look and stream format, into a 2²⁴-entry table; ``apply_table8`` then grades a frame with one lookup per pixel,
and ``apply_table8_spatial`` adds the vignette (before the lookup) and the grain (after it). 10-bit sources use
``grade_420`` (the per-pixel grade itself, tetrahedral LUT included).

Per 2×2 block the chroma sample is shared by its four pixels (nearest-neighbour upsampling); each pixel goes
Y'CbCr → R'G'B' (the stream's matrix and range) → [vignette: decode, gain in linear light, encode] → the
look's tetrahedral 3D LUT (encoded R'G'B' → encoded R'G'B', the still render's per-pixel function) → [grain on
display-linear light] → Y'CbCr; luma is written per pixel, chroma as the mean of the block's four results.
All kernels release the GIL (``nogil``) so decoding and encoding threads run beside them.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..looks.ingredients.kernels import tetra_at

#: indices into the ``conv`` parameter vector
IN_YOFF, IN_YSCALE, IN_COFF, IN_CSCALE, OUT_YOFF, OUT_YSCALE, OUT_COFF, OUT_CSCALE, OUT_MAX, KR, KB = range(11)
NCONV = 11


@njit(cache=True, inline="always")
def _table(t, v):  # pragma: no cover - compiled
    """Linear interpolation in a 1D table over [0, 1] (v clamped)."""
    n1 = t.shape[0] - 1
    x = v * np.float32(n1)
    x = x if x > np.float32(0.0) else np.float32(0.0)
    x = x if x < np.float32(n1) else np.float32(n1)
    i = min(int(x), n1 - 1)
    f = x - np.float32(i)
    return t[i] + f * (t[i + 1] - t[i])


@njit(cache=True, inline="always")
def _enc(enc_t, lin):  # pragma: no cover - compiled
    """Linear light → transfer-encoded, through a table over √lin (fine steps near black)."""
    lin = lin if lin > np.float32(0.0) else np.float32(0.0)
    return _table(enc_t, np.sqrt(lin))


@njit(cache=True, inline="always")
def _pixel(yv, cb, cr, x, y, conv, lut, n, dec_t, enc_t, vdx2, vdy2, vtab, use_vig, noise, nr, nb, gamt, gresp,
           gcol, use_grain, use_col):  # pragma: no cover - compiled
    kr = conv[KR]
    kb = conv[KB]
    kg = np.float32(1.0) - kr - kb
    zero = np.float32(0.0)
    one = np.float32(1.0)
    r = yv + np.float32(2.0) * (one - kr) * cr
    b = yv + np.float32(2.0) * (one - kb) * cb
    g = (yv - kr * r - kb * b) / kg
    r = min(max(r, zero), one)
    g = min(max(g, zero), one)
    b = min(max(b, zero), one)
    if use_vig:
        t1 = vtab.shape[0] - 1
        r2 = (vdx2[x] + vdy2[y]) * np.float32(t1)
        if r2 >= t1:
            k = vtab[t1]
        else:
            i = int(r2)
            f = r2 - np.float32(i)
            k = vtab[i] + f * (vtab[i + 1] - vtab[i])
        r = _enc(enc_t, _table(dec_t, r) * k)
        g = _enc(enc_t, _table(dec_t, g) * k)
        b = _enc(enc_t, _table(dec_t, b) * k)
    if n > 1:
        fn1 = np.float32(n - 1)
        r, g, b = tetra_at(lut, n, r * fn1, g * fn1, b * fn1)
    if use_grain:
        lr = _table(dec_t, r)
        lg = _table(dec_t, g)
        lb = _table(dec_t, b)
        yy = np.float32(0.2126) * lr + np.float32(0.7152) * lg + np.float32(0.0722) * lb
        yy = min(max(yy, zero), one)
        yg = np.sqrt(yy)
        resp = (one - gresp) + gresp * np.float32(4.0) * yg * (one - yg)
        d = gamt * resp * noise[y, x]
        yg2 = max(yg + d, zero)
        delta = yg2 * yg2 - yy
        lr += delta
        lg += delta
        lb += delta
        if use_col:
            c = gcol * gamt * resp * np.float32(2.0) * yg
            lr += c * nr[y, x]
            lb += c * nb[y, x]
            lg -= c * np.float32(0.5) * (nr[y, x] + nb[y, x])
        r = min(_enc(enc_t, lr), one)
        g = min(_enc(enc_t, lg), one)
        b = min(_enc(enc_t, lb), one)
    yo = kr * r + kg * g + kb * b
    return yo, (b - yo) / (np.float32(2.0) * (one - kb)), (r - yo) / (np.float32(2.0) * (one - kr))


@njit(cache=True, nogil=True, parallel=True, fastmath=True)
def grade_420(yi, ui, vi, yo, uo, vo, conv, lut, n, dec_t, enc_t, vdx2, vdy2, vtab, noise, nr, nb, gamt, gresp,
              gcol):  # pragma: no cover - compiled
    """Grade one 4:2:0 frame: input planes (uint8 or uint16, any stride), output planes likewise."""
    h, w = yi.shape
    ch, cw = ui.shape
    use_vig = vtab.shape[0] > 1
    use_grain = noise.shape[0] == h and gamt != 0.0
    use_col = use_grain and nr.shape[0] == h and gcol != 0.0
    yoff = conv[IN_YOFF]
    ysc = conv[IN_YSCALE]
    coff = conv[IN_COFF]
    csc = conv[IN_CSCALE]
    oyoff = conv[OUT_YOFF]
    oysc = conv[OUT_YSCALE]
    ocoff = conv[OUT_COFF]
    ocsc = conv[OUT_CSCALE]
    omax = conv[OUT_MAX]
    half = np.float32(0.5)
    zero = np.float32(0.0)
    for by in prange(ch):
        for bx in range(cw):
            cb = (np.float32(ui[by, bx]) - coff) * csc
            cr = (np.float32(vi[by, bx]) - coff) * csc
            su = zero
            sv = zero
            cnt = zero
            for dy in range(2):
                y = 2 * by + dy
                if y >= h:
                    break
                for dx in range(2):
                    x = 2 * bx + dx
                    if x >= w:
                        break
                    yv = (np.float32(yi[y, x]) - yoff) * ysc
                    a, b, c = _pixel(yv, cb, cr, x, y, conv, lut, n, dec_t, enc_t, vdx2, vdy2, vtab, use_vig,
                                     noise, nr, nb, gamt, gresp, gcol, use_grain, use_col)
                    q = a * oysc + oyoff + half
                    yo[y, x] = int(min(max(q, zero), omax))
                    su += b
                    sv += c
                    cnt += np.float32(1.0)
            q = su / cnt * ocsc + ocoff + half
            uo[by, bx] = int(min(max(q, zero), omax))
            q = sv / cnt * ocsc + ocoff + half
            vo[by, bx] = int(min(max(q, zero), omax))


@njit(cache=True, nogil=True, parallel=True, fastmath=True)
def yuv420_to_rgb(yi, ui, vi, conv, out):  # pragma: no cover - compiled
    """The decoded frame as R'G'B' float32 in [0, 1] (H×W×3), with the same matrix, range and chroma
    upsampling as ``grade_420`` (what the still render and the quality test start from)."""
    h, w = yi.shape
    kr = conv[KR]
    kb = conv[KB]
    kg = np.float32(1.0) - kr - kb
    zero = np.float32(0.0)
    one = np.float32(1.0)
    for y in prange(h):
        for x in range(w):
            yv = (np.float32(yi[y, x]) - conv[IN_YOFF]) * conv[IN_YSCALE]
            cb = (np.float32(ui[y // 2, x // 2]) - conv[IN_COFF]) * conv[IN_CSCALE]
            cr = (np.float32(vi[y // 2, x // 2]) - conv[IN_COFF]) * conv[IN_CSCALE]
            r = yv + np.float32(2.0) * (one - kr) * cr
            b = yv + np.float32(2.0) * (one - kb) * cb
            g = (yv - kr * r - kb * b) / kg
            out[y, x, 0] = min(max(r, zero), one)
            out[y, x, 1] = min(max(g, zero), one)
            out[y, x, 2] = min(max(b, zero), one)


@njit(cache=True, nogil=True, parallel=True, fastmath=True)
def build_table8(conv, lut, n, dec_t, enc_t, ybits, frac, out):  # pragma: no cover - compiled
    """The whole per-pixel grade of 8-bit Y'CbCr as one table: ``out[(cb << 16) | (cr << 8) | y]`` packs the
    output Y' code (``ybits`` bits, low) and Cb', Cr' in fixed point (``frac`` fraction bits; the kernel
    averages them over the 2×2 block before rounding). Made once per look and stream format."""
    d1 = np.zeros(1, np.float32)
    d2 = np.zeros((1, 1), np.float32)
    oyoff = conv[OUT_YOFF]
    oysc = conv[OUT_YSCALE]
    ocoff = conv[OUT_COFF]
    ocsc = conv[OUT_CSCALE]
    omax = conv[OUT_MAX]
    cbits = (32 - ybits) // 2
    cmax = np.float32((1 << cbits) - 1)
    fs = np.float32(1 << frac)
    half = np.float32(0.5)
    zero = np.float32(0.0)
    for u in prange(256):
        cb = (np.float32(u) - conv[IN_COFF]) * conv[IN_CSCALE]
        for v in range(256):
            cr = (np.float32(v) - conv[IN_COFF]) * conv[IN_CSCALE]
            base = (u << 16) | (v << 8)
            for y in range(256):
                yv = (np.float32(y) - conv[IN_YOFF]) * conv[IN_YSCALE]
                a, b, c = _pixel(yv, cb, cr, 0, 0, conv, lut, n, dec_t, enc_t, d1, d1, d1, False, d2, d2, d2,
                                 zero, zero, zero, False, False)
                qy = np.uint32(int(min(max(a * oysc + oyoff + half, zero), omax)))
                qu = np.uint32(int(min(max((b * ocsc + ocoff) * fs + half, zero), cmax)))
                qv = np.uint32(int(min(max((c * ocsc + ocoff) * fs + half, zero), cmax)))
                out[base | y] = qy | (qu << np.uint32(ybits)) | (qv << np.uint32(ybits + cbits))


@njit(cache=True, inline="always")
def _ent(table, base, yv, ymask, cmask, sh_u, sh_v):  # pragma: no cover - compiled
    e = table[base | np.int64(yv)]
    return e & ymask, (e >> sh_u) & cmask, (e >> sh_v) & cmask


@njit(cache=True, nogil=True, parallel=True)
def apply_table8(yi, ui, vi, table, ybits, frac, omax, yo, uo, vo):  # pragma: no cover - compiled
    """Grade one 8-bit 4:2:0 frame with a ``build_table8`` table: one lookup per pixel; the block's chroma is
    the rounded mean of its pixels' fixed-point results."""
    h, w = yi.shape
    ch, cw = ui.shape
    cbits = (32 - ybits) // 2
    ymask = np.uint32((1 << ybits) - 1)
    cmask = np.uint32((1 << cbits) - 1)
    sh_u = np.uint32(ybits)
    sh_v = np.uint32(ybits + cbits)
    full_w = w // 2                       # blocks with two columns
    div4 = np.uint32(4 << frac)
    r4 = np.uint32((4 << frac) >> 1)
    om = np.uint32(omax)
    for by in prange(ch):
        y0 = 2 * by
        if y0 + 1 < h:
            for bx in range(full_w):
                base = (np.int64(ui[by, bx]) << 16) | (np.int64(vi[by, bx]) << 8)
                x0 = 2 * bx
                a0, u0, v0 = _ent(table, base, yi[y0, x0], ymask, cmask, sh_u, sh_v)
                a1, u1, v1 = _ent(table, base, yi[y0, x0 + 1], ymask, cmask, sh_u, sh_v)
                a2, u2, v2 = _ent(table, base, yi[y0 + 1, x0], ymask, cmask, sh_u, sh_v)
                a3, u3, v3 = _ent(table, base, yi[y0 + 1, x0 + 1], ymask, cmask, sh_u, sh_v)
                yo[y0, x0] = a0
                yo[y0, x0 + 1] = a1
                yo[y0 + 1, x0] = a2
                yo[y0 + 1, x0 + 1] = a3
                uo[by, bx] = min((u0 + u1 + u2 + u3 + r4) // div4, om)
                vo[by, bx] = min((v0 + v1 + v2 + v3 + r4) // div4, om)
            bx0 = full_w
        else:
            bx0 = 0
        for bx in range(bx0, cw):             # the odd last column / row
            base = (np.int64(ui[by, bx]) << 16) | (np.int64(vi[by, bx]) << 8)
            su = np.uint32(0)
            sv = np.uint32(0)
            cnt = 0
            for y in range(y0, min(y0 + 2, h)):
                for x in range(2 * bx, min(2 * bx + 2, w)):
                    a, u, v = _ent(table, base, yi[y, x], ymask, cmask, sh_u, sh_v)
                    yo[y, x] = a
                    su += u
                    sv += v
                    cnt += 1
            div = np.uint32(cnt << frac)
            uo[by, bx] = min((su + (div >> np.uint32(1))) // div, om)
            vo[by, bx] = min((sv + (div >> np.uint32(1))) // div, om)


@njit(cache=True, inline="always")
def _rgb(yv, cb, cr, kr, kb):  # pragma: no cover - compiled
    one = np.float32(1.0)
    zero = np.float32(0.0)
    r = yv + np.float32(2.0) * (one - kr) * cr
    b = yv + np.float32(2.0) * (one - kb) * cb
    g = (yv - kr * r - kb * b) / (one - kr - kb)
    return min(max(r, zero), one), min(max(g, zero), one), min(max(b, zero), one)


@njit(cache=True, inline="always")
def _ycc(r, g, b, kr, kb):  # pragma: no cover - compiled
    one = np.float32(1.0)
    yv = kr * r + (one - kr - kb) * g + kb * b
    return yv, (b - yv) / (np.float32(2.0) * (one - kb)), (r - yv) / (np.float32(2.0) * (one - kr))


@njit(cache=True, inline="always")
def _code(v, off, scale, top):  # pragma: no cover - compiled
    q = v * scale + off + np.float32(0.5)
    q = q if q > np.float32(0.0) else np.float32(0.0)
    return np.int64(q if q < top else top)


@njit(cache=True, nogil=True, parallel=True, fastmath=True)
def apply_table8_spatial(yi, ui, vi, table, ybits, frac, conv, dec_t, enc_t, vdx2, vdy2, vtab, vtabp, noise, nr, nb,
                         gamt, gresp, gcol, yo, uo, vo):  # pragma: no cover - compiled
    """``apply_table8`` with the spatial ingredients around the table: the vignette gain (linear light) moves a
    pixel's Y'CbCr before the lookup (pixels with gain 1 are looked up as they are), the grain is added to the
    looked-up colour on display-linear light (as ``grade_420`` does, without its tetrahedral step)."""
    h, w = yi.shape
    ch, cw = ui.shape
    cbits = (32 - ybits) // 2
    ymask = np.uint32((1 << ybits) - 1)
    cmask = np.uint32((1 << cbits) - 1)
    sh_u = np.uint32(ybits)
    sh_v = np.uint32(ybits + cbits)
    fs = np.float32(1 << frac)
    kr = conv[KR]
    kb = conv[KB]
    yoff = conv[IN_YOFF]
    ysc = conv[IN_YSCALE]
    coff = conv[IN_COFF]
    csc = conv[IN_CSCALE]
    iys = np.float32(1.0) / ysc
    ics = np.float32(1.0) / csc
    oyoff = conv[OUT_YOFF]
    oysc = conv[OUT_YSCALE]
    ocoff = conv[OUT_COFF]
    ocsc = conv[OUT_CSCALE]
    omax = conv[OUT_MAX]
    cmaxf = np.float32((1 << cbits) - 1)
    use_vig = vtab.shape[0] > 1
    use_grain = noise.shape[0] == h and gamt != 0.0
    use_col = use_grain and nr.shape[0] == h and gcol != 0.0
    t1 = vtab.shape[0] - 1
    one = np.float32(1.0)
    zero = np.float32(0.0)
    top8 = np.float32(255.0)
    for by in prange(ch):
        for bx in range(cw):
            uc = np.int64(ui[by, bx])
            vc = np.int64(vi[by, bx])
            cb = (np.float32(uc) - coff) * csc
            cr = (np.float32(vc) - coff) * csc
            su = np.float32(0.0)
            sv = np.float32(0.0)
            cnt = 0
            for y in range(2 * by, min(2 * by + 2, h)):
                for x in range(2 * bx, min(2 * bx + 2, w)):
                    yc = np.int64(yi[y, x])
                    idx = (uc << 16) | (vc << 8) | yc
                    if use_vig:
                        r2 = (vdx2[x] + vdy2[y]) * np.float32(t1)
                        if r2 >= t1:
                            k = vtab[t1]
                            kp = vtabp[t1]
                        else:
                            i = int(r2)
                            f = r2 - np.float32(i)
                            k = vtab[i] + f * (vtab[i + 1] - vtab[i])
                            kp = vtabp[i] + f * (vtabp[i + 1] - vtabp[i])
                        if k != one:
                            yv = (np.float32(yc) - yoff) * ysc
                            r, g, b = _rgb(yv, cb, cr, kr, kb)
                            # the sRGB curve above its linear toe is v = 1.055·L^(1/2.4) − 0.055, so a gain k in
                            # linear light is v' = k'·(v + 0.055) − 0.055 with k' = k^(1/2.4) (vtabp): the same
                            # affine map on R', G', B', hence on Y' (and k'·Cb, k'·Cr). Exact while every channel
                            # stays above the toe; darker pixels go through the transfer tables.
                            lo = kp * (min(r, min(g, b)) + np.float32(0.055)) - np.float32(0.055)
                            if lo >= np.float32(0.04045) and max(r, max(g, b)) < one:
                                y2 = kp * (yv + np.float32(0.055)) - np.float32(0.055)
                                cb2 = kp * cb
                                cr2 = kp * cr
                            else:
                                r = _enc(enc_t, _table(dec_t, r) * k)
                                g = _enc(enc_t, _table(dec_t, g) * k)
                                b = _enc(enc_t, _table(dec_t, b) * k)
                                y2, cb2, cr2 = _ycc(r, g, b, kr, kb)
                            idx = (_code(cb2, coff, ics, top8) << 16) | (_code(cr2, coff, ics, top8) << 8) \
                                | _code(y2, yoff, iys, top8)
                    e = table[idx]
                    a = e & ymask
                    fu = np.float32((e >> sh_u) & cmask)
                    fv = np.float32((e >> sh_v) & cmask)
                    if use_grain:
                        r, g, b = _rgb((np.float32(a) - oyoff) / oysc, (fu / fs - ocoff) / ocsc,
                                       (fv / fs - ocoff) / ocsc, kr, kb)
                        lr = _table(dec_t, r)
                        lg = _table(dec_t, g)
                        lb = _table(dec_t, b)
                        yy = np.float32(0.2126) * lr + np.float32(0.7152) * lg + np.float32(0.0722) * lb
                        yy = min(max(yy, zero), one)
                        yg = np.sqrt(yy)
                        resp = (one - gresp) + gresp * np.float32(4.0) * yg * (one - yg)
                        d = gamt * resp * noise[y, x]
                        yg2 = max(yg + d, zero)
                        delta = yg2 * yg2 - yy
                        lr += delta
                        lg += delta
                        lb += delta
                        if use_col:
                            c = gcol * gamt * resp * np.float32(2.0) * yg
                            lr += c * nr[y, x]
                            lb += c * nb[y, x]
                            lg -= c * np.float32(0.5) * (nr[y, x] + nb[y, x])
                        y2, cb2, cr2 = _ycc(min(_enc(enc_t, lr), one), min(_enc(enc_t, lg), one),
                                            min(_enc(enc_t, lb), one), kr, kb)
                        a = _code(y2, oyoff, oysc, omax)
                        fu = min(max((cb2 * ocsc + ocoff) * fs, zero), cmaxf)
                        fv = min(max((cr2 * ocsc + ocoff) * fs, zero), cmaxf)
                    yo[y, x] = a
                    su += fu
                    sv += fv
                    cnt += 1
            d = np.float32(cnt) * fs
            uo[by, bx] = int(min(su / d + np.float32(0.5), omax))
            vo[by, bx] = int(min(sv / d + np.float32(0.5), omax))
