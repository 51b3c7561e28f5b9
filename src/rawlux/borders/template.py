"""Frame templates are data: TOML files, built-ins in ``templates/`` written like the ones users write.

A template::

    schema_version = 1
    name = "bar"
    description = "one line shown by `rawlux frame --list`"
    kind = "bar"                  # bar | border | blur | overlay | square
    inherits = "bar"              # optional: start from another template, then override

    [layout]                      # sizes are fractions of the photo (see LAYOUT_KEYS), so they scale with it
    bar_height = 0.095
    [style]                       # colours "#rrggbb" (display-encoded), sizes as fractions
    background = "#ffffff"
    [text]                        # format strings over the EXIF fields (see rawlux.borders.fields)
    left = "{device}"

Every key is validated; an unknown key, a value out of range or a field name that does not exist is a
:class:`~rawlux.errors.ParameterError` naming the file and listing what would work.
"""
from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from ..errors import ParameterError

SCHEMA_VERSION = 1
KINDS = ("bar", "border", "blur", "overlay", "square")
_META = {"schema_version", "name", "description", "kind", "inherits"}

#: text slots per kind; the ones ending in 2 are the optional second line
SLOTS: dict[str, tuple[str, ...]] = {
    "bar": ("left", "left2", "right", "right2"),
    "border": ("line1", "line2"),
    "blur": ("line1", "line2"),
    "overlay": ("line1", "line2"),
    "square": ("line1", "line2"),
}

#: layout keys: (default, min, max, doc); a tuple default of strings means a choice
LAYOUT_KEYS: dict[str, tuple[Any, Any, Any, str]] = {
    "reference": ("short", ("height", "width", "short", "long"), None,
                  "the side that the fractions below are fractions of"),
    "bar_height": (0.095, 0.02, 0.5, "bar: bar height, one line of text"),
    "bar_height_two_lines": (0.115, 0.02, 0.5, "bar: bar height when a second line is shown"),
    "margin": (0.04, 0.0, 0.5, "border/blur/square: margin around the photo"),
    "text_space": (0.09, 0.0, 0.5, "border/blur/square: the band below the photo for the text"),
    "padding": (0.045, 0.0, 0.3, "bar/overlay: distance of the text from the edges"),
    "corner": ("bottom-left", ("top-left", "top-right", "bottom-left", "bottom-right"), None,
               "overlay: where the text goes"),
    "radius": (0.025, 0.0, 0.25, "blur: corner radius of the photo"),
    "shadow": (0.02, 0.0, 0.2, "blur: size of the soft shadow (0 = none)"),
    "blur": (0.04, 0.001, 0.5, "blur: blur radius of the background copy"),
    "darken": (0.45, 0.0, 1.0, "blur: how much the background copy is darkened"),
    "scale_to_fit": (True, None, None, "shrink text that would not fit instead of failing"),
}

#: style keys: (default, min, max, doc); colours are strings
STYLE_KEYS: dict[str, tuple[Any, Any, Any, str]] = {
    "background": ("#ffffff", None, None, "background colour"),
    "primary_color": ("#111111", None, None, "colour of the first line (device, exposure)"),
    "secondary_color": ("#8c8c8c", None, None, "colour of the second line (date, GPS)"),
    "divider_color": ("#d2d2d2", None, None, "bar: colour of the divider between logo and text"),
    "font": ("sans", None, None, "'sans' (built in) or a path to a .ttf/.otf"),
    "bold_font": ("sans-bold", None, None, "'sans-bold' (built in) or a path to a .ttf/.otf"),
    "primary_size": (0.30, 0.02, 1.0, "height of the first line's font (bar: fraction of the bar; "
                                      "others: fraction of the reference side ÷ 10)"),
    "secondary_size": (0.20, 0.02, 1.0, "height of the second line's font, same unit"),
    "primary_bold": (True, None, None, "draw the first line in the bold font"),
    "right_bold": (True, None, None, "bar: draw the exposure line in the bold font"),
    "line_gap": (0.35, 0.0, 2.0, "gap between the two lines, in units of the first line's size"),
    "logo_height": (0.42, 0.05, 1.0, "bar: logo height as a fraction of the bar height"),
    "divider_width": (0.012, 0.0, 0.2, "bar: divider width as a fraction of the bar height"),
    "overlay_color": ("auto", None, None, "overlay: text colour, or 'auto' for adaptive contrast"),
}

_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_color(value: Any, where: str) -> tuple[float, float, float]:
    """'#rrggbb' → floats in [0, 1]."""
    m = _COLOR.match(str(value).strip()) if isinstance(value, str) else None
    if not m:
        raise ParameterError(f"{where}: colour {value!r} is not of the form '#rrggbb'")
    h = m.group(1)
    return tuple(int(h[i:i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


@dataclass
class Template:
    """A validated template."""

    name: str
    kind: str
    description: str = ""
    layout: dict[str, Any] = field(default_factory=dict)
    style: dict[str, Any] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    path: str | None = None

    def colour(self, key: str) -> tuple[float, float, float]:
        return parse_color(self.style[key], f"template {self.name!r} style.{key}")


def _builtin_dir():
    return resources.files(__package__) / "templates"


def builtin_names() -> list[str]:
    return sorted(p.name[:-5] for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))


def _read_raw(name_or_path: str | Path, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], str | None]:
    """The TOML dict of a template (inheritance resolved) and its path (None for built-ins)."""
    s = str(name_or_path)
    if s.endswith(".toml") or "/" in s or "\\" in s:
        p = Path(s)
        if not p.is_file():
            raise ParameterError(f"template file {s} does not exist (built-in templates: {', '.join(builtin_names())})")
        try:
            text, where, path = p.read_text(encoding="utf-8"), str(p), str(p)
        except (OSError, UnicodeDecodeError) as e:
            raise ParameterError(f"template file {s} cannot be read ({e})") from None
    else:
        res = _builtin_dir() / f"{s}.toml"
        if not res.is_file():
            raise ParameterError(f"unknown template {s!r}; built-in templates: {', '.join(builtin_names())}, "
                                 f"or give a .toml file")
        text, where, path = res.read_text(encoding="utf-8"), f"template {s!r}", None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"{where}: invalid TOML: {e}") from None
    ver = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(ver, int) or isinstance(ver, bool) or not 1 <= ver <= SCHEMA_VERSION:
        raise ParameterError(f"{where}: schema_version={ver!r} is not supported (this rawlux reads 1..{SCHEMA_VERSION})")
    parent = data.get("inherits")
    if parent:
        if str(parent) in seen or len(seen) > 8:
            raise ParameterError(f"{where}: inherits={parent!r} makes a cycle ({' → '.join(seen + (str(parent),))})")
        base, _ = _read_raw(parent, seen + (s,))
        base.pop("name", None), base.pop("description", None)
        data = merge(base, {k: v for k, v in data.items() if k != "inherits"})
    data.setdefault("_where", where)
    data["_where"] = where
    return data, path


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for k, v in top.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = {**out[k], **v}
        else:
            out[k] = copy.deepcopy(v)
    return out


def _check_value(table: str, key: str, value: Any, spec: tuple[Any, Any, Any, str], where: str) -> Any:
    default, lo, hi, _doc = spec
    name = f"{where}: {table}.{key}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ParameterError(f"{name}={value!r} must be true or false")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"{name}={value!r} must be a number between {lo} and {hi}")
        if not lo <= float(value) <= hi:
            raise ParameterError(f"{name}={value!r} is out of range [{lo}, {hi}]")
        return float(value)
    if isinstance(lo, tuple):
        if value not in lo:
            raise ParameterError(f"{name}={value!r} is not one of: {', '.join(lo)}")
        return value
    if not isinstance(value, str):
        raise ParameterError(f"{name}={value!r} must be a string")
    if key.endswith("color") or key == "background":
        if not (key == "overlay_color" and value == "auto"):
            parse_color(value, name)
    return value


def build(data: Mapping[str, Any], path: str | None = None) -> Template:
    """Validate a template dict (as read from TOML, overrides merged) into a :class:`Template`."""
    where = str(data.get("_where") or path or "template")
    unknown = set(data) - _META - {"layout", "style", "text", "_where"}
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a template has "
                             f"{', '.join(sorted(_META))} and the tables [layout], [style], [text]")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ParameterError(f"{where}: kind={kind!r} is not one of: {', '.join(KINDS)}")
    out: dict[str, dict[str, Any]] = {}
    for table, keys in (("layout", LAYOUT_KEYS), ("style", STYLE_KEYS)):
        given = data.get(table) or {}
        if not isinstance(given, Mapping):
            raise ParameterError(f"{where}: [{table}] must be a table")
        bad = set(given) - set(keys)
        if bad:
            raise ParameterError(f"{where}: unknown {table} key(s) {', '.join(sorted(bad))}; valid: "
                                 f"{', '.join(sorted(keys))}")
        vals = {k: spec[0] for k, spec in keys.items()}
        for k, v in given.items():
            vals[k] = _check_value(table, k, v, keys[k], where)
        out[table] = vals
    text = data.get("text") or {}
    if not isinstance(text, Mapping):
        raise ParameterError(f"{where}: [text] must be a table")
    bad = set(text) - set(SLOTS[kind])
    if bad:
        raise ParameterError(f"{where}: unknown text slot(s) {', '.join(sorted(bad))} for kind {kind!r}; "
                             f"valid: {', '.join(SLOTS[kind])}")
    from .fields import render_text
    slots = {}
    for k in SLOTS[kind]:
        v = text.get(k, "")
        if not isinstance(v, str):
            raise ParameterError(f"{where}: text.{k}={v!r} must be a string")
        render_text(v, {}, f"{where}: text.{k}")  # raises on unknown field names
        slots[k] = v
    return Template(name=str(data.get("name") or Path(where).stem), kind=kind,
                    description=str(data.get("description") or ""), layout=out["layout"], style=out["style"],
                    text=slots, path=path)


def _parse_override_value(v: Any) -> Any:
    """--set values arrive as strings: TOML-parse numbers and booleans, keep other text as is."""
    if not isinstance(v, str):
        return v
    try:
        return tomllib.loads(f"v = {v}")["v"]
    except tomllib.TOMLDecodeError:
        return v


def _text_value(v: Any) -> Any:
    """A text slot given on the command line: the one --set parser reads ``2024`` as a number, ``true`` as a
    boolean; a text slot takes them as the text typed."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v) if isinstance(v, (int, float)) else v


def load_template(template: "str | Path | Template", overrides: Mapping[str, Any] | None = None) -> Template:
    """A template by built-in name or TOML path, with ``{"text.left": "...", "style.background": ...}``
    overrides (also nested dicts) merged on top and everything validated."""
    if isinstance(template, Template):
        data: dict[str, Any] = {"name": template.name, "kind": template.kind, "description": template.description,
                                "layout": dict(template.layout), "style": dict(template.style),
                                "text": dict(template.text), "_where": template.path or f"template {template.name!r}"}
        path = template.path
    else:
        data, path = _read_raw(template)
    if overrides:
        nested: dict[str, Any] = {}
        for k, v in overrides.items():
            if isinstance(v, Mapping):
                nested.setdefault(k, {}).update(v)
                continue
            table, dot, key = str(k).partition(".")
            if not dot or table not in ("layout", "style", "text"):
                raise ParameterError(f"override {k}={v!r}: keys are text.<slot>, layout.<key> or style.<key>")
            nested.setdefault(table, {})[key] = _text_value(v) if table == "text" else _parse_override_value(v)
        data = merge(data, nested)
    return build(data, path)
