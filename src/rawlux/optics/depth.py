"""Depth maps for bokeh: files (.png/.tif/.exr/.npy) with a declared encoding, or embedded ones.

Everything is converted to *inverse depth* 1/z in 1/m (0 = infinitely far), the quantity the thin
lens model is linear in. Encodings (``v`` is the stored value scaled to [0, 1] for integer files):

- ``metres``: values are distances in metres (float files);
- ``linear-near-high`` / ``linear-near-low``: z linear in v between near and far, near = high/low v;
- ``inverse-near-high`` / ``inverse-near-low``: 1/z linear in v (disparity maps; near = high/low v).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputError, ParameterError

ENCODINGS = ("inverse-near-high", "inverse-near-low", "linear-near-high", "linear-near-low", "metres")


def _read(path: str) -> tuple[np.ndarray, bool]:
    """(values, normalised): integer images come back scaled to [0, 1]."""
    p = Path(path)
    if not p.is_file():
        raise InputError("depth map not found (bokeh.depth names a file that does not exist)", path=path)
    ext = p.suffix.lower()
    try:
        if ext == ".npy":
            a = np.load(path, allow_pickle=False)
        elif ext == ".exr":
            os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
            import cv2

            a = cv2.imread(path, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_GRAYSCALE)
            if a is None:
                raise InputError("cannot decode the EXR depth map (OpenCV built without OpenEXR?); "
                                 "save it as .npy or 16-bit PNG", path=path)
        elif ext in (".tif", ".tiff"):
            import tifffile

            a = tifffile.imread(path)
        elif ext in (".png", ".jpg", ".jpeg"):
            import cv2

            a = cv2.imread(path, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_GRAYSCALE)
            if a is None:
                raise InputError("cannot decode the depth map image", path=path)
        else:
            raise ParameterError(f"depth map {path}: unsupported extension {ext!r} (use .png, .tif, .exr or .npy)")
    except (InputError, ParameterError):
        raise
    except Exception as e:  # noqa: BLE001 - many readers, many error types
        raise InputError(f"cannot read the depth map ({type(e).__name__}: {e})", path=path) from None
    a = np.asarray(a)
    if a.ndim == 3:
        a = a[..., 0]
    if a.ndim != 2 or a.size == 0:
        raise InputError(f"depth map must be one channel H×W, not shape {a.shape}", path=path)
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.float32) / float(np.iinfo(a.dtype).max), True
    return a.astype(np.float32), False


def to_inverse_depth(v: np.ndarray, encoding: str, near: float, far: float, normalised: bool,
                     where: str = "depth map") -> np.ndarray:
    if encoding not in ENCODINGS:
        raise ParameterError(f"bokeh.depth_encoding={encoding!r} is not one of: {', '.join(ENCODINGS)}")
    if not 0 < near < far:
        raise ParameterError(f"bokeh.depth_near={near:g} and depth_far={far:g}: need 0 < near < far (metres)")
    v = np.nan_to_num(v.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if encoding == "metres":
        if normalised:
            raise ParameterError(f"{where}: 'metres' needs a float file (.npy/.exr/.tif) holding distances; "
                                 f"an integer image needs a linear-* or inverse-* encoding")
        return np.where(v > 0, 1.0 / np.maximum(v, 1e-6), 0.0).astype(np.float32)
    lo, hi = float(v.min()), float(v.max())
    if not normalised and (lo < -1e-3 or hi > 1.0 + 1e-3):
        v = (v - lo) / max(hi - lo, 1e-12)                     # float maps in any range: stretch to [0, 1]
    v = np.clip(v, 0.0, 1.0)
    t = v if encoding.endswith("near-high") else 1.0 - v       # t = 1 at near
    if encoding.startswith("linear"):
        z = far + (near - far) * t
        return (1.0 / z).astype(np.float32)
    return (1.0 / far + (1.0 / near - 1.0 / far) * t).astype(np.float32)


def load_depth(path: str, shape: tuple[int, int], encoding: str, near: float, far: float) -> np.ndarray:
    """Inverse depth (1/m) at the frame's size from a file."""
    v, normalised = _read(path)
    inv = to_inverse_depth(v, encoding, near, far, normalised, where=path)
    return fit_to(inv, shape, path)


def fit_to(inv: np.ndarray, shape: tuple[int, int], where: str) -> np.ndarray:
    import cv2

    h, w = shape
    dh, dw = inv.shape
    if (dh, dw) == (h, w):
        return inv
    if abs(dw / dh - w / h) > 0.02 * (w / h):
        hint = " (it looks rotated: the depth map must be in the orientation of the photo)" \
            if abs(dh / dw - w / h) < 0.02 * (w / h) else ""
        raise InputError(f"depth map is {dw}×{dh} but the photo is {w}×{h}: aspect ratios differ{hint}", path=where)
    return cv2.resize(inv, (w, h), interpolation=cv2.INTER_LINEAR)


def embedded_depth(source: str | None) -> np.ndarray | None:
    """Normalised depth/disparity embedded in a HEIF (auxiliary depth image), or None."""
    if not source or not Path(source).is_file():
        return None
    with open(source, "rb") as fh:
        head = fh.read(12)
    if head[4:8] != b"ftyp":
        return None
    try:
        import pillow_heif

        hf = pillow_heif.open_heif(source, convert_hdr_to_8bit=False)
        depth = getattr(hf, "info", {}).get("depth_images") or []
        if not depth:
            return None
        im = depth[0].to_pillow()
        a = np.asarray(im)
        if a.ndim == 3:
            a = a[..., 0]
        if np.issubdtype(a.dtype, np.integer):
            return a.astype(np.float32) / float(np.iinfo(a.dtype).max)
        return a.astype(np.float32)
    except Exception:  # noqa: BLE001 - an unreadable auxiliary image means "no embedded depth"
        return None
