"""Saturation and vibrance (skin-protecting), in Oklab chroma.

``saturation`` scales every colour's chroma. ``vibrance`` scales chroma more where it is low and
less where it is already high, and protects skin: around the hue of skin tones (Oklab hue ≈ 48°,
measured on typical skin colours) its effect is reduced by ``skin``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...pipeline.stage import param
from . import DeferredStage, LookParams
from ...colour import oklab as cm

C_FULL = 0.25       # Oklab chroma treated as "fully saturated" by vibrance


@dataclass(frozen=True)
class SaturationParams(LookParams):
    saturation: float = param(1.0, min=0.0, max=2.0, doc="chroma scale (1 = unchanged, 0 = grey)")
    vibrance: float = param(0.0, min=-1.0, max=1.0, doc="chroma boost weighted toward muted colours")
    skin: float = param(0.7, min=0.0, max=1.0, doc="how much vibrance spares skin tones (1 = fully)")


@lru_cache(maxsize=1)
def skin_hue() -> float:
    return float(np.mean([cm.srgb_hue(c) for c in ((0.85, 0.62, 0.50), (0.60, 0.40, 0.30), (0.95, 0.76, 0.65),
                                                    (0.45, 0.30, 0.22))]))


def skin_weight(h_deg: np.ndarray, c: np.ndarray) -> np.ndarray:
    """How skin-like a hue/chroma is (0..1): a bell around the skin hue, for moderate chroma."""
    d = (h_deg - skin_hue() + 180.0) % 360.0 - 180.0
    return np.exp(-0.5 * (d / 18.0) ** 2) * cm.smoothstep(0.01, 0.04, c) * (1.0 - cm.smoothstep(0.12, 0.2, c))


def apply_lab(lab: np.ndarray, p: SaturationParams) -> np.ndarray:
    s = p.strength
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    c = np.hypot(a, b)
    factor = 1.0 + s * (p.saturation - 1.0)
    if p.vibrance != 0.0:
        h = np.degrees(np.arctan2(b, a)) % 360.0
        muted = (1.0 - np.clip(c / C_FULL, 0.0, 1.0)) ** 2
        protect = 1.0 - p.skin * skin_weight(h, c)
        factor = factor * (1.0 + s * p.vibrance * muted * protect)
    factor = np.maximum(factor, 0.0)
    return np.stack([L, a * factor, b * factor], axis=-1)


def apply(rgb: np.ndarray, p: SaturationParams) -> np.ndarray:
    return cm.oklab_to_rgb(apply_lab(cm.rgb_to_oklab(rgb), p))


class Saturation(DeferredStage):
    name = "saturation"
    Params = SaturationParams
    doc = "saturation and skin-protecting vibrance"
