"""RGB colour spaces: primaries, white points, RGB↔XYZ matrices, chromatic adaptation, transfer functions."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import ParameterError

D65_XY = (0.3127, 0.3290)
D50_XY = (0.3457, 0.3585)

#: name → (primaries xy R, G, B; white xy; transfer function name)
SPACES: dict[str, tuple[tuple[tuple[float, float], ...], tuple[float, float], str]] = {
    "srgb": (((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), D65_XY, "srgb"),
    "display-p3": (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), D65_XY, "srgb"),
    "rec2020": (((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)), D65_XY, "rec709"),
    "adobe-rgb": (((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), D65_XY, "gamma2.2"),
    "prophoto": (((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)), D50_XY, "gamma1.8"),
}
WORKING = "rec2020"
OUTPUT_SPACES = ("srgb", "display-p3", "rec2020")

BRADFORD = np.array([[0.8951, 0.2664, -0.1614],
                     [-0.7502, 1.7135, 0.0367],
                     [0.0389, -0.0685, 1.0296]])


def xy_to_XYZ(xy: tuple[float, float] | np.ndarray, Y: float = 1.0) -> np.ndarray:
    x, y = float(xy[0]), float(xy[1])
    if y <= 0:
        raise ParameterError(f"chromaticity y must be > 0, not {y}")
    return np.array([x * Y / y, Y, (1 - x - y) * Y / y])


def XYZ_to_xy(XYZ: np.ndarray) -> tuple[float, float]:
    s = float(np.sum(XYZ))
    if not np.isfinite(s) or s <= 0:
        return D65_XY
    return (float(XYZ[0] / s), float(XYZ[1] / s))


@lru_cache(maxsize=None)
def rgb_to_xyz(space: str) -> np.ndarray:
    """3×3 matrix linear RGB → XYZ (Y of white = 1) for a named space, at its own white."""
    if space not in SPACES:
        raise ParameterError(f"unknown colour space {space!r} (valid: {', '.join(SPACES)})")
    prim, white, _ = SPACES[space]
    P = np.array([xy_to_XYZ(p) for p in prim]).T
    S = np.linalg.solve(P, xy_to_XYZ(white))
    m = P * S
    m.setflags(write=False)
    return m


@lru_cache(maxsize=None)
def xyz_to_rgb(space: str) -> np.ndarray:
    m = np.linalg.inv(rgb_to_xyz(space))
    m.setflags(write=False)
    return m


def adaptation(src_xy: tuple[float, float], dst_xy: tuple[float, float]) -> np.ndarray:
    """Bradford chromatic adaptation XYZ(src white) → XYZ(dst white)."""
    s = BRADFORD @ xy_to_XYZ(src_xy)
    d = BRADFORD @ xy_to_XYZ(dst_xy)
    return np.linalg.inv(BRADFORD) @ np.diag(d / s) @ BRADFORD


@lru_cache(maxsize=None)
def rgb_to_rgb(src: str, dst: str) -> np.ndarray:
    """Linear RGB src → linear RGB dst, adapting whites with Bradford when they differ."""
    m = rgb_to_xyz(src)
    ws, wd = SPACES[src][1], SPACES[dst][1]
    if ws != wd:
        m = adaptation(ws, wd) @ m
    out = xyz_to_rgb(dst) @ m
    out.setflags(write=False)
    return out


def transfer_of(space: str) -> str:
    return SPACES[space][2]


# ------------------------------------------------------------------ transfer functions (numpy)

def encode(x: np.ndarray, tf: str) -> np.ndarray:
    """Linear → encoded, for values in [0, 1] (clipped)."""
    x = np.clip(x, 0.0, 1.0)
    if tf == "srgb":
        return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)
    if tf == "rec709":
        return np.where(x < 0.018053968510807, 4.5 * x, 1.09929682680944 * np.power(x, 0.45) - 0.09929682680944).astype(np.float32)
    if tf.startswith("gamma"):
        return np.power(x, 1 / float(tf[5:])).astype(np.float32)
    if tf == "linear":
        return x.astype(np.float32)
    raise ParameterError(f"unknown transfer function {tf!r}")


def decode(v: np.ndarray, tf: str) -> np.ndarray:
    """Encoded → linear."""
    v = np.clip(v, 0.0, 1.0)
    if tf == "srgb":
        return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4)).astype(np.float32)
    if tf == "rec709":
        return np.where(v < 0.081242858298635, v / 4.5, np.power((v + 0.09929682680944) / 1.09929682680944, 1 / 0.45)).astype(np.float32)
    if tf.startswith("gamma"):
        return np.power(v, float(tf[5:])).astype(np.float32)
    if tf == "linear":
        return v.astype(np.float32)
    raise ParameterError(f"unknown transfer function {tf!r}")


@lru_cache(maxsize=None)
def encode_lut(tf: str, size: int = 65536) -> np.ndarray:
    """A table of ``encode`` on a uniform grid over [0, 1] (for fast per-pixel lookups)."""
    lut = encode(np.linspace(0, 1, size, dtype=np.float64), tf).astype(np.float32)
    lut.setflags(write=False)
    return lut
