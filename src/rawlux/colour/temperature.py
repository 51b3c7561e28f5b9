"""Correlated colour temperature ↔ chromaticity (Robertson 1968), kelvin + tint, EXIF illuminants."""
from __future__ import annotations

import math

import numpy as np

from ..errors import ParameterError

# Robertson's isotemperature lines: (reciprocal megakelvin, u, v, slope t), CIE 1960 UCS.
_ROBERTSON = np.array([
    (0, 0.18006, 0.26352, -0.24341), (10, 0.18066, 0.26589, -0.25479),
    (20, 0.18133, 0.26846, -0.26876), (30, 0.18208, 0.27119, -0.28539),
    (40, 0.18293, 0.27407, -0.30470), (50, 0.18388, 0.27709, -0.32675),
    (60, 0.18494, 0.28021, -0.35156), (70, 0.18611, 0.28342, -0.37915),
    (80, 0.18740, 0.28668, -0.40955), (90, 0.18880, 0.28997, -0.44278),
    (100, 0.19032, 0.29326, -0.47888), (125, 0.19462, 0.30141, -0.58204),
    (150, 0.19962, 0.30921, -0.70471), (175, 0.20525, 0.31647, -0.84901),
    (200, 0.21142, 0.32312, -1.0182), (225, 0.21807, 0.32909, -1.2168),
    (250, 0.22511, 0.33439, -1.4512), (275, 0.23247, 0.33904, -1.7298),
    (300, 0.24010, 0.34308, -2.0637), (325, 0.24792, 0.34655, -2.4681),
    (350, 0.25591, 0.34951, -2.9641), (375, 0.26400, 0.35200, -3.5814),
    (400, 0.27218, 0.35407, -4.3633), (425, 0.28039, 0.35577, -5.3762),
    (450, 0.28863, 0.35714, -6.7262), (475, 0.29685, 0.35823, -8.5955),
    (500, 0.30505, 0.35907, -11.324), (525, 0.31320, 0.35968, -15.628),
    (550, 0.32129, 0.36011, -23.325), (575, 0.32931, 0.36038, -40.770),
    (600, 0.33724, 0.36051, -116.45),
])
_TINT_SCALE = -3000.0  # DNG SDK convention: tint units of 1/3000 in uv distance along the normal

MIN_K, MAX_K = 1667.0, 50000.0


def xy_to_uv(x: float, y: float) -> tuple[float, float]:
    d = 1.5 - x + 6.0 * y
    return 2.0 * x / d, 3.0 * y / d


def uv_to_xy(u: float, v: float) -> tuple[float, float]:
    d = u - 4.0 * v + 2.0
    return 1.5 * u / d, v / d


def xy_to_temp_tint(xy: tuple[float, float]) -> tuple[float, float]:
    """(CCT in K, tint) of a chromaticity, following Robertson's method as the DNG SDK does."""
    u, v = xy_to_uv(*xy)
    last_dt = last_du = last_dv = 0.0
    for i in range(1, len(_ROBERTSON)):
        r, uu, vv, t = _ROBERTSON[i]
        du, dv = 1.0, t
        n = math.hypot(du, dv)
        du, dv = du / n, dv / n
        uo, vo = u - uu, v - vv
        dt = -uo * dv + vo * du
        if dt <= 0.0 or i == len(_ROBERTSON) - 1:
            if dt > 0.0:
                dt = 0.0
            dt = -dt
            f = 0.0 if i == 1 else dt / (last_dt + dt)
            r0 = _ROBERTSON[i - 1][0]
            mired = r0 * f + r * (1.0 - f)
            temp = 1.0e6 / mired if mired > 0 else MAX_K
            uo, vo = u - (_ROBERTSON[i - 1][1] * f + uu * (1 - f)), v - (_ROBERTSON[i - 1][2] * f + vv * (1 - f))
            du2, dv2 = du * (1 - f) + last_du * f, dv * (1 - f) + last_dv * f
            n = math.hypot(du2, dv2)
            du2, dv2 = du2 / n, dv2 / n
            tint = (uo * du2 + vo * dv2) * _TINT_SCALE
            return float(min(max(temp, MIN_K), MAX_K)), float(tint)
        last_dt, last_du, last_dv = dt, du, dv
    return MAX_K, 0.0  # pragma: no cover


def temp_tint_to_xy(temp: float, tint: float = 0.0) -> tuple[float, float]:
    """Chromaticity of (CCT, tint): the inverse of :func:`xy_to_temp_tint`."""
    if not (math.isfinite(temp) and MIN_K <= temp <= MAX_K):
        raise ParameterError(f"colour temperature {temp!r} K is out of range [{MIN_K:.0f}, {MAX_K:.0f}]")
    if not (math.isfinite(tint) and -150 <= tint <= 150):
        raise ParameterError(f"tint {tint!r} is out of range [-150, 150]")
    r = 1.0e6 / temp
    for i in range(1, len(_ROBERTSON)):
        if r < _ROBERTSON[i][0] or i == len(_ROBERTSON) - 1:
            r0, u0, v0, t0 = _ROBERTSON[i - 1]
            r1, u1, v1, t1 = _ROBERTSON[i]
            f = (r1 - r) / (r1 - r0)
            u = u0 * f + u1 * (1 - f)
            v = v0 * f + v1 * (1 - f)
            n0 = math.hypot(1.0, t0)
            n1 = math.hypot(1.0, t1)
            du = (1.0 / n0) * f + (1.0 / n1) * (1 - f)
            dv = (t0 / n0) * f + (t1 / n1) * (1 - f)
            n = math.hypot(du, dv)
            du, dv = du / n, dv / n
            u += du * tint / _TINT_SCALE
            v += dv * tint / _TINT_SCALE
            return uv_to_xy(u, v)
    raise AssertionError("unreachable")  # pragma: no cover


def daylight_xy(temp: float) -> tuple[float, float]:
    """CIE daylight locus chromaticity for 4000–25000 K."""
    t = float(np.clip(temp, 4000.0, 25000.0))
    if t <= 7000:
        x = -4.6070e9 / t**3 + 2.9678e6 / t**2 + 0.09911e3 / t + 0.244063
    else:
        x = -2.0064e9 / t**3 + 1.9018e6 / t**2 + 0.24748e3 / t + 0.237040
    y = -3.0 * x * x + 2.870 * x - 0.275
    return (x, y)


#: EXIF LightSource / DNG CalibrationIlluminant codes → chromaticity xy
ILLUMINANTS: dict[int, tuple[float, float]] = {
    1: daylight_xy(5503), 2: temp_tint_to_xy(4150), 3: (0.44757, 0.40745), 4: temp_tint_to_xy(5500),
    9: temp_tint_to_xy(5500), 10: daylight_xy(6504), 11: daylight_xy(7504),
    12: (0.31310, 0.33727), 13: (0.34588, 0.35875), 14: (0.37417, 0.37281), 15: (0.40910, 0.39430),
    16: (0.44018, 0.40329),
    17: (0.44757, 0.40745), 18: (0.34842, 0.35161), 19: (0.31006, 0.31616),
    20: (0.33242, 0.34743), 21: (0.31271, 0.32902), 22: (0.29902, 0.31485), 23: (0.34567, 0.35850),
    24: temp_tint_to_xy(3200),
}
ILLUMINANT_NAMES = {1: "daylight", 2: "fluorescent", 3: "tungsten", 4: "flash", 9: "fine weather",
                    10: "cloudy", 11: "shade", 12: "daylight fluorescent", 13: "day white fluorescent",
                    14: "cool white fluorescent", 15: "white fluorescent", 16: "warm white fluorescent",
                    17: "A", 18: "B", 19: "C", 20: "D55", 21: "D65", 22: "D75", 23: "D50",
                    24: "ISO studio tungsten"}


def illuminant_xy(code: int) -> tuple[float, float]:
    if code not in ILLUMINANTS:
        raise ParameterError(f"unknown calibration illuminant code {code} (known: {sorted(ILLUMINANTS)})")
    return ILLUMINANTS[code]


def illuminant_cct(code: int) -> float:
    return xy_to_temp_tint(illuminant_xy(code))[0]
