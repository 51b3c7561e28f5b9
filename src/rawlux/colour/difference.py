"""Colour differences: CIE L*a*b* and CIEDE2000, the one ΔE00 of rawlux (calibration, DCP fitting, look fitting,
tests and benchmarks all use this one)."""
from __future__ import annotations

import numpy as np

from . import spaces

D50_XYZ = spaces.xy_to_XYZ(spaces.D50_XY)


def xyz_to_lab(xyz: np.ndarray, white: np.ndarray = D50_XYZ) -> np.ndarray:
    """CIE L*a*b* of XYZ (any shape …×3) relative to ``white``."""
    t = np.asarray(xyz, np.float64) / np.asarray(white, np.float64)
    d = 6.0 / 29.0
    f = np.where(t > d ** 3, np.cbrt(np.maximum(t, 0.0)), t / (3 * d * d) + 4.0 / 29.0)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def delta_e00(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (Sharma, Wu, Dalal 2005 formulation), vectorised over …×3."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    Cm7 = ((C1 + C2) / 2) ** 7
    G = 0.5 * (1 - np.sqrt(Cm7 / (Cm7 + 25.0 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp = L2 - L1
    dCp = C2p - C1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(C1p * C2p == 0, 0.0, dh)
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dh) / 2)
    Lm = (L1 + L2) / 2
    Cm = (C1p + C2p) / 2
    hs = h1p + h2p
    hm = np.where(C1p * C2p == 0, hs,
                  np.where(np.abs(h1p - h2p) <= 180, hs / 2, np.where(hs < 360, (hs + 360) / 2, (hs - 360) / 2)))
    T = (1 - 0.17 * np.cos(np.radians(hm - 30)) + 0.24 * np.cos(np.radians(2 * hm))
         + 0.32 * np.cos(np.radians(3 * hm + 6)) - 0.20 * np.cos(np.radians(4 * hm - 63)))
    dtheta = 30 * np.exp(-(((hm - 275) / 25) ** 2))
    Cm7p = Cm ** 7
    Rc = 2 * np.sqrt(Cm7p / (Cm7p + 25.0 ** 7))
    Sl = 1 + 0.015 * (Lm - 50) ** 2 / np.sqrt(20 + (Lm - 50) ** 2)
    Sc = 1 + 0.045 * Cm
    Sh = 1 + 0.015 * Cm * T
    Rt = -np.sin(np.radians(2 * dtheta)) * Rc
    return np.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh))


def delta_e00_rgb(lin_a: np.ndarray, lin_b: np.ndarray, space: str = spaces.WORKING) -> np.ndarray:
    """CIEDE2000 between two sets of linear RGB colours (…×3) in ``space``, relative to its own white."""
    m = np.asarray(spaces.rgb_to_xyz(space), np.float64)
    white = m @ np.ones(3)
    la = xyz_to_lab(np.clip(np.asarray(lin_a, np.float64), 0, None) @ m.T, white)
    lb = xyz_to_lab(np.clip(np.asarray(lin_b, np.float64), 0, None) @ m.T, white)
    return delta_e00(la, lb)
