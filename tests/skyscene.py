"""A synthetic overcast-sky raw with known truth (for highlights, tone and exposure tests).

A bright, slightly cool sky brightening smoothly toward the top of the frame (its brightest raw channel at
``peak`` of the white level, nothing clipped unless ``peak`` > 1) over dark textured ground, through the
Luther camera of :mod:`synth` (Poisson–Gaussian noise, 12-bit), written as a DNG so that it goes through the
decoder's clip detection like a real file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import synth


def overcast_sky_dng(path: Path, *, peak: float = 0.95, sky_frac: float = 0.3, gradient: float = 0.45,
                     h: int = 480, w: int = 720, seed: int = 0) -> tuple[Path, np.ndarray]:
    """Write the scene to ``path``; returns (path, sky mask H×W)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    white = np.array([0.9505, 1.0, 1.089])
    lum = (1.0 - gradient * yy / sky_frac) * (1.0 - 0.03 * np.sin(7 * xx + 2 * yy) ** 2)
    sky = lum[..., None] * white * np.array([0.97, 1.0, 1.05])
    g = 0.01 + 0.06 * rng.random((h // 6 + 1, w // 6 + 1, 1)).repeat(6, 0).repeat(6, 1)[:h, :w]
    ground = g * white * np.array([1.0, 1.0, 0.8])
    mask = yy < sky_frac
    scene = np.where(mask[..., None], sky, ground)
    s = synth.synth_raw(scene, white, exposure=peak, seed=seed)
    return synth.write_dng(Path(path), s), mask
