"""Hue-preserving gamut compression into an output space (the method of the ACES Reference Gamut Compression).

Work in the *destination* space's linear RGB. For each pixel the achromatic value is ``ach = max(r, g, b)``
and each channel's distance from it is ``d = (ach − c) / ach``: 0 on the neutral axis, 1 on the gamut
boundary, > 1 outside (a negative channel). Distances below a threshold are left exactly as they are; above
it they are compressed by a smooth power curve that maps the *limit* distance onto the boundary (1) and
approaches a finite asymptote, so colours move straight toward the neutral axis: the largest channel (and
the hue ordering of the channels) never changes, nothing is clipped to the cube's faces, and in-gamut colours
below the thresholds are untouched.

Unlike fixed constants, the limits here are measured for the actual pair of spaces: the largest distance any
colour of the source (working) gamut reaches in the destination space, per channel, so everything the working
space can hold lands inside the output gamut.

    lim = limits_for("rec2020", "srgb")
    compress(rgb_linear_srgb, lim)                         # in place, H×W×3 or N×3 float32
"""
from __future__ import annotations

from functools import lru_cache

import numba as nb
import numpy as np

from . import spaces

#: default distance thresholds (per channel, cyan/magenta/yellow = R/G/B) and curve power
THRESHOLDS = (0.80, 0.80, 0.85)
POWER = 1.2


@lru_cache(maxsize=None)
def limits_for(src: str, dst: str, margin: float = 1.02) -> tuple[float, float, float]:
    """Per-channel largest distance from the neutral axis that colours of ``src`` reach inside ``dst``."""
    m = np.asarray(spaces.rgb_to_rgb(src, dst), np.float64)
    # the source gamut's surface: every colour with one channel 0 and another 1 (its most saturated colours)
    t = np.linspace(0.0, 1.0, 257)
    surf = []
    for zero in range(3):
        for one in range(3):
            if one == zero:
                continue
            other = 3 - zero - one
            c = np.zeros((t.size, 3))
            c[:, one] = 1.0
            c[:, other] = t
            surf.append(c)
    rgb = np.concatenate(surf) @ m.T
    ach = rgb.max(1)
    ok = ach > 1e-9
    d = (ach[ok, None] - rgb[ok]) / ach[ok, None]
    lim = np.maximum(d.max(0) * margin, 1.0 + 1e-3)
    return (float(lim[0]), float(lim[1]), float(lim[2]))


@nb.njit(cache=True, inline="always")
def _curve(d, thr, lim, pw):  # pragma: no cover - compiled
    if d <= thr:
        return d
    # scale so that the limit distance lands on the boundary (distance 1)
    s = (lim - thr) / ((((1.0 - thr) / (lim - thr)) ** (-pw)) - 1.0) ** (1.0 / pw)
    x = (d - thr) / s
    return thr + s * x / (1.0 + x ** pw) ** (1.0 / pw)


@nb.njit(cache=True, parallel=True, fastmath=True)
def _compress_kernel(img, lim, thr, pw):  # pragma: no cover - compiled
    n = img.shape[0]
    for i in nb.prange(n):
        r = img[i, 0]
        g = img[i, 1]
        b = img[i, 2]
        ach = max(r, max(g, b))
        if ach <= 0:
            continue
        for c in range(3):
            v = img[i, c]
            d = (ach - v) / ach
            img[i, c] = ach - _curve(d, thr[c], lim[c], pw) * ach


def compress(rgb: np.ndarray, limits: tuple[float, float, float], thresholds: tuple[float, float, float] = THRESHOLDS,
             power: float = POWER) -> np.ndarray:
    """Compress out-of-gamut colours of a linear RGB image (destination space) in place; returns it."""
    a = rgb if (rgb.dtype == np.float32 and rgb.flags.c_contiguous) else np.ascontiguousarray(rgb, np.float32)
    thr = np.minimum(np.asarray(thresholds, np.float32), np.asarray(limits, np.float32) - 1e-3)
    _compress_kernel(a.reshape(-1, 3), np.asarray(limits, np.float32), thr, np.float32(power))
    if a is not rgb:
        rgb[...] = a
    return rgb


def to_output(working: np.ndarray, dst: str, src: str = spaces.WORKING,
              thresholds: tuple[float, float, float] = THRESHOLDS, power: float = POWER) -> np.ndarray:
    """Working-space linear RGB → ``dst`` linear RGB with its out-of-gamut colours compressed (new array)."""
    import cv2

    m = np.asarray(spaces.rgb_to_rgb(src, dst), np.float32)
    out = cv2.transform(np.ascontiguousarray(working, np.float32).reshape(-1, 1, 3), m).reshape(working.shape)
    return compress(np.ascontiguousarray(out), limits_for(src, dst), thresholds, power)
