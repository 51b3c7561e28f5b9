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
    gamut: str = param("compress", choices=("compress", "luma", "clip"),
                       doc="out-of-gamut colour: compress = keep hue (a smooth compression near the gamut "
                           "boundary for scene-referred sources; for JPEG/PNG/TIFF/HEIF inputs only out-of-gamut "
                           "pixels move, so an image with no look comes back unchanged), luma = ACES-style curve "
                           "toward each colour's own grey, clip = per channel")


class Output(Stage):
    name = "output"
    Params = OutputParams
    takes = frozenset({State.SCENE_LINEAR})
    gives = State.DISPLAY
    doc = "encode for the output space"

    def applies(self, frame: Frame, p: Params) -> bool:
        return frame.state in self.takes

    def run(self, frame: Frame, p: OutputParams) -> Frame:
        from ._kernels import output_encode

        from ..pipeline.run import output_buffer

        lut = spaces.encode_lut(spaces.transfer_of(p.space), 16384)
        out = output_buffer(frame)            # element-wise: may reuse the input when the pipeline owns it
        if p.gamut == "luma" and p.space != spaces.WORKING:
            from ..colour.gamut import to_output
            lin = to_output(frame.pixels, p.space)
            output_encode(lin, np.eye(3, dtype=np.float32), lut, 0, out)
        else:
            m = spaces.rgb_to_rgb(spaces.WORKING, p.space).astype(np.float32)
            mode = 0 if p.gamut != "compress" else (2 if frame.meta.kind == "image" else 1)
            output_encode(frame.pixels, m, lut, mode, out)
        f = frame.with_pixels(out, State.DISPLAY)
        f.meta.output_space = p.space
        from ..io.icc import icc_profile
        f.meta.icc = icc_profile(p.space)
        return f
