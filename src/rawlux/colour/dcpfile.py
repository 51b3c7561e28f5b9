"""DNG camera profiles as files: read and write DCP (``.dcp``), read the profile a DNG embeds.

A DCP is a TIFF-structured file (byte order ``II``, magic ``0x4352`` in place of TIFF's 42, so it begins with
``IIRC``) whose first IFD holds the DNG camera-profile tags: UniqueCameraModel, CalibrationIlluminant1/2,
ColorMatrix1/2, ForwardMatrix1/2, ProfileHueSatMapDims + Data1/2 + Encoding, ProfileLookTableDims + Data +
Encoding, ProfileToneCurve, BaselineExposureOffset, DefaultBlackRender, ProfileName, ProfileEmbedPolicy,
ProfileCopyright, ProfileCalibrationSignature. A DNG holds the same tags in IFD0 (its embedded profile).

The reader is a small bounded TIFF IFD walker (no pixels, every count checked against the file size), so a
hostile file is refused with one clear error. :class:`DngProfile` is the parsed content;
``CameraProfile.from_dng_profile`` turns it into a profile the pipeline uses.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError

#: DNG camera-profile tags (DNG 1.6)
TAGS: dict[str, int] = dict(
    UniqueCameraModel=50708, ColorMatrix1=50721, ColorMatrix2=50722,
    CameraCalibration1=50723, CameraCalibration2=50724,
    CalibrationIlluminant1=50778, CalibrationIlluminant2=50779,
    CameraCalibrationSignature=50931, ProfileCalibrationSignature=50932, ProfileName=50936,
    ProfileHueSatMapDims=50937, ProfileHueSatMapData1=50938, ProfileHueSatMapData2=50939,
    ProfileToneCurve=50940, ProfileEmbedPolicy=50941, ProfileCopyright=50942,
    ForwardMatrix1=50964, ForwardMatrix2=50965,
    ProfileLookTableDims=50981, ProfileLookTableData=50982,
    ProfileHueSatMapEncoding=51107, ProfileLookTableEncoding=51108,
    BaselineExposureOffset=51109, DefaultBlackRender=51110,
)
NAMES = {v: k for k, v in TAGS.items()}
#: tags a profile may carry that rawlux reads but does not use (reported by `profile show`)
KNOWN_UNUSED = {52525: "ProfileGainTableMap", 52529: "CalibrationIlluminant3", 52530: "CameraCalibration3",
                52531: "ColorMatrix3", 52532: "ForwardMatrix3", 52533: "IlluminantData1", 52534: "IlluminantData2",
                52535: "IlluminantData3", 52537: "ProfileHueSatMapData3", 52543: "RGBTables"}
DCP_MAGIC = 0x4352
EMBED_POLICIES = {0: "allow copying", 1: "embed if used", 2: "never embed", 3: "no restrictions"}
BLACK_RENDER = {0: "auto", 1: "none"}
MAX_FILE = 64 << 20           # no real profile comes near this (Adobe's largest are ≈ 2 MB)
MAX_ENTRIES = 4096
MAX_TABLE = 2_000_000          # nodes·3 floats in one table (90×30×30 = 81 000 nodes in the largest in use)
_TYPES = {1: ("B", 1), 2: ("s", 1), 3: ("H", 2), 4: ("I", 4), 5: ("II", 8), 6: ("b", 1), 7: ("B", 1),
          8: ("h", 2), 9: ("i", 4), 10: ("ii", 8), 11: ("f", 4), 12: ("d", 8), 13: ("I", 4), 16: ("Q", 8)}


@dataclass
class HsvTable:
    """A DNG HueSatMap or LookTable: per (value, hue, saturation) node a hue shift in degrees, a saturation
    scale and a value scale, indexed in the HSV of linear ProPhoto RGB (value sRGB-encoded when ``srgb_gamma``)."""

    hue_divisions: int
    sat_divisions: int
    val_divisions: int
    data: np.ndarray            # (val_divisions, hue_divisions, sat_divisions, 3) float32
    srgb_gamma: bool = False

    def __post_init__(self) -> None:
        d = np.asarray(self.data, np.float32)
        want = (self.val_divisions, self.hue_divisions, self.sat_divisions, 3)
        if d.shape != want:
            raise ParameterError(f"profile table has shape {d.shape}, expected {want}")
        if not np.all(np.isfinite(d)):
            raise ParameterError("profile table contains NaN or infinite values")
        self.data = np.ascontiguousarray(d)

    @property
    def dims(self) -> tuple[int, int, int]:
        return (self.hue_divisions, self.sat_divisions, self.val_divisions)

    def blend(self, other: "HsvTable | None", w: float) -> "HsvTable":
        """``w``·self + (1 − w)·other (the DNG dual-illuminant blend of HueSatMapData1/2)."""
        if other is None or w >= 1.0:
            return self
        if other.dims != self.dims:
            return self if w >= 0.5 else other
        return HsvTable(self.hue_divisions, self.sat_divisions, self.val_divisions,
                        w * self.data + (1.0 - w) * other.data, self.srgb_gamma)

    def is_identity(self) -> bool:
        d = self.data
        return bool(np.all(np.abs(d[..., 0]) < 1e-6) and np.all(np.abs(d[..., 1:] - 1) < 1e-6))


@dataclass
class DngProfile:
    """The camera-profile tags of a DCP or a DNG's IFD0, parsed and checked."""

    source: str = ""
    kind: str = "dcp"                         # dcp | dng
    unique_camera_model: str = ""
    profile_name: str = ""
    calibration_signature: str = ""
    copyright: str = ""
    embed_policy: int | None = None
    illuminant1: int | None = None
    illuminant2: int | None = None
    color_matrix1: np.ndarray | None = None
    color_matrix2: np.ndarray | None = None
    forward_matrix1: np.ndarray | None = None
    forward_matrix2: np.ndarray | None = None
    camera_calibration1: np.ndarray | None = None
    camera_calibration2: np.ndarray | None = None
    hue_sat_map1: HsvTable | None = None
    hue_sat_map2: HsvTable | None = None
    look_table: HsvTable | None = None
    tone_curve: np.ndarray | None = None      # (N, 2) input, output in [0, 1]
    baseline_exposure_offset: float = 0.0
    default_black_render: int | None = None  # 0 auto, 1 none
    notes: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    @property
    def has_tables(self) -> bool:
        return any(x is not None for x in (self.hue_sat_map1, self.hue_sat_map2, self.look_table, self.tone_curve))


# ----------------------------------------------------------------------------- TIFF walking

class _Bad(Exception):
    pass


def _entries(buf: bytes, want_magic: int | None) -> tuple[str, dict[int, tuple[int, Any]], int | None]:
    """(byte order, {tag: (type, values)}, SubIFD offset) of the first IFD of a TIFF-structured buffer."""
    if len(buf) < 8:
        raise _Bad("too short for a TIFF/DCP header")
    bo = buf[:2]
    if bo == b"II":
        e = "<"
    elif bo == b"MM":
        e = ">"
    else:
        raise _Bad(f"not a DCP/TIFF file (starts with {buf[:4]!r})")
    magic, off = struct.unpack(e + "HI", buf[2:8])
    if want_magic is not None and magic != want_magic:
        raise _Bad(f"not a DCP (magic {magic:#06x}, expected {want_magic:#06x} 'IIRC')")
    if magic not in (42, DCP_MAGIC):
        raise _Bad(f"unknown TIFF magic {magic}")
    return (e, *_ifd(buf, e, off))


def _ifd(buf: bytes, e: str, off: int) -> tuple[dict[int, tuple[int, Any]], int | None]:
    n = len(buf)
    if off < 8 or off + 2 > n:
        raise _Bad(f"IFD offset {off} outside the file ({n} bytes)")
    (count,) = struct.unpack(e + "H", buf[off:off + 2])
    if count == 0 or count > MAX_ENTRIES or off + 2 + 12 * count > n:
        raise _Bad(f"IFD with {count} entries does not fit the file")
    out: dict[int, tuple[int, Any]] = {}
    sub = None
    for i in range(count):
        p = off + 2 + 12 * i
        tag, typ, cnt = struct.unpack(e + "HHI", buf[p:p + 8])
        if typ not in _TYPES:
            continue
        fmt, size = _TYPES[typ]
        nbytes = size * cnt
        if nbytes > n:
            raise _Bad(f"tag {tag} claims {cnt} values, more than the file holds")
        if nbytes <= 4:
            data = buf[p + 8:p + 8 + nbytes]
        else:
            (vo,) = struct.unpack(e + "I", buf[p + 8:p + 12])
            if vo + nbytes > n:
                raise _Bad(f"tag {tag} data ({nbytes} bytes at {vo}) runs past the end of the file")
            data = buf[vo:vo + nbytes]
        if typ in (2,):
            val: Any = data.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
        elif typ in (1, 7) and tag not in (50937, 50981):
            val = bytes(data)
        else:
            dt = {"B": "u1", "b": "i1", "H": "u2", "h": "i2", "I": "u4", "i": "i4", "f": "f4", "d": "f8",
                  "Q": "u8"}
            if typ in (5, 10):
                a = np.frombuffer(data, (e + ("u4" if typ == 5 else "i4"))).astype(np.float64)
                den = a[1::2]
                val = a[0::2] / np.where(den == 0, np.nan, den)
            else:
                val = np.frombuffer(data, e + dt[fmt]).astype(np.float64)
        out[tag] = (typ, val)
        if tag == 330 and typ in (4, 13) and cnt >= 1:
            sub = int(np.asarray(val).ravel()[0])
    return out, sub


# ----------------------------------------------------------------------------- parsing the tags

def _str(v: Any) -> str:
    if isinstance(v, bytes):
        return v.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
    if isinstance(v, str):
        return v.strip("\x00 ")
    return ""


def _int(v: Any) -> int | None:
    a = np.asarray(v).ravel() if not isinstance(v, (str, bytes)) else np.array([])
    if a.size == 0 or not np.isfinite(a[0]):
        return None
    return int(a[0])


def _matrix(v: Any, name: str, where: str) -> np.ndarray:
    a = np.asarray(v, np.float64).ravel() if not isinstance(v, (str, bytes)) else np.array([])
    if a.size != 9:
        raise InputError(f"{name} has {a.size} values, expected 9 (a 3-colour profile)", path=where)
    m = a.reshape(3, 3)
    if not np.all(np.isfinite(m)) or not np.any(m):
        raise InputError(f"{name} contains zero denominators, NaN or only zeros", path=where)
    return m


def _table(dims_v: Any, data_v: Any, enc_v: Any, name: str, where: str) -> HsvTable:
    d = np.asarray(dims_v).ravel() if not isinstance(dims_v, (str, bytes)) else np.array([])
    if d.size != 3:
        raise InputError(f"{name}Dims must hold 3 numbers (hue, saturation, value divisions), not {d.size}", path=where)
    hd, sd, vd = (int(x) for x in d)
    vd = max(vd, 1)
    if not (1 <= hd <= 360 and 2 <= sd <= 256 and 1 <= vd <= 256) or hd * sd * vd * 3 > MAX_TABLE:
        raise InputError(f"{name}Dims {hd}×{sd}×{vd} out of range (hue 1–360, saturation 2–256, value 1–256)",
                         path=where)
    a = np.asarray(data_v, np.float64).ravel() if not isinstance(data_v, (str, bytes)) else np.array([])
    if a.size != hd * sd * vd * 3:
        raise InputError(f"{name} has {a.size} values, {hd}×{sd}×{vd}×3 = {hd * sd * vd * 3} expected", path=where)
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or infinite values", path=where)
    t = a.reshape(vd, hd, sd, 3)
    if np.any(t[..., 1:] < 0):
        raise InputError(f"{name}: negative saturation or value scale", path=where)
    enc = _int(enc_v) if enc_v is not None else 0
    return HsvTable(hd, sd, vd, t.astype(np.float32), srgb_gamma=enc == 1)


def _profile_from_entries(ent: dict[int, tuple[int, Any]], where: str, kind: str,
                          extra: dict[int, tuple[int, Any]] | None = None) -> DngProfile:
    """``extra``: the raw IFD of a DNG, for the few profile tags writers put there (DefaultBlackRender)."""
    def get(name: str) -> Any:
        code = TAGS[name]
        if code in ent:
            return ent[code][1]
        if extra is not None and code in extra:
            return extra[code][1]
        return None

    p = DngProfile(source=where, kind=kind)
    p.unique_camera_model = _str(get("UniqueCameraModel"))
    p.profile_name = _str(get("ProfileName"))
    p.calibration_signature = _str(get("ProfileCalibrationSignature"))
    p.copyright = _str(get("ProfileCopyright"))
    p.embed_policy = _int(get("ProfileEmbedPolicy")) if get("ProfileEmbedPolicy") is not None else None
    for i in (1, 2):
        v = get(f"CalibrationIlluminant{i}")
        if v is not None:
            setattr(p, f"illuminant{i}", _int(v))
        for stem, attr in (("ColorMatrix", "color_matrix"), ("ForwardMatrix", "forward_matrix"),
                           ("CameraCalibration", "camera_calibration")):
            v = get(f"{stem}{i}")
            if v is not None:
                setattr(p, f"{attr}{i}", _matrix(v, f"{stem}{i}", where))
    if p.color_matrix1 is None and kind == "dcp":
        raise InputError("the profile has no ColorMatrix1", path=where)
    if p.color_matrix1 is None and p.color_matrix2 is not None:
        p.color_matrix1, p.color_matrix2 = p.color_matrix2, None
        p.illuminant1, p.illuminant2 = p.illuminant2, None
    dims = get("ProfileHueSatMapDims")
    if dims is not None:
        enc = get("ProfileHueSatMapEncoding")
        for i in (1, 2):
            data = get(f"ProfileHueSatMapData{i}")
            if data is not None:
                setattr(p, f"hue_sat_map{i}", _table(dims, data, enc, f"ProfileHueSatMapData{i}", where))
    elif get("ProfileHueSatMapData1") is not None:
        raise InputError("ProfileHueSatMapData1 without ProfileHueSatMapDims", path=where)
    dims = get("ProfileLookTableDims")
    if dims is not None and get("ProfileLookTableData") is not None:
        p.look_table = _table(dims, get("ProfileLookTableData"), get("ProfileLookTableEncoding"),
                              "ProfileLookTable", where)
    tc = get("ProfileToneCurve")
    if tc is not None:
        a = np.asarray(tc, np.float64).ravel() if not isinstance(tc, (str, bytes)) else np.array([])
        if a.size < 4 or a.size % 2 or a.size > 2 * 65536:
            raise InputError(f"ProfileToneCurve has {a.size} values, expected an even count ≥ 4", path=where)
        c = a.reshape(-1, 2)
        if not np.all(np.isfinite(c)) or np.any(np.diff(c[:, 0]) <= 0) or c.min() < -1e-6 or c.max() > 1 + 1e-6:
            raise InputError("ProfileToneCurve must be points in [0, 1] with increasing inputs", path=where)
        p.tone_curve = np.clip(c, 0.0, 1.0)
    v = get("BaselineExposureOffset")
    if v is not None:
        a = np.asarray(v, np.float64).ravel()
        if a.size and np.isfinite(a[0]) and abs(a[0]) < 16:
            p.baseline_exposure_offset = float(a[0])
    v = get("DefaultBlackRender")
    if v is not None:
        b = _int(v)
        p.default_black_render = b if b in BLACK_RENDER else None
    for code in sorted(set(ent) | set(extra or {})):
        if code in KNOWN_UNUSED:
            p.unused.append(KNOWN_UNUSED[code])
    return p


def _read_bytes(path: str | Path) -> bytes:
    where = str(path)
    try:
        with open(path, "rb") as f:
            buf = f.read(MAX_FILE + 1)
    except FileNotFoundError:
        raise ParameterError(f"profile {where} does not exist") from None
    except IsADirectoryError:
        raise ParameterError(f"profile {where} is a folder") from None
    except OSError as e:
        raise ParameterError(f"profile {where} cannot be read: {e.strerror or e}") from None
    if len(buf) > MAX_FILE:
        raise InputError(f"larger than {MAX_FILE >> 20} MiB: not a camera profile", path=where)
    if not buf:
        raise InputError("is empty", path=where)
    return buf


def read_dcp(path: str | Path) -> DngProfile:
    """Parse a ``.dcp`` file."""
    where = str(path)
    buf = _read_bytes(path)
    try:
        _, ent, _ = _entries(buf, DCP_MAGIC)
    except (_Bad, struct.error, ValueError) as e:
        raise InputError(f"not a valid DCP camera profile: {e}", path=where) from None
    return _profile_from_entries(ent, where, "dcp")


def read_dng_profile(path: str | Path) -> DngProfile:
    """The camera profile a DNG embeds (its IFD0 profile tags; DefaultBlackRender also from the raw SubIFD)."""
    where = str(path)
    buf = _read_bytes_head(path)
    try:
        e, ent, sub = _entries(buf, None)
        extra = None
        if sub is not None:
            try:
                extra, _ = _ifd(buf, e, sub)
            except (_Bad, struct.error, ValueError):
                extra = None
    except (_Bad, struct.error, ValueError) as err:
        raise InputError(f"cannot read the DNG's camera profile: {err}", path=where) from None
    if 50706 not in ent:
        raise InputError("not a DNG (no DNGVersion tag): it embeds no camera profile", path=where)
    return _profile_from_entries(ent, where, "dng", extra)


def _read_bytes_head(path: str | Path) -> bytes:
    """A DNG may be large: its IFD0 and profile tags usually sit in the first few MiB, so only those are read;
    the whole file (up to 1 GiB) only when a tag points further."""
    where = str(path)
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(0)
            if size == 0:
                raise InputError("is empty", path=where)
            head = f.read(4 << 20)
            if size <= len(head):
                return head
            try:
                e = "<" if head[:2] == b"II" else ">"
                _ifd(head, e, struct.unpack(e + "I", head[4:8])[0])
                return head
            except (_Bad, struct.error, ValueError):
                if size > 1 << 30:
                    return head
                f.seek(0)
                return f.read()
    except FileNotFoundError:
        raise ParameterError(f"{where} does not exist") from None
    except IsADirectoryError:
        raise ParameterError(f"{where} is a folder") from None
    except OSError as e:
        raise ParameterError(f"{where} cannot be read: {e.strerror or e}") from None


def read_profile_file(path: str | Path) -> DngProfile:
    """A DCP or a DNG's embedded profile, by content."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"IIRC" or head == b"MMCR":
        return read_dcp(path)
    return read_dng_profile(path)


def is_dcp(path: str | Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) in (b"IIRC", b"MMCR")
    except OSError:
        return False


# ----------------------------------------------------------------------------- writing

def _srational(m: np.ndarray, den: int = 10000) -> tuple[int, bytes]:
    a = np.asarray(m, np.float64).ravel()
    vals = []
    for x in a:
        vals += [int(round(float(x) * den)), den]
    return len(a), struct.pack("<" + "i" * len(vals), *vals)


def dcp_bytes(p: DngProfile) -> bytes:
    """The DCP encoding of ``p`` (little-endian, magic IIRC, one IFD with the tags sorted)."""
    entries: list[tuple[int, int, int, bytes]] = []      # tag, type, count, data

    def ascii_(tag: str, s: str) -> None:
        if s:
            b = s.encode("utf-8") + b"\x00"
            entries.append((TAGS[tag], 2, len(b), b))

    def long_(tag: str, vals: list[int]) -> None:
        entries.append((TAGS[tag], 4, len(vals), struct.pack("<" + "I" * len(vals), *vals)))

    def floats(tag: str, a: np.ndarray) -> None:
        a = np.asarray(a, "<f4").ravel()
        entries.append((TAGS[tag], 11, a.size, a.tobytes()))

    ascii_("UniqueCameraModel", p.unique_camera_model)
    ascii_("ProfileName", p.profile_name)
    ascii_("ProfileCalibrationSignature", p.calibration_signature)
    ascii_("ProfileCopyright", p.copyright)
    for i in (1, 2):
        ill = getattr(p, f"illuminant{i}")
        if ill is not None:
            entries.append((TAGS[f"CalibrationIlluminant{i}"], 3, 1, struct.pack("<H", int(ill))))
        for stem, attr in (("ColorMatrix", "color_matrix"), ("ForwardMatrix", "forward_matrix")):
            m = getattr(p, f"{attr}{i}")
            if m is not None:
                n, b = _srational(m)
                entries.append((TAGS[f"{stem}{i}"], 10, n, b))
    hs = p.hue_sat_map1
    if hs is not None:
        long_("ProfileHueSatMapDims", [hs.hue_divisions, hs.sat_divisions, hs.val_divisions])
        floats("ProfileHueSatMapData1", hs.data)
        if p.hue_sat_map2 is not None:
            floats("ProfileHueSatMapData2", p.hue_sat_map2.data)
        if hs.srgb_gamma:
            long_("ProfileHueSatMapEncoding", [1])
    lt = p.look_table
    if lt is not None:
        long_("ProfileLookTableDims", [lt.hue_divisions, lt.sat_divisions, lt.val_divisions])
        floats("ProfileLookTableData", lt.data)
        if lt.srgb_gamma:
            long_("ProfileLookTableEncoding", [1])
    if p.tone_curve is not None:
        floats("ProfileToneCurve", p.tone_curve)
    long_("ProfileEmbedPolicy", [3 if p.embed_policy is None else int(p.embed_policy)])
    if p.baseline_exposure_offset:
        n, b = _srational(np.array([p.baseline_exposure_offset]), 1000000)
        entries.append((TAGS["BaselineExposureOffset"], 10, n, b))
    if p.default_black_render is not None:
        long_("DefaultBlackRender", [int(p.default_black_render)])
    entries.sort(key=lambda t: t[0])
    n = len(entries)
    head = struct.pack("<2sHI", b"II", DCP_MAGIC, 8)
    ifd_size = 2 + 12 * n + 4
    data_off = 8 + ifd_size
    ifd = bytearray(struct.pack("<H", n))
    blob = bytearray()
    for tag, typ, cnt, data in entries:
        if len(data) <= 4:
            ifd += struct.pack("<HHI", tag, typ, cnt) + data.ljust(4, b"\x00")
        else:
            if (data_off + len(blob)) % 2:
                blob += b"\x00"
            ifd += struct.pack("<HHII", tag, typ, cnt, data_off + len(blob))
            blob += data
    ifd += struct.pack("<I", 0)
    return head + bytes(ifd) + bytes(blob)


def write_dcp(path: str | Path, p: DngProfile, overwrite: bool = True) -> Path:
    from ..io.atomic import atomic_path
    from ..errors import OutputError

    out = Path(path)
    if out.exists() and not overwrite:
        raise OutputError("exists (use --overwrite to replace it)", path=out)
    data = dcp_bytes(p)
    with atomic_path(out, suffix=".dcp") as tmp:
        Path(tmp).write_bytes(data)
    return out


# ----------------------------------------------------------------------------- describing

def describe(p: DngProfile) -> str:
    """What a profile holds, for ``rawlux profile show``."""
    from . import temperature

    def mat(m: np.ndarray) -> list[str]:
        return ["    [" + ", ".join(f"{v:9.4f}" for v in row) + "]" for row in m]

    def ill(code: int | None) -> str:
        if code is None:
            return "—"
        name = temperature.ILLUMINANT_NAMES.get(code, f"code {code}")
        try:
            t = temperature.xy_to_temp_tint(temperature.illuminant_xy(code))[0]
            return f"{name} ({code}, {t:.0f} K)"
        except Exception:  # noqa: BLE001 - an unknown code just has no temperature
            return f"{name} ({code})"

    lines = [f"{p.kind.upper()} camera profile: {p.source}"]
    for k, v in (("camera", p.unique_camera_model), ("profile name", p.profile_name),
                 ("calibration signature", p.calibration_signature), ("copyright", p.copyright)):
        if v:
            lines.append(f"{k}: {v}")
    if p.embed_policy is not None:
        lines.append(f"embed policy: {EMBED_POLICIES.get(p.embed_policy, p.embed_policy)}")
    for i in (1, 2):
        cm = getattr(p, f"color_matrix{i}")
        if cm is None:
            continue
        lines.append(f"calibration {i}: {ill(getattr(p, f'illuminant{i}'))}")
        lines.append("  ColorMatrix (XYZ → camera):")
        lines += mat(cm)
        fm = getattr(p, f"forward_matrix{i}")
        if fm is not None:
            lines.append("  ForwardMatrix (camera → XYZ D50):")
            lines += mat(fm)
        cc = getattr(p, f"camera_calibration{i}")
        if cc is not None:
            lines.append("  CameraCalibration:")
            lines += mat(cc)
    for name, t, extra in (("HueSatMap", p.hue_sat_map1, p.hue_sat_map2), ("LookTable", p.look_table, None)):
        if t is None:
            lines.append(f"{name}: none")
            continue
        kind = "3D" if t.val_divisions > 1 else "2.5D"
        d = t.data
        lines.append(f"{name}: {t.hue_divisions} hue × {t.sat_divisions} sat × {t.val_divisions} value ({kind}), "
                     f"{'sRGB-gamma' if t.srgb_gamma else 'linear'} value encoding"
                     + (", two tables (blended by illuminant)" if extra is not None else ""))
        lines.append(f"  hue shift {d[..., 0].min():+.2f}…{d[..., 0].max():+.2f}°, saturation scale "
                     f"{d[..., 1].min():.3f}…{d[..., 1].max():.3f}, value scale {d[..., 2].min():.3f}…{d[..., 2].max():.3f}")
    if p.tone_curve is None:
        lines.append("ProfileToneCurve: none")
    else:
        c = p.tone_curve
        mid = float(np.interp(0.18, c[:, 0], c[:, 1]))
        lines.append(f"ProfileToneCurve: {len(c)} points; 0.18 → {mid:.3f}, 0.5 → {np.interp(0.5, c[:, 0], c[:, 1]):.3f}")
    lines.append(f"BaselineExposureOffset: {p.baseline_exposure_offset:+.3f} EV")
    if p.default_black_render is not None:
        lines.append(f"DefaultBlackRender: {BLACK_RENDER[p.default_black_render]}")
    if p.unused:
        lines.append(f"read but not used by rawlux: {', '.join(p.unused)}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- from `rawlux calibrate`

def nearest_illuminant(xy: tuple[float, float]) -> tuple[int, float]:
    """The EXIF/DNG illuminant code whose CCT is nearest the light's (a DCP names its light by code), and the
    difference in kelvin."""
    from . import temperature

    t = temperature.xy_to_temp_tint(xy)[0]
    best = min(temperature.ILLUMINANTS, key=lambda c: abs(1e6 / temperature.illuminant_cct(c) - 1e6 / t))
    return best, abs(temperature.illuminant_cct(best) - t)


def from_calibration(cal: Any, name: str, camera: str = "") -> DngProfile:
    """A DCP holding what ``rawlux calibrate`` fitted: ColorMatrix1/ForwardMatrix1 for the chart's light and
    the hue/saturation table as ProfileHueSatMapData1 (2.5D, linear)."""
    code, _ = nearest_illuminant(cal.xy)
    hsm = None
    if cal.hue_sat_map is not None:
        h = cal.hue_sat_map
        hsm = HsvTable(h.hue_divisions, h.sat_divisions, 1, np.asarray(h.data, np.float32)[None])
    return DngProfile(source="", kind="dcp", unique_camera_model=camera, profile_name=name,
                      copyright="made with rawlux calibrate", embed_policy=3, illuminant1=code,
                      color_matrix1=np.asarray(cal.color_matrix, np.float64),
                      forward_matrix1=np.asarray(cal.forward_matrix, np.float64), hue_sat_map1=hsm)
