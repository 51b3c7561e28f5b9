"""The ``ari-fast`` method (the ``quality`` method before the learned one of :mod:`.learned`): adaptive residual
interpolation for green, minimised-Laplacian RI for red and blue.

After Monno, Kiku, Tanaka and Okutomi (adaptive residual interpolation, ARI, 2015/2017) and Kiku et al.
(minimised-Laplacian residual interpolation), written from the papers' descriptions as one tiled numba kernel:

1. green, per axis and per kind of line (red lines, blue lines; the vertical axis on the transposed tile):
   green and the line's chroma start as linear interpolations along the line ("guides"). Each iteration
   predicts each from the other's guide by a guided filter (slope from the local covariance, pulled towards 1,
   i.e. plain colour difference, by a term proportional to the squared local means; coefficients averaged over
   the window), interpolates the residuals at each kind's own sites along the line and adds them
   back: the results are the next guides. Windows grow by one pixel along the line each iteration (5, 7, 9 …)
   and across the lines every other iteration;
2. per pixel and axis, the iteration kept is the one whose criterion is smallest: the change between the
   guides and their predictions (green and chroma together), smoothed by a 5×5 Gaussian, squared, times the
   smoothed gradient of that change along the axis (converged, smooth updates win); the two axes are averaged
   with the inverse of their criteria, which also chooses the direction;
3. that green is blended (``ARI_WEIGHT`` : rest) with the green of the default method ``ri`` (gradient-weighted
   fusion of directional minimised-Laplacian estimates), which is better than either alone;
4. red and blue from that green by 2-D minimised-Laplacian residual interpolation (13×13 windows; residuals
   interpolated edge-directed, diagonal neighbours first, then axial).

Tiles of 512 px with a 32-px mirrored margin run in parallel (tiled and one-tile results differ by float
roundings only, where they flip an iteration choice; tested). It is sharper than ``ri`` on saturated fine detail
(McMaster, about +0.5 dB), only slightly better on ordinary photographs (about +0.1 dB), at about a tenth of
``ri``'s speed (numbers in ``benchmarks/bench_demosaic.py``). Mosaics under 32 px on a side have nothing for the
grown windows to adapt to, and get ``ri``'s result.
"""
from __future__ import annotations

import numpy as np

from ...frame import BAYER_PATTERNS

#: iterations of the green step (windows grow by one pixel each)
ITERATIONS = 6
#: weight of the ARI green in the final green (the rest is ri's green)
ARI_WEIGHT = 0.65
#: regularisation of the green fits' slopes towards 1, relative to the squared local means
SLOPE_REG = 1e-3
#: the fits work on values scaled to 0..255; their regularisation at that scale
_SCALE = 255.0
_EPS_RI = 1e-3
_EPS_ML = 1e-8 * _SCALE * _SCALE
#: chroma window radius (13×13)
_CHROMA_R = 6
#: tiles and their mirrored margin (even: keeps the CFA phase). The iterated fits could in principle carry the
#: mirrored values ~60 px inwards; measured, 32, 48 and 64 px give the same result to float roundings
_TILE = 512
_MARGIN = 32
_MIN_SIDE = 32


def quality(cfa: np.ndarray, pattern: str) -> np.ndarray:
    """Demosaic an H×W float32 Bayer mosaic (white-balanced) into H×W×3 float32."""
    from ._hq_kernel import hq_tiles
    from .ri import ri

    c = np.nan_to_num(np.ascontiguousarray(cfa, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    base = ri(c, pattern)
    h, w = c.shape
    if min(h, w) < _MIN_SIDE:
        return base
    code = BAYER_PATTERNS[pattern]
    green_at = np.array([[code[0] == 1, code[1] == 1], [code[2] == 1, code[3] == 1]])
    r = code.index(0)
    g_ri = np.ascontiguousarray(base[..., 1])
    out = np.empty((h, w, 3), np.float32)
    hq_tiles(c, g_ri, out, green_at, r // 2, r % 2, _TILE, _TILE,
             _MARGIN, ITERATIONS, np.float32(ARI_WEIGHT), np.float32(_EPS_RI), np.float32(0.5 * SLOPE_REG),
             np.float32(_EPS_ML), _CHROMA_R,
             np.float32(_SCALE))
    bad = ~np.isfinite(out)
    if bad.any():   # a degenerate fit: no NaN leaves the stage
        out[bad] = base[bad]
    return out
