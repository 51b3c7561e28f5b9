"""Grade: renders the look ingredients recorded by the stages before it, in one fused pass.

1. The *global colour part* — ``balance``, ``curve``, ``saturation``, ``hsl``, ``mixer``, ``split``,
   ``lut``, in that order — is one function of display-linear Rec.2020 colour. It is evaluated exactly
   (numpy, float64) on a ``lut_size``³ grid over the square root of display-linear values and kept as
   a 3D LUT (cached per set of params); ``rawlux look export`` resamples the same function.
2. Clarity and sharpening become one gain per pixel, from the square-rooted luminance and its blurs
   (OpenCV).
3. One numba kernel: gain, square root, tetrahedral lookup, grain (row by row, see ``grade_apply``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from ...frame import Frame, State
from ...pipeline.stage import Params, Stage, param
from . import COLOUR_STAGES, OPS_KEY, pending_ops
from ...colour import oklab as cm



@dataclass(frozen=True)
class GradeParams(Params):
    lut_size: int = param(33, min=9, max=65, doc="grid size of the baked colour LUT (quality, not look)")


def colour_module(stage: str):
    return importlib.import_module(f"{__package__}.{stage}")


def colour_function(ops: Sequence[tuple[str, Any]]) -> Callable[[np.ndarray], np.ndarray]:
    """The global colour part of ``ops`` as a function of N×3 display-linear Rec.2020 colour."""
    chain = [(colour_module(n), p) for n, p in ops if n in COLOUR_STAGES]
    chain.sort(key=lambda mp: COLOUR_STAGES.index(mp[0].__name__.rsplit(".", 1)[1]))

    def f(rgb: np.ndarray) -> np.ndarray:
        x = np.asarray(rgb, np.float64).reshape(-1, 3)
        for mod, p in chain:
            x = mod.apply(x, p)
        return x

    return f


def _stamp(ops: Sequence[tuple[str, Any]]) -> tuple:
    """File modification times of the LUT files the ops read (so an edited .cube is re-read)."""
    import os
    out = []
    for n, p in ops:
        if n == "lut" and getattr(p, "path", ""):
            try:
                out.append(os.stat(p.path).st_mtime_ns)
            except OSError:
                out.append(None)
    return tuple(out)


def bake(ops: tuple[tuple[str, Any], ...], size: int) -> np.ndarray:
    """(size, size, size, 3) float32 table: working-encoded grid → display-linear look colour."""
    return _bake(tuple(ops), int(size), _stamp(ops))


@lru_cache(maxsize=32)
def _bake(ops: tuple[tuple[str, Any], ...], size: int, stamp: tuple) -> np.ndarray:
    """(size, size, size, 3) float32 table: grid over √(display-linear) → display-linear look colour."""
    g = np.linspace(0.0, 1.0, size)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    enc = np.stack([r, gg, b], axis=-1).reshape(-1, 3)
    out = colour_function(ops)(enc * enc)
    out = np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=0.0)
    t = out.reshape(size, size, size, 3).astype(np.float32)
    t.setflags(write=False)
    return t


def bake_padded(ops: tuple[tuple[str, Any], ...], size: int) -> np.ndarray:
    """The baked table as the kernel reads it: flat, four floats per node (R, G, B, 0)."""
    return _padded(tuple(ops), int(size), _stamp(ops))


@lru_cache(maxsize=32)
def _padded(ops: tuple[tuple[str, Any], ...], size: int, stamp: tuple) -> np.ndarray:
    from ._kernels import padded
    p = padded(_bake(ops, size, stamp))
    p.setflags(write=False)
    return p


#: the grain lattice is generated at its own resolution up to this many cells across the short side (or the
#: image's, if larger): previews then area-average the very lattice the full-size render shows
GRAIN_LATTICE_MAX = 3000


def grain_planes(h: int, w: int, p) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Grain field(s) H×W fixed to the picture (see ``grain``): main, red, blue, and the factor that makes
    them unit-variance (applied by the caller, so no extra full-size pass is spent on it).

    The lattice has ``cells_across(p)`` cells across the short side (capped at ``max(short side,
    GRAIN_LATTICE_MAX)``; finer grains than that are averaged away, their amplitude falling as averaging
    makes it fall). It is resampled to the image: bicubic when grains are larger than pixels, area
    averaging when they are smaller, so a small render shows the same grain as the full-size one
    downscaled."""
    import cv2

    from .grain import cells_across

    short = min(h, w)
    cells = cells_across(p)
    n_lat = min(cells, float(max(short, GRAIN_LATTICE_MAX)))
    scale = n_lat / cells                 # grains finer than the lattice: averaged away
    cw = max(2, round(n_lat * w / short))
    ch = max(2, round(n_lat * h / short))
    from ._kernels import hash_lattice

    k = 1.0 / 0.8                          # resampled iid values: std ≈ 0.8 (bicubic up, area down alike)
    seeds = iter((p.seed * 3, p.seed * 3 + 1, p.seed * 3 + 2))

    same = (cw, ch) == (w, h)
    factor = scale if same else scale * k
    interp = cv2.INTER_CUBIC if cw < w else cv2.INTER_AREA

    def plane():
        lat = np.empty((ch, cw), np.float32)
        hash_lattice(next(seeds), lat)
        return lat if same else cv2.resize(lat, (w, h), interpolation=interp)

    main = plane()
    if p.colour > 0:
        return main, plane(), plane(), factor
    dummy = np.zeros((1, 1), np.float32)
    return main, dummy, dummy, factor


def render(frame_px: np.ndarray, ops: Sequence[tuple[str, Any]], lut_size: int = 33,
           out: np.ndarray | None = None) -> np.ndarray:
    """Apply recorded ingredient ops to display-linear pixels (H×W×3 float32); returns a new array, or
    ``out`` (which may be ``frame_px`` itself: the final pass is element-wise)."""
    from ._kernels import grade_apply, luma_sqrt

    ops = tuple(ops)
    by = dict(ops)
    px = np.ascontiguousarray(frame_px, dtype=np.float32)
    h, w, _ = px.shape
    dummy = np.zeros((1, 1), np.float32)
    wts = cm.LUMA.astype(np.float32)

    ye = base = blur = dummy
    camt = samt = thr = 0.0
    cl, sh = by.get("clarity"), by.get("sharpen")
    if cl is not None or sh is not None:
        ye = np.empty((h, w), np.float32)
        luma_sqrt(px, wts, ye)
        if cl is not None:
            from .clarity import base_layer
            base = base_layer(ye, cl)
            camt = cl.strength * cl.amount
        if sh is not None:
            from .sharpen import blurred
            blur = blurred(ye, sh)
            samt = sh.strength * sh.amount
            thr = sh.threshold
        base = ye if base is dummy else base            # the kernel reads both; amount 0 for the absent one
        blur = ye if blur is dummy else blur

    colour_ops = tuple((n, p) for n, p in ops if n in COLOUR_STAGES)
    if colour_ops:
        lut = bake_padded(colour_ops, lut_size)
        n = lut_size
    else:
        lut, n = np.zeros(0, np.float32), 0

    gr = by.get("grain")
    noise = nr = nb = dummy
    amt = colour = response = 0.0
    if gr is not None:
        noise, nr, nb, factor = grain_planes(h, w, gr)
        amt, colour, response = 0.1 * gr.strength * gr.amount * factor, gr.colour, gr.response

    if out is None:
        out = np.empty_like(px)
    grade_apply(px, ye, base, np.float32(camt), blur, np.float32(samt), np.float32(thr), lut, n, noise, nr, nb,
                np.float32(amt), np.float32(response),
                np.float32(colour), wts, out)
    return out


class Grade(Stage):
    name = "grade"
    Params = GradeParams
    takes = frozenset({State.DISPLAY_LINEAR, State.SCENE_LINEAR})
    doc = "renders the look ingredients in one fused pass"

    def applies(self, frame: Frame, p: Params) -> bool:
        return super().applies(frame, p) and bool(pending_ops(frame))

    def run(self, frame: Frame, p: GradeParams) -> Frame:
        from ...pipeline.buffers import output_buffer
        out = render(frame.pixels, pending_ops(frame), p.lut_size, out=output_buffer(frame))
        f = frame.with_pixels(out)
        f.meta.extra.pop(OPS_KEY, None)
        return f
