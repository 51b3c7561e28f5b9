"""White balance: as shot, automatic (grey world / grey edge, clipped pixels ignored), presets, kelvin + tint.

The chosen scene white is kept in ``meta.white_xy`` (it also selects the blend of the two calibration matrices
in the colour stage) and the camera neutral in ``meta.extra['neutral']``; the data are divided by the neutral.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..colour import temperature
from ..colour.profile import CameraProfile
from ..errors import ParameterError
from ..frame import BAYER_PATTERNS, Frame, State
from ..pipeline.stage import Params, Stage, param

#: preset → (kelvin, tint)
PRESETS = {"daylight": (5500.0, 0.0), "cloudy": (6500.0, 0.0), "shade": (7500.0, 0.0),
           "tungsten": (2850.0, 0.0), "fluorescent": (4000.0, 12.0), "flash": (5500.0, 0.0)}
MODES = ("as-shot", "auto", "kelvin", *PRESETS)
AUTO_METHODS = ("grey-world", "grey-edge")


@dataclass(frozen=True)
class WhiteBalanceParams(Params):
    mode: str = param("as-shot", choices=MODES, doc="as-shot, auto, kelvin (uses kelvin/tint) or a preset")
    kelvin: float = param(5500.0, min=temperature.MIN_K, max=temperature.MAX_K, doc="colour temperature for mode=kelvin")
    tint: float = param(0.0, min=-150.0, max=150.0, doc="green (−) / magenta (+) tint for mode=kelvin")
    auto_method: str = param("grey-edge", choices=AUTO_METHODS, doc="estimator for mode=auto")
    temp_shift: float = param(0.0, min=-5000.0, max=5000.0, doc="creative shift of the white in kelvin (+ = warmer picture)")
    tint_shift: float = param(0.0, min=-100.0, max=100.0, doc="creative tint shift (+ = more magenta)")


def profile_for(frame: Frame) -> CameraProfile:
    prof = frame.meta.extra.get("profile")
    if prof is None:
        prof = CameraProfile.from_metadata(frame.meta)
        frame.meta.extra["profile"] = prof
    return prof


def _planes(frame: Frame) -> np.ndarray:
    """A small (≤ ~0.5 MP) camera-RGB preview (superpixels for a mosaic) for estimation."""
    px = frame.pixels
    if frame.state is State.CFA:
        code = BAYER_PATTERNS[frame.meta.cfa_pattern]  # type: ignore[index]
        h2, w2 = px.shape[0] // 2 * 2, px.shape[1] // 2 * 2
        sites = [px[i // 2:h2:2, i % 2:w2:2] for i in range(4)]
        rgb = np.zeros(sites[0].shape + (3,), np.float32)
        cnt = np.zeros(3, np.float32)
        for s, c in zip(sites, code):
            rgb[..., c] += s
            cnt[c] += 1
        rgb /= cnt
    else:
        rgb = px
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 500_000)))
    return np.ascontiguousarray(rgb[::step, ::step])


def estimate_neutral(frame: Frame, method: str = "grey-edge") -> np.ndarray | None:
    """Camera-RGB neutral from the image: grey world or grey edge, ignoring clipped and dark pixels."""
    import cv2

    rgb = _planes(frame)
    sat = frame.meta.saturation if frame.meta.saturation is not None else np.ones(3, np.float32)
    valid = np.all(rgb < 0.97 * np.asarray(sat, np.float32), axis=2) & (rgb.min(axis=2) > 0.002)
    if valid.sum() < 100:
        return None
    if method == "grey-world":
        est = np.array([np.mean(rgb[..., c][valid]) for c in range(3)])
    else:
        sm = cv2.GaussianBlur(rgb, (0, 0), 1.0)
        gx = cv2.Sobel(sm, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(sm, cv2.CV_32F, 0, 1)
        mag = np.sqrt(gx * gx + gy * gy)
        # edges next to clipped or black areas are not evidence of the light: keep away from them by the
        # support of the blur + derivative (≈ 4 px)
        v = cv2.erode(valid.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        if v.sum() < 100:
            v = valid
        p = 6.0  # Minkowski norm (shades-of-grey on edges)
        est = np.array([np.mean(mag[..., c][v] ** p) ** (1 / p) for c in range(3)])
    if not np.all(np.isfinite(est)) or np.any(est <= 0):
        return None
    return est / est[1]


class WhiteBalance(Stage):
    name = "whitebalance"
    Params = WhiteBalanceParams
    takes = frozenset({State.CFA, State.CAMERA_RGB})
    doc = "divide by the camera neutral of the chosen white"

    def run(self, frame: Frame, p: WhiteBalanceParams) -> Frame:
        m = frame.meta
        prof = profile_for(frame)
        neutral: np.ndarray | None = None
        xy: tuple[float, float] | None = None
        if p.mode == "as-shot":
            if m.as_shot_neutral is not None:
                neutral = np.asarray(m.as_shot_neutral, np.float64)
            elif m.white_xy is not None:
                xy = m.white_xy
            else:
                neutral = estimate_neutral(frame, p.auto_method)
                if neutral is None:
                    xy = temperature.temp_tint_to_xy(*PRESETS["daylight"])
                m.note("no as-shot white balance in the file: estimated from the image")
        elif p.mode == "auto":
            neutral = estimate_neutral(frame, p.auto_method)
            if neutral is None:
                neutral = np.asarray(m.as_shot_neutral, np.float64) if m.as_shot_neutral is not None else None
                if neutral is None:
                    xy = temperature.temp_tint_to_xy(*PRESETS["daylight"])
        elif p.mode == "kelvin":
            xy = temperature.temp_tint_to_xy(p.kelvin, p.tint)
        else:
            xy = temperature.temp_tint_to_xy(*PRESETS[p.mode])
        if neutral is not None:
            xy = prof.neutral_to_xy(neutral)
        assert xy is not None
        if p.temp_shift or p.tint_shift:
            t, tint = temperature.xy_to_temp_tint(xy)
            # a warmer rendering = the light is taken to be bluer (higher K) than it was, as a temperature
            # slider does in any raw developer
            t2 = float(np.clip(t + p.temp_shift, temperature.MIN_K, temperature.MAX_K))
            xy = temperature.temp_tint_to_xy(t2, float(np.clip(tint + p.tint_shift, -150, 150)))
            neutral = None
        if neutral is None:
            neutral = prof.xy_to_neutral(xy)
        neutral = np.asarray(neutral, np.float64)
        if not np.all(np.isfinite(neutral)) or np.any(neutral <= 0):
            raise ParameterError(f"white balance gives an invalid neutral {neutral.tolist()}")
        mult = (1.0 / neutral).astype(np.float32)
        mult /= mult.min()  # the weakest channel keeps its scale: clipped whites stay at ≥ 1
        px = frame.pixels.copy()
        if frame.state is State.CFA:
            from ._kernels import gain_mosaic
            code = BAYER_PATTERNS[m.cfa_pattern]  # type: ignore[index]
            gain2 = np.array([mult[c] for c in code], np.float32).reshape(2, 2)
            gain_mosaic(px, gain2)
        else:
            px *= mult
        out = frame.with_pixels(px)
        out.meta.wb_multipliers = mult
        out.meta.white_xy = (float(xy[0]), float(xy[1]))
        out.meta.extra["neutral"] = neutral
        out.meta.wb_applied = True
        return out
