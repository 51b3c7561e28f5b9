"""Clarity: local contrast of the midtones, on display-referred luminance.

The luminance (encoded as its square root, close to perceived lightness) is split into a base and a
detail layer; the base is an edge-preserving blur (a bilateral filter computed at reduced
resolution, then upsampled), so strong edges do not grow halos. Clarity adds ``amount`` times the
detail back, faded in the deep shadows and bright highlights; the change is applied to R, G and B as
one gain, so colours keep their chromaticity. ``radius`` is a fraction of the image's shorter side:
the effect looks the same at any resolution.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...pipeline.stage import param
from . import DeferredStage, LookParams


@dataclass(frozen=True)
class ClarityParams(LookParams):
    amount: float = param(0.0, min=-1.0, max=1.0, doc="local contrast (+ crisper, - softer/dreamier)")
    radius: float = param(0.02, min=0.005, max=0.1, doc="size of the local area, fraction of the short side")
    edges: float = param(0.15, min=0.02, max=1.0, doc="edge preservation: lightness step kept out of the base "
                                                     "(smaller = fewer halos)")

    def is_identity(self) -> bool:
        return super().is_identity() or self.amount == 0.0


def base_layer(ye: np.ndarray, p: ClarityParams) -> np.ndarray:
    """The edge-preserving base of the encoded luminance ``ye`` (H×W float32)."""
    import cv2

    h, w = ye.shape
    radius_px = max(1.0, p.radius * min(h, w))
    factor = max(1.0, radius_px / 4.0)            # blur ~4 px at reduced resolution
    sw, sh = max(8, round(w / factor)), max(8, round(h / factor))
    # halve with Gaussian pyramid steps first (cheap), then area-resample the rest of the way: a direct
    # INTER_AREA by a non-integer factor of ~15 costs ~8× more on 12 MP
    small, f = ye, factor
    while f >= 2.0 and small.shape[1] >= 2 * sw and small.shape[0] >= 2 * sh:
        small = cv2.pyrDown(small)
        f /= 2.0
    small = cv2.resize(small, (sw, sh), interpolation=cv2.INTER_AREA)
    sigma = radius_px * sw / w
    d = int(2 * round(2 * sigma) + 1)
    base = cv2.bilateralFilter(small, d, float(p.edges), float(sigma))
    return cv2.resize(base, (w, h), interpolation=cv2.INTER_LINEAR)


class Clarity(DeferredStage):
    name = "clarity"
    Params = ClarityParams
    doc = "local contrast (edge-preserving)"
