"""Ground-truth protocol for demosaicing: mosaic an RGB image, measure colour PSNR.

The protocol of the benchmarks and tests: 8-bit sRGB values → float [0, 1] → Bayer mosaic (any of the four
patterns) → demosaic → clip to [0, 1] → CPSNR over the three channels, a border excluded.
"""
from __future__ import annotations

import numpy as np

from ...errors import ParameterError
from ...frame import BAYER_PATTERNS


def cfa_masks(shape: tuple[int, int], pattern: str) -> np.ndarray:
    """3×H×W float32 masks, 1 where the mosaic samples that colour."""
    code = BAYER_PATTERNS[pattern]
    h, w = shape
    m = np.zeros((3, h, w), np.float32)
    for i, c in enumerate(code):
        m[c, i // 2::2, i % 2::2] = 1.0
    return m


def mosaic(rgb: np.ndarray, pattern: str) -> np.ndarray:
    """Sample an H×W×3 image through a Bayer filter: H×W float32."""
    pattern = str(pattern).upper()
    if pattern not in BAYER_PATTERNS:
        raise ParameterError(f"unknown CFA pattern {pattern!r} (valid: {', '.join(BAYER_PATTERNS)})")
    rgb = np.asarray(rgb, dtype=np.float32)
    out = np.empty(rgb.shape[:2], np.float32)
    for i, c in enumerate(BAYER_PATTERNS[pattern]):
        out[i // 2::2, i % 2::2] = rgb[i // 2::2, i % 2::2, c]
    return out


def cpsnr(reference: np.ndarray, estimate: np.ndarray, border: int = 10, peak: float = 1.0) -> float:
    """Colour PSNR (dB) over all channels, ``border`` pixels excluded on every side; the estimate is clipped."""
    ref = np.asarray(reference, np.float64)
    est = np.clip(np.asarray(estimate, np.float64), 0.0, peak)
    if border:
        ref = ref[border:-border, border:-border]
        est = est[border:-border, border:-border]
    mse = float(np.mean((ref - est) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)
