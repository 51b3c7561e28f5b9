"""The demosaic stage: CFA → camera RGB."""
from __future__ import annotations

from dataclasses import dataclass

from ...frame import Frame, State
from ...pipeline.stage import Params, Stage, param
from . import DEMOSAIC_METHODS, demosaic


@dataclass(frozen=True)
class DemosaicParams(Params):
    method: str = param("auto", choices=lambda: ["auto", *DEMOSAIC_METHODS],
                        doc="demosaic method; auto picks the best default")


class Demosaic(Stage):
    name = "demosaic"
    Params = DemosaicParams
    takes = frozenset({State.CFA})
    gives = State.CAMERA_RGB
    doc = "Bayer mosaic → camera RGB"

    def applies(self, frame: Frame, p: Params) -> bool:
        return frame.state in self.takes  # cannot be switched off: later stages need RGB

    def run(self, frame: Frame, p: DemosaicParams) -> Frame:
        assert frame.meta.cfa_pattern is not None
        rgb = demosaic(frame.pixels, frame.meta.cfa_pattern, None if p.method == "auto" else p.method)
        return frame.with_pixels(rgb, State.CAMERA_RGB)
