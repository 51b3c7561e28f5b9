"""Aperture kernels for synthetic bokeh: round, n-blade polygon, cat-eye, swirly.

A kernel is the image of a defocused point (the shape of the aperture as seen from that point),
rasterised with 4×4 supersampling for smooth edges and normalised to sum 1. Cat-eye and swirly
kernels depend on where the point lies in the frame: ``pos`` is its offset from the image centre
in units of the half diagonal (0 at the centre, 1 in a corner).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHAPES = ("round", "polygon", "cat-eye", "swirly")


@dataclass(frozen=True)
class KernelSpec:
    shape: str = "round"
    blades: int = 7
    rotation: float = 0.0          # degrees
    curvature: float = 0.0         # 0: straight blades, 1: round
    cat_eye: float = 0.0           # 0..1, clipping by the lens barrel toward the corners
    swirl: float = 0.0             # 0..1, tangential stretch toward the corners

    @property
    def varies(self) -> bool:
        return self.shape in ("cat-eye", "swirly") and (self.cat_eye > 0 or self.swirl > 0)


def _inside(spec: KernelSpec, x: np.ndarray, y: np.ndarray, radius: float, pos: tuple[float, float]) -> np.ndarray:
    """Boolean mask of the aperture (radius in pixels) at sample offsets x, y."""
    r2 = x * x + y * y
    if spec.shape == "polygon" and spec.blades >= 3:
        n = spec.blades
        rot = math.radians(spec.rotation)
        apo = radius * math.cos(math.pi / n)          # inradius of the polygon
        m = np.ones_like(x, dtype=bool)
        for k in range(n):
            a = rot + 2 * math.pi * (k + 0.5) / n
            m &= (x * math.cos(a) + y * math.sin(a)) <= apo
        if spec.curvature > 0:                          # curved blades: between polygon and circle
            rr = radius * (math.cos(math.pi / n) * (1 - spec.curvature) + spec.curvature)
            m = (m | (r2 <= rr * rr)) & (r2 <= radius * radius)
        return m
    if spec.shape not in ("cat-eye", "swirly"):
        return r2 <= radius * radius
    px, py = pos
    rho = min(1.0, math.hypot(px, py))
    if rho < 1e-6:
        return r2 <= radius * radius
    ux, uy = px / math.hypot(px, py), py / math.hypot(px, py)   # radial unit vector
    rad = x * ux + y * uy
    tan = -x * uy + y * ux
    stretch = 1.0 + 0.6 * spec.swirl * rho
    squash = 1.0 - 0.35 * spec.swirl * rho
    ell = (tan / (radius * stretch)) ** 2 + (rad / (radius * squash)) ** 2 <= 1.0
    shift = spec.cat_eye * rho * radius * 1.1                  # second pupil, displaced radially
    clip = (rad + shift) ** 2 + tan * tan <= radius * radius
    return ell & clip


def kernel(spec: KernelSpec, radius: float, pos: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The normalised kernel (float32, odd square) of an aperture of ``radius`` pixels, centred on its centroid."""
    radius = max(float(radius), 0.5)
    if spec.shape == "polygon" and spec.blades >= 3:
        # same f-number, same aperture area: the polygon's circumradius is a little larger than the disc's
        n = spec.blades
        radius *= math.sqrt(2 * math.pi / (n * math.sin(2 * math.pi / n))) ** (1.0 - spec.curvature)
    half = int(math.ceil(radius * 1.7)) if spec.shape == "swirly" else int(math.ceil(radius))
    size = 2 * half + 1
    ss = 4
    t = (np.arange(size * ss, dtype=np.float64) - (size * ss - 1) / 2) / ss
    x, y = np.meshgrid(t, t)
    m = _inside(spec, x, y, radius, pos).astype(np.float64)
    k = m.reshape(size, ss, size, ss).mean(axis=(1, 3))
    s = k.sum()
    if s <= 0:
        k = np.zeros((size, size)); k[half, half] = 1.0
        return k.astype(np.float32)
    k /= s
    # centre on the centroid (a clipped pupil must not shift the image)
    yy, xx = np.mgrid[0:size, 0:size]
    cy, cx = float((k * yy).sum()) - half, float((k * xx).sum()) - half
    if abs(cx) > 0.05 or abs(cy) > 0.05:
        import cv2

        mtx = np.float32([[1, 0, -cx], [0, 1, -cy]])
        k = cv2.warpAffine(k.astype(np.float32), mtx, (size, size), flags=cv2.INTER_LINEAR)
        k = np.maximum(k, 0)
        k /= k.sum()
    # scatter → gather: correlate with the point-reflected kernel
    return np.ascontiguousarray(k[::-1, ::-1], dtype=np.float32)


def second_moment_radius(k: np.ndarray) -> float:
    """√(2·E[ρ²]) of a kernel: the radius of the uniform disc with the same second moment."""
    h, w = k.shape
    yy, xx = np.mgrid[0:h, 0:w]
    s = k.sum()
    cy, cx = (k * yy).sum() / s, (k * xx).sum() / s
    return float(math.sqrt(2 * ((k * ((yy - cy) ** 2 + (xx - cx) ** 2)).sum() / s)))
