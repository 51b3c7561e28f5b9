"""Import Lightroom / Camera Raw develop presets (``.xmp``, the ``crs:`` namespace) as rawlux looks.

``rawlux look import preset.xmp -o mine.toml`` writes a readable look TOML (each value commented with the
preset field it came from); ``--look preset.xmp`` uses a preset directly. The mapping onto rawlux's look
ingredients is documented in the README ("Presets from other tools"); every field of the preset that has no
rawlux equivalent, or only an approximate one, is listed in one notice — nothing is dropped silently.

Parsing goes through defusedxml (no DTDs, no entity expansion, no external entities) after size checks, so an
XML bomb, an external-entity trick or a huge attribute is refused with one LookError line.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import LookError

CRS = "http://ns.adobe.com/camera-raw-settings/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MAX_BYTES = 2 << 20           # presets are a few KB; the largest with embedded profile tables ≈ 1 MB
MAX_VALUE = 256 << 10         # one attribute / element text
MAX_FIELDS = 5000
HSL_BANDS = ("Red", "Orange", "Yellow", "Green", "Aqua", "Blue", "Purple", "Magenta")

#: preset fields that describe the preset, not the picture (listed apart in the notice)
METADATA = {"Version", "ProcessVersion", "PresetType", "UUID", "Cluster", "Group", "Name", "ShortName",
            "SortName", "SupportsAmount", "SupportsAmount2", "SupportsColor", "SupportsMonochrome",
            "SupportsHighDynamicRange", "SupportsNormalDynamicRange", "SupportsSceneReferred",
            "SupportsOutputReferred", "CameraModelRestriction", "Copyright", "ContactInfo", "Description",
            "HasSettings", "HasCrop", "AlreadyApplied", "ToneCurveName", "ToneCurveName2012", "RawFileName",
            "Amount", "Puid", "Stubbed", "Parameters", "PresetAmount", "OverrideLookVignette",
            "CompatibleVersion"}


@dataclass
class Imported:
    name: str
    tables: dict[str, dict[str, Any]]
    comments: dict[tuple[str, str], str]            # (stage, key) → the preset fields it came from
    approximated: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    neutral: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)
    source: str = ""
    channel_curves: dict[str, list[tuple[float, float]]] = field(default_factory=dict)   # red/green/blue

    def notice(self) -> str:
        """One notice naming every preset field that was approximated or not used."""
        parts = []
        if self.unmapped:
            parts.append("no rawlux equivalent, not applied: " + ", ".join(self.unmapped))
        if self.approximated:
            parts.append("approximated: " + ", ".join(self.approximated))
        if self.neutral:
            parts.append("at their neutral value (nothing to apply): " + ", ".join(self.neutral))
        if self.metadata:
            parts.append("preset metadata (not picture settings): " + ", ".join(self.metadata))
        return f"{self.source}: " + "; ".join(parts) if parts else ""

    def to_toml(self) -> str:
        from .schema import toml_value as _toml_value

        lines = [f"# imported by `rawlux look import` from {Path(self.source).name}",
                 "# each value names the preset field(s) it came from; see the README for the mapping"]
        if self.notice():
            for chunk in _wrap(self.notice(), 110):
                lines.append(f"# {chunk}")
        lines += ["schema_version = 1", f"name = {_q(self.name)}",
                  f"description = {_q('Imported from the develop preset ' + Path(self.source).name)}",
                  'inherits = "natural"', ""]
        for stage, vals in self.tables.items():
            lines.append(f"[{stage}]")
            for k, v in vals.items():
                c = self.comments.get((stage, k))
                lines.append(f"{k} = {_toml_value(v)}" + (f"    # {c}" if c else ""))
            lines.append("")
        return "\n".join(lines)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _wrap(text: str, width: int) -> list[str]:
    out, cur = [], ""
    for w in text.split(" "):
        if cur and len(cur) + 1 + len(w) > width:
            out.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        out.append(cur)
    return out


# ----------------------------------------------------------------------------- reading the XML safely

def read_fields(path: str | Path) -> tuple[dict[str, Any], str]:
    """The ``crs:`` fields of a preset (name → str, or list of str for rdf:Seq/Alt/Bag) and its name."""
    where = str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise LookError(f"preset {where} does not exist") from None
    except OSError as e:
        raise LookError(f"preset {where} cannot be read: {e.strerror or e}") from None
    if not p.is_file():
        raise LookError(f"preset {where} is not a file")
    if size > MAX_BYTES:
        raise LookError(f"preset {where} is {size} bytes: larger than {MAX_BYTES >> 20} MiB, not a develop preset")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise LookError(f"preset {where} cannot be read: {e.strerror or e}") from None
    return parse_fields(data, where)


def parse_fields(data: bytes, where: str) -> tuple[dict[str, Any], str]:
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    if len(data) > MAX_BYTES:
        raise LookError(f"preset {where} is larger than {MAX_BYTES >> 20} MiB")
    if not data.strip():
        raise LookError(f"preset {where} is empty")
    # a huge attribute or text value is refused before the parser builds it
    if re.search(rb"[^<>]{%d}" % (MAX_VALUE + 1), data):
        raise LookError(f"preset {where}: a value longer than {MAX_VALUE >> 10} KiB: not a develop preset")
    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise LookError(f"preset {where}: refused unsafe XML ({type(e).__name__}: DTDs and entities are not "
                        "allowed in a preset)") from None
    except ParseError as e:
        raise LookError(f"preset {where}: not well-formed XML ({e})") from None
    except (ValueError, UnicodeError) as e:
        raise LookError(f"preset {where}: cannot be read as XML ({e})") from None
    fields: dict[str, Any] = {}
    name = ""
    count = 0
    stack = [root]
    while stack:                                     # document order; a crs:Look is not descended into
        el = stack.pop()
        count += 1
        if count > 200_000:
            raise LookError(f"preset {where}: too many XML elements")
        for k, v in el.attrib.items():
            if k.startswith("{" + CRS + "}"):
                fields[k[len(CRS) + 2:]] = v
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.startswith("{" + CRS + "}"):
            local = tag[len(CRS) + 2:]
            if local == "Look":
                # a creative profile (its own tables and settings): named, not merged with the preset's fields
                inner = [d.attrib.get(f"{{{CRS}}}Name", "") for d in el.iter() if f"{{{CRS}}}Name" in d.attrib]
                fields["Look"] = inner[0] if inner and inner[0] else "(unnamed)"
                continue
            items = [li for li in el.iter(f"{{{RDF}}}li")]
            if items:
                if local == "Name":
                    name = (items[0].text or "").strip()
                fields[local] = [(li.text or "").strip() for li in items]
            elif len(el) == 0 and el.text is not None and el.text.strip():
                fields[local] = el.text.strip()
            elif len(el):
                fields[local] = "(structure)"
        if len(fields) > MAX_FIELDS:
            raise LookError(f"preset {where}: more than {MAX_FIELDS} fields")
        stack.extend(reversed(list(el)))
    if not fields:
        raise LookError(f"preset {where}: no Camera Raw settings (crs:) found: not a Lightroom/Camera Raw preset")
    if not name and isinstance(fields.get("Name"), str):
        name = fields["Name"]
    return fields, name


# ----------------------------------------------------------------------------- the mapping

def _num(fields: dict[str, Any], key: str, where: str) -> float | None:
    v = fields.get(key)
    if v is None:
        return None
    if isinstance(v, list):
        raise LookError(f"preset {where}: {key} must be a number, not a list")
    s = str(v).strip().replace("+", "", 1) if str(v).strip().startswith("+") else str(v).strip()
    try:
        x = float(s)
    except ValueError:
        raise LookError(f"preset {where}: {key}={v!r} is not a number") from None
    if not math.isfinite(x) or abs(x) > 1e6:
        raise LookError(f"preset {where}: {key}={v!r} is out of range")
    return x


def _clip(x: float, lo: float, hi: float) -> float:
    return float(min(max(x, lo), hi))


def _r(x: float, nd: int = 4) -> float:
    v = round(float(x), nd)
    return 0.0 if v == 0 else v


def _curve_points(v: Any, key: str, where: str) -> list[tuple[float, float]]:
    if not isinstance(v, list):
        raise LookError(f"preset {where}: {key} must be a list of 'x, y' points")
    pts = []
    for s in v:
        m = re.fullmatch(r"\s*([+-]?\d+(?:\.\d*)?)\s*,\s*([+-]?\d+(?:\.\d*)?)\s*", s)
        if not m:
            raise LookError(f"preset {where}: {key} point {s!r} is not 'x, y'")
        x, y = float(m.group(1)), float(m.group(2))
        if not (0 <= x <= 255 and 0 <= y <= 255):
            raise LookError(f"preset {where}: {key} point {s!r} is outside 0..255")
        pts.append((x / 255.0, y / 255.0))
    if len(pts) < 2 or any(b[0] <= a[0] for a, b in zip(pts, pts[1:])):
        raise LookError(f"preset {where}: {key} needs at least 2 points with increasing x")
    return pts


def _is_identity_curve(pts: list[tuple[float, float]]) -> bool:
    return all(abs(x - y) < 1e-6 for x, y in pts)


def _parametric(fields: dict[str, Any], where: str) -> tuple[Any, list[str]]:
    """The parametric curve (four regions, three splits) as a function on [0, 1], and the fields it used."""
    import numpy as np

    used = []
    amt = {}
    for k in ("Shadows", "Darks", "Lights", "Highlights"):
        v = _num(fields, f"Parametric{k}", where)
        if v is not None:
            used.append(f"Parametric{k}")
            amt[k] = _clip(v, -100, 100) / 100.0
    splits = []
    for k, d in (("ShadowSplit", 25.0), ("MidtoneSplit", 50.0), ("HighlightSplit", 75.0)):
        v = _num(fields, f"Parametric{k}", where)
        if v is not None:
            used.append(f"Parametric{k}")
        splits.append(_clip(v if v is not None else d, 5, 95) / 100.0)
    s1, s2, s3 = sorted(splits)
    if not any(amt.values()):
        return None, used
    zones = {"Shadows": (0.0, s1), "Darks": (s1, s2), "Lights": (s2, s3), "Highlights": (s3, 1.0)}

    def f(x: np.ndarray) -> np.ndarray:
        y = np.array(x, np.float64)
        for k, a in amt.items():
            lo, hi = zones[k]
            c, w = 0.5 * (lo + hi), max(hi - lo, 0.1)
            # a smooth bump over the region (and half its width either side), zero at black and white
            bump = np.exp(-0.5 * ((x - c) / (0.6 * w)) ** 2) * np.sin(np.pi * np.clip(x, 0, 1))
            y = y + 0.25 * w * a * bump / max(np.sin(np.pi * c), 0.3)
        return np.clip(y, 0.0, 1.0)
    return f, used


class _Mapping:
    """The look being built from one preset: its tables, the comment on each value, the preset fields used and
    the approximations made (in the order they were met)."""

    def __init__(self, fields: dict[str, Any], where: str) -> None:
        self.fields = fields
        self.where = where
        self.tables: dict[str, dict[str, Any]] = {}
        self.comments: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()
        self.approx: list[str] = []

    def put(self, stage: str, key: str, value: Any, src: str) -> None:
        self.tables.setdefault(stage, {})[key] = value
        self.comments[(stage, key)] = src

    def get(self, stage: str, key: str, default: float = 0.0) -> Any:
        return self.tables.get(stage, {}).get(key, default)

    def num(self, key: str) -> float | None:
        """The number in field ``key`` (None when absent); a present field counts as used."""
        v = _num(self.fields, key, self.where)
        if v is not None:
            self.used.add(key)
        return v

    def first(self, keys: tuple[str, ...]) -> float | None:
        """The first of ``keys`` present (a process-2012 field before its older name)."""
        for k in keys:
            v = self.num(k)
            if v is not None:
                return v
        return None

    def sliders(self, table: tuple[_Slider, ...]) -> None:
        """Map each slider of ``table`` that is present and not zero."""
        for keys, stage, key, value, comment, approx in table:
            v = self.first(keys)
            if not v:
                continue
            k = key if isinstance(key, str) else key[0 if v > 0 else 1]
            self.put(stage, k, value(v), comment.format(v=v))
            if approx:
                self.approx.append(approx)

    def options(self, stage: str, table: tuple[_Option, ...]) -> None:
        """Map each optional setting of ``table`` that is present (zero included)."""
        for field_, key, value, comment in table:
            v = self.num(field_)
            if v is not None:
                self.put(stage, key, value(v), comment.format(v=v))


def _pct(v: float) -> float:
    """A -100..100 slider as -1..1."""
    return _clip(v, -100, 100) / 100


#: (preset fields, the first present is used; stage; key, or (key if > 0, key if < 0); value; comment;
#: approximation noted, "" when exact)
_Slider = tuple[tuple[str, ...], str, str | tuple[str, str], Callable[[float], Any], str, str]
#: (preset field; key; value; comment)
_Option = tuple[str, str, Callable[[float], Any], str]

_TONE_SLIDERS: tuple[_Slider, ...] = (
    (("Exposure2012", "Exposure"), "exposure", "ev", lambda v: _r(_clip(v, -5, 5), 3),
     "Exposure {v:+.2f} EV (scene-linear, exact)", ""),
    (("Contrast2012", "Contrast"), "curve", "contrast", lambda v: _r(_pct(v) * 0.5, 3),
     "Contrast {v:+.0f}", "Contrast2012 (curve contrast about middle grey)"),
    (("Highlights2012",), "curve", "highlights", lambda v: _r(_pct(v)),
     "Highlights {v:+.0f}", "Highlights2012 (global curve bump, not local)"),
    (("Shadows2012",), "curve", "shadows", lambda v: _r(_pct(v)),
     "Shadows {v:+.0f}", "Shadows2012 (global curve bump, not local)"),
    # + lowers the white point, - lowers the ceiling; + lifts the blacks, - crushes them (by the same amount)
    (("Whites2012",), "curve", ("white", "ceiling"), lambda v: _r(1 - 0.2 * abs(_clip(v, -100, 100)) / 100),
     "Whites {v:+.0f}", "Whites2012 (white point)"),
    (("Blacks2012",), "curve", ("lift", "black"), lambda v: _r(0.08 * abs(_clip(v, -100, 100)) / 100),
     "Blacks {v:+.0f}", "Blacks2012 (black point / lift)"),
)
_SATURATION_SLIDERS: tuple[_Slider, ...] = (
    (("Vibrance",), "saturation", "vibrance", lambda v: _r(_pct(v)), "Vibrance {v:+.0f}", ""),
    (("Saturation",), "saturation", "saturation", lambda v: _r(1 + _pct(v)), "Saturation {v:+.0f}", ""),
)
_BALANCE_SLIDERS: tuple[_Slider, ...] = (
    (("IncrementalTemperature",), "balance", "warmth", lambda v: _r(_pct(v) * 40, 2),
     "IncrementalTemperature {v:+.0f}", "IncrementalTemperature (as a mired shift)"),
    # balance.tint > 0 is magenta, like Camera Raw's +; tests/looks/test_xmp.py guards the direction
    (("IncrementalTint",), "balance", "tint", lambda v: _r(_pct(v) * 30, 2),
     "IncrementalTint {v:+.0f} (+ = magenta)", "IncrementalTint"),
)
#: the colour HSL sliders of one band: (preset field prefix, key suffix, scale, decimals)
_HSL_SLIDERS = (("Hue", "hue", 30, 2), ("Saturation", "sat", 1, 4), ("Luminance", "lum", 0.6, 4))
_VIGNETTE_OPTIONS: tuple[_Option, ...] = (
    ("PostCropVignetteMidpoint", "midpoint", lambda v: _r(_clip(v, 0, 100) / 100), "PostCropVignetteMidpoint {v:.0f}"),
    ("PostCropVignetteRoundness", "roundness", lambda v: _r((_clip(v, -100, 100) + 100) / 200),
     "PostCropVignetteRoundness {v:+.0f}"),
    ("PostCropVignetteFeather", "feather", lambda v: _r(_clip(v / 100, 0.05, 1.0)), "PostCropVignetteFeather {v:.0f}"),
)
_SHARPEN_OPTIONS: tuple[_Option, ...] = (
    ("SharpenRadius", "radius", lambda v: _r(_clip(v, 0.3, 5.0), 2), "SharpenRadius {v:.1f}"),
)


def import_fields(fields: dict[str, Any], name: str, where: str) -> Imported:
    """The look a preset's ``crs:`` fields describe, with every field not (exactly) mapped named."""
    m = _Mapping(fields, where)
    m.sliders(_TONE_SLIDERS)
    _map_presence(m)
    m.sliders(_SATURATION_SLIDERS)
    _map_white_balance(m)
    channel_curves = _map_tone_curves(m)
    if str(fields.get("ConvertToGrayscale", "False")).strip().lower() == "true":
        _map_black_and_white(m)
    else:
        _map_hsl(m)
    _map_colour_grading(m)
    _map_grain(m)
    _map_vignette(m)
    _map_sharpen(m)
    unmapped, neutral, metadata = _not_used(fields, m.used)
    return Imported(name=name or "imported", tables=m.tables, comments=m.comments,
                    approximated=list(dict.fromkeys(m.approx)), unmapped=unmapped, neutral=neutral,
                    metadata=metadata, source=where, channel_curves=channel_curves)


def _map_presence(m: _Mapping) -> None:
    """Clarity and Texture as rawlux's local contrast; Dehaze is read and reported (no haze model)."""
    cl = m.first(("Clarity2012", "Clarity"))
    tex = m.num("Texture")
    if cl or tex:
        amount = 0.6 * _clip(cl or 0.0, -100, 100) / 100 + (0.2 if cl else 0.4) * _clip(tex or 0.0, -100, 100) / 100
        src = " + ".join(s for s, v in ((f"Clarity {cl or 0:+.0f}", cl), (f"Texture {tex or 0:+.0f}", tex)) if v)
        m.put("clarity", "amount", _r(_clip(amount, -1, 1), 3), src)
        if not cl:
            m.put("clarity", "radius", 0.006, "Texture: a small radius for medium-size detail")
        if cl:
            m.approx.append("Clarity2012 (edge-preserving local contrast)")
        if tex:
            m.approx.append("Texture (local contrast; at a small radius when alone, added to Clarity otherwise)")
    if m.num("Dehaze"):
        m.used.discard("Dehaze")           # reported: rawlux has no haze model


def _map_white_balance(m: _Mapping) -> None:
    """A custom white balance as Kelvin and tint, Auto as auto; the incremental sliders as a balance shift."""
    wb = m.fields.get("WhiteBalance")
    if isinstance(wb, str):
        m.used.add("WhiteBalance")
    k = m.num("Temperature")
    tn = m.num("Tint")
    if k is not None and (wb is None or str(wb).lower() not in ("as shot", "auto")):
        m.put("whitebalance", "mode", "kelvin", f"WhiteBalance {wb or 'Custom'}")
        m.put("whitebalance", "kelvin", _r(_clip(k, 2000, 50000), 0), f"Temperature {k:.0f} K")
        if tn is not None:
            m.put("whitebalance", "tint", _r(_clip(tn, -150, 150), 1), f"Tint {tn:+.0f}")
        m.approx.append("Temperature, Tint (tint units differ slightly)")
    elif k is not None or tn is not None:
        for kk in ("Temperature", "Tint"):
            m.used.discard(kk)
    if isinstance(wb, str) and wb.lower() == "auto":
        m.put("whitebalance", "mode", "auto", "WhiteBalance Auto")
    m.sliders(_BALANCE_SLIDERS)


def _map_tone_curves(m: _Mapping) -> dict[str, list[tuple[float, float]]]:
    """The parametric then the point curve, composed into one set of control points; returns the per-channel
    curves (written beside the look as a 1D LUT by ``write_look``)."""
    import numpy as np

    fields, where = m.fields, m.where
    par, par_used = _parametric(fields, where)
    m.used.update(par_used)
    if par is not None:
        m.approx.append(", ".join(par_used) + " (parametric curve as smooth region bumps)")
    pts = None
    key = "ToneCurvePV2012" if "ToneCurvePV2012" in fields else ("ToneCurve" if "ToneCurve" in fields else None)
    if key is not None:
        m.used.add(key)
        p = _curve_points(fields[key], key, where)
        if not _is_identity_curve(p):
            pts = p
    if par is not None or pts is not None:
        xs = np.linspace(0.0, 1.0, 17)
        ys = par(xs) if par is not None else xs
        if pts is not None:
            from scipy.interpolate import PchipInterpolator
            a = np.asarray(pts)
            ys = PchipInterpolator(a[:, 0], a[:, 1])(np.clip(ys, a[0, 0], a[-1, 0]))
        ys = np.maximum.accumulate(np.clip(ys, 0, 1))
        m.put("curve", "points", [[_r(x), _r(y)] for x, y in zip(xs, ys)],
              " + ".join(s for s, c in (("Parametric*", par), (key or "", pts)) if c is not None))
        if pts is not None:
            m.approx.append(f"{key} (on rawlux's display encoding, not Camera Raw's)")
    channel_curves = {}
    for ch in ("Red", "Green", "Blue"):
        kk = f"ToneCurvePV2012{ch}"
        if kk in fields:
            cp = _curve_points(fields[kk], kk, where)
            m.used.add(kk)
            if not _is_identity_curve(cp):
                channel_curves[ch.lower()] = cp
                m.approx.append(f"{kk} (a 1D LUT written beside the look by `rawlux look import`, on sRGB-encoded "
                                "values; not applied by --look preset.xmp)")
    return channel_curves


def _map_black_and_white(m: _Mapping) -> None:
    """ConvertToGrayscale: the monochrome mixer, GrayMixer* as per-hue lightness; the colour HSL is ignored."""
    fields, where = m.fields, m.where
    m.used.add("ConvertToGrayscale")
    m.put("mixer", "monochrome", True, "ConvertToGrayscale")
    for band in HSL_BANDS:
        v = m.num(f"GrayMixer{band}")
        if v:
            m.put("hsl", f"{band.lower()}_lum", _r(_pct(v)), f"GrayMixer{band} {v:+.0f}")
    if any(f"GrayMixer{b}" in m.used and fields.get(f"GrayMixer{b}") not in ("0", "+0") for b in HSL_BANDS):
        m.approx.append("GrayMixer* (per-hue lightness before the monochrome mix)")
    for band in HSL_BANDS:          # Camera Raw ignores the colour HSL in black and white
        for kind in ("Hue", "Saturation", "Luminance"):
            kk = f"{kind}Adjustment{band}"
            if kk in fields and (_num(fields, kk, where) or 0) != 0:
                m.approx.append(f"{kk} (ignored in black and white, as Camera Raw does)")
                m.used.add(kk)


def _map_hsl(m: _Mapping) -> None:
    """The colour HSL sliders, band by band, onto rawlux's Oklab hue bands."""
    if "ConvertToGrayscale" in m.fields:
        m.used.add("ConvertToGrayscale")
    for band in HSL_BANDS:
        for kind, suffix, scale, nd in _HSL_SLIDERS:
            kk = f"{kind}Adjustment{band}"
            v = m.num(kk)
            if v:
                m.put("hsl", f"{band.lower()}_{suffix}", _r(_pct(v) * scale, nd), f"{kk} {v:+.0f}")
    if any(k.startswith(("HueAdjustment", "SaturationAdjustment", "LuminanceAdjustment")) and
           _num(m.fields, k, m.where) for k in m.fields):
        m.approx.append("HSL (Oklab hue bands, not Camera Raw's)")


def _map_colour_grading(m: _Mapping) -> None:
    """Split toning and colour grading: shadows/highlights as rawlux's split toning, midtone/global colour as a
    balance shift, the zone luminances as curve shadows/highlights."""
    split = [m.num(k) for k in ("SplitToningShadowHue", "SplitToningShadowSaturation",
                                "SplitToningHighlightHue", "SplitToningHighlightSaturation", "SplitToningBalance")]
    cg = {}
    for zone in ("Shadow", "Midtone", "Highlight", "Global"):
        for q in ("Hue", "Sat", "Lum"):
            v = m.num(f"ColorGrade{zone}{q}")
            if v is not None:
                cg[(zone, q)] = v
    _map_split_toning(m, split, cg)
    _map_grade_colour(m, cg)
    _map_grade_luminance(m, cg)
    if m.num("ColorGradeBlending") not in (None, 50.0):
        m.approx.append("ColorGradeBlending (rawlux's crossover width is fixed)")


def _map_split_toning(m: _Mapping, split: list[float | None], cg: dict[tuple[str, str], float]) -> None:
    """Shadow and highlight tints: SplitToning*, or ColorGrade* where split toning has no saturation."""
    sh_h, sh_s, hl_h, hl_s, bal = split
    sh_src = hl_src = "SplitToning"
    if not sh_s and cg.get(("Shadow", "Sat")):
        sh_h, sh_s, sh_src = cg.get(("Shadow", "Hue"), 0.0), cg[("Shadow", "Sat")], "ColorGrade"
    if not hl_s and cg.get(("Highlight", "Sat")):
        hl_h, hl_s, hl_src = cg.get(("Highlight", "Hue"), 0.0), cg[("Highlight", "Sat")], "ColorGrade"
    for zone, key, h, s, src in (("Shadow", "shadows", sh_h, sh_s, sh_src),
                                 ("Highlight", "highlights", hl_h, hl_s, hl_src)):
        if s:
            sat_key = f"SplitToning{zone}Saturation" if src == "SplitToning" else f"ColorGrade{zone}Sat"
            m.put("split", f"{key}_hue", _r(_clip(h or 0.0, 0, 360) % 360, 1), f"{src}{zone}Hue {h or 0:.0f}")
            m.put("split", f"{key}_sat", _r(_clip(s, 0, 100) / 100), f"{sat_key} {s:.0f}")
    if bal and (sh_s or hl_s):
        m.put("split", "balance", _r(_pct(bal)), f"SplitToningBalance {bal:+.0f}")
    if sh_s or hl_s:
        m.approx.append("split toning / colour grading shadows & highlights (Oklab tint, fixed crossover width)")


def _map_grade_colour(m: _Mapping, cg: dict[tuple[str, str], float]) -> None:
    """Midtone and global colour: a white-balance shift of the picture toward the hue (added to the balance)."""
    wx = wy = 0.0
    for zone, weight in (("Midtone", 0.6), ("Global", 1.0)):
        s_ = cg.get((zone, "Sat")) or 0.0
        if s_:
            h_ = math.radians(cg.get((zone, "Hue")) or 0.0)
            wx += weight * s_ / 100 * math.cos(h_ - math.radians(60))     # + toward yellow (warm)
            wy += weight * s_ / 100 * math.cos(h_ - math.radians(300))    # toward magenta (balance.tint > 0)
            m.approx.append(f"ColorGrade{zone}Hue, ColorGrade{zone}Sat (as a warmth/tint shift)")
    if wx or wy:
        warm = m.get("balance", "warmth") + 30 * wx
        tint = m.get("balance", "tint") + 20 * wy
        m.put("balance", "warmth", _r(_clip(warm, -100, 100), 2),
              "IncrementalTemperature + ColorGradeMidtone/Global Hue/Sat")
        m.put("balance", "tint", _r(_clip(tint, -50, 50), 2), "IncrementalTint + ColorGradeMidtone/Global Hue/Sat")


def _map_grade_luminance(m: _Mapping, cg: dict[tuple[str, str], float]) -> None:
    """The colour-grade zone luminances added to the curve's shadows and highlights."""
    lum = {z: cg.get((z, "Lum")) or 0.0 for z in ("Shadow", "Midtone", "Highlight", "Global")}
    for zone, key, what in (("Shadow", "shadows", "Shadows"), ("Highlight", "highlights", "Highlights")):
        if lum[zone] or lum["Midtone"] or lum["Global"]:
            v = _clip(m.get("curve", key) + (lum[zone] + 0.5 * lum["Midtone"] + 0.5 * lum["Global"]) / 100, -1, 1)
            m.put("curve", key, _r(v), f"{what} + colour-grade {zone.lower()}/midtone/global luminance")
    if any(lum.values()):
        m.approx.append(", ".join(f"ColorGrade{z}Lum" for z in ("Shadow", "Midtone", "Highlight", "Global")
                                  if lum[z]) + " (curve shadows/highlights)")


def _map_grain(m: _Mapping) -> None:
    g = m.num("GrainAmount")
    if not g:
        return
    m.put("grain", "amount", _r(_clip(g, 0, 100) / 100 * 0.3), f"GrainAmount {g:.0f}")
    gs = m.num("GrainSize")
    size = 0.5 + 3.0 * _clip(gs if gs is not None else 25.0, 0, 100) / 100
    m.put("grain", "size", _r(size, 3), f"GrainSize {gs if gs is not None else 25:.0f}")
    gf = m.num("GrainFrequency")
    if gf is not None:
        m.put("grain", "colour", 0.0, f"GrainFrequency {gf:.0f} (roughness: not modelled)")
        m.approx.append("GrainFrequency (roughness is not modelled)")
    m.approx.append("Grain (rawlux's grain model)")


def _map_vignette(m: _Mapping) -> None:
    va = m.num("PostCropVignetteAmount")
    if not va:
        for kk in ("PostCropVignetteMidpoint", "PostCropVignetteRoundness", "PostCropVignetteFeather",
                   "PostCropVignetteStyle", "PostCropVignetteHighlightContrast"):
            if kk in m.fields:
                m.num(kk)             # neutral without an amount
        return
    m.put("vignette", "amount", _r(_pct(va) * (1.5 if va < 0 else 1.0), 3), f"PostCropVignetteAmount {va:+.0f}")
    m.options("vignette", _VIGNETTE_OPTIONS)
    vs = m.num("PostCropVignetteStyle")
    if vs is not None and vs != 1:
        m.approx.append("PostCropVignetteStyle (rawlux's vignette is an exposure fall-off, i.e. highlight priority)")
    m.approx.append("PostCropVignette* (EV fall-off before the tone curve)")


def _map_sharpen(m: _Mapping) -> None:
    sh = m.num("Sharpness")
    if sh:
        m.put("sharpen", "amount", _r(_clip(sh, 0, 150) / 100, 3), f"Sharpness {sh:.0f}")
        m.options("sharpen", _SHARPEN_OPTIONS)
        m.approx.append("Sharpness (unsharp mask; SharpenDetail/EdgeMasking not modelled)")


def _not_used(fields: dict[str, Any], used: set[str]) -> tuple[list[str], list[str], list[str]]:
    """The fields not used, as (unmapped ``name=value``, at a neutral value, preset metadata)."""
    unmapped, neutral, metadata = [], [], []
    for k in sorted(fields):
        if k in used:
            continue
        if k in METADATA:
            metadata.append(k)
            continue
        val = fields[k]
        if _is_neutral(k, val):
            neutral.append(k)
        else:
            shown = val if isinstance(val, str) else f"[{len(val)} items]"
            unmapped.append(f"{k}={shown[:40]}")
    return unmapped, neutral, metadata


def channel_curve_lut(curves: dict[str, list[tuple[float, float]]], size: int = 1024) -> Any:
    """The red/green/blue point curves as one 1D LUT (identity for a channel without a curve)."""
    import numpy as np
    from scipy.interpolate import PchipInterpolator

    from .lutfiles import Lut

    x = np.linspace(0.0, 1.0, size)
    cols = []
    for ch in ("red", "green", "blue"):
        pts = curves.get(ch)
        if pts is None:
            cols.append(x)
            continue
        a = np.asarray(pts, np.float64)
        cols.append(np.clip(PchipInterpolator(a[:, 0], a[:, 1])(np.clip(x, a[0, 0], a[-1, 0])), 0.0, 1.0))
    return Lut(np.stack(cols, 1).astype(np.float32), title="per-channel tone curves")


_NEUTRAL_STRINGS = {"0", "+0", "-0", "0.0", "+0.00", "0.00", "false", "none", "as shot", ""}


def _is_neutral(key: str, val: Any) -> bool:
    if isinstance(val, list):
        if key.startswith("ToneCurve"):
            try:
                return _is_identity_curve(_curve_points(val, key, ""))
            except LookError:
                return False
        return len(val) == 0
    s = str(val).strip().lower()
    if s in _NEUTRAL_STRINGS:
        return True
    try:
        return float(s) == 0.0
    except ValueError:
        return False


def import_preset(path: str | Path) -> Imported:
    fields, name = read_fields(path)
    if not name:
        name = Path(path).stem
    return import_fields(fields, name, str(path))


def write_look(imp: Imported, out: str | Path, overwrite: bool = False) -> Path:
    from ..errors import OutputError
    from ..io.atomic import write_text

    p = Path(out)
    if p.exists() and not overwrite:
        raise OutputError("exists (use --overwrite to replace it)", path=p)
    cube = None
    if imp.channel_curves:                       # per-channel curves: a 1D LUT beside the look
        cube = p.with_name(p.stem + "-curves.cube")
        if cube.exists() and not overwrite:
            raise OutputError("exists (use --overwrite to replace it)", path=cube)
        imp.tables["lut"] = {"path": cube.name, "space": "srgb"}
        imp.comments[("lut", "path")] = "ToneCurvePV2012Red/Green/Blue as a 1D LUT"
    text = imp.to_toml()
    from . import schema
    from .schema import parse_look_text as _parse
    data = _parse(text, str(p))                 # what we write must read back as a valid look
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    schema.validate_tables(tables, str(p))
    if cube is not None:
        from .lutfiles import write_cube
        write_cube(cube, channel_curve_lut(imp.channel_curves),
                   comments=[f"per-channel tone curves of {Path(imp.source).name}, sRGB-encoded in and out"])
    return write_text(p, text, overwrite=overwrite)


_noticed: set[str] = set()


def look_tables(path: str | Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """For ``--look preset.xmp``: (name, tables); the notice is printed once per preset on stderr."""
    import sys

    imp = import_preset(path)
    n = imp.notice()
    if n and str(path) not in _noticed:
        _noticed.add(str(path))
        print(f"note: {n}", file=sys.stderr)
    return imp.name, {k: dict(v) for k, v in imp.tables.items()}
