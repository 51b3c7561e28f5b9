"""Look ingredients: the stages a look sets beyond the spine (exposure, white balance, tone).

Where each sits (see ``rawlux.pipeline.order``):

* ``vignette`` — scene-linear light, after exposure and before ``tone``: a gain in EV.
* ``clarity``, ``sharpen`` — local contrast and sharpening on display-referred luminance.
* ``balance``, ``curve``, ``saturation``, ``hsl``, ``mixer``, ``split``, ``lut`` — the *global colour
  part*: per-pixel functions of display-linear Rec.2020 colour after ``tone``.
* ``grain`` — last, on the finished display-linear colour.
* ``grade`` — renders all of the above in one pass.

To keep full-image passes few, the colour and detail stages do not touch pixels themselves: each
records its params on the frame (``meta.extra['look_ops']``) and ``grade`` bakes the colour part into
one 3D LUT (tetrahedral interpolation, numba), computes the clarity/sharpening gain from one
luminance plane (OpenCV blurs), and applies gain, LUT and grain in one fused kernel. Every ingredient
has a ``strength`` (0–1) that blends it with neutral; a look's global ``strength`` scales them all.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ...frame import Frame, State
from ...pipeline.stage import Params, Stage, param

#: the ingredient stages, in pipeline order
LOOK_STAGES = ("vignette", "clarity", "sharpen", "balance", "curve", "saturation", "hsl", "mixer", "split",
               "lut", "grain", "grade")
#: stages whose colour part is a per-pixel function (baked into the grade LUT and into `look export`)
COLOUR_STAGES = ("balance", "curve", "saturation", "hsl", "mixer", "split", "lut")

OPS_KEY = "look_ops"


@dataclass(frozen=True)
class LookParams(Params):
    """Base of the ingredients' params: ``strength`` blends the ingredient with neutral."""

    strength: float = param(1.0, min=0.0, max=1.0, doc="how much of this ingredient (0 = none, 1 = full)")

    def is_identity(self) -> bool:
        """True when this ingredient would leave every pixel as it is."""
        if not self.enabled or self.strength == 0.0:
            return True
        default = type(self)()
        return all(getattr(self, f.name) == getattr(default, f.name)
                   for f in dataclasses.fields(self) if f.name not in ("enabled", "strength"))


class DeferredStage(Stage):
    """An ingredient rendered by ``grade``: running it records its params on the frame. It takes the
    display-referred frame ``tone`` gives (or a scene-linear one when tone is off)."""

    takes = frozenset({State.DISPLAY_LINEAR, State.SCENE_LINEAR})

    def applies(self, frame: Frame, p: Params) -> bool:
        return super().applies(frame, p) and not p.is_identity()  # type: ignore[attr-defined]

    def run(self, frame: Frame, p: Params) -> Frame:
        f = frame.with_pixels(frame.pixels)
        ops: tuple[tuple[str, Any], ...] = tuple(frame.meta.extra.get(OPS_KEY, ()))
        f.meta.extra[OPS_KEY] = tuple(o for o in ops if o[0] != self.name) + ((self.name, p),)
        return f


def pending_ops(frame: Frame) -> tuple[tuple[str, Any], ...]:
    return tuple(frame.meta.extra.get(OPS_KEY, ()))
