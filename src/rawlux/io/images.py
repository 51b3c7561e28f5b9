"""Display-referred inputs (JPEG, PNG, TIFF, HEIF) → linear Rec.2020 frames."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ImageTooLarge, InputError
from ..frame import Frame, Metadata, State


def _space_from_icc(icc: bytes | None) -> str:
    """Name of a known RGB space described by an embedded ICC profile (sRGB when unknown)."""
    if not icc:
        return "srgb"
    try:
        import io

        from PIL import ImageCms
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = (ImageCms.getProfileDescription(prof) or "").lower()
    except Exception:  # noqa: BLE001 - an unreadable profile falls back to sRGB
        desc = icc[:400].decode("latin-1", "replace").lower()
    if "p3" in desc:
        return "display-p3"
    if "2020" in desc:
        return "rec2020"
    if "adobe rgb" in desc or "adobergb" in desc or "compatible with adobe" in desc:
        return "adobe-rgb"
    if "prophoto" in desc or "romm" in desc:
        return "prophoto"
    return "srgb"


def _orient(px: np.ndarray, o: int) -> np.ndarray:
    from ..isp.geometry import apply_orientation
    return apply_orientation(px, o)


def read_display_image(path: str, kind: str, limit: int, allow_truncated: bool = False) -> Frame:
    """Decode a JPEG/PNG/TIFF/HEIF. Sizes were checked against the data by :mod:`rawlux.io.preflight`; a file
    whose data end early is refused, or with ``allow_truncated`` decoded as far as it goes (the decoder fills
    the rest: black for PNG/TIFF, grey for JPEG) with a notice."""
    from PIL import Image

    if kind == "heif":
        try:
            import pillow_heif
            pillow_heif.register_heif_opener()
        except ImportError as e:  # pragma: no cover - a dependency
            raise InputError(f"HEIF support is missing ({e})", path=path) from None
    Image.MAX_IMAGE_PIXELS = None  # rawlux checks the size itself, before decoding
    try:
        im = Image.open(path)
    except Exception as e:  # noqa: BLE001
        raise InputError(f"cannot decode as {kind.upper()} ({type(e).__name__}: {e})", path=path) from None
    with im:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise InputError(f"image has invalid dimensions {w}×{h}", path=path)
        if w * h > limit:
            raise ImageTooLarge(f"image is {w}×{h} = {w * h / 1e6:.1f} MP, above the limit of {limit / 1e6:.1f} MP "
                                f"(raise it with --max-pixels or RAWLUX_MAX_PIXELS)", path=path)
        icc = im.info.get("icc_profile")
        from .metadata import from_pillow
        exif = from_pillow(im)
        mode = im.mode
        truncated_note = ""
        try:
            if kind in ("png", "tiff") and mode in ("I;16", "I;16B", "I;16L", "I", "F", "RGB", "RGBA") or kind == "tiff":
                arr, linear = _read_deep(path, kind)
                if arr is None:
                    arr, linear = _pillow_rgb(im), False
            else:
                arr, linear = _pillow_rgb(im), False
        except InputError:
            raise
        except MemoryError:
            raise InputError("image too large to decode in memory", path=path) from None
        except OSError as e:
            cut = "truncated" in str(e)
            if not (allow_truncated and cut):
                raise InputError(f"corrupt or truncated {kind.upper()} data ({type(e).__name__}: {e})"
                                 + ("; develop what is there with --allow-truncated" if cut else ""), path=path) from None
            try:
                arr, linear = _pillow_truncated(path), False
            except Exception as e2:  # noqa: BLE001 - any codec error
                raise InputError(f"corrupt or truncated {kind.upper()} data ({type(e2).__name__}: {e2})",
                                 path=path) from None
            truncated_note = f"truncated {kind.upper()} data ({e}); developed what is there"
        except Exception as e:  # noqa: BLE001 - truncated/corrupt data in any codec
            raise InputError(f"corrupt or truncated {kind.upper()} data ({type(e).__name__}: {e})", path=path) from None
    space = _space_from_icc(icc)
    from ..colour import spaces
    if linear:
        lin = np.ascontiguousarray(arr[..., :3], dtype=np.float32)   # float TIFF: already linear
    else:
        lin = spaces.decode(arr[..., :3], spaces.transfer_of(space))
    o = int(exif.pop("Orientation", 1) or 1)
    lin = _orient(lin, o)
    m = spaces.rgb_to_rgb(space, spaces.WORKING).astype(np.float32)
    h2, w2 = lin.shape[:2]
    work = (lin.reshape(-1, 3) @ m.T).reshape(h2, w2, 3)
    meta = Metadata(source=path, kind="image", icc=icc, exif=exif, orientation=1,
                    make=exif.get("Make", ""), model=exif.get("Model", ""))
    meta.extra["input_space"] = space
    if truncated_note:
        meta.extra["truncated"] = truncated_note
        from ..optics.opcodes import notice
        notice(meta, truncated_note)
    return Frame(np.ascontiguousarray(work, dtype=np.float32), State.SCENE_LINEAR, meta)


def _pillow_truncated(path: str) -> np.ndarray:
    """What Pillow decodes of a truncated file when told to go on (LOAD_TRUNCATED_IMAGES for this call only)."""
    from PIL import Image, ImageFile

    old = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with Image.open(path) as im:
            im.load()
            return _pillow_rgb(im)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = old


def _pillow_rgb(im: Any) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float32) / (65535.0 if im.mode != "I" or np.asarray(im).max() > 255 else 255.0)
        return np.repeat(a[..., None], 3, axis=2)
    if im.mode == "F":
        a = np.asarray(im, dtype=np.float32)
        return np.repeat(a[..., None], 3, axis=2)
    rgb = im.convert("RGB")
    return np.asarray(rgb, dtype=np.float32) / 255.0


def _read_deep(path: str, kind: str) -> tuple[np.ndarray | None, bool]:
    """16-bit and float PNG/TIFF, which Pillow would truncate to 8 bits: RGB float32 in [0, 1]."""
    if kind == "tiff":
        import tifffile
        try:
            a = tifffile.imread(path)
        except Exception:  # noqa: BLE001 - let Pillow try
            return None, False
    else:
        import cv2
        a = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if a is None:
            return None, False
        if a.ndim == 3:
            a = a[..., [2, 1, 0, 3][: a.shape[2]]] if a.shape[2] >= 3 else a
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] < 3:
        return None, False
    if a.dtype == np.uint16:
        return a[..., :3].astype(np.float32) / 65535.0, False
    if a.dtype == np.uint8:
        return a[..., :3].astype(np.float32) / 255.0, False
    if a.dtype in (np.float32, np.float64, np.float16):
        return np.nan_to_num(a[..., :3].astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0), True
    return None, False
