"""Demosaicing: Bayer mosaic → RGB.

``demosaic(cfa, pattern, method=None)`` takes an H×W float32 mosaic (black-subtracted, normalised,
white-balanced: the stage feeds white-balanced data, which is what colour-difference methods want)
and returns H×W×3 float32. Methods are registered by name in ``DEMOSAIC_METHODS``, one module each:

- ``ri``: directional residual interpolation (guided-filter fits along the axes for green, minimised-Laplacian
  fits for red and blue) with gradient-weighted fusion and edge-directed chroma residuals, one fused, tiled numba kernel; the default (quality of ``residual``, at
  interactive speed);
- ``rcd``: Ratio Corrected Demosaicing (Sanz Rodríguez), a tiled numba kernel; the fastest;
- ``residual``: the same family as ``ri`` written with OpenCV box filters and numpy (the reference the kernel
  is tested against; slower);
- ``ari``: adaptive residual interpolation (Monno et al.) for green, averaged with ``ri``'s green, and ``ri``'s
  red/blue step; the sharpest on saturated detail (McMaster), about 100× slower than ``ri`` (OpenCV/numpy);
- ``quality``: ``ri`` plus a learned correction (RAISR-style: per CFA site kind and local structure bucket, a
  linear filter over the 5×5 base RGB, fitted on images rendered from real raw files; weights shipped in the
  package, numba at run time); sharper than ``ri`` on McMaster and on photographs, at about a sixth of its speed;
- ``ari-fast``: adaptive residual interpolation for green (a tiled numba kernel, iterated guided filters with
  a per-pixel choice of iteration) blended with ``ri``'s green, then 2-D minimised-Laplacian RI for red and blue;
  sharper than ``ri`` on saturated detail, about a tenth of its speed;
- ``bilinear``: the reference.

Borders are handled by mirroring about the edge pixel, which keeps the CFA phase; any size from 2×2 up works
(a 1-pixel side raises ``ParameterError``). Clipped or all-zero input gives finite output.
"""
from __future__ import annotations

import importlib
from typing import Callable

import numpy as np

from ...errors import ParameterError
from ...frame import BAYER_PATTERNS

#: name → "module:function" (imported on first use)
DEMOSAIC_METHODS: dict[str, str] = {
    "ari": "rawlux.isp.demosaic.ari:ari",
    "bilinear": "rawlux.isp.demosaic.bilinear:bilinear",
    "ari-fast": "rawlux.isp.demosaic.hq:quality",
    "quality": "rawlux.isp.demosaic.learned:quality",
    "rcd": "rawlux.isp.demosaic.rcd:rcd",
    "residual": "rawlux.isp.demosaic.residual:residual",
    "ri": "rawlux.isp.demosaic.ri:ri",
}
#: the default: ri has residual interpolation's quality (0.3–1 dB over rcd) at about half rcd's speed
#: (numbers in benchmarks/bench_demosaic.py and the README)
DEFAULT_METHOD = "ri"


def get_method(name: str) -> Callable[[np.ndarray, str], np.ndarray]:
    if name not in DEMOSAIC_METHODS:
        raise ParameterError(f"unknown demosaic method {name!r} (valid: {', '.join(DEMOSAIC_METHODS)})")
    mod, fn = DEMOSAIC_METHODS[name].split(":")
    return getattr(importlib.import_module(mod), fn)


def demosaic(cfa: np.ndarray, pattern: str, method: str | None = None) -> np.ndarray:
    """Demosaic a Bayer mosaic. ``method=None`` picks the best default."""
    pattern = str(pattern).upper()
    if pattern not in BAYER_PATTERNS:
        raise ParameterError(f"unknown CFA pattern {pattern!r} (valid: {', '.join(BAYER_PATTERNS)})")
    a = np.asarray(cfa)
    if a.ndim != 2:
        raise ParameterError(f"demosaic needs an H×W mosaic, not shape {a.shape}")
    if a.shape[0] < 2 or a.shape[1] < 2:  # a 1-pixel side holds no full 2×2 period of the pattern
        raise ParameterError(f"demosaic needs at least a 2×2 mosaic, not {a.shape[0]}×{a.shape[1]}")
    a = np.ascontiguousarray(a, dtype=np.float32)
    fn = get_method(method or DEFAULT_METHOD)
    return fn(a, pattern)
