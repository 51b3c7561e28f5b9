"""Tone curve on display-referred values: parametric (contrast about a pivot with toe and shoulder,
black/white points, shadows/highlights, lift/ceiling) and/or control points.

The curve acts on the working encoding (Rec.2020 with the BT.709 transfer function), per channel
(``mode = "rgb"``, the classic film-like response that adds saturation with contrast) or on luminance
(``mode = "luminance"``, which keeps each pixel's chromaticity). It is tabulated (4096 points, made
monotone) and applied by interpolation.

Model, for an encoded value v in [0, 1]:

1. input levels: ``v = (v - black) / (white - black)``, clipped;
2. contrast: slope ``k = 2**contrast`` at ``pivot``; below it ``p·g(v/p)``, above it the mirror, with
   ``g(t) = t**k · (1 + toe·(1 - t)²)`` (``shoulder`` the same on the bright side): slope ``k`` at the
   pivot on both sides; toe/shoulder > 0 open the ends (lifted shadows, gentler highlights), < 0 press them;
3. shadows/highlights: smooth bumps centred at 1/4 and 3/4;
4. control ``points`` (monotone cubic through them);
5. output levels: ``lift + (ceiling - lift)·v`` (lift > 0 fades the blacks).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...errors import ParameterError
from ...pipeline.stage import param
from . import DeferredStage, LookParams
from ...colour import oklab as cm

TABLE_SIZE = 4096
CURVE_MODES = ("rgb", "luminance")


@dataclass(frozen=True)
class CurveParams(LookParams):
    contrast: float = param(0.0, min=-1.0, max=1.0, doc="slope at the pivot is 2**contrast (0 = unchanged)")
    pivot: float = param(0.41, min=0.15, max=0.85, doc="encoded value the contrast turns about (0.41 = middle grey)")
    toe: float = param(0.0, min=-1.0, max=1.0, doc="shadow end of the contrast curve: + lifted/soft, - deep")
    shoulder: float = param(0.0, min=-1.0, max=1.0, doc="highlight end: + gentle roll-off, - hard")
    shadows: float = param(0.0, min=-1.0, max=1.0, doc="lift (+) or deepen (-) the shadows")
    highlights: float = param(0.0, min=-1.0, max=1.0, doc="brighten (+) or recover (-) the highlights")
    black: float = param(0.0, min=0.0, max=0.25, doc="input black point (values below become black)")
    white: float = param(1.0, min=0.75, max=1.0, doc="input white point (values above become white)")
    lift: float = param(0.0, min=0.0, max=0.3, doc="output black level (> 0 fades the blacks)")
    ceiling: float = param(1.0, min=0.7, max=1.0, doc="output white level")
    points: tuple = param((), doc="control points [[x, y], ...] in [0, 1], x increasing (applied after the "
                               "parametric part)")
    mode: str = param("rgb", choices=CURVE_MODES, doc="rgb: per channel; luminance: keep chromaticity")

    def __post_init__(self) -> None:
        pts = self.points
        if pts:
            if len(pts) < 2:
                raise ParameterError("curve.points needs at least 2 points [[x, y], ...]")
            xs = []
            for i, pt in enumerate(pts):
                if not isinstance(pt, (tuple, list)) or len(pt) != 2:
                    raise ParameterError(f"curve.points[{i}] must be a pair [x, y], not {pt!r}")
                x, y = float(pt[0]), float(pt[1])
                if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                    raise ParameterError(f"curve.points[{i}]={list(pt)} is outside [0, 1]")
                xs.append(x)
            if any(b <= a for a, b in zip(xs, xs[1:])):
                raise ParameterError(f"curve.points x values must increase: {xs}")
        if self.white - self.black < 0.5:
            raise ParameterError(f"curve.white - curve.black must be at least 0.5 (white={self.white}, "
                                 f"black={self.black})")
        if self.ceiling - self.lift < 0.4:
            raise ParameterError(f"curve.ceiling - curve.lift must be at least 0.4 (ceiling={self.ceiling}, "
                                 f"lift={self.lift})")


def _g(t: np.ndarray, k: float, tau: float) -> np.ndarray:
    return np.power(t, k) * (1.0 + tau * (1.0 - t) ** 2)


def _bump(v: np.ndarray, centre: float) -> np.ndarray:
    # v^a (1-v)^b with its peak at `centre`, normalised to 1 there
    a, b = (1.0, 3.0) if centre < 0.5 else (3.0, 1.0)
    f = np.power(v, a) * np.power(1.0 - v, b)
    return f / ((centre ** a) * ((1.0 - centre) ** b))


def evaluate(v: np.ndarray, p: CurveParams, strength: float | None = None) -> np.ndarray:
    """The curve on encoded values (no table; monotone by construction of its parts except bumps)."""
    s = p.strength if strength is None else strength
    v = np.asarray(v, np.float64)
    x = np.clip((v - p.black) / (p.white - p.black), 0.0, 1.0)
    k = 2.0 ** p.contrast
    piv = p.pivot
    lo = x < piv
    y = np.empty_like(x)
    y[lo] = piv * _g(x[lo] / piv, k, p.toe)
    t = (1.0 - x[~lo]) / (1.0 - piv)
    y[~lo] = 1.0 - (1.0 - piv) * _g(t, k, p.shoulder)
    y = y + 0.08 * p.shadows * _bump(y, 0.25) + 0.08 * p.highlights * _bump(y, 0.75)
    if p.points:
        from scipy.interpolate import PchipInterpolator

        pts = np.asarray(p.points, np.float64)
        xs, ys = pts[:, 0], pts[:, 1]
        if xs[0] > 0.0:                      # the curve starts at black and ends at white
            xs, ys = np.r_[0.0, xs], np.r_[0.0, ys]
        if xs[-1] < 1.0:
            xs, ys = np.r_[xs, 1.0], np.r_[ys, 1.0]
        y = PchipInterpolator(xs, ys)(np.clip(y, 0.0, 1.0))
    y = p.lift + (p.ceiling - p.lift) * np.clip(y, 0.0, 1.0)
    return v + s * (y - v)


@lru_cache(maxsize=64)
def table(p: CurveParams) -> np.ndarray:
    """The curve tabulated on TABLE_SIZE encoded values, forced monotone non-decreasing."""
    v = np.linspace(0.0, 1.0, TABLE_SIZE)
    y = np.maximum.accumulate(evaluate(v, p))
    y.setflags(write=False)
    return y


def apply_encoded(v: np.ndarray, p: CurveParams) -> np.ndarray:
    return np.interp(np.clip(v, 0.0, 1.0), np.linspace(0.0, 1.0, TABLE_SIZE), table(p))


def apply(rgb: np.ndarray, p: CurveParams) -> np.ndarray:
    if p.mode == "rgb":
        return cm.decode(apply_encoded(cm.encode(rgb), p))
    y = np.maximum(cm.luminance(rgb), 0.0)
    y2 = cm.decode(apply_encoded(cm.encode(y), p))
    ratio = np.where(y > 1e-6, y2 / np.maximum(y, 1e-6), 0.0)
    out = rgb * ratio[:, None]
    return np.where((y > 1e-6)[:, None], out, y2[:, None])


class Curve(DeferredStage):
    name = "curve"
    Params = CurveParams
    doc = "tone curve on display-referred values"
