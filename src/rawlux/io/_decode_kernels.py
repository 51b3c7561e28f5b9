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


# All four CFA planes at once: one pass over the mosaic (the planes are its 2×2 phases: plane k holds the
# sites (y, x) with y % 2 = k >> 1, x % 2 = k & 1), in parallel over bands of rows, each band counting into
# its own histograms, summed at the end. Counts are integers (exact in float64): the same numbers as the
# per-plane kernels above give.

@nb.njit(cache=True, nogil=True, parallel=True)
def _sum_bands(parts):  # pragma: no cover - compiled
    """The per-band histograms ``parts`` (bands × 4 planes × bins) summed over the bands, as float64."""
    nbands, nplanes, nbins = parts.shape
    out = np.empty((nplanes, nbins), np.float64)
    for v in nb.prange(nbins):
        for k in range(nplanes):
            c = 0
            for b in range(nbands):
                c += parts[b, k, v]
            out[k, v] = c
    return out


@nb.njit(cache=True, nogil=True, parallel=True)
def cfa_histograms(mosaic, nbins, nbands):  # pragma: no cover - compiled
    """``counts[k, v]``: the sites of plane k of value v, and ``top[k]``: the largest value of plane k (0 when
    empty); ``ok``: False when a value is ≥ ``nbins`` (a power of two; the counts are then not valid: ask
    again with more)."""
    h, w = mosaic.shape
    last = nbins - 1
    pc = np.zeros((nbands, 4, nbins), np.int32)
    seen = np.zeros(nbands, np.int64)                   # the OR of all values: ≤ last iff every value is
    for b in nb.prange(nbands):
        acc = np.int64(0)
        for r in range(b, h, nbands):                   # rows dealt out in turn: a bright area is shared
            k = (r & 1) * 2
            e = pc[b, k]
            o = pc[b, k + 1]
            row = mosaic[r]
            for x in range(0, w - 1, 2):
                u = np.int64(row[x])
                v = np.int64(row[x + 1])
                acc |= u | v
                e[u & last] += 1
                o[v & last] += 1
            if w & 1:
                u = np.int64(row[w - 1])
                acc |= u
                e[u & last] += 1
        seen[b] = acc
    counts = _sum_bands(pc)
    top = np.zeros(4, np.int64)
    for k in range(4):
        for v in range(last, -1, -1):
            if counts[k, v] > 0:
                top[k] = v
                break
    ok = True
    for b in range(nbands):
        ok = ok and seen[b] <= last
    return counts, top, ok


@nb.njit(cache=True, nogil=True)
def _plateau_site(v, right, below, lo, tol, plate):  # pragma: no cover - compiled
    """plate[v] += 1 when v ≥ lo and v is within tol of ``right`` and ``below`` (|d| ≤ tol as one unsigned
    compare of d + tol with 2·tol; the add instead of a branch: the outcome is noise)."""
    if v >= lo:
        a = np.uint64(v - right + tol)
        c = np.uint64(v - below + tol)
        plate[v] += np.int32(max(a, c) <= np.uint64(2 * tol))


@nb.njit(cache=True, nogil=True, parallel=True)
def cfa_plateau_histograms(mosaic, lo, tol, nbins, nbands):  # pragma: no cover - compiled
    """``plate[k, v]``: the sites of plane k of value v ≥ ``lo[k]`` within ``tol[k]`` of both their right and
    their lower neighbour in the plane (the plane's last row and column excluded); see plateau_histogram.
    Every value must be < ``nbins`` (cfa_histograms says so)."""
    h, w = mosaic.shape
    pp = np.zeros((nbands, 4, nbins), np.int32)
    for b in nb.prange(nbands):
        for y in range(b, h - 2, nbands):               # rows dealt out in turn: a bright area is shared
            k = (y & 1) * 2
            pe = pp[b, k]
            po = pp[b, k + 1]
            lo_e = lo[k]
            lo_o = lo[k + 1]
            t_e = tol[k]
            t_o = tol[k + 1]
            row = mosaic[y]
            down = mosaic[y + 2]
            x = 0
            while x + 3 < w:                              # both sites of the pair have a right neighbour
                _plateau_site(np.int64(row[x]), np.int64(row[x + 2]), np.int64(down[x]), lo_e, t_e, pe)
                _plateau_site(np.int64(row[x + 1]), np.int64(row[x + 3]), np.int64(down[x + 1]), lo_o, t_o, po)
                x += 2
            if x + 2 < w:                                 # odd width: one more even site
                _plateau_site(np.int64(row[x]), np.int64(row[x + 2]), np.int64(down[x]), lo_e, t_e, pe)
    plate = _sum_bands(pp)
    return plate
