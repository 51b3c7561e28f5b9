"""A 3D (or 1D) LUT file as a look ingredient: ``.cube`` or HaldCLUT, with its declared input space.

``space`` says what encoding the LUT expects and returns: the display-linear Rec.2020 colour is
converted to that space's primaries and transfer function (clipped to [0, 1]), looked up, decoded
and converted back. ``strength`` blends with the input in the LUT's encoding. In a look file,
``path`` is relative to the look's folder and may not leave it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...colour import spaces
from ...errors import LookError
from ...pipeline.stage import param
from . import DeferredStage, LookParams
from ...colour import oklab as cm

#: spaces a LUT may declare as its input/output encoding: name → (primaries space, transfer function)
LUT_SPACES: dict[str, tuple[str, str]] = {
    "srgb": ("srgb", "srgb"),
    "display-p3": ("display-p3", "srgb"),
    "rec2020": ("rec2020", cm.WORKING_TF),       # BT.2020 primaries, BT.709/2020 OETF = the working encoding
    "adobe-rgb": ("adobe-rgb", "gamma2.2"),
    "rec2020-linear": ("rec2020", "linear"),
}


@dataclass(frozen=True)
class LutParams(LookParams):
    path: str = param("", doc="a .cube or HaldCLUT .png file (relative to the look file's folder)")
    space: str = param("srgb", choices=tuple(LUT_SPACES), doc="encoding the LUT expects and returns")

    def is_identity(self) -> bool:
        return super().is_identity() or not self.path


@lru_cache(maxsize=16)
def _load(path: str, mtime: float):
    from ..lutfiles import read_lut
    return read_lut(path)


def load(path: str):
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        raise LookError(f"LUT file {path} does not exist") from None
    return _load(path, mtime)


def _tf(x: np.ndarray, tf: str, inverse: bool) -> np.ndarray:
    if tf == cm.WORKING_TF:
        return cm.decode(x) if inverse else cm.encode(x)
    f = spaces.decode if inverse else spaces.encode
    return f(x, tf).astype(np.float64)


def to_space(rgb: np.ndarray, space: str) -> np.ndarray:
    prim, tf = LUT_SPACES[space]
    m = np.asarray(spaces.rgb_to_rgb(spaces.WORKING, prim))
    return _tf(rgb @ m.T, tf, inverse=False)


def from_space(v: np.ndarray, space: str) -> np.ndarray:
    prim, tf = LUT_SPACES[space]
    m = np.asarray(spaces.rgb_to_rgb(prim, spaces.WORKING))
    return _tf(v, tf, inverse=True) @ m.T


def apply(rgb: np.ndarray, p: LutParams) -> np.ndarray:
    lut = load(p.path)
    v = to_space(rgb, p.space)
    w = lut.apply(v.astype(np.float32)).astype(np.float64)
    w = v + p.strength * (w - v)
    return from_space(w, p.space)


class Lut(DeferredStage):
    name = "lut"
    Params = LutParams
    doc = "3D LUT (.cube / HaldCLUT) with its input space"
