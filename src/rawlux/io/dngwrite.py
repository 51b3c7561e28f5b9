"""Write a standard CFA DNG (DNG 1.4) from a Bayer mosaic and its metadata.

The raw image sits in IFD0 (``NewSubfileType`` 0, uncompressed, 16-bit), with the CFA tags,
black/white levels and every colour tag of the source: ColorMatrix1/2, CalibrationIlluminant1/2,
ForwardMatrix1/2, CameraCalibration1/2, AnalogBalance, AsShotNeutral (or AsShotWhiteXY),
BaselineExposure, NoiseProfile, Orientation, DefaultCrop, and the common EXIF fields as the
TIFF/EP tags DNG allows in IFD0 (exposure time, f-number, ISO, focal length, date). LibRaw,
and with it any raw developer, re-opens the file.

    write_dng(path, mosaic_uint16, meta)            # meta: rawlux.frame.Metadata
    write_dng(path, frame)                          # a RAW-state Frame

Used by the burst merge (``--out-raw``) and by test generators (synthetic raws with known truth).
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError, ParameterError
from ..frame import BAYER_PATTERNS, Frame, Metadata, State
from .atomic import atomic_path

# TIFF data types
_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _SRATIONAL, _DOUBLE = 1, 2, 3, 4, 5, 10, 12

_ILLUMINANT_D65 = 21


def _rat(values: Any, signed: bool, den: int = 10000) -> tuple[int, ...]:
    """Flat (num, den, ...) tuple for tifffile's RATIONAL/SRATIONAL writer."""
    out: list[int] = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        if not np.isfinite(v):
            raise ParameterError(f"cannot write a non-finite value {v!r} in a DNG rational tag")
        f = Fraction(float(v)).limit_denominator(den)
        num, d = f.numerator, f.denominator
        if not signed and num < 0:
            raise ParameterError(f"cannot write negative value {v!r} in an unsigned DNG rational tag")
        lim = 2 ** 31 - 1 if signed else 2 ** 32 - 1
        if abs(num) > lim:  # very large numbers: coarser denominator
            f = Fraction(float(v)).limit_denominator(1)
            num, d = f.numerator, f.denominator
        out += [int(num), int(d)]
    return tuple(out)


def _ascii(s: str) -> str:
    return s.encode("ascii", "replace").decode("ascii")


def _exif_tags(exif: dict[str, Any]) -> list[tuple]:
    """The TIFF/EP EXIF tags DNG permits in IFD0, from rawlux's normalised EXIF dict."""
    tags: list[tuple] = []
    def num(key: str) -> float | None:
        v = exif.get(key)
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        return f if np.isfinite(f) and f > 0 else None
    if (v := num("ExposureTime")) is not None:
        tags.append((33434, _RATIONAL, 1, _rat([v], False, den=1_000_000), True))
    if (v := num("FNumber")) is not None:
        tags.append((33437, _RATIONAL, 1, _rat([v], False, den=100), True))
    if (v := num("ISO")) is not None:
        tags.append((34855, _SHORT, 1, int(min(v, 65535)), True))
    if (v := num("FocalLength")) is not None:
        tags.append((37386, _RATIONAL, 1, _rat([v], False, den=100), True))
    dto = exif.get("DateTimeOriginal")
    if isinstance(dto, str) and dto.strip():
        tags.append((36867, _ASCII, 0, _ascii(dto.strip())[:19], True))
    return tags


def _exif_rational(v: float, den: int) -> str:
    f = Fraction(float(v)).limit_denominator(den)
    return f"{f.numerator}/{f.denominator}"


def _add_exif_ifd(path: str, exif: dict[str, Any]) -> None:
    """Add an Exif IFD (and GPS IFD) with exiv2; the TIFF/EP copies in IFD0 remain if this fails."""
    fields: dict[str, str] = {}
    def num(key: str) -> float | None:
        try:
            f = float(exif.get(key))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return f if np.isfinite(f) else None
    if (v := num("ExposureTime")) is not None and v > 0:
        fields["Exif.Photo.ExposureTime"] = _exif_rational(v, 1_000_000)
    if (v := num("FNumber")) is not None and v > 0:
        fields["Exif.Photo.FNumber"] = _exif_rational(v, 100)
    if (v := num("ISO")) is not None and v > 0:
        fields["Exif.Photo.ISOSpeedRatings"] = str(int(min(v, 65535)))
    if (v := num("FocalLength")) is not None and v > 0:
        fields["Exif.Photo.FocalLength"] = _exif_rational(v, 100)
    if (v := num("FocalLengthIn35mmFormat")) is not None and v > 0:
        fields["Exif.Photo.FocalLengthIn35mmFilm"] = str(int(round(v)))
    if (v := num("ExposureBiasValue")) is not None:
        fields["Exif.Photo.ExposureBiasValue"] = _exif_rational(v, 100)
    for key, tag in (("DateTimeOriginal", "Exif.Photo.DateTimeOriginal"), ("LensModel", "Exif.Photo.LensModel"),
                     ("LensMake", "Exif.Photo.LensMake"), ("Artist", "Exif.Image.Artist"),
                     ("Copyright", "Exif.Image.Copyright")):
        if isinstance(exif.get(key), str) and exif[key].strip():
            fields[tag] = _ascii(exif[key].strip())
    for key, ref, pos, neg in (("GPSLatitude", "Exif.GPSInfo.GPSLatitudeRef", "N", "S"),
                               ("GPSLongitude", "Exif.GPSInfo.GPSLongitudeRef", "E", "W")):
        if (v := num(key)) is not None:
            a = abs(v)
            d, m = int(a), int((a - int(a)) * 60)
            sec = (a - d - m / 60) * 3600
            fields[f"Exif.GPSInfo.{key}"] = f"{d}/1 {m}/1 {int(round(sec * 1000))}/1000"
            fields[ref] = pos if v >= 0 else neg
    if (v := num("GPSAltitude")) is not None:
        fields["Exif.GPSInfo.GPSAltitude"] = _exif_rational(abs(v), 1000)
        fields["Exif.GPSInfo.GPSAltitudeRef"] = "0" if v >= 0 else "1"
    if not fields:
        return
    try:
        import pyexiv2

        img = pyexiv2.Image(path)
        try:
            img.modify_exif(fields)
        finally:
            img.close()
    except Exception:  # noqa: BLE001 - EXIF is a courtesy; the IFD0 TIFF/EP tags already carry the basics
        pass


def _default_noise_profile(meta: Metadata) -> tuple[float, ...] | None:
    np_ = meta.noise_profile
    if np_ is None:
        return None
    v = [float(x) for x in np_]
    if len(v) < 2 or not all(np.isfinite(v)) or any(x < 0 for x in v):
        return None
    return tuple(v)


def dng_tags(meta: Metadata, shape: tuple[int, int], *, software: str = "rawlux") -> list[tuple]:
    """The list of tifffile ``extratags`` for a CFA DNG of ``shape`` described by ``meta``."""
    pattern = (meta.cfa_pattern or "").upper()
    if pattern not in BAYER_PATTERNS:
        raise ParameterError(f"cannot write a CFA DNG without a Bayer pattern (got {meta.cfa_pattern!r}; "
                             f"valid: {', '.join(BAYER_PATTERNS)})")
    h, w = shape
    black = np.asarray(meta.black_level if meta.black_level is not None else 0.0, dtype=np.float64)
    b = black.ravel()
    if b.size == 3:      # per colour: spread over the 2×2 by CFA colour
        black2 = np.array([b[c] for c in BAYER_PATTERNS[pattern]])
    elif b.size >= 4:
        black2 = b[:4]
    else:
        black2 = np.full(4, b[0] if b.size else 0.0)
    white = float(np.max(np.asarray(meta.white_level if meta.white_level is not None else 65535.0)))
    tags: list[tuple] = [
        (50706, _BYTE, 4, (1, 4, 0, 0), True),                 # DNGVersion
        (50707, _BYTE, 4, (1, 1, 0, 0), True),                 # DNGBackwardVersion
        (33421, _SHORT, 2, (2, 2), True),                      # CFARepeatPatternDim
        (33422, _BYTE, 4, tuple(BAYER_PATTERNS[pattern]), True),  # CFAPattern
        (50710, _BYTE, 3, (0, 1, 2), True),                    # CFAPlaneColor
        (50711, _SHORT, 1, 1, True),                           # CFALayout: rectangular
        (50713, _SHORT, 2, (2, 2), True),                      # BlackLevelRepeatDim
        (50714, _RATIONAL, 4, _rat(black2, False, den=256), True),  # BlackLevel
        (50717, _LONG, 1, int(round(white)), True),            # WhiteLevel
        (274, _SHORT, 1, int(meta.orientation if 1 <= int(meta.orientation or 1) <= 8 else 1), True),
        (50708, _ASCII, 0, _ascii(f"{meta.make} {meta.model}".strip() or "rawlux"), True),  # UniqueCameraModel
        (305, _ASCII, 0, _ascii(software), True),
    ]
    if meta.make:
        tags.append((271, _ASCII, 0, _ascii(meta.make), True))
    if meta.model:
        tags.append((272, _ASCII, 0, _ascii(meta.model), True))
    if meta.default_crop is not None:
        x, y, cw, ch = meta.default_crop
        tags.append((50719, _RATIONAL, 2, _rat([x, y], False), True))
        tags.append((50720, _RATIONAL, 2, _rat([cw, ch], False), True))
    else:
        tags.append((50719, _LONG, 2, (0, 0), True))
        tags.append((50720, _LONG, 2, (w, h), True))
    cm1 = meta.color_matrix1
    if cm1 is None:
        raise ParameterError("cannot write a DNG without ColorMatrix1 (meta.color_matrix1 is missing); "
                             "a DNG reader needs it to map camera RGB to XYZ")
    for code, m in ((50721, cm1), (50722, meta.color_matrix2), (50964, meta.forward_matrix1),
                    (50965, meta.forward_matrix2), (50723, meta.camera_calibration1),
                    (50724, meta.camera_calibration2)):
        if m is not None:
            a = np.asarray(m, dtype=np.float64).ravel()
            tags.append((code, _SRATIONAL, a.size, _rat(a, True), True))
    il1 = meta.illuminant1 if meta.illuminant1 is not None else _ILLUMINANT_D65
    tags.append((50778, _SHORT, 1, int(il1), True))
    if meta.color_matrix2 is not None:
        il2 = meta.illuminant2 if meta.illuminant2 is not None else _ILLUMINANT_D65
        tags.append((50779, _SHORT, 1, int(il2), True))
    if meta.analog_balance is not None:
        a = np.asarray(meta.analog_balance, dtype=np.float64).ravel()
        tags.append((50727, _RATIONAL, a.size, _rat(a, False), True))
    if meta.as_shot_neutral is not None:
        a = np.asarray(meta.as_shot_neutral, dtype=np.float64).ravel()[:3]
        tags.append((50728, _RATIONAL, a.size, _rat(a, False, den=1_000_000), True))
    elif meta.white_xy is not None:
        tags.append((50729, _RATIONAL, 2, _rat(meta.white_xy, False, den=1_000_000), True))
    tags.append((50730, _SRATIONAL, 1, _rat([meta.baseline_exposure or 0.0], True, den=10000), True))
    nprof = _default_noise_profile(meta)
    if nprof is not None:
        tags.append((51041, _DOUBLE, len(nprof), nprof, True))
    for name, code in (("OpcodeList1", 51008), ("OpcodeList2", 51009), ("OpcodeList3", 51022)):
        if name in meta.opcodes and meta.opcodes[name]:
            data = meta.opcodes[name]
            tags.append((code, 7, len(data), data, True))
    tags += _exif_tags(meta.exif or {})
    return tags


def write_dng(path: str | os.PathLike[str], mosaic: Any, meta: Metadata | None = None, *,
              overwrite: bool = True, software: str = "rawlux") -> Path:
    """Write ``mosaic`` (H×W uint16 sensor values, or a RAW-state Frame) as a CFA DNG.

    The file is written to a temporary name beside ``path`` and renamed, so a failure leaves no half file.
    """
    import tifffile

    if isinstance(mosaic, Frame):
        if meta is None:
            meta = mosaic.meta
        if mosaic.state is not State.RAW:
            raise ParameterError(f"write_dng needs a RAW-state mosaic frame, not {mosaic.state.name}")
        mosaic = mosaic.pixels
    if meta is None:
        raise ParameterError("write_dng needs the frame's metadata (CFA pattern, levels, colour matrices)")
    a = np.asarray(mosaic)
    if a.ndim != 2:
        raise ParameterError(f"write_dng needs an H×W mosaic, not shape {a.shape}")
    if a.shape[0] < 2 or a.shape[1] < 2 or a.shape[0] % 2 or a.shape[1] % 2:
        raise ParameterError(f"write_dng needs an even-sized mosaic of at least 2×2, not {a.shape[1]}×{a.shape[0]}")
    if a.dtype != np.uint16:
        if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            raise ParameterError("write_dng: the mosaic holds NaN or infinite values")
        a = np.clip(np.rint(a), 0, 65535).astype(np.uint16)
    a = np.ascontiguousarray(a)
    out = Path(path)
    exists = "exists (pass overwrite=True to replace it)"
    if out.exists() and not overwrite:
        raise OutputError(exists, path=out)
    if not out.parent.exists():
        raise OutputError(f"folder {str(out.parent)!r} does not exist", path=out)
    tags = dng_tags(meta, a.shape, software=software)
    with atomic_path(out, overwrite=overwrite, suffix=".tmp", exists=exists) as tmp:
        tifffile.imwrite(tmp, a, photometric=32803, planarconfig=None, compression=None,
                         subfiletype=0, extratags=tags, metadata=None, software=False,
                         rowsperstrip=max(1, (1 << 20) // (a.shape[1] * 2)))
        _add_exif_ifd(tmp, meta.exif or {})
    return out
