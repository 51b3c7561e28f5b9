"""Hue-preserving gamut compression into an output space.

The compression curve is the one of the ACES Reference Gamut Compression (a threshold, then a power curve
that maps a *limit* distance onto the gamut boundary), but the distance and the direction differ: ACES
measures each channel's distance from max(r, g, b) and moves channels independently, which keeps the RGB
ordering but bends perceived hue (measured: mean CIELAB hue error 7.8° against 6.7° for plain clipping on
saturated Rec.2020 lights). Here the distance is ``d = (Y − min(r, g, b)) / Y`` (0 on the neutral axis, 1
where a channel reaches 0) and a colour moves on the straight line to the grey of its own luminance Y, so
luminance and dominant wavelength are kept; in-gamut colours below the threshold are untouched.

Unlike fixed constants, the limits here are measured for the actual pair of spaces: the largest distance any
colour of the source (working) gamut reaches in the destination space, per channel, so everything the working
space can hold lands inside the output gamut.

    compress(rgb_linear_srgb, limit_for("rec2020", "srgb"), "srgb")     # in place, H×W×3 or N×3 float32
    to_output(working_rgb, "srgb")                                        # matrix + compression
"""
from __future__ import annotations

from functools import lru_cache

import numba as nb
import numpy as np

from . import spaces

#: distance from the neutral axis below which colours are left alone, and the curve's power
THRESHOLD = 0.8
POWER = 1.2


@lru_cache(maxsize=None)
def limit_for(src: str, dst: str, margin: float = 1.02) -> float:
    """The largest distance (Y − min)/Y from the neutral axis that colours of ``src`` reach inside ``dst``."""
    m = np.asarray(spaces.rgb_to_rgb(src, dst), np.float64)
    lum = np.asarray(spaces.rgb_to_xyz(dst)[1], np.float64)
    # the source gamut's surface: every colour with one channel 0 and another 1 (its most saturated colours)
    t = np.linspace(0.0, 1.0, 257)
    surf = []
    for zero in range(3):
        for one in range(3):
            if one == zero:
                continue
            c = np.zeros((t.size, 3))
            c[:, one] = 1.0
            c[:, 3 - zero - one] = t
            surf.append(c)
    rgb = np.concatenate(surf) @ m.T
    y = rgb @ lum
    ok = y > 1e-9
    d = (y[ok] - rgb[ok].min(1)) / y[ok]
    return float(max(d.max() * margin, 1.0 + 1e-3))


@nb.njit(cache=True, inline="always")
def _curve(d, thr, lim, pw):  # pragma: no cover - compiled
    if d <= thr:
        return d
    # scale so that the limit distance lands on the boundary (distance 1)
    s = (lim - thr) / ((((1.0 - thr) / (lim - thr)) ** (-pw)) - 1.0) ** (1.0 / pw)
    x = (d - thr) / s
    return thr + s * x / (1.0 + x ** pw) ** (1.0 / pw)


@nb.njit(cache=True, parallel=True, fastmath=True)
def _compress_kernel(img, lum, lim, thr, pw):  # pragma: no cover - compiled
    """Move each colour toward the grey of the same luminance: d = (Y − min)/Y is its distance from the
    neutral axis (1 where a channel reaches 0); d beyond the threshold is compressed so that ``lim`` lands
    on 1. Mixing with an equal-luminance grey keeps luminance and the dominant wavelength (straight line to
    the white point in xy)."""
    n = img.shape[0]
    for i in nb.prange(n):
        r = img[i, 0]
        g = img[i, 1]
        b = img[i, 2]
        y = lum[0] * r + lum[1] * g + lum[2] * b
        mn = min(r, min(g, b))
        if y <= 0:
            img[i, 0] = max(r, 0.0) * 0.0
            img[i, 1] = 0.0
            img[i, 2] = 0.0
            continue
        d = (y - mn) / y
        if d <= thr:
            continue
        dc = _curve(d, thr, lim, pw)
        t = dc / d
        img[i, 0] = y + t * (r - y)
        img[i, 1] = y + t * (g - y)
        img[i, 2] = y + t * (b - y)


def compress(rgb: np.ndarray, limit: float, dst: str, threshold: float = THRESHOLD, power: float = POWER) -> np.ndarray:
    """Compress out-of-gamut colours of a linear RGB image in ``dst`` in place; returns it."""
    a = rgb if (rgb.dtype == np.float32 and rgb.flags.c_contiguous) else np.ascontiguousarray(rgb, np.float32)
    lum = np.asarray(spaces.rgb_to_xyz(dst)[1], np.float32)
    _compress_kernel(a.reshape(-1, 3), lum, np.float32(limit), np.float32(min(threshold, limit - 1e-3)), np.float32(power))
    if a is not rgb:
        rgb[...] = a
    return rgb


def to_output(working: np.ndarray, dst: str, src: str = spaces.WORKING,
              threshold: float = THRESHOLD, power: float = POWER) -> np.ndarray:
    """Working-space linear RGB → ``dst`` linear RGB with its out-of-gamut colours compressed (new array)."""
    import cv2

    m = np.asarray(spaces.rgb_to_rgb(src, dst), np.float32)
    out = cv2.transform(np.ascontiguousarray(working, np.float32).reshape(-1, 1, 3), m).reshape(working.shape)
    return compress(np.ascontiguousarray(out), limit_for(src, dst), dst, threshold, power)
