"""The ISP's numba kernels that other layers use (``io`` quantises with them).

The kernels live in ``_kernels.py`` (one file, so numba's on-disk cache stays together); this module is their
public face: import from here, never from ``_kernels``, outside ``isp/``."""
from ._kernels import _compress as compress_to_gamut  # noqa: F401 - inline numba helpers for other kernels
from ._kernels import _encode as table_lookup  # noqa: F401
from ._kernels import quantise  # noqa: F401

__all__ = ["compress_to_gamut", "quantise", "table_lookup"]
