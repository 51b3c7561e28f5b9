"""Output transform: working space → the output space, hue-keeping gamut compression, transfer function."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..colour import spaces
from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param


@dataclass(frozen=True)
class OutputParams(Params):
    space: str = param("srgb", choices=spaces.OUTPUT_SPACES, doc="output colour space (ICC embedded)")
    gamut: str = param("compress", choices=("compress", "exact", "luma", "clip"),
                       doc="out-of-gamut colour: compress = keep hue (a smooth compression near the gamut "
                           "boundary for scene-referred sources; for JPEG/PNG/TIFF/HEIF inputs only out-of-gamut "
                           "pixels move, so an image with no look comes back unchanged), exact = colours inside "
                           "the output gamut are exact, only colours outside it move, along their hue at constant "
                           "luminance onto the boundary (the reference look), luma = ACES-style curve toward "
                           "each colour's own grey, clip = per channel")


class Output(Stage):
    name = "output"
    Params = OutputParams
    takes = frozenset({State.DISPLAY_LINEAR, State.SCENE_LINEAR})
    gives = State.DISPLAY
    doc = "encode for the output space"

    def applies(self, frame: Frame, p: Params) -> bool:
        return frame.state in self.takes      # required (pipeline/order.py REQUIRED): enabled=false is refused

    def pointwise(self, frame: Frame, p: OutputParams):  # type: ignore[no-untyped-def]
        if (p.gamut == "luma" and p.space != spaces.WORKING) or p.gamut == "exact":
            return None
        from ..pipeline.fuse import Encode

        mode = 0 if p.gamut != "compress" else (2 if frame.meta.kind == "image" else 1)
        op = Encode(spaces.rgb_to_rgb(spaces.WORKING, p.space), mode, spaces.transfer_of(p.space))
        return op, self._encode(frame, p, op, frame.pixels)

    def _encode(self, frame: Frame, p: OutputParams, op, pixels: np.ndarray) -> Frame:  # type: ignore[no-untyped-def]
        from ..io.icc import icc_profile
        from ..pipeline.buffers import output_buffer
        from ..pipeline.fuse import apply

        out = apply([op], pixels, output_buffer(frame))   # may reuse the input when the pipeline owns it
        f = frame.with_pixels(out, State.DISPLAY)
        f.meta.output_space = p.space
        f.meta.icc = icc_profile(p.space)
        return f

    def run(self, frame: Frame, p: OutputParams) -> Frame:
        done = self.pointwise(frame, p)
        if done is not None:
            return done[1]
        from ..pipeline.fuse import Encode

        if p.gamut == "exact":
            lin = to_gamut_exact(frame.pixels, p.space)
        else:
            from ..colour.gamut import to_output
            lin = to_output(frame.pixels, p.space)
        return self._encode(frame, p, Encode(np.eye(3), 0, spaces.transfer_of(p.space)), lin)


def to_gamut_exact(working: np.ndarray, dst: str) -> np.ndarray:
    """Working-space linear RGB → ``dst`` linear RGB (new array) where colours inside the output gamut (every
    channel in [0, 1]) are exact and only the others move: along the straight line to the grey of their own
    luminance (which keeps luminance and dominant wavelength, i.e. hue), just far enough to land on the gamut
    boundary. Colours brighter than white (luminance ≥ 1) become white. Vectorised over the out-of-gamut pixels
    only."""
    import cv2

    m = np.asarray(spaces.rgb_to_rgb(spaces.WORKING, dst), np.float32)
    src = np.ascontiguousarray(working, np.float32)
    lin = cv2.transform(src.reshape(-1, 1, 3), m).reshape(src.shape)
    flat = lin.reshape(-1, 3)
    mn, mx = flat.min(axis=1), flat.max(axis=1)
    bad = np.flatnonzero((mn < 0.0) | (mx > 1.0))
    if bad.size == 0:
        return lin
    v = flat[bad].astype(np.float64)
    lum = np.asarray(spaces.rgb_to_xyz(dst)[1], np.float64)
    y = v @ lum
    lo, hi = v.min(axis=1), v.max(axis=1)
    t = np.ones(bad.size)
    below = lo < 0.0
    t[below] = np.minimum(t[below], y[below] / np.maximum(y[below] - lo[below], 1e-12))
    above = hi > 1.0
    t[above] = np.minimum(t[above], (1.0 - y[above]) / np.maximum(hi[above] - y[above], 1e-12))
    t = np.clip(t, 0.0, 1.0)
    mapped = y[:, None] + t[:, None] * (v - y[:, None])
    mapped[y <= 0.0] = 0.0
    mapped[y >= 1.0] = 1.0
    flat[bad] = np.clip(mapped, 0.0, 1.0).astype(np.float32)
    return lin

