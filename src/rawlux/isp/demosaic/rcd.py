"""Ratio-corrected directional demosaicing (RCD class): the fast default.

The method follows the ideas of L. Sanz Rodríguez's *Ratio Corrected Demosaicing*, written here from the
description, not from any implementation:

1. a vertical/horizontal discriminator per pixel: the energy of same-colour first and second differences
   along each axis, summed over a 3-pixel window, as the ratio ``V / (V + H)``;
2. a low-pass "luminance" of the mosaic (a 3×3 kernel that weighs R, G and B equally around every site);
3. green at red/blue sites: each of the four green neighbours is scaled by the ratio of the low-pass at the
   site to the low-pass half-way to the next same-colour site (ratio correction), the two estimates of an axis
   are blended by inverse gradients, and the two axes by the discriminator (taken from the four diagonal
   neighbours where they are more decided than the site itself);
4. red at blue sites and blue at red sites: colour differences of the four diagonal neighbours, blended the
   same way with a diagonal discriminator;
5. red and blue at green sites: colour differences of the four axial neighbours, blended with the
   vertical/horizontal discriminator.

The kernel is one numba function, tiled (every tile is loaded once with mirrored borders, processed in
L2-sized buffers, and written out), parallel over tiles, so memory traffic is one read of the mosaic and one
write of the RGB image. Mirroring about the edge pixel keeps the CFA phase, so borders are exact mosaics.
"""
from __future__ import annotations

import numpy as np

from ...frame import BAYER_PATTERNS

_TILE_H = 128
_TILE_W = 256
_MARGIN = 8  # even, so the CFA phase of a padded tile equals that of the image


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
