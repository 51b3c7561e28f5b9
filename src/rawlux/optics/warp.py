"""Coordinate maps for geometric corrections, composed and resampled once.

Every geometric step maps *output* pixel coordinates to the coordinates it reads from. Steps are
chained from the output side to the source side (reprojection → lens profile → DNG warps), so the
image is resampled a single time with one ``cv2.remap`` per colour plane (one for all three when no
step differs between planes). Coordinates are pixel indices (pixel centres at integers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: fisheye / rectilinear projections: radius on the sensor (in focal lengths) as a function of the
#: angle θ from the optical axis, and its inverse
PROJECTIONS = ("rectilinear", "equidistant", "equisolid", "stereographic", "orthographic")


def project(model: str, theta: np.ndarray) -> np.ndarray:
    """ρ/f for an angle θ (radians) under a projection model."""
    if model == "rectilinear":
        return np.tan(theta)
    if model == "equidistant":
        return theta
    if model == "equisolid":
        return 2.0 * np.sin(theta / 2.0)
    if model == "stereographic":
        return 2.0 * np.tan(theta / 2.0)
    if model == "orthographic":
        return np.sin(theta)
    raise ValueError(model)


def unproject(model: str, rho: np.ndarray) -> np.ndarray:
    """θ for ρ/f; NaN where the model has no such radius."""
    with np.errstate(invalid="ignore"):
        if model == "rectilinear":
            return np.arctan(rho)
        if model == "equidistant":
            return rho.copy()
        if model == "equisolid":
            return 2.0 * np.arcsin(np.where(rho <= 2.0, rho / 2.0, np.nan))
        if model == "stereographic":
            return 2.0 * np.arctan(rho / 2.0)
        if model == "orthographic":
            return np.arcsin(np.where(rho <= 1.0, rho, np.nan))
    raise ValueError(model)


def max_theta(model: str) -> float:
    """The largest angle from the axis a model can image."""
    return {"rectilinear": math.pi / 2 - 1e-3, "orthographic": math.pi / 2,
            "equisolid": math.pi, "equidistant": math.pi, "stereographic": math.pi - 1e-3}[model]


@dataclass
class Coords:
    """Source coordinates per plane: ``planes`` holds one (x, y) pair shared by all, or one per plane."""

    planes: list[tuple[np.ndarray, np.ndarray]]

    @classmethod
    def identity(cls, h: int, w: int) -> "Coords":
        x = np.broadcast_to(np.arange(w, dtype=np.float32)[None, :], (h, w))
        y = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
        return cls([(np.ascontiguousarray(x), np.ascontiguousarray(y))])

    def split(self, n: int) -> "Coords":
        return self if len(self.planes) == n else Coords([self.planes[0]] * n)


def sample_map(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a dense coordinate map ``m`` (H×W×2: x, y) at fractional positions (bilinear)."""
    import cv2

    out = cv2.remap(np.ascontiguousarray(m, dtype=np.float32), x, y, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(out[..., 0]), np.ascontiguousarray(out[..., 1])


def apply_dense(coords: Coords, maps: list[np.ndarray], is_identity: bool) -> Coords:
    """Chain a dense per-plane map (list of H×W×2 arrays, 1 or 3) after ``coords``."""
    n = max(len(maps), len(coords.planes))
    c = coords.split(n)
    out = []
    for i in range(n):
        m = maps[min(i, len(maps) - 1)]
        if is_identity:
            out.append((np.ascontiguousarray(m[..., 0]), np.ascontiguousarray(m[..., 1])))
        else:
            out.append(sample_map(m, *c.planes[i]))
    return Coords(out)


def _radial_frame(h: int, w: int, cx: float, cy: float) -> tuple[float, float, float]:
    from .opcodes import radial_norm

    return radial_norm(h, w, cx, cy)


def dng_warp_rectilinear(coords: Coords, args: dict, h: int, w: int) -> Coords:
    """DNG WarpRectilinear: radial (kr0..kr3 in r²) and tangential (kt0, kt1) terms per plane."""
    kr, kt = args["kr"], args["kt"]
    x0, y0, m = _radial_frame(h, w, args["cx"], args["cy"])
    n = max(kr.shape[0], len(coords.planes))
    c = coords.split(n)
    out = []
    for i in range(n):
        a, t = kr[min(i, kr.shape[0] - 1)], kt[min(i, kt.shape[0] - 1)]
        x, y = c.planes[i]
        dx = (x - np.float32(x0)) / np.float32(m)
        dy = (y - np.float32(y0)) / np.float32(m)
        r2 = dx * dx + dy * dy
        f = np.float32(a[0]) + r2 * (np.float32(a[1]) + r2 * (np.float32(a[2]) + r2 * np.float32(a[3])))
        xs = dx * f
        ys = dy * f
        if t[0] or t[1]:
            dxy = 2.0 * dx * dy
            xs += np.float32(t[0]) * dxy + np.float32(t[1]) * (r2 + 2.0 * dx * dx)
            ys += np.float32(t[1]) * dxy + np.float32(t[0]) * (r2 + 2.0 * dy * dy)
        out.append((np.float32(x0) + np.float32(m) * xs, np.float32(y0) + np.float32(m) * ys))
    return Coords(out)


def dng_warp_fisheye(coords: Coords, args: dict, h: int, w: int) -> Coords:
    """DNG WarpFisheye: output radius r → θ = atan r → source radius kr0·θ + kr1·θ³ + kr2·θ⁵ + kr3·θ⁷."""
    kr = args["kr"]
    x0, y0, m = _radial_frame(h, w, args["cx"], args["cy"])
    n = max(kr.shape[0], len(coords.planes))
    c = coords.split(n)
    out = []
    for i in range(n):
        a = kr[min(i, kr.shape[0] - 1)]
        x, y = c.planes[i]
        dx = (x - np.float32(x0)) / np.float32(m)
        dy = (y - np.float32(y0)) / np.float32(m)
        r = np.sqrt(dx * dx + dy * dy)
        th = np.arctan(r)
        t2 = th * th
        rs = th * (np.float32(a[0]) + t2 * (np.float32(a[1]) + t2 * (np.float32(a[2]) + t2 * np.float32(a[3]))))
        ratio = np.where(r > 1e-9, rs / np.maximum(r, 1e-9), np.float32(a[0]))
        out.append((np.float32(x0) + np.float32(m) * dx * ratio, np.float32(y0) + np.float32(m) * dy * ratio))
    return Coords(out)


def reproject(coords: Coords, h: int, w: int, *, src: str, dst: str, f_src: float, f_dst: float,
              cx: float | None = None, cy: float | None = None) -> Coords:
    """Change projection: output pixel (``dst`` model, focal ``f_dst`` px) → ``src`` model pixel.

    Angles the source cannot image map outside the frame (they come out black).
    """
    x0 = (w - 1) / 2.0 if cx is None else cx
    y0 = (h - 1) / 2.0 if cy is None else cy
    out = []
    x0f, y0f = np.float32(x0), np.float32(y0)
    for x, y in coords.planes:
        dx = x - x0f                                   # float32 is ample: 1e-7 relative ≈ 0.001 px
        dy = y - y0f
        rho = np.hypot(dx, dy)
        theta = unproject(dst, rho * np.float32(1.0 / f_dst))
        tmax = np.float32(max_theta(src))
        bad = ~np.isfinite(theta) | (theta > tmax)
        r_src = np.float32(f_src) * project(src, np.clip(np.nan_to_num(theta, nan=0.0), 0, tmax))
        ratio = np.where(rho > 1e-6, r_src / np.maximum(rho, np.float32(1e-6)), np.float32(f_src / f_dst))
        xs = np.where(bad, np.float32(-1e6), x0f + dx * ratio).astype(np.float32, copy=False)
        ys = np.where(bad, np.float32(-1e6), y0f + dy * ratio).astype(np.float32, copy=False)
        out.append((xs, ys))
    return Coords(out)


def remap(img: np.ndarray, coords: Coords, *, interpolation: str = "cubic") -> np.ndarray:
    """Resample ``img`` (H×W or H×W×C float32) at ``coords``: one remap per distinct plane map."""
    import cv2

    interp = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4}[interpolation]
    src = np.ascontiguousarray(img, dtype=np.float32)
    if len(coords.planes) == 1 or src.ndim == 2:
        x, y = coords.planes[0]
        return cv2.remap(src, x, y, interp, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    out = np.empty(src.shape[:2] + (src.shape[2],), np.float32)
    for c in range(src.shape[2]):
        x, y = coords.planes[min(c, len(coords.planes) - 1)]
        out[..., c] = cv2.remap(np.ascontiguousarray(src[..., c]), x, y, interp,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out
