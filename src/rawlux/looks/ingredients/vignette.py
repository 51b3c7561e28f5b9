"""Vignette: a gain in EV on scene-linear light, falling toward the corners like a lens does.

``amount`` is the exposure change at the corners (−0.5 = half a stop darker). The distance from the
centre is measured so that the corners are at 1: ``roundness`` 0 follows the frame's shape (an
ellipse), 1 is a circle. The fall-off starts around ``midpoint`` (0..1 of the corner distance) and
spreads over ``feather``. Runs after exposure and before the tone curve, so highlights roll off
through the curve as they would through a real lens.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...frame import Frame, State
from ...pipeline.stage import Stage, param
from . import LookParams

TABLE = 1024


@dataclass(frozen=True)
class VignetteParams(LookParams):
    amount: float = param(0.0, min=-3.0, max=1.0, doc="EV at the corners (- darker, + brighter)")
    midpoint: float = param(0.5, min=0.0, max=1.0, doc="where the fall-off is half done (0..1 of the corner distance)")
    roundness: float = param(0.0, min=0.0, max=1.0, doc="0 follows the frame's shape, 1 is a circle")
    feather: float = param(0.6, min=0.05, max=1.0, doc="width of the fall-off (small = hard edge)")

    def is_identity(self) -> bool:
        return super().is_identity() or self.amount == 0.0


def falloff(r: np.ndarray, p: VignetteParams) -> np.ndarray:
    """0 at the centre → 1 at the corners (r = 1), smooth."""
    t = np.clip((r - p.midpoint) / p.feather + 0.5, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def gain_table(p: VignetteParams) -> np.ndarray:
    """Gain as a function of r² on [0, 1] (TABLE entries)."""
    r2 = np.linspace(0.0, 1.0, TABLE)
    return (2.0 ** (p.strength * p.amount * falloff(np.sqrt(r2), p))).astype(np.float32)


def axes(h: int, w: int, p: VignetteParams) -> tuple[np.ndarray, np.ndarray]:
    """Per-column and per-row squared normalised distances; r² = dx2[x] + dy2[y], 1 at the corners."""
    x = (np.arange(w, dtype=np.float64) + 0.5) - w / 2.0
    y = (np.arange(h, dtype=np.float64) + 0.5) - h / 2.0
    # ellipse: x/(w/2), y/(h/2) → corner at √2; circle: divide both by half the diagonal
    half_d = 0.5 * np.hypot(w, h)
    sx = (1 - p.roundness) * (w / 2.0) * np.sqrt(2.0) + p.roundness * half_d
    sy = (1 - p.roundness) * (h / 2.0) * np.sqrt(2.0) + p.roundness * half_d
    return ((x / sx) ** 2).astype(np.float32), ((y / sy) ** 2).astype(np.float32)


class Vignette(Stage):
    name = "vignette"
    Params = VignetteParams
    takes = frozenset({State.SCENE_LINEAR})
    doc = "vignette in EV on scene-linear light"

    def applies(self, frame: Frame, p: Params) -> bool:
        return super().applies(frame, p) and not p.is_identity()  # type: ignore[attr-defined]

    def run(self, frame: Frame, p: VignetteParams) -> Frame:
        from ._kernels import vignette_apply

        h, w = frame.pixels.shape[:2]
        dx2, dy2 = axes(h, w, p)
        out = np.empty_like(frame.pixels)
        vignette_apply(frame.pixels, dx2, dy2, gain_table(p), out)
        return frame.with_pixels(out)
