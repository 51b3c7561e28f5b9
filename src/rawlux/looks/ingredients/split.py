"""Split toning: tint the shadows and the highlights with two hues, with a balance between them.

Hues are colour-wheel degrees (0 red, 60 yellow, 120 green, 180 cyan, 240 blue, 300 magenta); the
tint is added to Oklab a, b, weighted by lightness: shadows below the crossover, highlights above
(``balance`` moves the crossover: + favours the highlight tint). Pure black and white stay neutral.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...pipeline.stage import param
from . import DeferredStage, LookParams
from ...colour import oklab as cm

MAX_TINT = 0.08      # Oklab chroma added at sat = 1


@dataclass(frozen=True)
class SplitParams(LookParams):
    shadows_hue: float = param(220.0, min=0.0, max=360.0, doc="hue of the shadow tint (colour-wheel degrees)")
    shadows_sat: float = param(0.0, min=0.0, max=1.0, doc="amount of the shadow tint")
    highlights_hue: float = param(50.0, min=0.0, max=360.0, doc="hue of the highlight tint")
    highlights_sat: float = param(0.0, min=0.0, max=1.0, doc="amount of the highlight tint")
    balance: float = param(0.0, min=-1.0, max=1.0, doc="+ more highlight tint, - more shadow tint")

    def is_identity(self) -> bool:
        return super().is_identity() or (self.shadows_sat == 0.0 and self.highlights_sat == 0.0)


def apply_lab(lab: np.ndarray, p: SplitParams) -> np.ndarray:
    s = p.strength
    L = lab[:, 0]
    cross = 0.55 - 0.25 * p.balance
    wh = cm.smoothstep(cross - 0.3, cross + 0.3, L)
    ends = cm.smoothstep(0.0, 0.3, L) * (1.0 - cm.smoothstep(0.9, 1.0, L))
    ds = cm.wheel_direction(p.shadows_hue) * p.shadows_sat
    dhl = cm.wheel_direction(p.highlights_hue) * p.highlights_sat
    add = MAX_TINT * s * ends[:, None] * ((1.0 - wh)[:, None] * ds[None, :] + wh[:, None] * dhl[None, :])
    out = lab.copy()
    out[:, 1:] += add
    return out


def apply(rgb: np.ndarray, p: SplitParams) -> np.ndarray:
    return cm.oklab_to_rgb(apply_lab(cm.rgb_to_oklab(rgb), p))


class Split(DeferredStage):
    name = "split"
    Params = SplitParams
    doc = "split toning (shadow and highlight tints)"
