"""Read the DNG tags that rawpy/LibRaw does not expose (colour, levels, crop, opcodes).

Only tags are read here (tifffile parses the IFDs lazily); pixels are decoded by LibRaw.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# tag codes (DNG 1.6)
T = dict(NewSubfileType=254, Orientation=274, CFARepeatPatternDim=33421, CFAPattern=33422,
         DNGVersion=50706, UniqueCameraModel=50708, CFAPlaneColor=50710, LinearizationTable=50712,
         BlackLevelRepeatDim=50713, BlackLevel=50714, BlackLevelDeltaH=50715, BlackLevelDeltaV=50716,
         WhiteLevel=50717, DefaultCropOrigin=50719, DefaultCropSize=50720,
         ColorMatrix1=50721, ColorMatrix2=50722, CameraCalibration1=50723, CameraCalibration2=50724,
         AnalogBalance=50727, AsShotNeutral=50728, AsShotWhiteXY=50729, BaselineExposure=50730,
         CalibrationIlluminant1=50778, CalibrationIlluminant2=50779, ActiveArea=50829,
         ForwardMatrix1=50964, ForwardMatrix2=50965, OpcodeList1=51008, OpcodeList2=51009,
         OpcodeList3=51022, NoiseProfile=51041, PhotometricInterpretation=262,
         ProfileHueSatMapDims=50937, ProfileHueSatMapData1=50938, ProfileHueSatMapData2=50939,
         ProfileLookTableDims=50981, ProfileLookTableData=50982, BaselineExposureOffset=51109)

PHOTOMETRIC_CFA = 32803
PHOTOMETRIC_LINEAR_RAW = 34892


@dataclass
class DngTags:
    version: tuple[int, ...] = ()
    photometric: int | None = None
    orientation: int = 1
    unique_model: str = ""
    cfa_pattern: str | None = None
    color_matrix1: np.ndarray | None = None
    color_matrix2: np.ndarray | None = None
    forward_matrix1: np.ndarray | None = None
    forward_matrix2: np.ndarray | None = None
    camera_calibration1: np.ndarray | None = None
    camera_calibration2: np.ndarray | None = None
    analog_balance: np.ndarray | None = None
    as_shot_neutral: np.ndarray | None = None
    as_shot_white_xy: tuple[float, float] | None = None
    illuminant1: int | None = None
    illuminant2: int | None = None
    baseline_exposure: float = 0.0
    black_level: np.ndarray | None = None
    black_repeat: tuple[int, int] = (1, 1)
    black_delta_h: np.ndarray | None = None
    black_delta_v: np.ndarray | None = None
    white_level: np.ndarray | None = None
    linearization_table: np.ndarray | None = None
    active_area: tuple[int, int, int, int] | None = None     # top, left, bottom, right
    default_crop: tuple[float, float, float, float] | None = None  # x, y, w, h (active-area coords)
    noise_profile: tuple[float, ...] | None = None
    opcodes: dict[str, bytes] = field(default_factory=dict)
    exif: dict[str, Any] = field(default_factory=dict)
    gps: dict[str, Any] = field(default_factory=dict)
    ifd0: dict[str, Any] = field(default_factory=dict)
    xmp: bytes | None = None


def _num(v: Any) -> np.ndarray:
    """A tag value as float64: tifffile gives rationals as flat (num, den, num, den, ...) tuples."""
    a = np.asarray(v, dtype=np.float64).ravel()
    return a


def _rationals(tag: Any) -> np.ndarray:
    v = tag.value
    if isinstance(v, (bytes, bytearray)):
        raise ValueError("bytes where numbers were expected")
    a = _num(v)
    if tag.dtype in (5, 10) or getattr(tag.dtype, "value", None) in (5, 10):  # RATIONAL, SRATIONAL
        den = a[1::2]
        den = np.where(den == 0, np.nan, den)
        return a[0::2] / den
    return a


def _matrix(tag: Any, rows: int = 3) -> np.ndarray | None:
    a = _rationals(tag)
    if a.size % 3 or a.size == 0:
        return None
    m = a.reshape(-1, 3)
    if not np.all(np.isfinite(m)) or not np.any(m):
        return None
    return m


def _pick_raw_page(tif: Any) -> tuple[Any, Any]:
    """(raw IFD, IFD0): the full-resolution CFA/LinearRaw IFD, in IFD0 or a SubIFD."""
    ifd0 = tif.pages[0]
    candidates = [ifd0]
    try:
        candidates += list(ifd0.pages or [])
    except Exception:  # noqa: BLE001 - a broken SubIFD chain is just skipped
        pass
    best = None
    for p in candidates:
        try:
            ph = int(p.tags["PhotometricInterpretation"].value) if "PhotometricInterpretation" in p.tags else None
            sub = int(p.tags["NewSubfileType"].value) if "NewSubfileType" in p.tags else 0
        except Exception:  # noqa: BLE001
            continue
        if ph in (PHOTOMETRIC_CFA, PHOTOMETRIC_LINEAR_RAW) and (sub & 1) == 0:
            if best is None or p.shape[0] * p.shape[1] > best.shape[0] * best.shape[1]:
                best = p
    return (best if best is not None else ifd0), ifd0


def read_dng_tags(path: str) -> DngTags | None:
    """The DNG tags of ``path``, or None when it is not a DNG (no DNGVersion tag)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            ifd0 = tif.pages[0]
            tags0 = ifd0.tags
            if T["DNGVersion"] not in tags0:
                return None
            raw, ifd0 = _pick_raw_page(tif)
            return _collect(raw, ifd0)
    except (tifffile.TiffFileError, ValueError, OSError, IndexError, KeyError, TypeError,
            struct.error) as e:
        from ..errors import InputError
        raise InputError(f"corrupt DNG metadata ({type(e).__name__}: {e})", path=path) from None


def _collect(raw: Any, ifd0: Any) -> DngTags:
    t = DngTags()

    def get(code: int, prefer_raw: bool = True) -> Any:
        for page in ((raw, ifd0) if prefer_raw else (ifd0, raw)):
            if code in page.tags:
                return page.tags[code]
        return None

    def safe(fn, *a):
        try:
            return fn(*a)
        except (ValueError, TypeError, IndexError):
            return None

    tg = get(T["DNGVersion"])
    if tg is not None and isinstance(tg.value, (bytes, bytearray)):
        t.version = tuple(tg.value)
    tg = get(T["PhotometricInterpretation"])
    t.photometric = int(tg.value) if tg is not None else None
    tg = get(T["Orientation"], prefer_raw=False)
    if tg is not None:
        try:
            o = int(tg.value)
            t.orientation = o if 1 <= o <= 8 else 1
        except (TypeError, ValueError):
            pass
    tg = get(T["UniqueCameraModel"])
    if tg is not None and isinstance(tg.value, str):
        t.unique_model = tg.value
    # CFA pattern
    dim, pat = get(T["CFARepeatPatternDim"]), get(T["CFAPattern"])
    if dim is not None and pat is not None:
        d = tuple(int(x) for x in np.ravel(dim.value))
        p = bytes(pat.value) if isinstance(pat.value, (bytes, bytearray)) else bytes(int(x) & 255 for x in np.ravel(pat.value))
        if d == (2, 2) and len(p) == 4:
            name = "".join("RGB"[c] if c < 3 else "?" for c in p)
            t.cfa_pattern = name if name in ("RGGB", "BGGR", "GRBG", "GBRG") else None
    for name in ("ColorMatrix1", "ColorMatrix2", "ForwardMatrix1", "ForwardMatrix2",
                 "CameraCalibration1", "CameraCalibration2"):
        tg = get(T[name])
        if tg is not None:
            m = safe(_matrix, tg)
            attr = name[0].lower() + "".join("_" + c.lower() if c.isupper() else c for c in name[1:])
            setattr(t, attr, m)
    tg = get(T["AnalogBalance"])
    if tg is not None:
        t.analog_balance = safe(_rationals, tg)
    tg = get(T["AsShotNeutral"])
    if tg is not None:
        t.as_shot_neutral = safe(_rationals, tg)
    tg = get(T["AsShotWhiteXY"])
    if tg is not None:
        v = safe(_rationals, tg)
        if v is not None and v.size == 2 and np.all(np.isfinite(v)):
            t.as_shot_white_xy = (float(v[0]), float(v[1]))
    for k in ("CalibrationIlluminant1", "CalibrationIlluminant2"):
        tg = get(T[k])
        if tg is not None:
            try:
                setattr(t, "illuminant" + k[-1], int(tg.value))
            except (TypeError, ValueError):
                pass
    tg = get(T["BaselineExposure"])
    if tg is not None:
        v = safe(_rationals, tg)
        if v is not None and v.size and np.isfinite(v[0]) and abs(v[0]) < 16:
            t.baseline_exposure = float(v[0])
    tg = get(T["BaselineExposureOffset"])
    if tg is not None:
        v = safe(_rationals, tg)
        if v is not None and v.size and np.isfinite(v[0]) and abs(v[0]) < 16:
            t.baseline_exposure += float(v[0])
    tg = get(T["BlackLevel"])
    if tg is not None:
        t.black_level = safe(_rationals, tg)
    tg = get(T["BlackLevelRepeatDim"])
    if tg is not None:
        d = tuple(int(x) for x in np.ravel(tg.value))
        if len(d) == 2 and all(1 <= x <= 16 for x in d):
            t.black_repeat = (d[0], d[1])
    for k, attr in (("BlackLevelDeltaH", "black_delta_h"), ("BlackLevelDeltaV", "black_delta_v")):
        tg = get(T[k])
        if tg is not None:
            setattr(t, attr, safe(_rationals, tg))
    tg = get(T["WhiteLevel"])
    if tg is not None:
        t.white_level = safe(_num, tg.value)
    tg = get(T["LinearizationTable"])
    if tg is not None:
        t.linearization_table = np.asarray(tg.value, dtype=np.float32).ravel()
    tg = get(T["ActiveArea"])
    if tg is not None:
        v = tuple(int(x) for x in np.ravel(tg.value))
        if len(v) == 4:
            t.active_area = v  # type: ignore[assignment]
    o, s = get(T["DefaultCropOrigin"]), get(T["DefaultCropSize"])
    if o is not None and s is not None:
        ov, sv = safe(_rationals, o), safe(_rationals, s)
        if ov is not None and sv is not None and ov.size == 2 and sv.size == 2 and np.all(np.isfinite(ov)) and np.all(np.isfinite(sv)):
            t.default_crop = (float(ov[0]), float(ov[1]), float(sv[0]), float(sv[1]))
    tg = get(T["NoiseProfile"])
    if tg is not None:
        v = np.asarray(tg.value, dtype=np.float64).ravel()
        if v.size >= 2 and np.all(np.isfinite(v)):
            t.noise_profile = tuple(float(x) for x in v)
    for k in ("OpcodeList1", "OpcodeList2", "OpcodeList3"):
        tg = get(T[k])
        if tg is not None and isinstance(tg.value, (bytes, bytearray)):
            t.opcodes[k] = bytes(tg.value)
    _collect_descriptive(t, ifd0)
    return t


def _collect_descriptive(t: DngTags, ifd0: Any) -> None:
    """EXIF, GPS, IFD0's text tags and XMP: what the photo says about itself, carried to the output."""
    if 34665 in ifd0.tags and isinstance(ifd0.tags[34665].value, dict):
        t.exif = dict(ifd0.tags[34665].value)
    if 34853 in ifd0.tags and isinstance(ifd0.tags[34853].value, dict):
        t.gps = dict(ifd0.tags[34853].value)
    for code, name in ((271, "Make"), (272, "Model"), (306, "DateTime"), (305, "Software"),
                       (315, "Artist"), (33432, "Copyright"), (270, "ImageDescription")):
        if code in ifd0.tags and isinstance(ifd0.tags[code].value, str):
            t.ifd0[name] = ifd0.tags[code].value.strip("\x00 ")
    if 700 in ifd0.tags and isinstance(ifd0.tags[700].value, (bytes, bytearray)):
        t.xmp = bytes(ifd0.tags[700].value)
