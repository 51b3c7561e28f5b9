"""Adaptive residual interpolation for green, residual interpolation for red and blue: a slower, sharper method.

After Monno, Kiku, Tanaka and Okutomi (adaptive residual interpolation, ARI, 2015/2017), written from the
method's description:

1. green, per axis and per kind of line (red lines, blue lines; the vertical axis on the transposed mosaic):
   green and the line's chroma start as linear interpolations along the line ("guides"). Each iteration
   predicts each channel from the other channel's guide by a local linear model, in two independent tracks:
   residual interpolation (an ordinary guided filter: slope from the local covariance) and minimised-Laplacian
   residual interpolation (slope minimising the energy of the Laplacian of the residual on the sampled sites).
   The residual of the prediction at the sampled sites is interpolated along the line and added back, and the
   result becomes the next guide. Windows grow by one pixel per iteration in both directions;
2. per pixel and per (track, axis), the iteration kept is the one whose *iteration criterion* is smallest: the
   change between the guide and its prediction (green and chroma together), smoothed by a 5×5 Gaussian,
   squared, times the smoothed magnitude of its gradient along the axis; converged, smooth updates win;
3. the four candidates (two tracks × two axes) are averaged with the inverse of their criteria, which also
   chooses the direction; this green is then blended (``ARI_GREEN_WEIGHT`` : rest) with the green of ``ri``
   (gradient-weighted fusion of the two axes' minimised-Laplacian estimates): on ordinary photographs the blend
   is better than either alone, on McMaster about as good as ARI alone;
4. red and blue from that green exactly as ``residual``/``ri`` do (2-D minimised-Laplacian fit, edge-directed
   interpolation of the residuals).

OpenCV box filters and numpy in float32, on horizontal strips with enough context for the grown windows.
Numbers (CPSNR, speed) in ``benchmarks/bench_demosaic.py`` and the README.
"""
from __future__ import annotations

import numpy as np

from ...frame import BAYER_PATTERNS

#: iterations (windows grow by one pixel each)
ITERATIONS = 11
#: weight of the ARI green in the final green (the rest is ri's green)
ARI_GREEN_WEIGHT = 0.65
#: the method works on values scaled to 0..255; regularisation of the two kinds of fit at that scale
_SCALE = 255.0
_EPS_RI = 1e-3
_EPS_ML = 1e-10
_CHROMA_EPS = 1e-8 * _SCALE * _SCALE
#: below this size on either side the grown windows have nothing to adapt to: ``ri`` is used
_MIN_SIDE = 32
#: rows per strip and rows of context (both even: a strip keeps the CFA phase); iterated fits spread
#: information further than one window, so the context is generous (seams checked in the tests)
_STRIP = 768
_CONTEXT = 96


def _cv():
    import cv2
    return cv2


def _box(a: np.ndarray, kx: int, ky: int) -> np.ndarray:
    cv2 = _cv()
    return cv2.boxFilter(a, -1, (kx, ky), normalize=True, borderType=cv2.BORDER_REFLECT_101)


def _conv(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    cv2 = _cv()
    return cv2.filter2D(a, -1, k, borderType=cv2.BORDER_REFLECT_101)


_K_LIN = np.array([[0.5, 0.0, 0.5]], np.float32)     # linear interpolation from the two neighbours
_K_RES = np.array([[0.5, 1.0, 0.5]], np.float32)     # residuals: kept at samples, averaged between them
_K_DIF = np.array([[-1.0, 0.0, 1.0]], np.float32)
_K_LAP = np.array([[-1.0, 0.0, 2.0, 0.0, -1.0]], np.float32)


def _gauss5() -> np.ndarray:
    g = np.exp(-((np.arange(5) - 2.0) ** 2) / 8.0)   # sigma 2
    g /= g.sum()
    return np.outer(g, g).astype(np.float32)


def _fit_ri(guide: np.ndarray, target: np.ndarray, kx: int, ky: int) -> np.ndarray:
    """Guided filter: ``target`` predicted from ``guide``, slope from the local covariance."""
    mi = _box(guide, kx, ky)
    mt = _box(target, kx, ky)
    var = np.maximum(_box(guide * guide, kx, ky) - mi * mi, 0.0)
    a = (_box(guide * target, kx, ky) - mi * mt) / (var + np.float32(_EPS_RI))
    b = mt - a * mi
    return _box(a, kx, ky) * guide + _box(b, kx, ky)


def _fit_ml(guide: np.ndarray, target: np.ndarray, sites: np.ndarray, kx: int, ky: int) -> np.ndarray:
    """Minimised-Laplacian fit: the slope minimises the residual's Laplacian energy on ``sites``."""
    lg = _conv(guide * sites, _K_LAP) * sites
    lt = _conv(target * sites, _K_LAP) * sites
    a = _box(lg * lt, kx, ky) / (_box(lg * lg, kx, ky) + np.float32(_EPS_ML))
    b = _box(target, kx, ky) - a * _box(guide, kx, ky)
    return _box(a, kx, ky) * guide + _box(b, kx, ky)


def _iterate(lines, mg, mc, g_guide, c_guide, laplacian: bool, kx: int, ky: int):
    """One iteration on line arrays: new guides, the change criterion and its gradient along the lines."""
    if laplacian:
        tg = _fit_ml(c_guide, g_guide, mg, kx, ky)
        tc = _fit_ml(g_guide, c_guide, mc, kx, ky)
    else:
        tg = _fit_ri(c_guide, g_guide, kx, ky)
        tc = _fit_ri(g_guide, c_guide, kx, ky)
    rg = _conv((lines - tg) * mg, _K_RES)
    rc = _conv((lines - tc) * mc, _K_RES)
    dg = g_guide - tg
    dc = c_guide - tc
    crit = np.abs(dg) + np.abs(dc)
    grad = np.abs(_conv(dg, _K_DIF)) + np.abs(_conv(dc, _K_DIF))
    return lines * mg + (tg + rg) * mc, lines * mc + (tc + rc) * mg, crit, grad


def _ari_green(c: np.ndarray, pattern: str, iterations: int) -> np.ndarray:
    """Green at every site (0..255 scale) by adaptive residual interpolation."""
    code = BAYER_PATTERNS[pattern]
    h, w = c.shape
    gk = _gauss5()
    # per (axis, kind of line): line array, green mask, chroma mask, guides per track
    lines_sets = []
    for axis in (0, 1):
        for kind in (0, 1):
            if axis == 0:
                lines = np.ascontiguousarray(c[kind::2, :])
                g_first = code[kind * 2] == 1
            else:
                lines = np.ascontiguousarray(c[:, kind::2].T)
                g_first = code[kind] == 1
            mg = np.zeros_like(lines)
            mg[:, 0 if g_first else 1::2] = 1.0
            mc = 1.0 - mg
            g0 = lines * mg + _conv(lines * mg, _K_LIN) * mc
            c0 = lines * mc + _conv(lines * mc, _K_LIN) * mg
            lines_sets.append([axis, kind, lines, mg, mc, [(g0, c0), (g0, c0)]])
    best_g = np.zeros((4, h, w), np.float32)           # (track, axis) → selected green
    best_w = np.full((4, h, w), np.float32(3e38), np.float32)
    crit = np.empty((2, h, w), np.float32)
    grad = np.empty((2, h, w), np.float32)
    green = np.empty((2, h, w), np.float32)
    for t in range(iterations):
        for track in (0, 1):                            # 0: guided filter, 1: minimised Laplacian
            if track == 0:
                kx, v = 2 * (2 + t) + 1, 1 + t
            else:
                kx, v = 2 * (4 + t) + 1, t
            ky = 2 * (v // 2) + 1                       # same-kind lines within ±v rows of the mosaic
            for entry in lines_sets:
                axis, kind, lines, mg, mc, guides = entry
                g_guide, c_guide = guides[track]
                gn, cn, cr, gr = _iterate(lines, mg, mc, g_guide, c_guide, track == 1, kx, ky)
                guides[track] = (gn, cn)
                if axis == 0:
                    crit[0, kind::2, :] = cr
                    grad[0, kind::2, :] = gr
                    green[0, kind::2, :] = gn
                else:
                    crit[1, :, kind::2] = cr.T
                    grad[1, :, kind::2] = gr.T
                    green[1, :, kind::2] = gn.T
            for axis in (0, 1):
                cs = _conv(crit[axis], gk)
                wv = cs * cs * _conv(grad[axis], gk)
                i = 2 * track + axis
                sel = wv < best_w[i]
                np.copyto(best_g[i], green[axis], where=sel)
                np.minimum(best_w[i], wv, out=best_w[i])
    wt = 1.0 / (best_w + np.float32(1e-10))
    return (wt * best_g).sum(0) / wt.sum(0)


def _ari(c: np.ndarray, pattern: str, g_ri: np.ndarray) -> np.ndarray:
    from .quality import cfa_masks
    from .residual import _chroma_from_green

    s = np.float32(_SCALE)
    cs = c * s
    m = cfa_masks(c.shape, pattern)
    with np.errstate(all="ignore"):
        ga = _ari_green(cs, pattern, ITERATIONS)
        ga = np.where(np.isfinite(ga), ga, g_ri * s)
        g = ARI_GREEN_WEIGHT * ga + (1.0 - ARI_GREEN_WEIGHT) * (g_ri * s)
        g = (cs * m[1] + g * (1.0 - m[1])).astype(np.float32)
        out = np.empty(c.shape + (3,), np.float32)
        out[..., 1] = g
        out[..., 0] = _chroma_from_green(cs, g, m[0], _CHROMA_EPS)
        out[..., 2] = _chroma_from_green(cs, g, m[2], _CHROMA_EPS)
    out /= s
    return out


def ari(cfa: np.ndarray, pattern: str) -> np.ndarray:
    """Demosaic an H×W float32 Bayer mosaic (white-balanced) into H×W×3 float32."""
    from .ri import ri

    c = np.ascontiguousarray(cfa, dtype=np.float32)
    base = ri(c, pattern)
    h, w = c.shape
    if min(h, w) < _MIN_SIDE:
        return base
    g_ri = np.ascontiguousarray(base[..., 1])
    if h <= _STRIP + 2 * _CONTEXT:
        out = _ari(c, pattern, g_ri)
    else:
        out = np.empty((h, w, 3), np.float32)
        for y0 in range(0, h, _STRIP):
            y1 = min(h, y0 + _STRIP)
            a, b = max(0, y0 - _CONTEXT), min(h, y1 + _CONTEXT)
            part = _ari(np.ascontiguousarray(c[a:b]), pattern, np.ascontiguousarray(g_ri[a:b]))
            out[y0:y1] = part[y0 - a:y1 - a]
    bad = ~np.isfinite(out)
    if bad.any():   # a degenerate fit (never seen; kept so no NaN leaves the stage)
        out[bad] = base[bad]
    return out
