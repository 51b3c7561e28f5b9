"""Tile helpers shared by the demosaic kernels (``ri``, ``rcd``, ``quality``): mirrored indexing and the load of
one tile of the mosaic with a mirrored margin (an even margin keeps the CFA phase)."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def mirror(i, n):
    """Index ``i`` reflected about the first and last sample of 0..n-1 (reflect-101: the edge pixel is not
    repeated, so the parity of ``i`` is kept)."""
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
def load_tile(cfa, y0, x0, hp, wp, m):
    """The ``hp`` × ``wp`` block of ``cfa`` starting at (y0 − m, x0 − m), mirrored where it leaves the mosaic."""
    h, w = cfa.shape
    p = np.empty((hp, wp), np.float32)
    xs = np.empty(wp, np.int64)
    for xx in range(wp):
        xs[xx] = mirror(x0 - m + xx, w)
    for yy in range(hp):
        row = cfa[mirror(y0 - m + yy, h)]
        pr = p[yy]
        for xx in range(wp):
            pr[xx] = row[xs[xx]]
    return p
