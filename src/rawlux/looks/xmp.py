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
from typing import Any

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


def import_fields(fields: dict[str, Any], name: str, where: str) -> Imported:
    import numpy as np

    t: dict[str, dict[str, Any]] = {}
    com: dict[tuple[str, str], str] = {}
    used: set[str] = set()
    approx: list[str] = []

    def put(stage: str, key: str, value: Any, src: str) -> None:
        t.setdefault(stage, {})[key] = value
        com[(stage, key)] = src

    def num(key: str) -> float | None:
        v = _num(fields, key, where)
        if v is not None:
            used.add(key)
        return v

    # --- exposure and the basic tone sliders
    v = num("Exposure2012")
    if v is None:
        v = num("Exposure")
    if v:
        put("exposure", "ev", _r(_clip(v, -5, 5), 3), f"Exposure {v:+.2f} EV (scene-linear, exact)")
    v = num("Contrast2012")
    if v is None:
        v = num("Contrast")
    if v:
        put("curve", "contrast", _r(_clip(v, -100, 100) / 100 * 0.5, 3), f"Contrast {v:+.0f}")
        approx.append("Contrast2012 (curve contrast about middle grey)")
    v = num("Highlights2012")
    if v:
        put("curve", "highlights", _r(_clip(v, -100, 100) / 100), f"Highlights {v:+.0f}")
        approx.append("Highlights2012 (global curve bump, not local)")
    v = num("Shadows2012")
    if v:
        put("curve", "shadows", _r(_clip(v, -100, 100) / 100), f"Shadows {v:+.0f}")
        approx.append("Shadows2012 (global curve bump, not local)")
    v = num("Whites2012")
    if v:
        if v > 0:
            put("curve", "white", _r(1 - 0.2 * _clip(v, 0, 100) / 100), f"Whites {v:+.0f}")
        else:
            put("curve", "ceiling", _r(1 + 0.2 * _clip(v, -100, 0) / 100), f"Whites {v:+.0f}")
        approx.append("Whites2012 (white point)")
    v = num("Blacks2012")
    if v:
        if v < 0:
            put("curve", "black", _r(-0.08 * _clip(v, -100, 0) / 100), f"Blacks {v:+.0f}")
        else:
            put("curve", "lift", _r(0.08 * _clip(v, 0, 100) / 100), f"Blacks {v:+.0f}")
        approx.append("Blacks2012 (black point / lift)")
    # --- presence
    cl = num("Clarity2012")
    if cl is None:
        cl = num("Clarity")
    tex = num("Texture")
    if cl or tex:
        amount = 0.6 * _clip(cl or 0.0, -100, 100) / 100 + (0.2 if cl else 0.4) * _clip(tex or 0.0, -100, 100) / 100
        src = " + ".join(s for s, v in ((f"Clarity {cl or 0:+.0f}", cl), (f"Texture {tex or 0:+.0f}", tex)) if v)
        put("clarity", "amount", _r(_clip(amount, -1, 1), 3), src)
        if not cl:
            put("clarity", "radius", 0.006, "Texture: a small radius for medium-size detail")
        if cl:
            approx.append("Clarity2012 (edge-preserving local contrast)")
        if tex:
            approx.append("Texture (local contrast; at a small radius when alone, added to Clarity otherwise)")
    dh = num("Dehaze")
    if dh:
        used.discard("Dehaze")           # reported: rawlux has no haze model
    vib = num("Vibrance")
    if vib:
        put("saturation", "vibrance", _r(_clip(vib, -100, 100) / 100), f"Vibrance {vib:+.0f}")
    sat = num("Saturation")
    if sat:
        put("saturation", "saturation", _r(1 + _clip(sat, -100, 100) / 100), f"Saturation {sat:+.0f}")
    # --- white balance
    wb = fields.get("WhiteBalance")
    if isinstance(wb, str):
        used.add("WhiteBalance")
    k = num("Temperature")
    tn = num("Tint")
    if k is not None and (wb is None or str(wb).lower() not in ("as shot", "auto")):
        put("whitebalance", "mode", "kelvin", f"WhiteBalance {wb or 'Custom'}")
        put("whitebalance", "kelvin", _r(_clip(k, 2000, 50000), 0), f"Temperature {k:.0f} K")
        if tn is not None:
            put("whitebalance", "tint", _r(_clip(tn, -150, 150), 1), f"Tint {tn:+.0f}")
        approx.append("Temperature, Tint (tint units differ slightly)")
    elif k is not None or tn is not None:
        for kk in ("Temperature", "Tint"):
            used.discard(kk)
    if isinstance(wb, str) and wb.lower() == "auto":
        put("whitebalance", "mode", "auto", "WhiteBalance Auto")
    it = num("IncrementalTemperature")
    if it:
        put("balance", "warmth", _r(_clip(it, -100, 100) / 100 * 40, 2), f"IncrementalTemperature {it:+.0f}")
        approx.append("IncrementalTemperature (as a mired shift)")
    iti = num("IncrementalTint")
    if iti:
        # balance.tint > 0 turns the picture green as rawlux renders it (measured; its doc says magenta), so
        # the sign is flipped: Camera Raw's + is magenta. tests/looks/test_xmp.py guards the direction.
        put("balance", "tint", _r(-_clip(iti, -100, 100) / 100 * 30, 2), f"IncrementalTint {iti:+.0f} (+ = magenta)")
        approx.append("IncrementalTint")
    # --- tone curves: parametric then point curve, composed into one set of control points
    par, par_used = _parametric(fields, where)
    used.update(par_used)
    if par is not None:
        approx.append(", ".join(par_used) + " (parametric curve as smooth region bumps)")
    pts = None
    key = "ToneCurvePV2012" if "ToneCurvePV2012" in fields else ("ToneCurve" if "ToneCurve" in fields else None)
    if key is not None:
        used.add(key)
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
        put("curve", "points", [[_r(x), _r(y)] for x, y in zip(xs, ys)],
            " + ".join(s for s, c in (("Parametric*", par), (key or "", pts)) if c is not None))
        if pts is not None:
            approx.append(f"{key} (on rawlux's display encoding, not Camera Raw's)")
    for ch in ("Red", "Green", "Blue"):
        kk = f"ToneCurvePV2012{ch}"
        if kk in fields:
            if _is_identity_curve(_curve_points(fields[kk], kk, where)):
                used.add(kk)        # neutral
    # --- HSL or black and white
    gray = str(fields.get("ConvertToGrayscale", "False")).strip().lower() == "true"
    if "ConvertToGrayscale" in fields:
        used.add("ConvertToGrayscale")
    if gray:
        put("mixer", "monochrome", True, "ConvertToGrayscale")
        for band in HSL_BANDS:
            v = num(f"GrayMixer{band}")
            if v:
                put("hsl", f"{band.lower()}_lum", _r(_clip(v, -100, 100) / 100), f"GrayMixer{band} {v:+.0f}")
        if any(f"GrayMixer{b}" in used and fields.get(f"GrayMixer{b}") not in ("0", "+0") for b in HSL_BANDS):
            approx.append("GrayMixer* (per-hue lightness before the monochrome mix)")
        for band in HSL_BANDS:          # Camera Raw ignores the colour HSL in black and white
            for kind in ("Hue", "Saturation", "Luminance"):
                kk = f"{kind}Adjustment{band}"
                if kk in fields and (_num(fields, kk, where) or 0) != 0:
                    approx.append(f"{kk} (ignored in black and white, as Camera Raw does)")
                    used.add(kk)
    else:
        for band in HSL_BANDS:
            b = band.lower()
            v = num(f"HueAdjustment{band}")
            if v:
                put("hsl", f"{b}_hue", _r(_clip(v, -100, 100) / 100 * 30, 2), f"HueAdjustment{band} {v:+.0f}")
            v = num(f"SaturationAdjustment{band}")
            if v:
                put("hsl", f"{b}_sat", _r(_clip(v, -100, 100) / 100), f"SaturationAdjustment{band} {v:+.0f}")
            v = num(f"LuminanceAdjustment{band}")
            if v:
                put("hsl", f"{b}_lum", _r(_clip(v, -100, 100) / 100 * 0.6), f"LuminanceAdjustment{band} {v:+.0f}")
        if any(k.startswith(("HueAdjustment", "SaturationAdjustment", "LuminanceAdjustment")) and
               _num(fields, k, where) for k in fields):
            approx.append("HSL (Oklab hue bands, not Camera Raw's)")
    # --- split toning / colour grading
    sh_h, sh_s = num("SplitToningShadowHue"), num("SplitToningShadowSaturation")
    hl_h, hl_s = num("SplitToningHighlightHue"), num("SplitToningHighlightSaturation")
    bal = num("SplitToningBalance")
    cg = {}
    for zone in ("Shadow", "Midtone", "Highlight", "Global"):
        for q in ("Hue", "Sat", "Lum"):
            v = num(f"ColorGrade{zone}{q}")
            if v is not None:
                cg[(zone, q)] = v
    sh_src = hl_src = "SplitToning"
    if not sh_s and cg.get(("Shadow", "Sat")):
        sh_h, sh_s, sh_src = cg.get(("Shadow", "Hue"), 0.0), cg[("Shadow", "Sat")], "ColorGrade"
    if not hl_s and cg.get(("Highlight", "Sat")):
        hl_h, hl_s, hl_src = cg.get(("Highlight", "Hue"), 0.0), cg[("Highlight", "Sat")], "ColorGrade"
    if sh_s:
        sat_key = "SplitToningShadowSaturation" if sh_src == "SplitToning" else "ColorGradeShadowSat"
        put("split", "shadows_hue", _r(_clip(sh_h or 0.0, 0, 360) % 360, 1), f"{sh_src}ShadowHue {sh_h or 0:.0f}")
        put("split", "shadows_sat", _r(_clip(sh_s, 0, 100) / 100), f"{sat_key} {sh_s:.0f}")
    if hl_s:
        sat_key = "SplitToningHighlightSaturation" if hl_src == "SplitToning" else "ColorGradeHighlightSat"
        put("split", "highlights_hue", _r(_clip(hl_h or 0.0, 0, 360) % 360, 1), f"{hl_src}HighlightHue {hl_h or 0:.0f}")
        put("split", "highlights_sat", _r(_clip(hl_s, 0, 100) / 100), f"{sat_key} {hl_s:.0f}")
    if bal and (sh_s or hl_s):
        put("split", "balance", _r(_clip(bal, -100, 100) / 100), f"SplitToningBalance {bal:+.0f}")
    if sh_s or hl_s:
        approx.append("split toning / colour grading shadows & highlights (Oklab tint, fixed crossover width)")
    # midtone and global colour: a white-balance shift of the picture toward the hue
    wx = wy = 0.0
    for zone, weight in (("Midtone", 0.6), ("Global", 1.0)):
        s_ = cg.get((zone, "Sat")) or 0.0
        if s_:
            h_ = math.radians(cg.get((zone, "Hue")) or 0.0)
            wx += weight * s_ / 100 * math.cos(h_ - math.radians(60))     # + toward yellow (warm)
            wy -= weight * s_ / 100 * math.cos(h_ - math.radians(300))    # toward magenta (balance.tint < 0)
            approx.append(f"ColorGrade{zone}Hue, ColorGrade{zone}Sat (as a warmth/tint shift)")
    if wx or wy:
        warm = t.get("balance", {}).get("warmth", 0.0) + 30 * wx
        tint = t.get("balance", {}).get("tint", 0.0) + 20 * wy
        put("balance", "warmth", _r(_clip(warm, -100, 100), 2),
            "IncrementalTemperature + ColorGradeMidtone/Global Hue/Sat")
        put("balance", "tint", _r(_clip(tint, -50, 50), 2), "IncrementalTint + ColorGradeMidtone/Global Hue/Sat")
    lum_sh = cg.get(("Shadow", "Lum")) or 0.0
    lum_hl = cg.get(("Highlight", "Lum")) or 0.0
    lum_mid = cg.get(("Midtone", "Lum")) or 0.0
    lum_gl = cg.get(("Global", "Lum")) or 0.0
    if lum_sh or lum_mid or lum_gl:
        sv = _clip(t.get("curve", {}).get("shadows", 0.0) + (lum_sh + 0.5 * lum_mid + 0.5 * lum_gl) / 100, -1, 1)
        put("curve", "shadows", _r(sv), "Shadows + colour-grade shadow/midtone/global luminance")
    if lum_hl or lum_mid or lum_gl:
        hv = _clip(t.get("curve", {}).get("highlights", 0.0) + (lum_hl + 0.5 * lum_mid + 0.5 * lum_gl) / 100, -1, 1)
        put("curve", "highlights", _r(hv), "Highlights + colour-grade highlight/midtone/global luminance")
    if lum_sh or lum_hl or lum_mid or lum_gl:
        approx.append(", ".join(f"ColorGrade{z}Lum" for z, v in (("Shadow", lum_sh), ("Midtone", lum_mid), ("Highlight", lum_hl), ("Global", lum_gl)) if v) + " (curve shadows/highlights)")
    if num("ColorGradeBlending") not in (None, 50.0):
        approx.append("ColorGradeBlending (rawlux's crossover width is fixed)")
    # --- effects
    g = num("GrainAmount")
    if g:
        put("grain", "amount", _r(_clip(g, 0, 100) / 100 * 0.3), f"GrainAmount {g:.0f}")
        gs = num("GrainSize")
        size = 0.5 + 3.0 * _clip(gs if gs is not None else 25.0, 0, 100) / 100
        put("grain", "size", _r(size, 3), f"GrainSize {gs if gs is not None else 25:.0f}")
        gf = num("GrainFrequency")
        if gf is not None:
            put("grain", "colour", 0.0, f"GrainFrequency {gf:.0f} (roughness: not modelled)")
            approx.append("GrainFrequency (roughness is not modelled)")
        approx.append("Grain (rawlux's grain model)")
    va = num("PostCropVignetteAmount")
    if va:
        put("vignette", "amount", _r(_clip(va, -100, 100) / 100 * (1.5 if va < 0 else 1.0), 3),
            f"PostCropVignetteAmount {va:+.0f}")
        vm = num("PostCropVignetteMidpoint")
        if vm is not None:
            put("vignette", "midpoint", _r(_clip(vm, 0, 100) / 100), f"PostCropVignetteMidpoint {vm:.0f}")
        vr = num("PostCropVignetteRoundness")
        if vr is not None:
            put("vignette", "roundness", _r((_clip(vr, -100, 100) + 100) / 200), f"PostCropVignetteRoundness {vr:+.0f}")
        vf = num("PostCropVignetteFeather")
        if vf is not None:
            put("vignette", "feather", _r(_clip(vf / 100, 0.05, 1.0)), f"PostCropVignetteFeather {vf:.0f}")
        vs = num("PostCropVignetteStyle")
        if vs is not None and vs != 1:
            approx.append("PostCropVignetteStyle (rawlux's vignette is an exposure fall-off, i.e. highlight priority)")
        approx.append("PostCropVignette* (EV fall-off before the tone curve)")
    else:
        for kk in ("PostCropVignetteMidpoint", "PostCropVignetteRoundness", "PostCropVignetteFeather",
                   "PostCropVignetteStyle", "PostCropVignetteHighlightContrast"):
            if kk in fields:
                num(kk)             # neutral without an amount
    sh = num("Sharpness")
    if sh:
        put("sharpen", "amount", _r(_clip(sh, 0, 150) / 100, 3), f"Sharpness {sh:.0f}")
        rr = num("SharpenRadius")
        if rr is not None:
            put("sharpen", "radius", _r(_clip(rr, 0.3, 5.0), 2), f"SharpenRadius {rr:.1f}")
        approx.append("Sharpness (unsharp mask; SharpenDetail/EdgeMasking not modelled)")
    # --- what was not used
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
    return Imported(name=name or "imported", tables=t, comments=com, approximated=list(dict.fromkeys(approx)),
                    unmapped=unmapped, neutral=neutral, metadata=metadata, source=where)


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
    text = imp.to_toml()
    from . import schema
    from .schema import parse_look_text as _parse
    data = _parse(text, str(p))                 # what we write must read back as a valid look
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    schema.validate_tables(tables, str(p))
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
