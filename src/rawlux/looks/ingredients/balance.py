"""White-balance shift of the rendered image: warmth (mired), tint, and red/blue gains.

A look's shift is relative to however the photo was balanced, so it applies to raw files and to
JPEGs alike. D65 white is carried to the white of a shifted colour temperature (Bradford), then the
red and blue channels get their gains; display-linear Rec.2020, before the tone curve of ``curve``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...colour import spaces
from ...colour.temperature import temp_tint_to_xy, xy_to_temp_tint
from ...pipeline.stage import param
from . import DeferredStage, LookParams


@dataclass(frozen=True)
class BalanceParams(LookParams):
    warmth: float = param(0.0, min=-100.0, max=100.0,
                          doc="colour-temperature shift in mired: + warmer (yellow), - cooler (blue)")
    tint: float = param(0.0, min=-50.0, max=50.0, doc="+ magenta, - green (DNG tint units)")
    red: float = param(0.0, min=-1.0, max=1.0, doc="red channel gain in EV")
    blue: float = param(0.0, min=-1.0, max=1.0, doc="blue channel gain in EV")


def from_wb_shift(temp_shift: float, tint_shift: float) -> dict[str, float]:
    """The ``balance`` values that stand for a white-balance shift (kelvin, DNG tint) on a photo that has no
    sensor white balance to shift (a JPEG...): about 50 K per mired around daylight, tint halved."""
    return {"warmth": max(-100.0, min(100.0, temp_shift / 50.0)), "tint": max(-50.0, min(50.0, tint_shift / 2.0))}


def matrix(p: BalanceParams) -> np.ndarray:
    """3×3 matrix on linear Rec.2020 (white stays at luminance 1)."""
    s = p.strength
    t0, tint0 = xy_to_temp_tint(spaces.D65_XY)
    mired = 1.0e6 / t0 + s * p.warmth
    # DNG tint of a white: + is its green side, so the white the picture moves to takes -tint (+ = magenta picture)
    target = temp_tint_to_xy(min(max(1.0e6 / mired, 1700.0), 49000.0), tint0 - s * p.tint)
    to_xyz = np.asarray(spaces.rgb_to_xyz(spaces.WORKING))
    m = np.linalg.inv(to_xyz) @ spaces.adaptation(spaces.D65_XY, target) @ to_xyz
    m = np.diag([2.0 ** (s * p.red), 1.0, 2.0 ** (s * p.blue)]) @ m
    white = m @ np.ones(3)
    return m / float(white @ np.asarray(spaces.rgb_to_xyz(spaces.WORKING)[1]))


def apply(rgb: np.ndarray, p: BalanceParams) -> np.ndarray:
    return rgb @ matrix(p).T


class Balance(DeferredStage):
    name = "balance"
    Params = BalanceParams
    doc = "white-balance shift (warmth, tint, red/blue)"


_ = math  # (kept for readers: mired = 1e6 / kelvin)
