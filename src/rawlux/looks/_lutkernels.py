"""LUT application kernels, kept with the grade kernels they share ``tetra_at`` with (one file, so
numba's cache is invalidated together when either changes)."""
from __future__ import annotations

from ..isp.look._kernels import apply_1d, apply_tetra, padded

__all__ = ["apply_1d", "apply_tetra", "padded"]
