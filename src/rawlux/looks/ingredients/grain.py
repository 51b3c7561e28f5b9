"""Film grain: seedable, resolution-independent, with a luminance response.

The grain field is value noise on a lattice fixed to the picture, not to its pixels: ``size`` 1 puts
1500 grains across the shorter side at any resolution, and the same ``seed`` gives the same grain on
a 1 MP preview and the 50 MP original (two octaves of smoothly interpolated hashed lattice values).
When pixels are larger than grains, the render area-averages the same lattice (up to 3000 cells across the
short side, see ``grade.grain_planes``), so a downscaled render and a render at the smaller size look alike:
same pattern, same strength.

It is added on the square root of luminance (≈ perceived lightness), scaled by ``amount`` and by a
response that is strongest in the midtones (``response`` 1) or flat (0); ``colour`` adds independent
grain per channel. Applied last, inside the fused ``grade`` kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...pipeline.stage import param
from . import DeferredStage, LookParams

GRAINS_ACROSS = 1500.0


@dataclass(frozen=True)
class GrainParams(LookParams):
    amount: float = param(0.0, min=0.0, max=1.0, doc="grain strength (0.1 subtle, 0.3 strong)")
    size: float = param(1.0, min=0.25, max=8.0, doc="grain size (1 = 1500 grains across the short side)")
    response: float = param(0.7, min=0.0, max=1.0, doc="1: grain mostly in midtones, 0: even everywhere")
    colour: float = param(0.0, min=0.0, max=1.0, doc="amount of per-channel (colour) grain")
    seed: int = param(0, min=0, max=2**31 - 1, doc="grain pattern (same seed = same grain)")

    def is_identity(self) -> bool:
        return super().is_identity() or self.amount == 0.0


def cells_across(p: GrainParams) -> float:
    return GRAINS_ACROSS / p.size


class Grain(DeferredStage):
    name = "grain"
    Params = GrainParams
    doc = "film grain (seedable, resolution-independent)"
