"""What the page may send: each request field read, checked and turned into library values here (the routes
never read raw JSON). Errors are StudioError 400 naming the field."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .security import NAME_RE, StudioError, safe_path

#: stage fields that name files: a client may only point them inside the folder
FILE_FIELDS = {("lut", "path"), ("bokeh", "depth"), ("frame", "logo")}


async def read_json(request: Any) -> dict[str, Any]:
    """The request body as a JSON object."""
    try:
        data = await request.json()
    except Exception:
        raise StudioError(400, "the request body must be JSON") from None
    if not isinstance(data, dict):
        raise StudioError(400, "the request body must be a JSON object")
    return data


class RequestReader:
    """Reads the fields of one folder's requests (paths are checked against ``root``)."""

    def __init__(self, root: Path):
        self.root = root

    def photo(self, data: dict[str, Any]) -> Path:
        return safe_path(self.root, data.get("path"))

    def params(self, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """``{"stage": {"field": value}}``; file fields must point inside the folder."""
        p = data.get("params") or {}
        if not isinstance(p, dict) or not all(isinstance(v, dict) for v in p.values()):
            raise StudioError(400, "params must be {stage: {field: value}}")
        out: dict[str, dict[str, Any]] = {}
        for stage, fields in p.items():
            out[stage] = dict(fields)
            for name, value in fields.items():
                if (stage, name) in FILE_FIELDS and value not in (None, "", "embedded"):
                    if not isinstance(value, str):
                        raise StudioError(400, f"{stage}.{name} must be a path inside the folder")
                    out[stage][name] = str(safe_path(self.root, value))
        return out

    def look(self, data: dict[str, Any], key: str = "look") -> str:
        """A built-in look name, or a look saved in the folder's ``looks/`` (as its path)."""
        from ..looks import builtin_names

        look = data.get(key) or "natural"
        if not isinstance(look, str):
            raise StudioError(400, f"{key} must be a look name")
        if look in builtin_names():
            return look
        if NAME_RE.match(look):
            cand = self.root / "looks" / f"{look}.toml"
            if cand.is_file():
                return str(safe_path(self.root, f"looks/{look}.toml"))
        raise StudioError(400, f"unknown look {look!r} (built-in: {', '.join(builtin_names())})")

    @staticmethod
    def strength(data: dict[str, Any], look: str) -> str:
        """``look`` blended with neutral by the request's ``strength`` (the look's ``NAME@s`` form)."""
        s = data.get("strength", 1.0)
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.0 <= float(s) <= 1.0:
            raise StudioError(400, f"strength {s!r} must be a number in [0, 1]")
        if "@" in look:
            raise StudioError(400, f"look {look!r}: give the strength separately")
        return look if float(s) == 1.0 else f"{look}@{round(float(s), 3):g}"

    def look_at_strength(self, data: dict[str, Any], key: str = "look") -> str:
        return self.strength(data, self.look(data, key))

    @staticmethod
    def border(data: dict[str, Any]) -> str | None:
        """The border template (``frame`` field) or None."""
        from ..borders import builtin_names as border_names

        t = data.get("frame")
        if t in (None, "", "none"):
            return None
        if not isinstance(t, str) or t not in border_names():
            raise StudioError(400, f"frame template {t!r} is not one of: none, {', '.join(border_names())}")
        return t

    @staticmethod
    def export_format(data: dict[str, Any], border: str | None) -> tuple[str, bool]:
        """The export's format (``format``: jpeg (default), heif or avif) and ``hdr`` (bool, default false):
        an HDR export is an Ultra HDR (gain-map) JPEG, or a 10-bit PQ AVIF/HEIF; it takes no frame."""
        from ..io.formats import HDR_FORMATS

        hdr = data.get("hdr", False)
        if not isinstance(hdr, bool):
            raise StudioError(400, f"hdr {hdr!r} must be true or false")
        fmt = data.get("format") or "jpeg"
        if fmt not in HDR_FORMATS:
            raise StudioError(400, f"format {fmt!r} must be one of: {', '.join(HDR_FORMATS)}")
        if fmt == "avif" and not hdr:
            raise StudioError(400, "format 'avif' is written for HDR exports only: set hdr true, or use jpeg/heif")
        if hdr and border is not None:
            raise StudioError(400, f"frame {border!r} cannot be combined with hdr (a border has no HDR data)")
        return fmt, hdr

    @staticmethod
    def size(data: dict[str, Any], largest: int) -> int | None:
        size = data.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 32 <= size <= largest):
            raise StudioError(400, f"size {size!r} must be an integer in [32, {largest}]")
        return size

    @staticmethod
    def look_name(data: dict[str, Any]) -> str:
        from ..looks import builtin_names

        name = data.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name) or name in builtin_names():
            raise StudioError(400, f"look name {name!r}: use letters, digits, - and _ (max 64), not a built-in name")
        return name
