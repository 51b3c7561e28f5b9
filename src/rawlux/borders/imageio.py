"""Read finished photos (JPEG, PNG, TIFF, HEIF) as they are stored, and write framed ones.

Pixels stay in their stored sample type (8 or 16 bits), upright (EXIF orientation applied), so the
photo can be pasted into the frame bit for bit. EXIF is kept (orientation reset to 1, dimensions updated,
the stale thumbnail dropped) and so is the ICC profile. Outputs are written to a temporary file in the
target folder and renamed; an input is never written and an existing output only with ``overwrite``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageTooLarge, InputError, OutputError, ParameterError
from ..io.atomic import atomic_path

from ..io.formats import DISPLAY_EXTENSIONS, EXTENSIONS  # noqa: E402 - the one table (io/formats.py)
from ..io.formats import DEFAULT_MAX_PIXELS  # noqa: E402,F401

OUT_EXTENSIONS = EXTENSIONS          # one table of output formats, the one rawlux.save uses


@dataclass
class Photo:
    """A finished photo as stored: upright pixels (uint8/uint16 H×W×3), normalised EXIF, raw EXIF, ICC."""

    pixels: np.ndarray
    exif: dict[str, Any] = field(default_factory=dict)
    exif_bytes: bytes | None = None
    icc: bytes | None = None
    path: str | None = None
    format: str = "jpeg"


def _deep_pixels(path: str, fmt: str) -> np.ndarray | None:
    """16-bit PNG/TIFF pixels (Pillow reads those as 8 bits or not at all)."""
    if fmt == "tiff":
        import tifffile
        try:
            a = tifffile.imread(path)
        except Exception:  # noqa: BLE001 - let Pillow try
            return None
    else:
        import cv2
        a = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if a is None:
            return None
        if a.ndim == 3 and a.shape[2] >= 3:
            a = a[..., [2, 1, 0]]
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] < 3 or a.dtype != np.uint16:
        return None
    return np.ascontiguousarray(a[..., :3])


def _is_16bit(path: str, fmt: str) -> bool:
    """Whether a PNG/TIFF stores 16-bit samples (read from its header, without decoding)."""
    try:
        if fmt == "png":
            with open(path, "rb") as fh:
                head = fh.read(26)
            return len(head) == 26 and head[24] == 16
        if fmt == "tiff":
            import tifffile
            with tifffile.TiffFile(path) as tf:
                return tf.pages[0].bitspersample == 16
    except Exception:  # noqa: BLE001 - the decoder reports a broken file
        return False
    return False


def read_photo(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Read a JPEG/PNG/TIFF/HEIF with its EXIF and ICC."""
    from PIL import Image

    p = str(path)
    if not os.path.isfile(p):
        raise InputError("does not exist or is not a file", path=p)
    fmt = DISPLAY_EXTENSIONS.get(Path(p).suffix.lower())
    if fmt is None:
        raise InputError(f"not a JPEG, PNG, TIFF or HEIF file (extension {Path(p).suffix!r})", path=p)
    if fmt == "heif":
        import pillow_heif
        pillow_heif.register_heif_opener()
    Image.MAX_IMAGE_PIXELS = None  # checked below, before decoding
    try:
        im = Image.open(p)
    except Exception as e:  # noqa: BLE001
        raise InputError(f"cannot decode as {fmt.upper()} ({type(e).__name__}: {e})", path=p) from None
    with im:
        w, h = im.size
        if w * h > max_pixels:
            raise ImageTooLarge(f"image is {w}×{h} = {w * h / 1e6:.1f} MP, above the limit of "
                                f"{max_pixels / 1e6:.0f} MP", path=p)
        from ..io.metadata import from_pillow
        exif = from_pillow(im)
        icc = im.info.get("icc_profile") or None
        raw = im.info.get("exif")
        if not raw:
            try:
                ex = im.getexif()
                raw = ex.tobytes() if len(ex) else None
            except Exception:  # noqa: BLE001
                raw = None
        for key in ("FocalPlaneXResolution", "FocalPlaneYResolution", "FocalPlaneResolutionUnit",
                    "ExifImageWidth", "ExifImageHeight"):
            _extra_tag(im, key, exif)
        try:
            px = _deep_pixels(p, fmt) if _is_16bit(p, fmt) else None
            if px is None:
                px = np.asarray(im.convert("RGB"))
        except Exception as e:  # noqa: BLE001 - truncated or corrupt data
            raise InputError(f"corrupt or truncated {fmt.upper()} data ({type(e).__name__}: {e})", path=p) from None
    o = int(exif.pop("Orientation", 1) or 1)
    if o != 1:
        from ..isp.geometry import apply_orientation
        px = apply_orientation(px, o)
    return Photo(np.ascontiguousarray(px), exif, raw if isinstance(raw, bytes) else None, icc, p, fmt)


def _extra_tag(im: Any, name: str, out: dict[str, Any]) -> None:
    """Tags the normalised EXIF leaves out but frames use (sensor size → 35 mm equivalent)."""
    from PIL import ExifTags

    try:
        sub = im.getexif().get_ifd(ExifTags.IFD.Exif)
    except Exception:  # noqa: BLE001
        return
    tag = {"FocalPlaneXResolution": 0xA20E, "FocalPlaneYResolution": 0xA20F,
           "FocalPlaneResolutionUnit": 0xA210, "ExifImageWidth": 0xA002, "ExifImageHeight": 0xA003}[name]
    v = sub.get(tag)
    if v is None:
        return
    try:
        out[name] = float(v) if name.startswith("FocalPlaneX") or name.startswith("FocalPlaneY") else int(v)
    except (TypeError, ValueError, ZeroDivisionError):
        pass


def exif_for_output(photo_exif_bytes: bytes | None, exif: dict[str, Any], width: int, height: int) -> bytes:
    """The input's EXIF, orientation 1, new dimensions, no thumbnail; rebuilt from fields if unreadable."""
    import piexif

    from .._version import __version__
    if photo_exif_bytes:
        data = photo_exif_bytes if photo_exif_bytes.startswith(b"Exif") else b"Exif\x00\x00" + photo_exif_bytes
        for drop_makernote in (False, True):
            try:
                d = piexif.load(data)
                d["0th"][piexif.ImageIFD.Orientation] = 1
                d["Exif"][piexif.ExifIFD.PixelXDimension] = int(width)
                d["Exif"][piexif.ExifIFD.PixelYDimension] = int(height)
                d["1st"], d["thumbnail"] = {}, None
                if drop_makernote:
                    d["Exif"].pop(piexif.ExifIFD.MakerNote, None)
                return piexif.dump(d)
            except Exception:  # noqa: BLE001 - odd maker notes and broken IFDs: try without, then rebuild
                continue
    from ..io.metadata import to_exif_bytes
    return to_exif_bytes(exif, width=width, height=height, software=f"rawlux {__version__}")


def output_format(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    from ..io.encode import format_for
    return format_for(path, fmt)


def write_photo(pixels: np.ndarray, path: str | os.PathLike[str], *, exif: bytes | None, icc: bytes | None,
                fmt: str | None = None, quality: int = 95, overwrite: bool = False,
                inputs: tuple[str, ...] = ()) -> Path:
    """Write uint8/uint16 pixels atomically with EXIF and ICC."""
    out = Path(path)
    f = output_format(out, fmt)
    from ..io.atomic import check_output_target

    check_output_target(out, quality, overwrite, inputs)
    px = pixels
    if px.dtype == np.uint16 and f in ("jpeg", "heif"):
        px = (px.astype(np.uint32) * 255 + 32767) // 65535
        px = px.astype(np.uint8)
    with atomic_path(out, overwrite=overwrite) as tmp:
        _encode(f, px, tmp, exif=exif, icc=icc, quality=int(quality))
    return out


def _encode(fmt: str, px: np.ndarray, tmp: str, *, exif: bytes | None, icc: bytes | None, quality: int) -> None:
    from PIL import Image

    kw: dict[str, Any] = {}
    if icc:
        kw["icc_profile"] = icc
    if exif:
        kw["exif"] = exif
    if fmt == "jpeg":
        Image.fromarray(px, "RGB").save(tmp, "JPEG", quality=quality, subsampling=0 if quality >= 90 else 2, **kw)
    elif fmt == "png":
        if px.dtype == np.uint8:
            Image.fromarray(px, "RGB").save(tmp, "PNG", compress_level=3, **kw)
        else:
            import struct
            import zlib

            import cv2
            ok, buf = cv2.imencode(".png", np.ascontiguousarray(px[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 3])
            if not ok:
                raise OutputError("PNG encoding failed", path=tmp)

            def chunk(kind: bytes, data: bytes) -> bytes:
                return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
            extra = b""
            if icc:
                extra += chunk(b"iCCP", b"ICC\0\0" + zlib.compress(icc))
            if exif:
                extra += chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif)
            b = buf.tobytes()
            end = 8 + 8 + struct.unpack(">I", b[8:12])[0] + 4   # after IHDR
            with open(tmp, "wb") as fh:
                fh.write(b[:end] + extra + b[end:])
    elif fmt == "tiff":
        import tifffile
        tifffile.imwrite(tmp, px, photometric="rgb", compression="zlib", iccprofile=icc, metadata=None,
                         software=False)
        if exif:
            _tiff_exif(tmp, exif)
    elif fmt == "heif":
        import pillow_heif
        hf = pillow_heif.from_bytes(mode="RGB", size=(px.shape[1], px.shape[0]), data=px.tobytes())
        hf.save(tmp, format="HEIF", quality=quality, **kw)
    else:  # pragma: no cover - output_format validated it
        raise ParameterError(f"unknown format {fmt}")


def _tiff_exif(path: str, exif: bytes) -> None:
    """Copy EXIF into a TIFF written by tifffile (it cannot write EXIF sub-IFDs itself)."""
    import pyexiv2

    from ..io.metadata import read_exif_bytes
    ex = read_exif_bytes(exif)
    d = {"Exif.Image.Orientation": "1"}
    for k, key in (("Make", "Exif.Image.Make"), ("Model", "Exif.Image.Model"), ("LensModel", "Exif.Photo.LensModel"),
                   ("DateTimeOriginal", "Exif.Photo.DateTimeOriginal"), ("Artist", "Exif.Image.Artist"),
                   ("Copyright", "Exif.Image.Copyright")):
        if ex.get(k):
            d[key] = str(ex[k])
    from fractions import Fraction

    def rat(v: float, lim: int = 10000) -> str:
        fr = Fraction(float(v)).limit_denominator(lim)
        return f"{fr.numerator}/{fr.denominator}"
    for k, key in (("ExposureTime", "Exif.Photo.ExposureTime"), ("FNumber", "Exif.Photo.FNumber"),
                   ("FocalLength", "Exif.Photo.FocalLength")):
        if ex.get(k):
            d[key] = rat(ex[k])
    if ex.get("ISO"):
        d["Exif.Photo.ISOSpeedRatings"] = str(int(ex["ISO"]))
    if ex.get("FocalLengthIn35mmFormat"):
        d["Exif.Photo.FocalLengthIn35mmFilm"] = str(int(ex["FocalLengthIn35mmFormat"]))
    with pyexiv2.Image(path) as im:
        im.modify_exif(d)
