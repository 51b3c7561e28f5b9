"""Directional residual interpolation with gradient-weighted fusion: the reference of the default method ``ri``.

After Kiku, Monno, Tanaka, Okutomi (residual interpolation, 2013; minimised-Laplacian RI, 2016) and the
gradient-based threshold-free fusion of Pekkucuksen & Altunbasak (2010), written from the papers:

1. green, per axis: on each line of the mosaic (red lines and blue lines separately, so a window never mixes
   the two chroma), green and the line's chroma are first interpolated linearly along the axis; each is then
   predicted from the other by a local linear model (a guided filter fitted on the sampled sites only, its
   slope from the local covariance, regularised towards 1, i.e. towards plain colour difference, by a term
   proportional to the squared local means, so that the fit does not depend on exposure), and the residual of
   the prediction at the sampled sites is interpolated along the axis and added back. The result is a colour
   difference green − chroma at every site, for each axis;
2. the two axis estimates are fused per red/blue site from the four one-sided neighbourhoods, each weighted by
   the inverse square of its colour-difference gradient energy (3×3; no threshold, no hard decision);
3. red and blue from the full green by residual interpolation in 2-D: a minimised-Laplacian guided filter
   (11×11) predicts each chroma from green, and the residuals of the prediction are interpolated edge-directed,
   first at the other chroma's sites from the four diagonal neighbours, then at green sites from the four
   axial ones, each weighted by the inverse of the green and residual gradients across it.

The covariance fit for the axis step and the 3×3 fusion replaced a minimised-Laplacian axis fit (3×11) and a 5×5
fusion, and the chroma window grew from 9 to 11 (issue 18): +0.32 dB on McMaster-18 (36.76), +0.23 dB on the 7
photographs (36.59), at the same speed for ``ri`` (``benchmarks/bench_demosaic.py``).

Everything is box filters and array arithmetic (OpenCV + numpy, float32), no per-pixel Python.
"""
from __future__ import annotations

import numpy as np

from ...frame import BAYER_PATTERNS


def _box(a: np.ndarray, ky: int, kx: int) -> np.ndarray:
    import cv2
    return cv2.boxFilter(a, -1, (kx, ky), normalize=False, borderType=cv2.BORDER_REFLECT_101)


def _conv(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    import cv2
    return cv2.filter2D(a, -1, k, borderType=cv2.BORDER_REFLECT_101)


_EPS = np.float32(1e-10)
# window sizes (rows, columns) of the axis fits, the chroma fit and the fusion energy; the one-sided fusion
# taps; chosen on McMaster and on a separate set of ordinary photographs together (see benchmarks/)
_AXIS_WIN = (3, 7)
_CHROMA_WIN = (11, 11)
_FUSE_WIN = 3
#: regularisation of the axis fits' slope towards 1, relative to the squared local means
_AXIS_REG = 3e-4
_FUSE_TAPS = (0.5, 0.3, 0.2)


def _mlri_fit(guide: np.ndarray, target: np.ndarray, mask: np.ndarray, lap: np.ndarray,
              ky: int, kx: int, eps: float) -> np.ndarray:
    """Predict ``target`` from ``guide`` by a local linear model fitted where ``mask`` is 1.

    The slope minimises the energy of the Laplacian of the residual (Laplacians taken on the sampled sites,
    ``lap`` is the kernel); the intercept fits the means. Coefficients are averaged over the windows that
    cover each pixel, as in the guided filter.
    """
    lg = _conv(guide * mask, lap) * mask
    lt = _conv(target * mask, lap) * mask
    num = _box(lg * lt, ky, kx)
    den = _box(lg * lg, ky, kx)
    a = num / (den + eps)
    # slopes without Laplacian support (flat windows) fall back to 1 (colour difference)
    a = np.where(den > eps, a, np.float32(1.0)).astype(np.float32)
    n = _box(mask, ky, kx)
    mg = _box(guide * mask, ky, kx) / np.maximum(n, _EPS)
    mt = _box(target * mask, ky, kx) / np.maximum(n, _EPS)
    b = mt - a * mg
    # coefficients are averaged with ends at half weight: both CFA phases then weigh the same, which keeps
    # the phase-dependent offset of windowed means out of the prediction (linear fields stay exact)
    a = _balanced_mean(a, ky, kx)
    b = _balanced_mean(b, ky, kx)
    return a * guide + b


def _gf_fit(guide: np.ndarray, target: np.ndarray, mask: np.ndarray, ky: int, kx: int) -> np.ndarray:
    """Predict ``target`` from ``guide`` by a local linear model fitted where ``mask`` is 1 (guided filter).

    The slope is the local covariance over the variance, both regularised by ``e`` so that the slope tends to 1
    (colour difference) where the guide is flat; ``e`` is proportional to the squared local means, which makes the
    fit independent of exposure. Coefficients are averaged like those of :func:`_mlri_fit`.
    """
    n = np.maximum(_box(mask, ky, kx), _EPS)
    mg = _box(guide * mask, ky, kx) / n
    mt = _box(target * mask, ky, kx) / n
    cov = _box(guide * target * mask, ky, kx) / n - mg * mt
    var = _box(guide * guide * mask, ky, kx) / n - mg * mg
    e = np.float32(0.5 * _AXIS_REG) * (mg * mg + mt * mt) + _EPS
    a = ((cov + e) / (var + e)).astype(np.float32)
    b = mt - a * mg
    a = _balanced_mean(a, ky, kx)
    b = _balanced_mean(b, ky, kx)
    return a * guide + b


def _balanced_mean(a: np.ndarray, ky: int, kx: int) -> np.ndarray:
    import cv2

    def k(n):
        v = np.ones(n, np.float32)
        if n > 1:
            v[0] = v[-1] = 0.5
        return v / v.sum()

    return cv2.sepFilter2D(a, -1, k(kx), k(ky), borderType=cv2.BORDER_REFLECT_101)


def _axis_differences(lines: np.ndarray, g_first: bool, eps: float) -> np.ndarray:
    """Green − chroma along rows of ``lines`` (every row: alternating chroma and green samples).

    ``g_first``: green sits at even columns. Returns the colour difference at every site.
    """
    h, w = lines.shape
    mg = np.zeros((h, w), np.float32)
    mg[:, 0 if g_first else 1::2] = 1.0
    mc = 1.0 - mg
    k_lin = np.array([[0.5, 0.0, 0.5]], np.float32)
    g_t = lines * mg + _conv(lines * mg, k_lin) * mc
    c_t = lines * mc + _conv(lines * mc, k_lin) * mg
    ky, kx = _AXIS_WIN
    g_hat = _gf_fit(c_t, g_t, mg, ky, kx)
    c_hat = _gf_fit(g_t, c_t, mc, ky, kx)
    rg = (lines - g_hat) * mg
    rc = (lines - c_hat) * mc
    g_full = g_hat + rg + _conv(rg, k_lin) * mc
    c_full = c_hat + rc + _conv(rc, k_lin) * mg
    return g_full - c_full


def _directional(c: np.ndarray, pattern: str, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical colour differences (green − chroma) at every site."""
    code = BAYER_PATTERNS[pattern]
    dh = np.empty_like(c)
    dv = np.empty_like(c)
    for row in (0, 1):
        lines = np.ascontiguousarray(c[row::2, :])
        dh[row::2, :] = _axis_differences(lines, code[row * 2] == 1, eps)
    for col in (0, 1):
        lines = np.ascontiguousarray(c[:, col::2].T)
        dv[:, col::2] = _axis_differences(lines, code[col] == 1, eps).T
    return dh, dv


def _fuse(dh: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """Gradient-weighted fusion of the axis colour differences from the four one-sided neighbourhoods."""
    import cv2
    gh = np.abs(_conv(dh, np.array([[-1.0, 0.0, 1.0]], np.float32)))
    gv = np.abs(_conv(dv, np.array([[-1.0], [0.0], [1.0]], np.float32)))
    # gradient energy of one-sided windows: box sums shifted by half a window to each side
    sh = _box(gh, _FUSE_WIN, _FUSE_WIN)
    sv = _box(gv, _FUSE_WIN, _FUSE_WIN)
    pad = _FUSE_WIN // 2
    shp = cv2.copyMakeBorder(sh, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    svp = cv2.copyMakeBorder(sv, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    h, w = dh.shape
    w_w = 1.0 / (shp[pad:pad + h, 0:w] + 1e-6) ** 2
    w_e = 1.0 / (shp[pad:pad + h, 2 * pad:2 * pad + w] + 1e-6) ** 2
    w_n = 1.0 / (svp[0:h, pad:pad + w] + 1e-6) ** 2
    w_s = 1.0 / (svp[2 * pad:2 * pad + h, pad:pad + w] + 1e-6) ** 2
    f = np.array([0.0, 0.0, 0.0, 0.0, *_FUSE_TAPS, 0.0, 0.0], np.float32)  # one-sided, centre at index 4
    e_e = _conv(dh, f[None, :].copy())          # filter2D correlates: tap 4+i reads x+i
    e_w = _conv(dh, f[::-1][None, :].copy())
    e_s = _conv(dv, f[:, None].copy())
    e_n = _conv(dv, f[::-1][:, None].copy())
    return ((w_w * e_w + w_e * e_e + w_n * e_n + w_s * e_s) / (w_w + w_e + w_n + w_s)).astype(np.float32)


def _chroma_from_green(c: np.ndarray, g: np.ndarray, mask: np.ndarray, eps: float) -> np.ndarray:
    """One chroma plane from its samples (``mask``) and the full green, by 2-D residual interpolation."""
    lap = np.array([[0, 0, -1, 0, 0], [0, 0, 0, 0, 0], [-1, 0, 4, 0, -1], [0, 0, 0, 0, 0], [0, 0, -1, 0, 0]],
                   np.float32)
    x_hat = _mlri_fit(g, c, mask, lap, *_CHROMA_WIN, eps)
    res = (c - x_hat) * mask
    return x_hat + _directional_residuals(res, g, mask)


def _shifted(a: np.ndarray, pad: int = 3):
    import cv2
    p = cv2.copyMakeBorder(a, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    h, w = a.shape
    return lambda dy, dx: p[pad + dy:pad + dy + h, pad + dx:pad + dx + w]


def _weighted(r_at, g_at, dirs, power: float) -> np.ndarray:
    num = 0.0
    den = 0.0
    for dy, dx in dirs:
        grad = (np.abs(g_at(dy, dx) - g_at(-dy, -dx)) + np.abs(g_at(0, 0) - g_at(2 * dy, 2 * dx))
                + np.abs(r_at(dy, dx) - r_at(-dy, -dx)) + np.float32(1e-4))
        wgt = grad ** -power
        num = num + wgt * r_at(dy, dx)
        den = den + wgt
    return (num / den).astype(np.float32)


def _directional_residuals(res: np.ndarray, g: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Residuals of one chroma at every site: diagonal neighbours first, then axial, inverse-gradient weighted."""
    power = 1.0
    g_at = _shifted(g)
    # sites of the other chroma: both row and column parity differ from the sampled sites
    ys, xs = np.nonzero(mask[:2, :2])
    other = np.zeros_like(mask)
    other[1 - ys[0]::2, 1 - xs[0]::2] = 1.0
    diag = _weighted(_shifted(res), g_at, ((-1, -1), (-1, 1), (1, -1), (1, 1)), power)
    r1 = res + diag * other
    axial = _weighted(_shifted(r1), g_at, ((-1, 0), (1, 0), (0, -1), (0, 1)), power)
    return r1 + axial * (1.0 - mask - other)


#: rows per strip and rows of context above and below (both even: a strip keeps the CFA phase); the support of
#: the whole method is under 24 pixels, so strips give the same result as one pass, with bounded memory
_STRIP = 512
_CONTEXT = 32


def residual(cfa: np.ndarray, pattern: str, eps: float = 1e-8) -> np.ndarray:
    """Demosaic an H×W float32 Bayer mosaic (white-balanced) into H×W×3 float32."""
    c = np.ascontiguousarray(cfa, dtype=np.float32)
    h, w = c.shape
    if h <= _STRIP + 2 * _CONTEXT:
        return _residual(c, pattern, eps)
    out = np.empty((h, w, 3), np.float32)
    for y0 in range(0, h, _STRIP):
        y1 = min(h, y0 + _STRIP)
        a, b = max(0, y0 - _CONTEXT), min(h, y1 + _CONTEXT)
        part = _residual(np.ascontiguousarray(c[a:b]), pattern, eps)
        out[y0:y1] = part[y0 - a:y1 - a]
    return out


def _residual(c: np.ndarray, pattern: str, eps: float) -> np.ndarray:
    from .quality import cfa_masks

    h, w = c.shape
    m = cfa_masks((h, w), pattern)
    dh, dv = _directional(c, pattern, eps)
    d = _fuse(dh, dv)
    g = c * m[1] + (c + d) * (1.0 - m[1])
    out = np.empty((h, w, 3), np.float32)
    out[..., 1] = g
    out[..., 0] = _chroma_from_green(c, g, m[0], eps)
    out[..., 2] = _chroma_from_green(c, g, m[2], eps)
    return out
