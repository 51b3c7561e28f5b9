"""Depth maps for bokeh: files (.png/.tif/.exr/.npy) with a declared encoding, or embedded ones.

Everything is converted to *inverse depth* 1/z in 1/m (0 = infinitely far), the quantity the thin
lens model is linear in. Encodings (``v`` is the stored value scaled to [0, 1] for integer files):

- ``metres``: values are distances in metres (float files);
- ``linear-near-high`` / ``linear-near-low``: z linear in v between near and far, near = high/low v;
- ``inverse-near-high`` / ``inverse-near-low``: 1/z linear in v (disparity maps; near = high/low v).

Embedded maps: GDepth XMP in JPEGs (encoding, near and far declared by the file) and HEIF auxiliary
depth images (encoding from the bokeh params).
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


def _jpeg_xmp(data: bytes) -> str:
    """Standard + extended XMP of a JPEG (APP1 segments), concatenated as text."""
    std, ext = [], {}
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:                          # start of scan: no more metadata
            break
        size = int.from_bytes(data[i + 2:i + 4], "big")
        seg = data[i + 4:i + 2 + size]
        if marker == 0xE1:
            if seg.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
                std.append(seg[29:].decode("utf-8", "replace"))
            elif seg.startswith(b"http://ns.adobe.com/xmp/extension/\x00") and len(seg) > 75:
                body = seg[35:]
                guid, off = body[:32], int.from_bytes(body[36:40], "big")
                ext.setdefault(guid, []).append((off, body[40:]))
        i += 2 + size
    parts = std + [b"".join(c for _, c in sorted(chunks)).decode("utf-8", "replace") for chunks in ext.values()]
    return "\n".join(parts)


def _xmp_value(xmp: str, name: str) -> str | None:
    import re

    m = re.search(name + r'="([^"]*)"', xmp) or re.search(f"<{name}>([^<]*)</{name}>", xmp)
    return m.group(1) if m else None


def gdepth(source: str) -> tuple[np.ndarray, str, float, float] | None:
    """A depth map stored as GDepth XMP in a JPEG (portrait-mode photos): (values in [0, 1], encoding,
    near, far), or None. GDepth's RangeLinear is z = near + v (far − near); RangeInverse is 1/z linear
    in v with v = 0 at near."""
    import base64

    with open(source, "rb") as fh:
        data = fh.read()
    if not data.startswith(b"\xff\xd8"):
        return None
    xmp = _jpeg_xmp(data)
    b64 = _xmp_value(xmp, "GDepth:Data")
    if not b64:
        return None
    import cv2

    try:
        raw = base64.b64decode(b64)
        a = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_GRAYSCALE)
        near = float(_xmp_value(xmp, "GDepth:Near") or "nan")
        far = float(_xmp_value(xmp, "GDepth:Far") or "nan")
    except (ValueError, TypeError) as e:
        raise InputError(f"the embedded GDepth depth map cannot be decoded ({e})", path=source) from None
    if a is None or not (0 < near < far):
        raise InputError(f"the embedded GDepth depth map is unreadable or has no valid Near/Far "
                         f"(near={near}, far={far})", path=source)
    fmt = (_xmp_value(xmp, "GDepth:Format") or "RangeInverse").lower()
    enc = "linear-near-low" if fmt == "rangelinear" else "inverse-near-low"
    v = a.astype(np.float32) / float(np.iinfo(a.dtype).max)
    return v, enc, near, far


def embedded_depth(source: str | None) -> tuple[np.ndarray, str | None, float | None, float | None] | None:
    """A depth map embedded in the input: (values, encoding, near, far) with encoding/near/far None
    when the container does not declare them (HEIF auxiliary depth images), or None."""
    if not source or not Path(source).is_file():
        return None
    with open(source, "rb") as fh:
        head = fh.read(12)
    if head.startswith(b"\xff\xd8"):
        return gdepth(source)
    if head[4:8] != b"ftyp":
        return None
    try:
        import pillow_heif

        hf = pillow_heif.open_heif(source, convert_hdr_to_8bit=False)
        depth = getattr(hf, "info", {}).get("depth_images") or []
        if not depth:
            return None
        a = np.asarray(depth[0].to_pillow())
        if a.ndim == 3:
            a = a[..., 0]
        if np.issubdtype(a.dtype, np.integer):
            return a.astype(np.float32) / float(np.iinfo(a.dtype).max), None, None, None
        return a.astype(np.float32), None, None, None
    except Exception:  # noqa: BLE001 - an unreadable auxiliary image means "no embedded depth"
        return None
