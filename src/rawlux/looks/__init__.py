"""Looks: TOML files that set stage params. Built-in looks are in ``builtin/`` as the same TOML users write.

A look file::

    schema_version = 1
    name = "mine"
    description = "one line shown by `rawlux looks`"
    inherits = "natural"          # optional: start from another look, then override
    strength = 0.8                # optional: blend the whole look with neutral (0..1)

    [curve]
    contrast = 0.3

A look can be named with a strength, ``vivid@0.5``. ``[lut] path`` is relative to the look file's
folder and may not leave it (see :mod:`rawlux.looks.schema`).

Every table names a stage of the pipeline (see ``rawlux.pipeline.order``), every key a field of
that stage's params; both are validated (unknown keys are errors).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import LookError

_META_KEYS = {"schema_version", "name", "description", "inherits", "tags", "strength"}


@dataclass
class LookFile:
    """A look as read from TOML: its metadata and, per stage, the values it sets."""

    name: str
    description: str = ""
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: str | None = None
    tags: tuple[str, ...] = ()
    strength: float = 1.0


def _builtin_dir():
    return resources.files(__package__) / "builtin"


def builtin_names() -> list[str]:
    return sorted(p.name[:-5] for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))


from .schema import SCHEMA_VERSION, parse_look_text as _parse  # noqa: E402,F401 - reading a look file's TOML


def _merge_tables(base: dict[str, dict[str, Any]], top: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {k: dict(v) for k, v in base.items()}
    for k, v in top.items():
        out.setdefault(k, {}).update(v)
    return out


def load_look(spec: str | Path, _seen: tuple[str, ...] = ()) -> LookFile:
    """A built-in look by name, or a look TOML file by path (``inherits`` resolved; ``NAME@0.5`` sets
    the strength).

    Inheritance merges the *unblended* tables (parent first, then the child's overrides) and applies the
    look's ``strength`` once, to the result: a child inherits its parent's ``strength`` unless it sets its
    own, and that strength blends the parent's values and the child's overrides alike."""
    from . import schema

    lf = _load_unblended(spec, _seen)
    tables = schema.apply_strength(lf.tables, lf.strength, lf.path or f"look {spec}")
    if not _seen:
        schema.validate_tables(tables, lf.path or f"look {spec}")
    return LookFile(name=lf.name, description=lf.description, tables=tables, path=lf.path, tags=lf.tags,
                    strength=lf.strength)


def _load_unblended(spec: str | Path, _seen: tuple[str, ...] = ()) -> LookFile:
    """``load_look`` before the strength is applied: ``tables`` are the merged values as written, and
    ``strength`` the one that applies to them (``NAME@s`` multiplies it)."""
    from . import schema

    spec_s = str(spec)
    base_spec, at_strength = schema.split_spec(spec_s)
    if at_strength is not None:
        lf = _load_unblended(base_spec, _seen)
        return LookFile(name=f"{lf.name}@{at_strength:g}", description=lf.description, tables=lf.tables,
                        path=lf.path, tags=lf.tags, strength=lf.strength * at_strength)
    if spec_s.lower().endswith(".xmp"):            # a Lightroom/Camera Raw develop preset (looks/xmp.py)
        from .xmp import look_tables
        xname, xtables = look_tables(spec_s)
        base = _load_unblended("natural", _seen)
        return LookFile(name=xname, description=f"imported from the develop preset {spec_s}",
                        tables=_merge_tables(base.tables, xtables), path=spec_s, strength=base.strength)
    is_path = spec_s.endswith(".toml") or "/" in spec_s or "\\" in spec_s
    if is_path:
        p = Path(spec_s)
        try:
            is_file = p.is_file()
        except (OSError, ValueError) as e:     # a name too long, a NUL byte, a symlink loop
            raise LookError(f"look file {spec_s!r} cannot be opened: {getattr(e, 'strerror', None) or e}") from None
        if not is_file:
            raise LookError(f"look file {spec_s!r} does not exist")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise LookError(f"look file {spec_s} cannot be read: {e}") from None
        where, path = spec_s, str(p)
        folder = p.parent
    else:
        names = builtin_names()
        if spec_s not in names:
            raise LookError(f"unknown look {spec_s!r} (built-in looks: {', '.join(names)}; or give a .toml file)")
        text = (_builtin_dir() / f"{spec_s}.toml").read_text(encoding="utf-8")
        where, path = f"look {spec_s}", None
        folder = Path(str(_builtin_dir()))
    if where in _seen:
        raise LookError(f"{where}: inherits from itself ({' → '.join(_seen + (where,))})")
    data = _parse(text, where)
    tables: dict[str, dict[str, Any]] = {}
    for k, v in data.items():
        if k in _META_KEYS:
            continue
        if not isinstance(v, dict):
            raise LookError(f"{where}: top-level key {k!r} must be a [table] naming a stage, "
                            f"or one of {', '.join(sorted(_META_KEYS))}")
        tables[k] = dict(v)
    schema.resolve_lut_path(tables, folder, where)
    strength: float | None = None
    if "strength" in data:
        strength = schema.check_strength(data["strength"], where)
    parent = data.get("inherits")
    if parent is not None:
        if not isinstance(parent, str) or not parent:
            raise LookError(f"{where}: inherits must be a look name or file, not {parent!r}")
        if parent.endswith(".toml") or "/" in parent or "\\" in parent:
            if path is None:
                raise LookError(f"{where}: a built-in look can only inherit from another built-in look")
            parent = schema.contained_path(parent, folder, where, "inherits",
                                           "put the parent look next to this one and name it relative to it")
        try:
            base = _load_unblended(parent, _seen + (where,))
        except LookError as e:
            if where in str(e):
                raise
            raise LookError(f"{where}: inherits: {e}") from None
        tables = _merge_tables(base.tables, tables)
        if strength is None:
            strength = base.strength
    name = data.get("name", Path(spec_s).stem if is_path else spec_s)
    desc = data.get("description", "")
    if not isinstance(name, str) or not isinstance(desc, str):
        raise LookError(f"{where}: name and description must be strings")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise LookError(f"{where}: tags must be a list of strings, not {tags!r}")
    return LookFile(name=name, description=desc, tables=tables, path=path, tags=tuple(tags),
                    strength=1.0 if strength is None else strength)


def list_looks() -> list[LookFile]:
    return [load_look(n) for n in builtin_names()]
