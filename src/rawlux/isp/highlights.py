"""Highlight reconstruction on the white-balanced mosaic.

Sensor channels clip at different levels (found per channel by the decoder, ``meta.saturation``), and after
white balance the clip levels differ again (``saturation × multiplier``). Where a channel has clipped, its value
is a lower bound only. Methods:

- ``reconstruct`` (default): at half resolution, estimate each clipped channel from the unclipped ones and the
  colour of the unclipped surroundings (normalised convolution of chromaticity), never below the clipped value;
  where every channel clipped, the result is neutral. Estimates are blended toward neutral as more channels clip
  (fading in with how far above the clip the estimate rises, so the repair blends into unclipped surroundings),
  so a clipped sky comes out white or plausibly blue, never magenta or cyan. Only pixels at the clip levels the
  decoder found in the data (a real ceiling, see ``io.decode._clip_level``) are touched: a bright unclipped
  gradation (an overcast sky, a white wall) is left exactly as it is.
- ``clip``: clip every channel at the lowest clip level: neutral but loses the brightest range.
- ``none``: leave the data as they are (for measurement).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frame import BAYER_PATTERNS, Frame, State
from ..pipeline.stage import Params, Stage, param

METHODS = ("reconstruct", "clip", "none")


@dataclass(frozen=True)
class HighlightsParams(Params):
    method: str = param("reconstruct", choices=METHODS, doc="reconstruct, clip or none")
    threshold: float = param(0.99, min=0.5, max=1.0, doc="fraction of a channel's clip level treated as clipped")


class Highlights(Stage):
    name = "highlights"
    Params = HighlightsParams
    takes = frozenset({State.CFA, State.CAMERA_RGB})
    doc = "repair clipped channels"

    def applies(self, frame: Frame, p: Params) -> bool:
        return super().applies(frame, p) and getattr(p, "method", "none") != "none" and frame.meta.kind != "image"

    def run(self, frame: Frame, p: HighlightsParams) -> Frame:
        m = frame.meta
        sat = np.asarray(m.saturation if m.saturation is not None else np.ones(3), np.float32)
        mult = np.asarray(m.wb_multipliers if m.wb_multipliers is not None else np.ones(3), np.float32)
        clip = sat * mult                                   # per colour, in white-balanced units
        thr = clip * np.float32(p.threshold)
        px = frame.pixels
        if frame.state is State.CFA:
            from ..pipeline.buffers import owns

            code = BAYER_PATTERNS[m.cfa_pattern]  # type: ignore[index]
            out = px if owns(frame) else px.copy()     # in place when the running pipeline owns the mosaic
            if p.method == "clip":
                np.minimum(out, clip.min(), out=out)
            else:
                _reconstruct_cfa(out, code, clip, thr)
        else:
            if float(px.max(initial=0.0)) < float(thr.min()):
                return frame
            out = px.copy()
            if p.method == "clip":
                np.minimum(out, clip.min(), out=out)
            else:
                rgb = _reconstruct_rgb(out, clip, thr)
                out = rgb
        return frame.with_pixels(out)


def _sample(img: np.ndarray, ys: np.ndarray, xs: np.ndarray, scale_y: float, scale_x: float) -> np.ndarray:
    """Bilinear samples of a small H×W×C image at full-resolution coordinates (ys, xs)."""
    h, w = img.shape[:2]
    fy = np.clip((ys + 0.5) / scale_y - 0.5, 0, h - 1)
    fx = np.clip((xs + 0.5) / scale_x - 0.5, 0, w - 1)
    y0 = np.minimum(fy.astype(np.int32), h - 1)
    x0 = np.minimum(fx.astype(np.int32), w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    ty = (fy - y0)[:, None].astype(np.float32)
    tx = (fx - x0)[:, None].astype(np.float32)
    return ((img[y0, x0] * (1 - tx) + img[y0, x1] * tx) * (1 - ty)
            + (img[y1, x0] * (1 - tx) + img[y1, x1] * tx) * ty)


def _reconstruct_rgb(rgb: np.ndarray, clip: np.ndarray, thr: np.ndarray, anyc: np.ndarray | None = None,
                     inplace: bool = False) -> np.ndarray:
    """Reconstruct clipped channels of an H×W×3 image (the core of both paths). Work per clipped pixel only."""
    import cv2

    if anyc is None:
        anyc = (rgb >= thr).any(axis=2)
    ys, xs = np.nonzero(anyc)
    if ys.size == 0:
        return rgb
    # colour of the unclipped surroundings: normalised convolution at low resolution
    h, w = anyc.shape
    scale = max(1, int(round(max(h, w) / 512)))
    sw, sh = max(1, w // scale), max(1, h // scale)
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    sm_any = cv2.resize(anyc.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    lum = small.sum(axis=2)
    wgt = (sm_any < 0.01).astype(np.float32) * lum        # bright unclipped pixels speak for the highlights
    sigma = max(2.0, 0.02 * max(sh, sw))
    den = cv2.GaussianBlur(wgt, (0, 0), sigma)
    num = cv2.GaussianBlur(wgt[..., None] * small / np.maximum(lum, 1e-6)[..., None], (0, 0), sigma)
    chroma = num / np.maximum(den, 1e-12)[..., None]
    chroma[den <= 1e-8] = 1.0 / 3.0
    ch = _sample(chroma.astype(np.float32), ys, xs, sh / h, sw / w)
    v = rgb[ys, xs]                                       # K×3 clipped pixels
    mk = v >= thr
    unc = (~mk).astype(np.float32)
    s_num = (v * ch * unc).sum(axis=1)
    s_den = (ch * ch * unc).sum(axis=1)
    s = np.where(s_den > 1e-12, s_num / np.maximum(s_den, 1e-12), 0.0).astype(np.float32)
    rec = np.where(mk, np.maximum(v, ch * s[:, None]), v)
    # toward neutral as more channels clip: 1 clipped → 1/9, 2 → 4/9, 3 → fully neutral; with 1 or 2 channels
    # clipped the pull fades in with how far the rebuilt colour rises above the clip (0 at the clip, full 15 %
    # above it), so pixels that only just reached the clip blend into their unclipped neighbours without a step
    n = mk.sum(axis=1).astype(np.float32)
    excess = np.max(np.where(mk, rec / np.maximum(clip, 1e-6), 0.0), axis=1) - 1.0
    fade = np.clip(excess / 0.15, 0.0, 1.0)
    fade = fade * fade * (3.0 - 2.0 * fade)
    t = np.where(n >= 3, 1.0, (n / 3.0) ** 2 * fade).astype(np.float32)
    peak = rec.max(axis=1)
    neutral_v = np.where(n >= 3, np.maximum(peak, clip.max()), peak)
    out = rec + t[:, None] * (neutral_v[:, None] - rec)
    res = rgb if inplace else rgb.copy()
    res[ys, xs] = np.maximum(out, v)                      # never darker than the data
    return res


def _reconstruct_cfa(cfa: np.ndarray, code: tuple[int, ...], clip: np.ndarray, thr: np.ndarray) -> None:
    """In place: reconstruct clipped sites of a white-balanced mosaic from a half-resolution estimate."""
    from ._kernels import cfa_superpixels, cfa_writeback

    h, w = cfa.shape
    h2, w2 = h // 2 * 2, w // 2 * 2
    code_a = np.asarray(code, np.int64)
    thr32 = np.asarray(thr, np.float32)
    rgb = np.empty((h2 // 2, w2 // 2, 3), np.float32)
    anyc = np.empty((h2 // 2, w2 // 2), np.bool_)
    cfa_superpixels(cfa, code_a, thr32, rgb, anyc)
    _reconstruct_rgb(rgb, clip, thr32, anyc, inplace=True)
    cfa_writeback(cfa, code_a, thr32, rgb, h2, w2)
    # an odd last row/column keeps its values, clipped at the lowest clip level to stay neutral
    if h2 < h:
        np.minimum(cfa[h2:], clip.min(), out=cfa[h2:])
    if w2 < w:
        np.minimum(cfa[:, w2:], clip.min(), out=cfa[:, w2:])
