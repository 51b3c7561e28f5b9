"""Black and white levels: sensor DN → normalised linear values (0 = black, 1 = white level)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param


@dataclass(frozen=True)
class LevelsParams(Params):
    black_offset: float = param(0.0, min=-1000.0, max=1000.0, doc="added to the file's black level (DN)")
    white_scale: float = param(1.0, min=0.5, max=2.0, doc="multiplies the file's white level")


class Levels(Stage):
    name = "levels"
    Params = LevelsParams
    takes = frozenset({State.RAW})
    doc = "subtract black (per CFA position, with row/column deltas), divide by white"

    def applies(self, frame: Frame, p: Params) -> bool:
        return frame.state in self.takes   # required (pipeline/order.py REQUIRED): later stages need normalised data

    def run(self, frame: Frame, p: LevelsParams) -> Frame:
        m = frame.meta
        raw = frame.pixels
        white = float(np.max(np.asarray(m.white_level if m.white_level is not None else 65535.0))) * p.white_scale
        black = np.asarray(m.black_level if m.black_level is not None else 0.0, dtype=np.float32) + np.float32(p.black_offset)
        if not np.all(np.isfinite(black)) or white <= float(np.max(black)) + 1e-6:
            raise InputError(f"white level {white:g} is not above black level {float(np.max(black)):g}", path=m.source)
        if raw.ndim == 2:
            from ._kernels import levels_mosaic

            b2 = np.broadcast_to(black.reshape(-1)[:4].reshape(2, 2) if black.size >= 4 else np.full((2, 2), float(black.reshape(-1)[0])), (2, 2)).astype(np.float32)
            scale2 = (1.0 / (white - b2)).astype(np.float32)
            dh = m.extra.get("black_delta_h", np.zeros(0, np.float32))
            dv = m.extra.get("black_delta_v", np.zeros(0, np.float32))
            out = np.empty(raw.shape, dtype=np.float32)
            levels_mosaic(np.ascontiguousarray(raw), b2, scale2, np.asarray(dh, np.float32), np.asarray(dv, np.float32), out)
            state = State.CFA if m.cfa_pattern else State.CAMERA_RGB
            if state is State.CAMERA_RGB:
                raise InputError("a single-channel raw without a CFA pattern cannot be developed", path=m.source)
        else:
            b3 = np.resize(black.reshape(-1), 3).astype(np.float32)
            wl = np.resize(np.asarray(m.white_level, dtype=np.float32).reshape(-1), 3) * np.float32(p.white_scale)
            out = (raw.astype(np.float32) - b3) / np.maximum(wl - b3, 1e-6)
            state = State.CAMERA_RGB
        f = frame.with_pixels(out, state)
        step = max(1, int(np.sqrt(out.shape[0] * out.shape[1] / 250_000)))
        if not np.any(out[::step, ::step] > 1e-6) and not np.any(out > 1e-6):
            f.meta.note("the image data are all black (nothing above the black level)")
        return f
