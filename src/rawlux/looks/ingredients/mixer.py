"""Channel mixer on linear light: a 3×3 matrix, or monochrome with a colour-filter preset.

In monochrome the grey value is a weighted sum of linear red, green and blue; the presets are what
a coloured filter in front of black-and-white film does: yellow darkens blue skies a little, orange
more, red a lot (and brightens skin and brick); green lightens foliage and darkens skin. Weights are
normalised to sum to 1, so neutrals stay where they were.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ParameterError
from ...pipeline.stage import param
from . import DeferredStage, LookParams
from ...colour import oklab as cm

#: monochrome weights (linear Rec.2020 R, G, B) per filter
FILTERS: dict[str, tuple[float, float, float]] = {
    "none": tuple(float(v) for v in cm.LUMA),          # luminance: panchromatic, no filter
    "yellow": (0.38, 0.57, 0.05),
    "orange": (0.55, 0.42, 0.03),
    "red": (0.80, 0.20, 0.00),
    "green": (0.12, 0.83, 0.05),
    "blue": (0.10, 0.30, 0.60),
}


@dataclass(frozen=True)
class MixerParams(LookParams):
    monochrome: bool = param(False, doc="render in black and white")
    filter: str = param("none", choices=tuple(FILTERS), doc="monochrome: colour-filter preset")
    weights: tuple = param((), doc="monochrome: custom [r, g, b] weights, each in [-2, 3], sum > 0 (overrides "
                                   "filter)")
    red: tuple = param((1.0, 0.0, 0.0), min=-2.0, max=3.0, doc="colour: output red = [r, g, b] · input")
    green: tuple = param((0.0, 1.0, 0.0), min=-2.0, max=3.0, doc="colour: output green row")
    blue: tuple = param((0.0, 0.0, 1.0), min=-2.0, max=3.0, doc="colour: output blue row")

    def __post_init__(self) -> None:
        for name in ("red", "green", "blue"):
            if len(getattr(self, name)) != 3:
                raise ParameterError(f"mixer.{name} must be three numbers [r, g, b], not {list(getattr(self, name))}")
        if self.weights:
            w = self.weights
            if len(w) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
                                      for v in w):
                raise ParameterError(f"mixer.weights must be three numbers [r, g, b], not {list(w)}")
            if not all(-2.0 <= v <= 3.0 for v in w):
                raise ParameterError(f"mixer.weights {list(w)}: each weight must be in [-2.0, 3.0]")
            if sum(w) < 0.05:
                raise ParameterError(f"mixer.weights {list(w)} sum to {sum(w):g}; they must sum to at least 0.05 "
                                     f"(they are normalised to sum to 1)")


def matrix(p: MixerParams) -> np.ndarray:
    if p.monochrome:
        w = np.asarray(p.weights if p.weights else FILTERS[p.filter], np.float64)
        w = w / w.sum()
        m = np.repeat(w[None, :], 3, axis=0)
    else:
        m = np.array([p.red, p.green, p.blue], np.float64)
    return np.eye(3) + p.strength * (m - np.eye(3))


def apply(rgb: np.ndarray, p: MixerParams) -> np.ndarray:
    return rgb @ matrix(p).T


class Mixer(DeferredStage):
    name = "mixer"
    Params = MixerParams
    doc = "channel mixer / monochrome with filter presets"
