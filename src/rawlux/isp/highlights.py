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
from typing import Any

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
                out = _reconstruct_rgb(out, clip, thr, inplace=True)      # on the copy
        return frame.with_pixels(out)


def _blur_pair(den_in: np.ndarray, num_in: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.GaussianBlur`` of both inputs (the same values as two plain calls), on two threads: OpenCV blurs
    floats on one thread and releases the GIL. The second input is cut into two row bands that overlap by the
    kernel radius, so every output row is computed from the same input rows as in one call."""
    import threading

    import cv2

    h = num_in.shape[0]
    if den_in.size < 16384:                                # too small for a thread to pay off
        return cv2.GaussianBlur(den_in, (0, 0), sigma), cv2.GaussianBlur(num_in, (0, 0), sigma)
    r = (int(round(sigma * 8 + 1)) | 1) // 2 + 2           # OpenCV's kernel radius for floats, with a margin
    # the helper thread blurs den_in and the top band; den_in has 1 channel, num_in 3: a third each way
    m = h // 3 if h >= 6 * r else 0
    out: dict[str, Any] = {}

    def helper() -> None:
        try:
            out["den"] = cv2.GaussianBlur(den_in, (0, 0), sigma)
            if m:
                out["top"] = cv2.GaussianBlur(num_in[:m + r], (0, 0), sigma)[:m]
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            out["err"] = e

    th = threading.Thread(target=helper, name="rawlux-highlights-blur", daemon=True)
    th.start()
    try:
        bottom = cv2.GaussianBlur(num_in[m - r:] if m else num_in, (0, 0), sigma)
    finally:
        th.join()
    if "err" in out:
        raise out["err"]
    if not m:
        return out["den"], bottom
    num = np.empty_like(num_in)
    num[:m] = out["top"]
    num[m:] = bottom[r:]
    return out["den"], num


def _reconstruct_rgb(rgb: np.ndarray, clip: np.ndarray, thr: np.ndarray, anyc: np.ndarray | None = None,
                     inplace: bool = False) -> np.ndarray:
    """Reconstruct clipped channels of an H×W×3 image (the core of both paths). Work per clipped pixel only."""
    import cv2

    from ._highlight_kernels import chroma_normalise, chroma_weights, rebuild_clipped

    if anyc is None:
        anyc = (rgb >= thr).any(axis=2)
    if not anyc.any():
        return rgb
    # colour of the unclipped surroundings: normalised convolution at low resolution
    h, w = anyc.shape
    scale = max(1, int(round(max(h, w) / 512)))
    sw, sh = max(1, w // scale), max(1, h // scale)
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    sm_any = cv2.resize(anyc.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    # bright unclipped pixels speak for the highlights: weight = luminance r + g + b where no pixel of the area
    # clipped, blurred with and without the chromaticity rgb / luminance; chroma = their ratio (1/3 each where
    # no weight reaches)
    small = np.ascontiguousarray(small, dtype=np.float32)
    wgt = np.empty((sh, sw), np.float32)
    wchroma = np.empty((sh, sw, 3), np.float32)
    chroma_weights(small, np.ascontiguousarray(sm_any, dtype=np.float32), wgt, wchroma)
    sigma = max(2.0, 0.02 * max(sh, sw))
    den, num = _blur_pair(wgt, wchroma, sigma)
    chroma = np.empty((sh, sw, 3), np.float32)
    chroma_normalise(np.ascontiguousarray(num, dtype=np.float32), np.ascontiguousarray(den, dtype=np.float32),
                     chroma)
    res = rgb if inplace else rgb.copy()
    # per flagged pixel, in one parallel pass (the maths are described in rebuild_clipped): the chroma sampled
    # bilinearly, the clipped channels rebuilt from the unclipped ones, pulled toward neutral as more channels
    # clip (1 clipped → 1/9, 2 → 4/9, 3 → fully neutral; with 1 or 2 channels clipped the pull fades in with how
    # far the rebuilt colour rises above the clip, 0 at the clip, full 15 % above it, so pixels that only just
    # reached the clip blend into their unclipped neighbours without a step), never darker than the data
    rebuild_clipped(rgb, anyc, chroma, float(sh / h), float(sw / w),
                    np.asarray(clip, np.float32), np.asarray(thr, np.float32), res)
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
