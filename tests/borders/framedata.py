"""Real photos with EXIF for the frame tests: McMaster images, EXIF written by piexif as cameras do."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MCMASTER = DATA / "demosaic" / "mcmaster"

FULL_EXIF = dict(Make="ACME IMAGING CORP.", Model="ACME X-100 II", LensModel="ACME 4.3mm F1.8",
                 FocalLength=4.3, FocalLengthIn35mmFormat=24, FNumber=1.8, ExposureTime=1 / 120, ISO=100,
                 DateTimeOriginal="2024:05:01 14:03:22", GPSLatitude=40.446111, GPSLongitude=-79.982222)


def mcmaster(i: int = 0) -> np.ndarray:
    """One McMaster image as uint8 RGB (500×500)."""
    from PIL import Image

    if not MCMASTER.is_dir():
        pytest.skip(f"shared data folder {MCMASTER} is absent")
    files = sorted(MCMASTER.glob("*.tif"))
    if not files:
        pytest.skip("no McMaster images in the shared data")
    with Image.open(files[i % len(files)]) as im:
        return np.asarray(im.convert("RGB")).copy()


def mosaic(h: int, w: int) -> np.ndarray:
    """An h×w real-content image: McMaster images tiled (content, not noise, behind the text)."""
    tiles = [mcmaster(i) for i in range(4)]
    row = np.concatenate(tiles, axis=1)
    reps = (-(-h // row.shape[0]), -(-w // row.shape[1]), 1)
    return np.ascontiguousarray(np.tile(row, reps)[:h, :w])


def exif_bytes(fields: dict, orientation: int = 1, width: int | None = None, height: int | None = None,
               focal_plane: tuple[float, float] | None = None) -> bytes:
    """EXIF as a camera writes it (piexif), from the normalised field names used in rawlux."""
    import piexif
    from fractions import Fraction

    def rat(x: float, lim: int = 10000) -> tuple[int, int]:
        f = Fraction(x).limit_denominator(lim)
        return (f.numerator, f.denominator)

    z = {piexif.ImageIFD.Orientation: orientation}
    e: dict = {}
    g: dict = {}
    if "Make" in fields:
        z[piexif.ImageIFD.Make] = fields["Make"].encode()
    if "Model" in fields:
        z[piexif.ImageIFD.Model] = fields["Model"].encode()
    if "LensModel" in fields:
        e[piexif.ExifIFD.LensModel] = fields["LensModel"].encode()
    if "FocalLength" in fields:
        e[piexif.ExifIFD.FocalLength] = rat(fields["FocalLength"])
    if "FocalLengthIn35mmFormat" in fields:
        e[piexif.ExifIFD.FocalLengthIn35mmFilm] = int(fields["FocalLengthIn35mmFormat"])
    if "FNumber" in fields:
        e[piexif.ExifIFD.FNumber] = rat(fields["FNumber"], 100)
    if "ExposureTime" in fields:
        e[piexif.ExifIFD.ExposureTime] = (1, round(1 / fields["ExposureTime"]))
    if "ISO" in fields:
        e[piexif.ExifIFD.ISOSpeedRatings] = int(fields["ISO"])
    if "DateTimeOriginal" in fields:
        e[piexif.ExifIFD.DateTimeOriginal] = fields["DateTimeOriginal"].encode()
    if width:
        e[piexif.ExifIFD.PixelXDimension] = width
        e[piexif.ExifIFD.PixelYDimension] = height
    if focal_plane:
        e[piexif.ExifIFD.FocalPlaneXResolution] = rat(focal_plane[0], 1000)
        e[piexif.ExifIFD.FocalPlaneYResolution] = rat(focal_plane[1], 1000)
        e[piexif.ExifIFD.FocalPlaneResolutionUnit] = 2
    if "GPSLatitude" in fields:
        def dms(v: float):
            v = abs(v)
            d = int(v)
            m = int((v - d) * 60)
            s = (v - d - m / 60) * 3600
            return ((d, 1), (m, 1), rat(s, 100))
        lat, lon = fields["GPSLatitude"], fields["GPSLongitude"]
        g = {piexif.GPSIFD.GPSLatitudeRef: b"S" if lat < 0 else b"N", piexif.GPSIFD.GPSLatitude: dms(lat),
             piexif.GPSIFD.GPSLongitudeRef: b"W" if lon < 0 else b"E", piexif.GPSIFD.GPSLongitude: dms(lon)}
    return piexif.dump({"0th": z, "Exif": e, "GPS": g, "1st": {}, "thumbnail": None})


def srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
