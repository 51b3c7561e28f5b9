"""A canvas in the photo's own sample type (uint8, uint16 or float32), so the photo is pasted bit for bit.

Decorations (text, logo, divider, corners) are blended in float32 over their own small regions only.
"""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError


def scale_of(dtype: np.dtype) -> float:
    dt = np.dtype(dtype)
    if dt == np.uint8:
        return 255.0
    if dt == np.uint16:
        return 65535.0
    if dt.kind == "f":
        return 1.0
    raise ParameterError(f"frames work on uint8, uint16 or float images, not {dt}")


class Canvas:
    """H×W×3 pixels of one dtype, with float colours in [0, 1]."""

    def __init__(self, height: int, width: int, dtype: np.dtype, background: tuple[float, float, float] | None):
        """``background=None`` leaves the pixels unset: the caller fills them (see :meth:`fill_around`)."""
        self.dtype = np.dtype(dtype if np.dtype(dtype).kind != "f" else np.float32)
        self.scale = scale_of(self.dtype)
        self.px = np.empty((int(height), int(width), 3), self.dtype)
        if background is not None:
            self.px[...] = self.encode(np.asarray(background, np.float32))

    def fill_around(self, x: int, y: int, w: int, h: int, colour: tuple[float, float, float]) -> None:
        """Fill everything but the box (x, y, w, h): the photo goes there, so it is written once only."""
        W, H = self.width, self.height
        self.fill(0, 0, W, y, colour)
        self.fill(0, y + h, W, H - y - h, colour)
        self.fill(0, y, x, h, colour)
        self.fill(x + w, y, W - x - w, h, colour)

    @property
    def height(self) -> int:
        return self.px.shape[0]

    @property
    def width(self) -> int:
        return self.px.shape[1]

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Float [0, 1] → this canvas's dtype (rounded, clipped for integers)."""
        if self.dtype.kind == "f":
            return np.asarray(values, np.float32)
        v = np.clip(np.rint(np.asarray(values, np.float32) * self.scale), 0, self.scale)
        return v.astype(self.dtype)

    def decode(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, np.float32) * np.float32(1.0 / self.scale)

    def _clip(self, x: int, y: int, w: int, h: int) -> tuple[int, int, int, int, int, int] | None:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return None
        return x0, y0, x1, y1, x0 - x, y0 - y

    def fill(self, x: int, y: int, w: int, h: int, colour: tuple[float, float, float]) -> None:
        c = self._clip(x, y, w, h)
        if c:
            x0, y0, x1, y1, _, _ = c
            self.px[y0:y1, x0:x1] = self.encode(np.asarray(colour, np.float32))

    def paste(self, pixels: np.ndarray, x: int, y: int) -> None:
        """Copy pixels of the same dtype in as they are."""
        h, w = pixels.shape[:2]
        self.px[y:y + h, x:x + w] = pixels

    def blend(self, alpha: np.ndarray, x: int, y: int, colour: "tuple[float, float, float] | np.ndarray") -> None:
        """Paint ``colour`` (an RGB triple or an h×w×3 float array) through coverage ``alpha`` (h×w in [0, 1])."""
        h, w = alpha.shape[:2]
        c = self._clip(x, y, w, h)
        if not c:
            return
        x0, y0, x1, y1, ox, oy = c
        a = alpha[oy:oy + (y1 - y0), ox:ox + (x1 - x0), None].astype(np.float32)
        if not np.any(a):
            return
        col = np.asarray(colour, np.float32)
        if col.ndim == 3:
            col = col[oy:oy + (y1 - y0), ox:ox + (x1 - x0)]
        region = self.decode(self.px[y0:y1, x0:x1])
        out = region + (col - region) * a
        # write only where something was painted, so untouched pixels stay bit-exact
        touched = a[..., 0] > 0
        self.px[y0:y1, x0:x1][touched] = self.encode(out[touched])

    def mean_luma(self, x: int, y: int, w: int, h: int) -> float:
        c = self._clip(x, y, w, h)
        if not c:
            return 0.5
        x0, y0, x1, y1, _, _ = c
        reg = self.px[y0:y1, x0:x1]
        step = max(1, int(np.sqrt(reg.shape[0] * reg.shape[1] / 65536)))
        r = self.decode(reg[::step, ::step])
        return float(np.mean(r @ np.array([0.2126, 0.7152, 0.0722], np.float32)))
