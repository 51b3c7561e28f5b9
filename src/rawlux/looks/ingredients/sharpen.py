"""Sharpening: unsharp masking of display-referred luminance, with a noise threshold.

The detail ``Y' - blur(Y')`` (Y' = square-rooted luminance, Gaussian blur of ``radius`` pixels) is
soft-thresholded — differences below ``threshold`` are left alone, so noise and grain are not
amplified — and added back ``amount`` times, as one gain on R, G and B. Sharpening is a matter of
pixels, so ``radius`` is in pixels of the image being rendered.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...pipeline.stage import param
from . import DeferredStage, LookParams


@dataclass(frozen=True)
class SharpenParams(LookParams):
    amount: float = param(0.0, min=0.0, max=3.0, doc="strength of the unsharp mask")
    radius: float = param(1.0, min=0.3, max=5.0, doc="Gaussian radius (sigma) in pixels")
    threshold: float = param(0.01, min=0.0, max=0.1, doc="detail below this (in √Y units) is left alone")

    def is_identity(self) -> bool:
        return super().is_identity() or self.amount == 0.0


def blurred(ye: np.ndarray, p: SharpenParams) -> np.ndarray:
    import cv2
    return cv2.GaussianBlur(ye, (0, 0), float(p.radius), borderType=cv2.BORDER_REFLECT)


class Sharpen(DeferredStage):
    name = "sharpen"
    Params = SharpenParams
    doc = "unsharp-mask sharpening with threshold"
