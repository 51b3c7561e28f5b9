"""Local tone mapping: the phone "HDR look" that lifts shadows and holds highlights without halos.

A base/detail split of log2 luminance. The base is an edge-aware smoothing of log luminance computed at low
resolution with a guided filter (He, Sun, Tang 2013), guided by the log luminance itself, so it follows strong
edges instead of bleeding across them (the source of halos). Its coefficients are upsampled and applied to
the full-resolution log luminance (the "fast guided filter" of He & Sun 2015), so the full-resolution work is
one fused per-pixel pass. The base is compressed around middle grey — shadows lifted by up to ``shadows``
stops, highlights pulled down by up to ``highlights`` stops, both scaled by ``strength`` — and the detail
(log luminance minus base) is kept, scaled by ``detail``. The resulting gain multiplies R, G and B alike,
so hue and chromaticity are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..colour import spaces
from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param

MIDDLE_GREY = 0.18


@dataclass(frozen=True)
class LocalToneParams(Params):
    enabled: bool = param(False, doc="run this stage (off unless a look or the user turns it on)")
    strength: float = param(0.5, min=0.0, max=1.0, doc="how much of the shadow lift / highlight hold to apply")
    shadows: float = param(2.0, min=0.0, max=4.0, doc="largest shadow lift, in stops, at strength 1")
    highlights: float = param(1.5, min=0.0, max=4.0, doc="largest highlight pull-down, in stops, at strength 1")
    detail: float = param(1.0, min=0.0, max=2.0, doc="local contrast kept (1 = as shot, >1 = more)")
    radius: float = param(0.04, min=0.005, max=0.2, doc="size of a 'region', as a fraction of the image diagonal")
    edges: float = param(0.05, min=0.001, max=1.0, doc="edge-stopping (guided filter ε, log2² units): smaller = sharper region edges")


def local_tone(img: np.ndarray, p: LocalToneParams) -> np.ndarray:
    """Apply local tone mapping to a scene-linear working-space image (H×W×3 float32)."""
    import cv2

    from ._localtone_kernels import _apply_gain, _log_lum

    h, w = img.shape[:2]
    lum_w = spaces.rgb_to_xyz(spaces.WORKING)[1].astype(np.float32)
    L = np.empty((h, w), np.float32)
    _log_lum(img, lum_w[0], lum_w[1], lum_w[2], L)
    # low-resolution guided filter of L guided by L (self-guided: an edge-preserving smoother)
    diag = float(np.hypot(h, w))
    f = max(1, int(min(h, w) // 256))                    # work at ~256 px on the short side
    small = cv2.resize(L, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    r = max(1, int(round(p.radius * diag / f)))
    k = (2 * r + 1, 2 * r + 1)
    mean_I = cv2.boxFilter(small, -1, k, borderType=cv2.BORDER_REFLECT)
    mean_II = cv2.boxFilter(small * small, -1, k, borderType=cv2.BORDER_REFLECT)
    var_I = np.maximum(mean_II - mean_I * mean_I, 0.0)
    a = var_I / (var_I + np.float32(p.edges))
    b = mean_I - a * mean_I
    a = cv2.boxFilter(a, -1, k, borderType=cv2.BORDER_REFLECT)
    b = cv2.boxFilter(b, -1, k, borderType=cv2.BORDER_REFLECT)
    A = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    B = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    out = np.empty_like(img)
    _apply_gain(img, L, A, B, np.float32(p.strength * p.shadows), np.float32(p.strength * p.highlights),
                np.float32(p.detail), np.float32(np.log2(MIDDLE_GREY)), out)
    return out


class LocalTone(Stage):
    name = "localtone"
    Params = LocalToneParams
    takes = frozenset({State.SCENE_LINEAR})
    doc = "lift shadows, hold highlights, keep local contrast (edge-aware, no halos)"

    def applies(self, frame: Frame, p: Params) -> bool:
        return bool(p.enabled) and frame.state in self.takes and frame.meta.kind != "image" \
            and getattr(p, "strength", 0.0) > 0

    def run(self, frame: Frame, p: LocalToneParams) -> Frame:
        img = np.ascontiguousarray(frame.pixels, np.float32)
        return frame.with_pixels(local_tone(img, p))
