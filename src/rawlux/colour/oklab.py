"""Oklab (Ottosson 2020) and the working encoding of the look stages (numpy, float64; evaluated on LUT grids).

Colour maths shared by the look ingredients (`rawlux.looks.ingredients`), the LUT baker and the video grader:

* The *working encoding* of the display-referred look stages: Rec.2020 primaries, D65, with the
  BT.709/BT.2020 opto-electronic transfer function (so the ``rec2020`` encoding of
  :mod:`rawlux.colour.spaces`). Tone curves act on these encoded values.
* Oklab (Ottosson 2020) for hue, chroma and lightness: saturation, HSL bands and split toning.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import spaces

WORKING_TF = spaces.transfer_of(spaces.WORKING)

# Oklab: XYZ (D65) → LMS, cube root, → Lab
_M1 = np.array([[0.8189330101, 0.3618667424, -0.1288597137],
                [0.0329845436, 0.9293118715, 0.0361456387],
                [0.0482003018, 0.2643662691, 0.6338517070]])
_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                [1.9779984951, -2.4285922050, 0.4505937099],
                [0.0259040371, 0.7827717662, -0.8086757660]])

#: Rec.2020 luminance weights (Y of each primary)
LUMA = np.asarray(spaces.rgb_to_xyz(spaces.WORKING)[1], dtype=np.float64)


def encode(x: np.ndarray) -> np.ndarray:
    """Display-linear → working encoding (BT.709/2020 transfer function, values clipped to [0, 1]),
    float64 (``rawlux.colour.spaces`` works in float32)."""
    x = np.clip(x, 0.0, 1.0)
    return np.where(x < 0.018053968510807, 4.5 * x, 1.09929682680944 * np.power(x, 0.45) - 0.09929682680944)


def decode(v: np.ndarray) -> np.ndarray:
    """Working encoding → display-linear, float64."""
    v = np.clip(v, 0.0, 1.0)
    return np.where(v < 0.081242858298635, v / 4.5,
                    np.power((v + 0.09929682680944) / 1.09929682680944, 1 / 0.45))


@lru_cache(maxsize=None)
def _rgb_lab_mats() -> tuple[np.ndarray, np.ndarray]:
    m = _M1 @ np.asarray(spaces.rgb_to_xyz(spaces.WORKING))
    return m, np.linalg.inv(m)


def rgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """Linear Rec.2020 (N×3) → Oklab (N×3: L, a, b)."""
    m, _ = _rgb_lab_mats()
    lms = np.cbrt(rgb @ m.T)
    return lms @ _M2.T


def oklab_to_rgb(lab: np.ndarray) -> np.ndarray:
    _, mi = _rgb_lab_mats()
    lms = lab @ np.linalg.inv(_M2).T
    return (lms ** 3) @ mi.T


def srgb_hue(rgb_srgb: tuple[float, float, float]) -> float:
    """Oklab hue angle (degrees, 0–360) of an sRGB-encoded colour."""
    lin = spaces.decode(np.asarray(rgb_srgb, np.float64), "srgb").astype(np.float64)
    rec = lin @ np.asarray(spaces.rgb_to_rgb("srgb", spaces.WORKING)).T
    lab = rgb_to_oklab(rec[None, :])[0]
    return float(np.degrees(np.arctan2(lab[2], lab[1])) % 360.0)


def wheel_direction(hue_deg: float) -> np.ndarray:
    """Unit (a, b) direction in Oklab of colour-wheel hue ``hue_deg`` (HSV convention: 0 red, 60 yellow,
    120 green, 180 cyan, 240 blue, 300 magenta), so users pick tints the way every editor shows them."""
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((hue_deg % 360.0) / 360.0, 1.0, 1.0)
    h = np.radians(srgb_hue((r, g, b)))
    return np.array([np.cos(h), np.sin(h)])


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ LUMA


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
