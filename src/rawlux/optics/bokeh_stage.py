"""The bokeh stage and its named presets (lens characters)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param
from .depth import ENCODINGS
from .kernels import SHAPES

#: lens characters a user names; every value can still be overridden field by field
PRESETS: dict[str, dict[str, Any]] = {
    "portrait-50": dict(focal_length=50.0, f_number=1.4, kernel="polygon", blades=9, curvature=0.7),
    "portrait-75": dict(focal_length=75.0, f_number=1.8, kernel="round"),
    "portrait-90": dict(focal_length=90.0, f_number=2.0, kernel="polygon", blades=11, curvature=0.8,
                        cat_eye=0.35),
    "swirly-50": dict(focal_length=50.0, f_number=1.5, kernel="swirly", cat_eye=0.7, swirl=0.8),
    "soft-90": dict(focal_length=90.0, f_number=2.2, kernel="round", glow=0.35, glow_radius=0.012),
    "documentary-35": dict(focal_length=35.0, f_number=2.0, kernel="polygon", blades=8, curvature=0.3),
}
DEFAULTS: dict[str, Any] = dict(focal_length=50.0, f_number=2.0, kernel="round", blades=7, curvature=0.0,
                                rotation=0.0, cat_eye=0.0, swirl=0.0, glow=0.0, glow_radius=0.01)


@dataclass(frozen=True)
class BokehParams(Params):
    preset: str = param("", choices=lambda: ["", *PRESETS], doc="lens character: " + ", ".join(PRESETS))
    depth: str = param("", doc="depth map file (.png/.tif/.exr/.npy), or 'embedded' for the one in the input")
    depth_encoding: str = param("inverse-near-high", choices=ENCODINGS,
                                doc="how the depth file stores distance (see rawlux.optics.depth)")
    depth_near: float = param(0.5, min=0.01, max=1e4, doc="distance (m) of the nearest encoded value")
    depth_far: float = param(20.0, min=0.02, max=1e6, doc="distance (m) of the farthest encoded value")
    focus_distance: float = param(0.0, min=0.0, max=1e5, doc="focus distance in metres (0: from focus_point)")
    focus_point: tuple[float, ...] = param((0.5, 0.5), min=0.0, max=1.0,
                                           doc="where to focus (x, y relative) when focus_distance is 0")
    focal_length: float | None = param(None, min=8.0, max=800.0, nullable=True,
                                       doc="35 mm-equivalent focal length of the simulated lens (mm)")
    f_number: float | None = param(None, min=0.7, max=64.0, nullable=True, doc="simulated f-number")
    kernel: str | None = param(None, choices=SHAPES, nullable=True, doc="aperture shape: " + ", ".join(SHAPES))
    blades: int | None = param(None, min=3, max=18, nullable=True, doc="aperture blades (polygon)")
    curvature: float | None = param(None, min=0.0, max=1.0, nullable=True, doc="blade curvature (1 = round)")
    rotation: float | None = param(None, min=-360.0, max=360.0, nullable=True, doc="blade rotation, degrees")
    cat_eye: float | None = param(None, min=0.0, max=1.0, nullable=True, doc="cat-eye clipping toward corners")
    swirl: float | None = param(None, min=0.0, max=1.0, nullable=True, doc="tangential swirl toward corners")
    glow: float | None = param(None, min=0.0, max=1.0, nullable=True, doc="soft-focus glow amount")
    glow_radius: float | None = param(None, min=0.001, max=0.1, nullable=True,
                                      doc="glow radius, fraction of the diagonal")
    highlight_boost: float = param(2.0, min=0.0, max=16.0, doc="extra gain of highlights before blurring")
    highlight_threshold: float = param(1.0, min=0.05, max=64.0, doc="scene-linear level where boosting starts")
    max_blur: float = param(0.04, min=0.001, max=0.2, doc="largest blur radius, fraction of the diagonal")


def resolved(p: BokehParams) -> dict[str, Any]:
    """Field values after preset and defaults: explicit field > preset > default."""
    base = dict(DEFAULTS)
    if p.preset:
        base.update(PRESETS[p.preset])
    for k in DEFAULTS:
        v = getattr(p, k)
        if v is not None:
            base[k] = v
    return base


def focus_from_point(inv: np.ndarray, point: tuple[float, float]) -> float:
    """Focus distance (m) from the median inverse depth in a small window around a point."""
    h, w = inv.shape
    x, y = int(point[0] * (w - 1)), int(point[1] * (h - 1))
    r = max(2, int(0.01 * max(h, w)))
    win = inv[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1]
    d = float(np.median(win))
    return 1.0 / d if d > 1e-9 else 1e5


class Bokeh(Stage):
    """Synthetic depth of field in scene-linear light (needs a depth map)."""

    name = "bokeh"
    Params = BokehParams
    takes = frozenset({State.SCENE_LINEAR})
    doc = "depth-aware synthetic bokeh (lens characters as presets)"

    def applies(self, frame: Frame, p: Params) -> bool:
        return bool(p.enabled) and frame.state in self.takes and bool(p.preset or p.depth)

    def inverse_depth(self, frame: Frame, p: BokehParams) -> np.ndarray:
        """Inverse depth at the frame's size; maps of the whole photo follow an earlier crop stage."""
        inv = self._inverse_depth(frame, p)
        box, full = frame.meta.extra.get("crop_box"), frame.meta.extra.get("crop_from")
        if box is not None and full is not None and inv.shape != (frame.height, frame.width):
            t, l, h, w = box
            inv = inv[t:t + h, l:l + w]
        return inv

    def _inverse_depth(self, frame: Frame, p: BokehParams) -> np.ndarray:
        from .depth import embedded_depth, fit_to, load_depth, to_inverse_depth

        shape = (frame.height, frame.width)
        if frame.meta.extra.get("crop_from") is not None and frame.meta.extra.get("crop_box") is not None:
            shape = tuple(frame.meta.extra["crop_from"])
        given = frame.meta.extra.get("depth")            # an in-memory map (API use): inverse depth 1/m
        if isinstance(given, np.ndarray) and not p.depth:
            return fit_to(given.astype(np.float32), shape, "meta.extra['depth']")
        if p.depth and p.depth != "embedded":
            return load_depth(p.depth, shape, p.depth_encoding, p.depth_near, p.depth_far)
        emb = embedded_depth(frame.meta.source)
        if emb is None:
            raise ParameterError("bokeh needs a depth map: set bokeh.depth=FILE (.png/.tif/.exr/.npy with "
                                 "bokeh.depth_encoding) — the input has no embedded depth",
                                 path=frame.meta.source)
        v, enc, near, far = emb
        inv = to_inverse_depth(v, enc or p.depth_encoding, near or p.depth_near, far or p.depth_far, True)
        return fit_to(inv, shape, str(frame.meta.source))

    def run(self, frame: Frame, p: BokehParams) -> Frame:
        from .bokeh import RenderOptions, coc_radius, render
        from .kernels import KernelSpec

        if p.depth_near >= p.depth_far:
            raise ParameterError(f"bokeh.depth_near={p.depth_near:g} must be below depth_far={p.depth_far:g}")
        if len(p.focus_point) != 2:
            raise ParameterError(f"bokeh.focus_point must be two numbers (x, y), not {list(p.focus_point)}")
        v = resolved(p)
        inv = self.inverse_depth(frame, p)
        focus = p.focus_distance or focus_from_point(inv, (p.focus_point[0], p.focus_point[1]))
        diag = math.hypot(frame.width, frame.height)
        coc = coc_radius(inv, focus_m=focus, focal_mm=v["focal_length"], f_number=v["f_number"],
                         diag_px=diag, max_radius_px=p.max_blur * diag)
        spec = KernelSpec(shape=v["kernel"], blades=int(v["blades"]), rotation=v["rotation"],
                          curvature=v["curvature"], cat_eye=v["cat_eye"], swirl=v["swirl"])
        opts = RenderOptions(spec=spec, highlight_boost=p.highlight_boost,
                             highlight_threshold=p.highlight_threshold, glow=v["glow"], glow_radius=v["glow_radius"])
        out = render(frame.pixels, coc, opts)
        meta = frame.meta.copy()
        meta.extra["bokeh"] = dict(v, focus_distance=focus, preset=p.preset)
        meta.extra.pop("depth", None)
        return Frame(out, frame.state, meta)


def params_for(preset: str, **overrides: Any) -> BokehParams:
    """Convenience for the API: ``params_for('portrait-90', depth='d.png')``."""
    from ..pipeline.stage import validate

    return validate("bokeh", BokehParams, {"preset": preset, **overrides})
