"""Read a written photo back with independent libraries: pixels, ICC, EXIF, XMP."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


def _r(v: Any) -> float:
    if isinstance(v, tuple) and len(v) == 2:
        return v[0] / v[1]
    if isinstance(v, str) and "/" in v:
        return float(Fraction(v))
    return float(v)


def _dms(v: Any) -> float:
    if isinstance(v, str):
        parts = [float(Fraction(p)) for p in v.split()]
    else:
        parts = [_r(p) for p in v]
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _from_piexif(data: bytes) -> dict[str, Any]:
    import piexif
    d = piexif.load(data if data.startswith(b"Exif") or data[:2] in (b"II", b"MM") else b"Exif\x00\x00" + data)
    z, e, g = d["0th"], d["Exif"], d["GPS"]
    out: dict[str, Any] = {}
    dec = lambda b: b.decode("utf-8", "replace").strip("\x00 ") if isinstance(b, bytes) else b   # noqa: E731
    I, E, G = piexif.ImageIFD, piexif.ExifIFD, piexif.GPSIFD
    for key, ifd, tag in (("Make", z, I.Make), ("Model", z, I.Model), ("Orientation", z, I.Orientation),
                          ("DateTimeOriginal", e, E.DateTimeOriginal), ("ExposureTime", e, E.ExposureTime),
                          ("FNumber", e, E.FNumber), ("ISO", e, E.ISOSpeedRatings),
                          ("FocalLength", e, E.FocalLength), ("FocalLength35", e, E.FocalLengthIn35mmFilm)):
        if tag in ifd:
            v = dec(ifd[tag])
            out[key] = _r(v) if key in ("ExposureTime", "FNumber", "FocalLength") else v
    if G.GPSLatitude in g:
        lat, lon = _dms(g[G.GPSLatitude]), _dms(g[G.GPSLongitude])
        out["GPSLatitude"] = -lat if dec(g.get(G.GPSLatitudeRef, b"N")) == "S" else lat
        out["GPSLongitude"] = -lon if dec(g.get(G.GPSLongitudeRef, b"E")) == "W" else lon
    return out


def _from_exiv2(path: Path) -> dict[str, Any]:
    import pyexiv2
    with pyexiv2.Image(str(path)) as im:
        ex = im.read_exif()
    out: dict[str, Any] = {}
    for key, tag in (("Make", "Exif.Image.Make"), ("Model", "Exif.Image.Model"),
                     ("Orientation", "Exif.Image.Orientation"), ("DateTimeOriginal", "Exif.Photo.DateTimeOriginal"),
                     ("ExposureTime", "Exif.Photo.ExposureTime"), ("FNumber", "Exif.Photo.FNumber"),
                     ("ISO", "Exif.Photo.ISOSpeedRatings"), ("FocalLength", "Exif.Photo.FocalLength")):
        if tag in ex:
            v = ex[tag]
            out[key] = _r(v) if key in ("ExposureTime", "FNumber", "FocalLength") else (
                int(v) if key in ("Orientation", "ISO") else v)
    if "Exif.GPSInfo.GPSLatitude" in ex:
        lat, lon = _dms(ex["Exif.GPSInfo.GPSLatitude"]), _dms(ex["Exif.GPSInfo.GPSLongitude"])
        out["GPSLatitude"] = -lat if ex.get("Exif.GPSInfo.GPSLatitudeRef") == "S" else lat
        out["GPSLongitude"] = -lon if ex.get("Exif.GPSInfo.GPSLongitudeRef") == "W" else lon
    return out


def read_back(path: Path) -> dict[str, Any]:
    path = Path(path)
    ext = path.suffix.lower()
    out: dict[str, Any] = {}
    if ext in (".jpg", ".jpeg"):
        from PIL import Image
        with Image.open(path) as im:
            out["pixels"] = np.asarray(im.convert("RGB"))
            out["icc"] = im.info.get("icc_profile")
            out["exif"] = _from_piexif(im.info["exif"]) if "exif" in im.info else {}
            xmp = im.info.get("xmp")
    elif ext == ".png":
        import cv2
        from PIL import Image
        a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        out["pixels"] = a[..., ::-1]
        with Image.open(path) as im:
            out["icc"] = im.info.get("icc_profile")
            out["exif"] = _from_piexif(im.info["exif"]) if "exif" in im.info else {}
            xmp = im.info.get("XML:com.adobe.xmp") or im.info.get("xmp")
    elif ext in (".tif", ".tiff"):
        import tifffile
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            out["pixels"] = page.asarray()
            out["icc"] = page.tags[34675].value if 34675 in page.tags else None
            xmp = page.tags[700].value if 700 in page.tags else None
        out["exif"] = _from_exiv2(path)
    elif ext in (".heic", ".heif"):
        import pillow_heif
        hf = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=False)
        out["pixels"] = np.asarray(hf)
        out["icc"] = hf.info.get("icc_profile")
        out["exif"] = _from_piexif(hf.info["exif"]) if hf.info.get("exif") else {}
        xmp = hf.info.get("xmp")
    else:
        raise ValueError(ext)
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    out["xmp"] = xmp
    return out


def icc_description(icc: bytes) -> str:
    import io

    from PIL import ImageCms
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
