"""Tone: scene-referred → display-referred with a filmic curve (log-logistic sigmoid with highlight roll-off).

y = peak · x^c / (x^c + s^c), with s chosen so that scene middle grey (0.18) lands on display middle grey
(``grey_out``) and c set by ``contrast``. Each channel goes through the curve, then the hue each pixel had is
restored (``hue_preservation``), so bright colours roll off toward white without turning yellow or cyan.
Display-referred inputs (JPEG, PNG, ...) are already rendered: the stage only marks them display-referred.
The frame leaves this stage as ``State.DISPLAY_LINEAR`` (linear light, 1.0 = display white), the state every
look ingredient after it and the output encoding take.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param

TONE_METHODS = ("filmic", "none", "profile")


@dataclass(frozen=True)
class ToneParams(Params):
    method: str = param("filmic", choices=TONE_METHODS, doc="filmic sigmoid, none (colourimetric), or profile (the camera profile's LookTable and ProfileToneCurve; filmic when it has none)")
    contrast: float = param(1.0, min=0.5, max=2.0, doc="slope of the curve around middle grey (1 = natural)")
    grey_out: float = param(0.18, min=0.05, max=0.4, doc="display-linear value of scene middle grey")
    peak: float = param(1.0, min=0.8, max=1.2, doc="display value the curve approaches at infinite light")
    hue_preservation: float = param(0.7, min=0.0, max=1.0, doc="0 = per-channel curve, 1 = keep each pixel's hue")

    def curve_params(self) -> tuple[float, float]:
        c = 1.45 * self.contrast
        g_in = 0.18
        s_c = (g_in ** c) * (self.peak / self.grey_out - 1.0)
        return c, s_c


def curve(x: np.ndarray, p: ToneParams) -> np.ndarray:
    """The curve itself on an array (for plots, LUT baking and tests)."""
    c, s_c = p.curve_params()
    xc = np.power(np.maximum(x, 0.0), c)
    return p.peak * xc / (xc + s_c)


class Tone(Stage):
    name = "tone"
    Params = ToneParams
    takes = frozenset({State.SCENE_LINEAR})
    gives = State.DISPLAY_LINEAR
    doc = "filmic scene → display"

    def applies(self, frame: Frame, p: Params) -> bool:
        return super().applies(frame, p) and getattr(p, "method", "none") != "none"

    def pointwise(self, frame: Frame, p: ToneParams):  # type: ignore[no-untyped-def]
        if frame.meta.kind == "image" or frame.meta.facts.display_referred or p.method == "profile":
            return None
        return self._filmic(frame, p)

    def _filmic(self, frame: Frame, p: ToneParams):  # type: ignore[no-untyped-def]
        from ..pipeline.buffers import output_buffer
        from ..pipeline.fuse import ToneCurve, apply

        c, s_c = p.curve_params()
        op = ToneCurve(c, s_c, p.peak, p.hue_preservation)
        out = apply([op], frame.pixels, output_buffer(frame))   # may reuse the input when the pipeline owns it
        f = frame.with_pixels(out, State.DISPLAY_LINEAR)
        f.meta.facts.display_referred = True
        return op, f

    def run(self, frame: Frame, p: ToneParams) -> Frame:
        if frame.meta.kind == "image" or frame.meta.facts.display_referred:
            f = frame.with_pixels(frame.pixels, State.DISPLAY_LINEAR)   # already rendered: no curve
            f.meta.facts.display_referred = True
            return f
        if p.method == "profile":
            from ..pipeline.buffers import output_buffer
            done = profile_tone(frame, output_buffer(frame))
            if done is not None:
                f = frame.with_pixels(done[0], State.DISPLAY_LINEAR)
                f.meta.facts.display_referred = True
                if done[1] is None:
                    return f
                frame = f
                frame.meta.note(done[1])
        return self._filmic(frame, p)[1]


def profile_tone(frame: Frame, out: np.ndarray) -> tuple[np.ndarray, str | None] | None:
    """The tone stage's ``method = "profile"``: the camera profile's exposure ramp (BaselineExposureOffset of
    a chosen DCP, DefaultBlackRender), LookTable and ProfileToneCurve on the scene-linear frame.

    Returns (display-linear pixels, note) or None when the profile has neither a tone curve nor a look table
    (the caller then uses its filmic curve)."""
    from ..colour.dcp import AUTO_BLACK, camera_render
    from ..colour.profile import with_embedded_tables
    from .whitebalance import profile_for

    if frame.meta.kind == "image":
        return None
    prof = with_embedded_tables(profile_for(frame), frame.meta)
    p = prof.dng
    if p is None or (p.tone_curve is None and p.look_table is None):
        return None
    # a chosen DCP's exposure offset (a DNG's own is already in its BaselineExposure)
    gain = 2.0 ** p.baseline_exposure_offset if prof.explicit else 1.0
    black = 0.0 if p.default_black_render == 1 else AUTO_BLACK
    res = camera_render(frame.pixels, look_table=p.look_table, tone_curve=p.tone_curve, black=black, gain=gain,
                        out=out)
    note = None if p.tone_curve is not None else "the profile has a LookTable but no ProfileToneCurve: filmic curve used"
    return res, note
