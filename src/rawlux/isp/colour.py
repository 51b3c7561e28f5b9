"""Camera RGB → linear Rec.2020 D65 (the working space) through the camera profile.

The matrix is the DNG one for the scene white chosen by the white-balance stage (``meta.white_xy``): the two
calibration matrices are blended by inverse CCT, ForwardMatrix used when present, else ColorMatrix inverted and
adapted (Bradford) to D50, then D50 → D65 and XYZ → Rec.2020.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..colour import spaces
from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param
from .whitebalance import profile_for


@dataclass(frozen=True)
class ColourParams(Params):
    saturation: float = param(1.0, min=0.0, max=2.0, doc="scale chroma in the working space (1 = colourimetric)")
    rendering: str = param("colourimetric", choices=("colourimetric", "camera"),
                           doc="camera: also the DNG/DCP profile's own HueSatMap (the look `camera`)")
    profile_any_camera: bool = param(False, doc="use a DCP made for another camera model")


def camera_matrix(frame: Frame) -> np.ndarray:
    """The 3×3 matrix this frame's white-balanced camera RGB needs to reach the working space."""
    m = frame.meta
    prof = profile_for(frame)
    neutral = np.asarray(m.extra.get("neutral", m.as_shot_neutral if m.as_shot_neutral is not None else np.ones(3)), np.float64)
    xy = m.white_xy or prof.neutral_to_xy(neutral)
    mat = prof.camera_to_working(xy, neutral)
    if m.wb_multipliers is not None:
        k = float(np.mean(np.asarray(m.wb_multipliers, np.float64) * neutral))  # data = cam/neutral · k
        mat = mat / k
    return mat


class Colour(Stage):
    name = "colour"
    Params = ColourParams
    takes = frozenset({State.CAMERA_RGB})
    gives = State.SCENE_LINEAR
    doc = "camera RGB → linear Rec.2020"

    def applies(self, frame: Frame, p: Params) -> bool:
        return frame.state in self.takes      # required (pipeline/order.py REQUIRED): enabled=false is refused

    def _prepare(self, frame: Frame, p: ColourParams):  # type: ignore[no-untyped-def]
        """The profile (its camera check noted on the frame) and the matrix this frame needs."""
        prof = profile_for(frame)
        note = prof.check_camera(frame.meta, p.profile_any_camera)
        if note:
            frame.meta.note(note)
        if p.rendering == "camera":
            from ..colour.profile import with_embedded_tables
            with_embedded_tables(prof, frame.meta)
        mat = camera_matrix(frame)
        if p.saturation != 1.0:
            lum = spaces.rgb_to_xyz(spaces.WORKING)[1]
            sat = p.saturation * np.eye(3) + (1 - p.saturation) * np.outer(np.ones(3), lum)
            mat = sat @ mat
        return prof, mat

    def _dng_table(self, frame: Frame, p: ColourParams, prof):  # type: ignore[no-untyped-def]
        """A DCP/DNG HueSatMap for this frame's white, when the profile is chosen or the rendering is ``camera``."""
        if prof.dng is None or not (prof.explicit or p.rendering == "camera"):
            return None
        m = frame.meta
        neutral = np.asarray(m.extra.get("neutral", m.as_shot_neutral if m.as_shot_neutral is not None
                                         else np.ones(3)), np.float64)
        return prof.hue_sat_table(m.white_xy or prof.neutral_to_xy(neutral))

    def pointwise(self, frame: Frame, p: ColourParams):  # type: ignore[no-untyped-def]
        prof, mat = self._prepare(frame, p)
        if getattr(prof, "hue_sat_map", None) is not None or self._dng_table(frame, p, prof) is not None:
            return None                          # the hue/saturation tables are not a 3×3 matrix
        from ..pipeline.buffers import output_buffer
        from ..pipeline.fuse import Matrix, apply
        op = Matrix(mat)
        f = frame.with_pixels(apply([op], frame.pixels, output_buffer(frame)), State.SCENE_LINEAR)
        f.meta.extra["camera_matrix"] = mat
        return op, f

    def run(self, frame: Frame, p: ColourParams) -> Frame:
        done = self.pointwise(frame, p)
        if done is not None:
            return done[1]
        prof, mat = self._prepare(frame, p)
        from ..pipeline.buffers import output_buffer
        from ..pipeline.fuse import Matrix, apply
        out = apply([Matrix(mat)], frame.pixels, output_buffer(frame))   # may overwrite the input it owns
        hsm = getattr(prof, "hue_sat_map", None)
        if hsm is not None:                      # a calibrated profile's smooth hue/saturation table
            from ..colour.dcp import apply_hue_sat_map
            out = apply_hue_sat_map(out, hsm)
        table = self._dng_table(frame, p, prof)
        if table is not None:                    # a DCP/DNG HueSatMap
            from ..colour.dcp import apply_dng_table
            out = apply_dng_table(out, table, out=out)
        f = frame.with_pixels(out, State.SCENE_LINEAR)
        f.meta.extra["camera_matrix"] = mat
        return f
