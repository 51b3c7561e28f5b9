"""Text fields for frames, computed from the normalised EXIF dict (see :mod:`rawlux.io.metadata`).

A template writes its text as format strings such as ``"{focal35|focal} {aperture} {shutter} {iso}"``:

* ``{name}`` is a field below; ``{a|b}`` takes the first of ``a``, ``b`` that is known;
* ``{date:%Y.%m.%d}`` gives a strftime format to a date field;
* a field that is unknown is left out together with the separator next to it, so a photo
  without GPS never prints "None" or a dangling "·".

Fields (each already carries its unit, so a missing one leaves nothing behind)::

    make       maker, corporate suffixes removed         model     model as written
    device     make + model, the maker written once      lens      lens model (maker written once)
    focal      "26mm"  (actual focal length)             focal35   "35mm" (35 mm equivalent)
    aperture   "f/1.9"                                    shutter   "1/120s", "0.4s", "2s"
    iso        "ISO100"                                   ev        "+0.7EV" (exposure bias, not 0)
    date       "2024.05.01 14:03" (strftime via {date:...})   time  "14:03:22"
    gps        "40°26′46″N 79°58′56″W"                    altitude  "123m"
    artist, copyright, software
"""
from __future__ import annotations

import math
import re
from datetime import datetime
from fractions import Fraction
from typing import Any, Mapping

#: words that only say "a company" and are dropped from a maker's name
_CORPORATE = re.compile(
    r"[\s,]+(corporation|corp\.?|co\.?,?\s*ltd\.?|company|limited|ltd\.?|inc\.?|gmbh|ag|s\.?a\.?|"
    r"imaging|optical|electronics|electric|digital\s+solutions|camera|cameras|industries|kabushiki\s+kaisha|k\.?k\.?)$",
    re.IGNORECASE)

#: diagonal of a 36×24 mm frame
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)

FIELD_NAMES = ("make", "model", "device", "lens", "focal", "focal35", "aperture", "shutter", "iso", "ev",
               "date", "time", "gps", "altitude", "artist", "copyright", "software")

DEFAULT_DATE_FORMAT = "%Y.%m.%d %H:%M"


def clean_make(make: str | None) -> str:
    """The maker's name without corporate suffixes ("ACME IMAGING CORP." → "ACME")."""
    if not make:
        return ""
    s = " ".join(str(make).split())
    for _ in range(4):  # suffixes can stack ("... Optical Co., Ltd.")
        t = _CORPORATE.sub("", s).strip(" ,.")
        if t == s or not t:
            break
        s = t
    return s


def _strip_maker(text: str, make: str) -> str:
    """``text`` without a leading copy of the maker's name (any case, first word of it counts)."""
    if not text or not make:
        return text
    low = text.lower()
    for cand in (make, make.split()[0]):
        c = cand.lower()
        if low.startswith(c) and (len(low) == len(c) or not low[len(c)].isalnum()):
            rest = text[len(cand):].lstrip(" -_")
            return rest or text
    return text


def device_name(make: str | None, model: str | None) -> str:
    """Maker and model with the maker written once ("ACME" + "ACME X100" → "ACME X100")."""
    mk, md = clean_make(make), " ".join(str(model or "").split())
    if not md:
        return mk
    if not mk:
        return md
    low_md = md.lower()
    if low_md.startswith(mk.lower()) or low_md.startswith(mk.split()[0].lower()):
        # the model already names the maker: keep the model's own spelling of it
        return md
    return f"{mk} {md}"


def format_number(x: float, digits: int = 1) -> str:
    """1.0 → "1", 1.85 → "1.9" (one decimal, trailing zero dropped)."""
    s = f"{x:.{digits}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def format_shutter(t: float) -> str:
    """Exposure time as photographers write it: 1/120s, 1/3s, 0.4s, 2s, 1.5s."""
    if not t or t <= 0 or not math.isfinite(t):
        return ""
    if t < 1.0:
        inv = 1.0 / t
        den = round(inv)
        if den >= 2 and abs(inv - den) / inv < 0.03:
            return f"1/{den}s"
        if inv >= 10:  # not a round fraction but short: still a fraction
            return f"1/{format_number(inv, 0)}s"
        return f"{format_number(t, 1)}s"
    return f"{format_number(t, 1)}s"


def format_dms(value: float, positive: str, negative: str) -> str:
    """Decimal degrees → 40°26′46″N (seconds rounded, carries handled)."""
    hemi = positive if value >= 0 else negative
    total = round(abs(value) * 3600)
    d, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{d}°{m:02d}′{s:02d}″{hemi}"


_DATE = re.compile(r"(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def parse_datetime(s: Any) -> datetime | None:
    """EXIF ``YYYY:MM:DD HH:MM:SS`` (or ISO-like variants) → datetime; None when it is not a date."""
    if isinstance(s, datetime):
        return s
    m = _DATE.match(str(s or "").strip())
    if not m:
        return None
    try:
        return datetime(*(int(g) if g else 0 for g in m.groups()))
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None


def crop_factor(exif: Mapping[str, Any], photo_size: tuple[int, int] | None = None) -> float | None:
    """Crop factor from the focal-plane resolution tags (sensor size = pixels ÷ resolution)."""
    cf = exif.get("CropFactor")
    if isinstance(cf, (int, float)) and cf > 0:
        return float(cf)
    xres, yres = exif.get("FocalPlaneXResolution"), exif.get("FocalPlaneYResolution")
    unit = exif.get("FocalPlaneResolutionUnit", 2)
    mm_per_unit = {2: 25.4, 3: 10.0, 4: 1.0, 5: 0.001}.get(int(unit) if isinstance(unit, (int, float)) else 2)
    w = exif.get("ExifImageWidth") or (photo_size[0] if photo_size else None)
    h = exif.get("ExifImageHeight") or (photo_size[1] if photo_size else None)
    try:
        xres, yres = float(xres), float(yres or xres)
        w, h = float(w), float(h)
    except (TypeError, ValueError):
        return None
    if not (mm_per_unit and xres > 0 and yres > 0 and w > 0 and h > 0):
        return None
    sw, sh = w / xres * mm_per_unit, h / yres * mm_per_unit
    diag = math.hypot(sw, sh)
    if not 1.0 < diag < 120.0:  # not a plausible sensor: the tags are wrong
        return None
    return FULL_FRAME_DIAGONAL_MM / diag


def compute_fields(exif: Mapping[str, Any], photo_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """All fields that this EXIF can give; unknown ones are absent. ``date`` stays a datetime."""
    f: dict[str, Any] = {}
    make_raw = str(exif.get("Make") or "").strip()
    make = clean_make(make_raw)
    model = " ".join(str(exif.get("Model") or "").split())
    if make:
        f["make"] = make
    if model:
        f["model"] = model
    dev = device_name(make_raw, model)
    if dev:
        f["device"] = dev
    lens = " ".join(str(exif.get("LensModel") or "").split())
    if lens:
        f["lens"] = lens
    fl = exif.get("FocalLength")
    if isinstance(fl, (int, float)) and fl > 0:
        f["focal"] = f"{format_number(fl, 1 if fl < 10 else 0)}mm"
    f35 = exif.get("FocalLengthIn35mmFormat")
    if isinstance(f35, (int, float)) and f35 > 0:
        f["focal35"] = f"{int(round(f35))}mm"
    elif isinstance(fl, (int, float)) and fl > 0:
        cf = crop_factor(exif, photo_size)
        if cf:
            f["focal35"] = f"{int(round(fl * cf))}mm"
    fn = exif.get("FNumber")
    if isinstance(fn, (int, float)) and fn > 0:
        f["aperture"] = f"f/{format_number(fn, 1)}"
    t = exif.get("ExposureTime")
    if isinstance(t, (int, float)) and t > 0:
        s = format_shutter(float(t))
        if s:
            f["shutter"] = s
    iso = exif.get("ISO")
    if isinstance(iso, (int, float)) and iso > 0:
        f["iso"] = f"ISO{int(iso)}"
    ev = exif.get("ExposureBiasValue")
    if isinstance(ev, (int, float)) and abs(ev) >= 0.05:
        fr = Fraction(ev).limit_denominator(3)
        f["ev"] = f"{'+' if ev > 0 else '−'}{format_number(abs(float(fr)), 1)}EV"
    dt = parse_datetime(exif.get("DateTimeOriginal"))
    if dt is not None:
        f["date"] = dt
        f["time"] = dt
    lat, lon = exif.get("GPSLatitude"), exif.get("GPSLongitude")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and abs(lat) <= 90 and abs(lon) <= 180:
        f["gps"] = f"{format_dms(lat, 'N', 'S')} {format_dms(lon, 'E', 'W')}"
        alt = exif.get("GPSAltitude")
        if isinstance(alt, (int, float)):
            f["altitude"] = f"{int(round(alt))}m"
    for k, name in (("Artist", "artist"), ("Copyright", "copyright"), ("Software", "software")):
        v = " ".join(str(exif.get(k) or "").split())
        if v:
            f[name] = v
    return f


_FIELD = re.compile(r"\{([^{}]*)\}")
_SEPARATORS = "·|•,/–—-"


def _value(spec: str, fields: Mapping[str, Any], where: str) -> str | None:
    """The text of one ``{...}`` placeholder, None when none of its fields is known."""
    from ..errors import ParameterError

    names, _, fmt = spec.partition(":")
    for name in names.split("|"):
        name = name.strip()
        if name not in FIELD_NAMES:
            raise ParameterError(f"{where}: unknown field {{{name}}}; known fields: {', '.join(FIELD_NAMES)}")
        v = fields.get(name)
        if v is None or v == "":
            continue
        if isinstance(v, datetime):
            try:
                return v.strftime(fmt or ("%H:%M:%S" if name == "time" else DEFAULT_DATE_FORMAT))
            except ValueError as e:
                raise ParameterError(f"{where}: bad date format {fmt!r} ({e})") from None
        return str(v)
    return None


def render_text(template: str, fields: Mapping[str, Any], where: str = "text") -> str:
    """Fill a format string; unknown fields vanish with their neighbouring separator."""
    if not template:
        return ""
    parts: list[tuple[str, bool]] = []   # (text, is_field_value_or_literal)
    pos = 0
    for m in _FIELD.finditer(template):
        parts.append((template[pos:m.start()], True))
        v = _value(m.group(1), fields, where)
        parts.append(("\x00" if v is None else v, True))
        pos = m.end()
    parts.append((template[pos:], True))
    s = "".join(p for p, _ in parts)
    if "\x00" not in s:
        return s.strip()
    # remove each missing value together with one adjacent separator (the one before it, else after)
    sep = re.escape(_SEPARATORS)
    s = re.sub(rf"\s*[{sep}]?\s*\x00", "\x00", s)          # separator before a hole goes with it
    s = re.sub(rf"^\x00\s*[{sep}]?\s*", "", s)              # a hole at the start takes the next one
    s = s.replace("\x00", "")
    s = re.sub(r"[ \t]{2,}", " ", s)
    s = re.sub(rf"^\s*[{sep}]\s*|\s*[{sep}]\s*$", "", s)      # no dangling separator at either end
    return s.strip()
