"""What a look file may hold beyond its stage tables: the global ``strength``, LUT paths, names.

* ``strength`` (0–1, top level, or ``NAME@0.6`` when naming a look) blends the whole look with
  neutral: every look ingredient's own ``strength`` is multiplied by it, and every number the look
  sets on a spine stage (``[exposure] ev``, ``[tone] contrast``, ...) moves toward that stage's
  default by the same fraction.
* ``[lut] path`` is relative to the folder of the look file that names it and may not leave it (no
  ``..``, no absolute paths); it is resolved and the LUT is read when the look is loaded, so a
  broken LUT is reported before any photo is decoded.
"""
from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import typing
from pathlib import Path
from typing import Any

from ..errors import LookError

#: look-ingredient stages (each has its own `strength`)
#: the look-file schema this rawlux reads and writes
SCHEMA_VERSION = 1


def parse_look_text(text: str, where: str) -> dict[str, Any]:
    """A look file's TOML, its ``schema_version`` checked (``where`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LookError(f"{where}: invalid TOML: {e}") from None
    ver = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(ver, int) or isinstance(ver, bool) or ver < 1 or ver > SCHEMA_VERSION:
        raise LookError(f"{where}: schema_version={ver!r} is not supported (this rawlux reads 1..{SCHEMA_VERSION})")
    return data


def toml_value(v: Any) -> str:
    """One value written as TOML (looks, sidecars and imported presets)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise ValueError(f"cannot write {v!r} to TOML")


def ingredient_stages() -> tuple[str, ...]:
    from .ingredients import LOOK_STAGES
    return tuple(s for s in LOOK_STAGES if s != "grade")


def check_strength(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LookError(f"{where}: strength must be a number in [0, 1], not {value!r}")
    v = float(value)
    if not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise LookError(f"{where}: strength={value!r} is out of range [0, 1]")
    return v


def apply_strength(tables: dict[str, dict[str, Any]], s: float, where: str) -> dict[str, dict[str, Any]]:
    """Tables of a look blended with neutral by ``s`` (see the module doc)."""
    if s == 1.0:
        return tables
    from ..pipeline.order import get_stage, stage_names

    own = ingredient_stages()
    names = set(stage_names())
    out: dict[str, dict[str, Any]] = {}
    for stage, vals in tables.items():
        vals = dict(vals)
        if stage in own:
            cur = vals.get("strength", 1.0)
            vals["strength"] = check_strength(cur, f"{where}: [{stage}]") * s
        elif stage in names:
            cls = type(get_stage(stage).Params())
            hints = typing.get_type_hints(cls)
            defaults = cls()
            fields = {f.name for f in dataclasses.fields(cls)}
            for k, v in vals.items():
                if k in fields and hints.get(k) is float and isinstance(v, (int, float)) \
                        and not isinstance(v, bool) and math.isfinite(float(v)):
                    d = getattr(defaults, k)
                    if isinstance(d, (int, float)) and not isinstance(d, bool):
                        vals[k] = float(d) + s * (float(v) - float(d))
        out[stage] = vals
    return out


def contained_path(raw: str, folder: Path, where: str, key: str, advice: str) -> str:
    """``raw`` (a path written in a look file) resolved against the look's ``folder``; refused when it is
    absolute or leads outside that folder (symbolic links followed)."""
    rel = Path(raw)
    try:
        base = folder.resolve()
        full = (base / rel).resolve()
    except (OSError, RuntimeError, ValueError) as e:     # a symlink loop, a name too long, a NUL byte
        raise LookError(f"{where}: {key} {raw!r} cannot be resolved ({getattr(e, 'strerror', None) or e})") from None
    if rel.is_absolute() or not full.is_relative_to(base):
        raise LookError(f"{where}: {key} {raw!r} leaves the look's folder {base}; {advice}")
    return str(full)


def resolve_lut_path(tables: dict[str, dict[str, Any]], folder: Path, where: str) -> None:
    """Make ``[lut] path`` absolute, checking that it stays inside ``folder`` and that the LUT reads."""
    lut = tables.get("lut")
    if not lut or "path" not in lut:
        return
    raw = lut["path"]
    if not isinstance(raw, str):
        raise LookError(f"{where}: lut.path must be a string (a file name next to the look), not {raw!r}")
    if not raw:
        return
    full = Path(contained_path(raw, folder, where, "lut.path", "put the LUT next to the look file and name it "
                               "relative to it (e.g. path = \"film.cube\")"))
    from .lutfiles import read_lut
    try:
        read_lut(full)
    except LookError as e:
        raise LookError(f"{where}: [lut] {e}") from None
    lut["path"] = str(full)


def split_spec(spec: str) -> tuple[str, float | None]:
    """``'vivid@0.6'`` → ``('vivid', 0.6)``; anything else → ``(spec, None)``."""
    if "@" in spec:
        head, _, tail = spec.rpartition("@")
        try:
            s = float(tail)
        except ValueError:
            return spec, None
        return head, check_strength(s, f"look {spec}")
    return spec, None


def validate_tables(tables: dict[str, dict[str, Any]], where: str) -> None:
    """Check every table names a stage and every value fits its field (errors name ``where``)."""
    from collections.abc import Mapping

    from ..errors import ParameterError
    from ..pipeline.order import get_stage, stage_names
    from ..pipeline.stage import STRICT_NUMBERS, validate

    names = stage_names()
    for stage, values in tables.items():
        if stage not in names:
            raise LookError(f"{where}: unknown stage {stage!r} (valid: {', '.join(names)})")
        if not isinstance(values, Mapping):
            raise LookError(f"{where}: [{stage}] must be a table")
        token = STRICT_NUMBERS.set(True)
        try:
            validate(stage, type(get_stage(stage).Params()), values)
        except ParameterError as e:
            raise LookError(f"{where}: {e}") from None
        finally:
            STRICT_NUMBERS.reset(token)
