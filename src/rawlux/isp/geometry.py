"""Geometry: the DNG default crop and the EXIF orientation, so later stages work in display coordinates."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param


def apply_orientation(px: np.ndarray, o: int, inplace: bool = False) -> np.ndarray:
    """Rotate/mirror ``px`` (H×W[×C]) so that EXIF orientation ``o`` becomes 1 (OpenCV: threaded, no strides).
    ``inplace``: mirrors and half-turns (2, 3, 4) may overwrite ``px`` instead of allocating."""
    if o == 1 or o not in range(2, 9):
        return px
    if px.ndim == 3 and px.shape[2] > 4 or px.dtype not in (np.uint8, np.uint16, np.float32):
        return _orient_numpy(px, o)
    import cv2

    a = np.ascontiguousarray(px)
    dst = a if inplace and a is px and o in (2, 3, 4) else None
    if o == 2:
        return cv2.flip(a, 1, dst=dst) if dst is not None else cv2.flip(a, 1)
    if o == 3:
        return cv2.flip(a, -1, dst=dst) if dst is not None else cv2.flip(a, -1)
    if o == 4:
        return cv2.flip(a, 0, dst=dst) if dst is not None else cv2.flip(a, 0)
    if o == 5:
        return cv2.transpose(a)
    if o == 6:
        return cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE)
    if o == 7:
        return cv2.rotate(cv2.transpose(a), cv2.ROTATE_180)
    return cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE)


def _orient_numpy(px: np.ndarray, o: int) -> np.ndarray:
    if o == 2:
        px = px[:, ::-1]
    elif o == 3:
        px = px[::-1, ::-1]
    elif o == 4:
        px = px[::-1, :]
    elif o == 5:
        px = np.swapaxes(px, 0, 1)
    elif o == 6:
        px = np.rot90(px, -1)
    elif o == 7:
        px = np.swapaxes(px, 0, 1)[::-1, ::-1]
    elif o == 8:
        px = np.rot90(px, 1)
    return np.ascontiguousarray(px)


@dataclass(frozen=True)
class GeometryParams(Params):
    orient: bool = param(True, doc="apply the EXIF orientation to the pixels (then orientation = 1)")
    default_crop: bool = param(True, doc="apply the DNG DefaultCrop")


class Geometry(Stage):
    name = "geometry"
    Params = GeometryParams
    takes = frozenset({State.CAMERA_RGB})
    doc = "default crop, then orientation"

    def run(self, frame: Frame, p: GeometryParams) -> Frame:
        px = frame.pixels
        m = frame.meta
        if p.default_crop and m.default_crop is not None:
            x, y, w, h = m.default_crop
            px = px[y:y + h, x:x + w]
        o = m.orientation if p.orient else 1
        if o != 1:
            from ..pipeline.buffers import owns
            px = apply_orientation(px, o, inplace=px is frame.pixels and owns(frame))
        if px is frame.pixels and o == 1:
            return frame
        out = frame.with_pixels(np.ascontiguousarray(px))
        if p.default_crop:
            out.meta.default_crop = None
        if o != 1:
            out.meta.orientation = 1
        return out
