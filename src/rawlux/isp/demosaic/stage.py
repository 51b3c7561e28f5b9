"""The demosaic stage: CFA → camera RGB."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...frame import Frame, State
from ...pipeline.stage import Params, Stage, param
from . import DEMOSAIC_METHODS, demosaic


@dataclass(frozen=True)
class DemosaicParams(Params):
    method: str = param("auto", choices=lambda: ["auto", *DEMOSAIC_METHODS],
                        doc="demosaic method: ri (residual interpolation, the default), rcd (fastest), "
                            "quality (ri plus a learned correction: sharpest, ~6 MP/s), ari-fast "
                            "(adaptive residual interpolation for green, ~3 MP/s), residual (ri's reference "
                            "implementation, slower), ari (ari-fast's slow numpy/OpenCV form), bilinear; "
                            "auto picks the default")


def _balance_gains(frame: Frame) -> np.ndarray | None:
    """Per-colour gains that white-balance a mosaic that is not balanced yet (None: leave it as it is)."""
    if frame.meta.wb_applied:
        return None
    n = frame.meta.as_shot_neutral
    if n is None:
        return None
    n = np.asarray(n, np.float64).reshape(-1)
    if n.size != 3 or not np.all(np.isfinite(n)) or np.any(n <= 0):
        return None
    g = n[1] / n
    return None if np.allclose(g, 1.0) else g.astype(np.float32)


class Demosaic(Stage):
    name = "demosaic"
    Params = DemosaicParams
    takes = frozenset({State.CFA})
    gives = State.CAMERA_RGB
    doc = "Bayer mosaic → camera RGB"

    def applies(self, frame: Frame, p: Params) -> bool:
        return frame.state in self.takes  # cannot be switched off: later stages need RGB

    def run(self, frame: Frame, p: DemosaicParams) -> Frame:
        from ...frame import BAYER_PATTERNS
        from .quality import mosaic

        pattern = frame.meta.cfa_pattern
        method = None if p.method == "auto" else p.method
        cfa = frame.pixels
        # the methods interpolate colour differences and ratios, which are right on balanced data: a mosaic
        # that is not balanced yet is balanced for the interpolation and the gains taken out afterwards
        gains = _balance_gains(frame)
        if gains is not None:
            site_gain = mosaic(np.broadcast_to(gains, cfa.shape + (3,)), pattern)
            rgb = demosaic(cfa * site_gain, pattern, method)
            rgb /= gains
        else:
            rgb = demosaic(cfa, pattern, method)
        assert pattern in BAYER_PATTERNS
        return frame.with_pixels(rgb, State.CAMERA_RGB)
