"""Exposure: the DNG BaselineExposure, an automatic exposure a user can turn off, and a user offset (EV)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..colour import spaces
from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param


@dataclass(frozen=True)
class ExposureParams(Params):
    ev: float = param(0.0, min=-10.0, max=10.0, doc="exposure compensation in stops")
    auto: bool = param(True, doc="automatic exposure: bring the scene's average to middle grey (raw inputs)")
    baseline: bool = param(True, doc="apply the file's BaselineExposure")
    target: float = param(0.18, min=0.02, max=0.5, doc="scene-linear level the auto exposure aims the average at")
    auto_limit: float = param(3.0, min=0.0, max=8.0, doc="largest automatic correction, in stops either way")


#: scene-linear level the brightest highlights that did not clip in the raw (their 99.5th percentile) may reach
#: after the automatic exposure: ≈ 247/255 after the default filmic curve, so a bright sky keeps its gradation
UNCLIPPED_HEADROOM = 3.0
#: the same for all pixels, clipped ones included (the tone curve rolls them off toward white)
CLIPPED_HEADROOM = 8.0


def auto_ev(img: np.ndarray, target: float, limit: float, gain: float = 1.0,
            clip_lum: float | None = None) -> float:
    """Stops that bring the log-average luminance to ``target``, kept so that the brightest 0.5% stay within
    ~3 stops above white (the tone curve rolls them off), and so that the brightest 0.5% of the pixels that
    did not clip in the raw (luminance below ``clip_lum``, the luminance of a neutral at the lowest white-
    balanced clip level, before ``gain``) stay at ≤ ``UNCLIPPED_HEADROOM``: auto exposure brightens the scene
    but never pushes a bright unclipped sky or wall into the flat top of the curve."""
    from ..pipeline.fuse import probe

    small = probe(img).reshape(-1, 3)       # the runner's probe (a fused run gives this its probe: the same pixels)
    lum = small @ (spaces.rgb_to_xyz(spaces.WORKING)[1] * gain).astype(np.float32)
    lum = lum[np.isfinite(lum)]
    if lum.size == 0 or float(lum.max(initial=0.0)) <= 0:
        return 0.0
    lum = np.maximum(lum, 1e-6)
    key = float(np.exp(np.mean(np.log(np.clip(lum, 1e-4, None)))))
    ev = math.log2(target / key)
    # weigh toward the median so that large dark areas do not blow the highlights
    med = float(np.median(lum))
    ev = 0.5 * ev + 0.5 * math.log2(target / max(med, 1e-4))
    hi = float(np.percentile(lum, 99.5))
    if hi > 0:
        ev = min(ev, math.log2(CLIPPED_HEADROOM / hi))
    unc = lum if clip_lum is None else lum[lum < clip_lum * gain]
    if unc.size >= max(64, lum.size // 100):
        hi_u = float(np.percentile(unc, 99.5))
        if hi_u > 0:
            ev = min(ev, math.log2(UNCLIPPED_HEADROOM / hi_u))
    return float(np.clip(ev, -limit, limit))


def clip_luminance(meta) -> float | None:  # type: ignore[no-untyped-def]
    """Scene luminance of a neutral at the lowest white-balanced raw clip level (None when unknown)."""
    if meta.saturation is None:
        return None
    sat = np.asarray(meta.saturation, np.float64).reshape(-1)[:3]
    mult = np.ones(3) if meta.wb_multipliers is None else np.asarray(meta.wb_multipliers, np.float64).reshape(-1)[:3]
    v = float(np.min(sat * mult))
    return v if np.isfinite(v) and v > 0 else None


class Exposure(Stage):
    name = "exposure"
    Params = ExposureParams
    takes = frozenset({State.SCENE_LINEAR})
    doc = "scene-linear gain"

    def pointwise(self, frame: Frame, p: ExposureParams):  # type: ignore[no-untyped-def]
        from ..pipeline.fuse import Matrix

        m = frame.meta
        ev = p.ev                                   # the user's compensation always adds on top
        if m.kind != "image":
            base = float(m.baseline_exposure) if p.baseline else 0.0
            ev += base
            if p.auto:
                ev += auto_ev(frame.pixels, p.target, p.auto_limit, gain=2.0 ** base, clip_lum=clip_luminance(m))
        if ev == 0.0:
            return Matrix(np.eye(3)), frame
        from ..pipeline.buffers import output_buffer
        buf = output_buffer(frame)
        gain = np.float32(2.0 ** ev)
        np.multiply(frame.pixels, gain, out=buf)
        out = frame.with_pixels(buf)
        out.meta.extra["exposure_ev"] = ev
        return Matrix(np.eye(3) * float(gain)), out

    def run(self, frame: Frame, p: ExposureParams) -> Frame:
        return self.pointwise(frame, p)[1]
