"""Ratio Corrected Demosaicing (RCD, L. Sanz Rodríguez, 2017): the fastest method.

Written from the published description of the method, not from any implementation:

1. vertical/horizontal discrimination: at every pixel the 7-tap colour-difference high-pass along each axis,
   ``(c[-3] - c[-1] - c[+1] + c[+3]) - 3 (c[-2] + c[+2]) + 6 c[0]``, is squared and summed over the pixel and
   its two neighbours along that axis (floored at eps²), giving ``V`` and ``H``; the discriminator is
   ``V / (V + H)`` (0: interpolate vertically, 1: horizontally);
2. a low-pass of the mosaic (3×3 kernel [1 2 1; 2 4 2; 1 2 1], which weighs R, G and B the same around
   every site);
3. green at red/blue sites: each of the four green neighbours is scaled by the ratio of the low-pass at the
   site to the low-pass at the next same-colour site that way (``2 L0 / (L0 + L2)``: the ratio correction,
   kept to [0.25, 4] and neutral where the low-pass is not positive, for black-subtracted noise); the two
   estimates of an axis are blended by inverse one-sided gradients (four terms over five pixels), the two
   axes by the discriminator, taken from the four diagonal neighbours' mean where that is more decided than
   the pixel's own;
4. red at blue sites and blue at red sites: a diagonal discriminator ``P / (P + Q)`` built the same way (the
   7-tap high-pass along each diagonal, squared, summed over three pixels along it) blends the colour
   differences of the four diagonal neighbours, each pair weighted by inverse one-sided gradients;
5. red and blue at green sites: the colour differences of the four axial neighbours, weighted per channel
   by ``N = eps + |G − G[y−2]| + |C[y−1] − C[y+1]| + |C[y−1] − C[y−3]|`` (S, W, E by symmetry), the axes
   blended by the vertical/horizontal discriminator.

The kernel is one numba function, tiled (every tile is loaded once with mirrored borders, processed in
L2-sized buffers, and written out), parallel over tiles, so memory traffic is one read of the mosaic and one
write of the RGB image. Mirroring about the edge pixel keeps the CFA phase, so borders are exact mosaics; the
margin (10 px) covers the method's support, so the tiles are seamless.
"""
from __future__ import annotations

import numpy as np

from ...frame import BAYER_PATTERNS

_TILE_H = 128
_TILE_W = 256
_MARGIN = 10  # even, so the CFA phase of a padded tile equals that of the image; covers the support (10 px)


def _kernel():
    # built lazily so that importing rawlux does not import numba
    global _KERNEL
    if _KERNEL is None:
        from ._rcd_kernel import rcd_tiles
        _KERNEL = rcd_tiles
    return _KERNEL


_KERNEL = None


def rcd(cfa: np.ndarray, pattern: str) -> np.ndarray:
    """Demosaic an H×W float32 Bayer mosaic (white-balanced) into H×W×3 float32."""
    code = BAYER_PATTERNS[pattern]
    r_index = code.index(0)
    r_row, r_col = r_index // 2, r_index % 2
    cfa = np.ascontiguousarray(cfa, dtype=np.float32)
    h, w = cfa.shape
    out = np.empty((h, w, 3), np.float32)
    _kernel()(cfa, out, r_row, r_col, _TILE_H, _TILE_W, _MARGIN)
    return out
