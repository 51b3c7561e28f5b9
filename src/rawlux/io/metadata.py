"""EXIF in, EXIF out: one normalised dict between decoders and encoders.

Normalised keys (all optional): Make, Model, LensMake, LensModel, Software, DateTimeOriginal
(``YYYY:MM:DD HH:MM:SS``), ExposureTime (seconds, float), FNumber, ISO, FocalLength (mm),
FocalLengthIn35mmFormat (mm), ExposureBiasValue, Artist, Copyright, GPSLatitude / GPSLongitude
(signed decimal degrees), GPSAltitude (m), Orientation.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Mapping

_TEXT = ("Make", "Model", "LensMake", "LensModel", "Software", "DateTimeOriginal", "Artist",
         "Copyright")


def _ratio(v: Any) -> float | None:
    try:
        if isinstance(v, (tuple, list)):
            if len(v) == 2:
                return float(v[0]) / float(v[1]) if float(v[1]) else None
            if len(v) == 1:
                return _ratio(v[0])
            return None
        f = float(v)
        return f if math.isfinite(f) else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _dms(v: Any) -> float | None:
    """(d, m, s) as rationals (flat 6-tuple or 3 pairs) → degrees."""
    try:
        flat: list[float] = []
        for x in v:
            if isinstance(x, (tuple, list)):
                flat.append(float(x[0]) / float(x[1]))
            else:
                flat.append(float(x))
        if len(flat) == 6:
            flat = [flat[0] / flat[1], flat[2] / flat[3], flat[4] / flat[5]]
        if len(flat) != 3:
            return None
        return flat[0] + flat[1] / 60 + flat[2] / 3600
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _clean(s: Any) -> str | None:
    if isinstance(s, bytes):
        s = s.decode("utf-8", "replace")
    if not isinstance(s, str):
        return None
    s = s.strip("\x00 ").strip()
    return s or None


def normalise(ifd0: Mapping[str, Any], exif: Mapping[str, Any], gps: Mapping[str, Any]) -> dict[str, Any]:
    """Build the normalised dict from name-keyed IFD0, Exif IFD and GPS IFD mappings."""
    out: dict[str, Any] = {}
    for k in ("Make", "Model", "Software", "Artist", "Copyright"):
        v = _clean(ifd0.get(k))
        if v:
            out[k] = v
    for k in ("LensMake", "LensModel", "DateTimeOriginal"):
        v = _clean(exif.get(k))
        if v:
            out[k] = v
    if "DateTimeOriginal" not in out:
        v = _clean(exif.get("DateTimeDigitized")) or _clean(ifd0.get("DateTime"))
        if v:
            out["DateTimeOriginal"] = v
    for k in ("ExposureTime", "FNumber", "FocalLength", "ExposureBiasValue"):
        v = _ratio(exif.get(k)) if k in exif else None
        if v is not None and (v > 0 or k == "ExposureBiasValue"):
            out[k] = v
    iso = exif.get("ISOSpeedRatings", exif.get("PhotographicSensitivity"))
    if isinstance(iso, (tuple, list)) and iso:
        iso = iso[0]
    if isinstance(iso, (int, float)) and iso > 0:
        out["ISO"] = int(iso)
    f35 = exif.get("FocalLengthIn35mmFilm", exif.get("FocalLengthIn35mmFormat"))
    if isinstance(f35, (int, float)) and f35 > 0:
        out["FocalLengthIn35mmFormat"] = int(f35)
    lat, lon = _dms(gps.get("GPSLatitude", ())), _dms(gps.get("GPSLongitude", ()))
    if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
        if str(_clean(gps.get("GPSLatitudeRef")) or "N").upper().startswith("S"):
            lat = -lat
        if str(_clean(gps.get("GPSLongitudeRef")) or "E").upper().startswith("W"):
            lon = -lon
        out["GPSLatitude"], out["GPSLongitude"] = lat, lon
        alt = _ratio(gps.get("GPSAltitude")) if "GPSAltitude" in gps else None
        if alt is not None:
            ref = gps.get("GPSAltitudeRef", 0)
            if isinstance(ref, (bytes, bytearray)):
                ref = ref[0] if ref else 0
            out["GPSAltitude"] = -alt if ref == 1 else alt
    return out


def from_pillow(img: Any) -> dict[str, Any]:
    """Normalised EXIF of a Pillow image (JPEG, PNG, TIFF, HEIF)."""
    from PIL import ExifTags

    try:
        ex = img.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF is ignored, the pixels still count
        return {}
    ifd0 = {ExifTags.TAGS.get(k, str(k)): v for k, v in ex.items()}
    try:
        sub = {ExifTags.TAGS.get(k, str(k)): v for k, v in ex.get_ifd(ExifTags.IFD.Exif).items()}
        gps = {ExifTags.GPSTAGS.get(k, str(k)): v for k, v in ex.get_ifd(ExifTags.IFD.GPSInfo).items()}
    except Exception:  # noqa: BLE001
        sub, gps = {}, {}
    out = normalise(ifd0, sub, gps)
    o = ifd0.get("Orientation")
    if isinstance(o, int) and 1 <= o <= 8:
        out["Orientation"] = o
    return out


def _rat(x: float, limit: int = 1_000_000) -> tuple[int, int]:
    f = Fraction(x).limit_denominator(limit)
    return (f.numerator, f.denominator)


def _rat_exposure(t: float) -> tuple[int, int]:
    if t < 1:
        den = round(1 / t)
        if den and abs(1 / den - t) / t < 0.01:
            return (1, den)
    return _rat(t, 10000)


def to_exif_bytes(meta: Mapping[str, Any], *, width: int, height: int,
                  software: str, extra_ifd0: Mapping[int, Any] | None = None) -> bytes:
    """EXIF (APP1 payload without the 'Exif\\0\\0' header handled by piexif) with orientation 1."""
    import piexif

    z: dict[int, Any] = {piexif.ImageIFD.Orientation: 1, piexif.ImageIFD.Software: software}
    e: dict[int, Any] = {piexif.ExifIFD.PixelXDimension: int(width), piexif.ExifIFD.PixelYDimension: int(height),
                         piexif.ExifIFD.ColorSpace: 1}
    g: dict[int, Any] = {}

    def enc(s: str) -> bytes:
        return s.encode("utf-8", "replace")

    for k, tag in (("Make", piexif.ImageIFD.Make), ("Model", piexif.ImageIFD.Model),
                   ("Artist", piexif.ImageIFD.Artist), ("Copyright", piexif.ImageIFD.Copyright)):
        if meta.get(k):
            z[tag] = enc(str(meta[k]))
    if meta.get("DateTimeOriginal"):
        z[piexif.ImageIFD.DateTime] = enc(str(meta["DateTimeOriginal"]))
        e[piexif.ExifIFD.DateTimeOriginal] = enc(str(meta["DateTimeOriginal"]))
    for k, tag in (("LensMake", piexif.ExifIFD.LensMake), ("LensModel", piexif.ExifIFD.LensModel)):
        if meta.get(k):
            e[tag] = enc(str(meta[k]))
    if meta.get("ExposureTime"):
        e[piexif.ExifIFD.ExposureTime] = _rat_exposure(float(meta["ExposureTime"]))
    if meta.get("FNumber"):
        e[piexif.ExifIFD.FNumber] = _rat(float(meta["FNumber"]), 100)
    if meta.get("FocalLength"):
        e[piexif.ExifIFD.FocalLength] = _rat(float(meta["FocalLength"]), 100)
    if meta.get("FocalLengthIn35mmFormat"):
        e[piexif.ExifIFD.FocalLengthIn35mmFilm] = int(round(float(meta["FocalLengthIn35mmFormat"])))
    if meta.get("ISO"):
        e[piexif.ExifIFD.ISOSpeedRatings] = int(min(65535, int(meta["ISO"])))
    if meta.get("ExposureBiasValue") is not None:
        f = Fraction(float(meta["ExposureBiasValue"])).limit_denominator(100)
        e[piexif.ExifIFD.ExposureBiasValue] = (f.numerator, f.denominator)
    if meta.get("GPSLatitude") is not None and meta.get("GPSLongitude") is not None:
        def dms(v: float) -> tuple[tuple[int, int], ...]:
            v = abs(v)
            d = int(v)
            m = int((v - d) * 60)
            s = (v - d - m / 60) * 3600
            return ((d, 1), (m, 1), _rat(s, 10000))
        lat, lon = float(meta["GPSLatitude"]), float(meta["GPSLongitude"])
        g[piexif.GPSIFD.GPSVersionID] = (2, 3, 0, 0)
        g[piexif.GPSIFD.GPSLatitudeRef] = b"S" if lat < 0 else b"N"
        g[piexif.GPSIFD.GPSLatitude] = dms(lat)
        g[piexif.GPSIFD.GPSLongitudeRef] = b"W" if lon < 0 else b"E"
        g[piexif.GPSIFD.GPSLongitude] = dms(lon)
        if meta.get("GPSAltitude") is not None:
            alt = float(meta["GPSAltitude"])
            g[piexif.GPSIFD.GPSAltitudeRef] = 1 if alt < 0 else 0
            g[piexif.GPSIFD.GPSAltitude] = _rat(abs(alt), 1000)
    if extra_ifd0:
        z.update(extra_ifd0)
    return piexif.dump({"0th": z, "Exif": e, "GPS": g, "1st": {}, "thumbnail": None})


def read_exif_bytes(data: bytes) -> dict[str, Any]:
    """Normalised EXIF from raw EXIF bytes (as found in a JPEG APP1 or a PNG eXIf chunk)."""
    import piexif

    try:
        d = piexif.load(data if data.startswith(b"Exif") else b"Exif\x00\x00" + data)
    except Exception:  # noqa: BLE001
        return {}

    def names(ifd: str) -> dict[str, Any]:
        tags = piexif.TAGS.get(ifd if ifd != "0th" else "Image", {})
        return {tags.get(k, {}).get("name", str(k)): (v.decode("utf-8", "replace") if isinstance(v, bytes) and k not in (0, 1, 3, 5) else v)
                for k, v in d.get(ifd, {}).items()}
    ifd0 = names("0th")
    out = normalise(ifd0, names("Exif"), names("GPS"))
    o = ifd0.get("Orientation")
    if isinstance(o, int):
        out["Orientation"] = o
    return out


def xmp_packet(recipe_toml: str | None, extra: dict[str, str] | None = None) -> bytes:
    from .._version import __version__

    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    fields = [f'<rawlux:Version>{esc(__version__)}</rawlux:Version>',
              '<xmp:CreatorTool>rawlux ' + esc(__version__) + '</xmp:CreatorTool>']
    if recipe_toml:
        fields.append(f"<rawlux:Recipe>{esc(recipe_toml)}</rawlux:Recipe>")
    for k, v in (extra or {}).items():
        fields.append(f"<rawlux:{k}>{esc(v)}</rawlux:{k}>")
    body = "\n    ".join(fields)
    return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            f'<x:xmpmeta xmlns:x="adobe:ns:meta/">\n <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            f'  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
            f'xmlns:rawlux="https://rawlux.invalid/ns/1.0/">\n    {body}\n  </rdf:Description>\n </rdf:RDF>\n'
            f'</x:xmpmeta>\n<?xpacket end="w"?>').encode("utf-8")
