"""numba kernels of the decoder's clip detection (one pass over a CFA plane instead of a dozen numpy passes;
the planes are strided views of the mosaic, read in place)."""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def histogram(vals, n):  # pragma: no cover - compiled
    """``counts[v]``: the pixels of value v in a 2-D integer plane (values < n)."""
    h, w = vals.shape
    counts = np.zeros(n, np.float64)
    for y in range(h):
        for x in range(w):
            counts[vals[y, x]] += 1.0
    return counts


@nb.njit(cache=True, nogil=True)
def plateau_histogram(vals, lo, tol, n):  # pragma: no cover - compiled
    """``plate[v]``: the pixels of value v ≥ ``lo`` within ``tol`` of both their right and their lower neighbour
    (last row and column excluded): the plateau pixels of a clip."""
    h, w = vals.shape
    plate = np.zeros(n, np.float64)
    for y in range(h - 1):
        for x in range(w - 1):
            v = np.int64(vals[y, x])
            if v >= lo and abs(v - np.int64(vals[y, x + 1])) <= tol and abs(v - np.int64(vals[y + 1, x])) <= tol:
                plate[v] += 1.0
    return plate
