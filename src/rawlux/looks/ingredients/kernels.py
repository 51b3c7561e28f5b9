"""The look kernels that other modules use: 3D/1D LUT application (``looks/lutfiles.py``) and tetrahedral
lookups (``video/``). The numba code lives in ``_kernels.py`` (one file, one on-disk cache, shared with the
fused grade); this module is its public face."""
from ._kernels import apply_1d, apply_tetra, padded, tetra_at  # noqa: F401

__all__ = ["apply_1d", "apply_tetra", "padded", "tetra_at"]
