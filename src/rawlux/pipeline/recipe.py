"""Recipes: look + overrides, merged and validated before any decoding.

Layers, lowest first: stage defaults < look < sidecar (``IMG.ext.rawlux.toml``) < ``--set
stage.field=value`` < API keyword arguments. Unknown stages or keys are errors.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import LookError, ParameterError
from .order import REQUIRED, get_stage, stage_names
from .stage import Params, validate

SIDECAR_SUFFIX = ".rawlux.toml"


def parse_set(expr: str, *, flag: str = "--set") -> tuple[str, str, Any]:
    """``'tone.contrast=1.2'`` → ``('tone', 'contrast', 1.2)``; the value is read as TOML, else a string.

    The one ``TABLE.KEY=VALUE`` parser of rawlux: recipes (``--set``), border templates (``--frame-set``,
    ``rawlux frame --set``), batch and the studio all read assignments with it."""
    if "=" not in expr:
        raise ParameterError(f"{flag} {expr!r}: expected stage.field=value")
    key, _, raw = expr.partition("=")
    key = key.strip()
    if key.count(".") != 1:
        raise ParameterError(f"{flag} {expr!r}: the key must be TABLE.KEY (e.g. tone.contrast=1.2)")
    stage, name = (s.strip() for s in key.split("."))
    if not stage or not name:
        raise ParameterError(f"{flag} {expr!r}: the key must be TABLE.KEY")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return stage, name, value


def _layer_from_kwargs(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{'tone': {'contrast': 1.2}}``, ``{'tone__contrast': 1.2}`` or ``{'tone.contrast': 1.2}``."""
    out: dict[str, dict[str, Any]] = {}
    for k, v in overrides.items():
        for sep in ("__", "."):
            if sep in k:
                s, _, f = k.partition(sep)
                out.setdefault(s, {})[f] = v
                break
        else:
            if not isinstance(v, Mapping):
                raise ParameterError(f"override {k}={v!r}: give stage={{field: value}} or stage__field=value")
            out.setdefault(k, {}).update(v)
    return out


@dataclass
class Recipe:
    """Fully resolved params for every stage, plus where they came from."""

    look: str = "natural"
    params: dict[str, Params] = field(default_factory=dict)
    layers: list[tuple[str, dict[str, dict[str, Any]]]] = field(default_factory=list)

    @classmethod
    def for_photo(cls, source: str | os.PathLike[str] | None, look: str | os.PathLike[str] | None = None, *,
                  sidecar: bool | str | os.PathLike[str] = True, recipe_file: str | os.PathLike[str] | None = None,
                  sets: Iterable[str] = (), overrides: Mapping[str, Any] | None = None) -> "Recipe":
        """The recipe for one photo — the one recipe builder of rawlux (CLI, batch, studio, ``develop``).

        Layers, lowest first: defaults < look < ``recipe_file`` (a sidecar-format file given for many photos,
        ``rawlux batch --recipe``) < the photo's sidecar < ``sets`` (``--set``) < ``overrides``.
        ``sidecar``: True reads ``SOURCE.rawlux.toml`` when it exists, False ignores it, a path reads that file.
        ``look`` None: the sidecar's look (a name saved in a ``looks/`` folder near the photo is found), else
        the recipe file's, else ``natural``.
        """
        side: Path | None = None
        if sidecar is True and source is not None:
            cand = sidecar_path(source)
            side = cand if cand.is_file() else None
        elif sidecar not in (False, None, True):
            side = Path(sidecar)  # type: ignore[arg-type]
        if look is None:
            named = sidecar_look(side) if side is not None else None
            if named and source is not None:
                named = resolve_sidecar_look(named, source)
            look = named or (sidecar_look(recipe_file) if recipe_file is not None else None) or "natural"
        return cls.build(look, sidecar=side, recipe_file=recipe_file, sets=sets, overrides=overrides)

    @classmethod
    def build(cls, look: str | Path | None = "natural", *, sidecar: str | Path | None = None,
              sets: Iterable[str] = (), overrides: Mapping[str, Any] | None = None,
              recipe_file: str | os.PathLike[str] | None = None) -> "Recipe":
        """The recipe from explicit layers (see :meth:`for_photo`, which also finds the sidecar and its look)."""
        from ..looks import load_look

        layers: list[tuple[str, dict[str, dict[str, Any]]]] = []
        lf = load_look(look if look is not None else "natural")
        layers.append((f"look {lf.name}", lf.tables))
        if recipe_file is not None:
            layers.append((f"recipe {recipe_file}", read_sidecar(recipe_file)))
        if sidecar is not None:
            layers.append((f"sidecar {sidecar}", read_sidecar(sidecar)))
        set_layer: dict[str, dict[str, Any]] = {}
        for expr in sets:
            s, f, v = parse_set(expr)
            set_layer.setdefault(s, {})[f] = v
        if set_layer:
            layers.append(("--set", set_layer))
        if overrides:
            layers.append(("arguments", _layer_from_kwargs(overrides)))
        rec = cls(look=lf.name, layers=layers)
        rec.params = rec._resolve()
        return rec

    def _resolve(self) -> dict[str, Params]:
        names = stage_names()
        params: dict[str, Params] = {n: get_stage(n).Params() for n in names}
        for where, layer in self.layers:
            for stage, values in layer.items():
                if stage not in params:
                    err = LookError if where.startswith("look") else ParameterError
                    raise err(f"{where}: unknown stage {stage!r} (valid: {', '.join(names)})")
                if not isinstance(values, Mapping):
                    raise ParameterError(f"{where}: [{stage}] must be a table")
                try:
                    params[stage] = validate(stage, type(params[stage]), values, base=params[stage])
                except ParameterError as e:
                    if where.startswith("look"):
                        raise LookError(f"{where}: {e}") from None
                    raise ParameterError(f"{where}: {e}") from None
                if stage in REQUIRED and not params[stage].enabled:
                    raise ParameterError(f"{where}: {stage}.enabled = false: the {stage} stage cannot be switched "
                                         f"off ({REQUIRED[stage]})")
        return params

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Recipe":
        rec = Recipe(look=self.look, layers=self.layers + [("arguments", _layer_from_kwargs(overrides))])
        rec.params = rec._resolve()
        return rec

    def __getitem__(self, stage: str) -> Params:
        return self.params[stage]

    def to_dict(self, only_changed: bool = True) -> dict[str, dict[str, Any]]:
        """Per stage, the values that differ from the defaults (or all of them)."""
        out: dict[str, dict[str, Any]] = {}
        for name, p in self.params.items():
            default = type(p)()
            vals = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)
                    if not only_changed or getattr(p, f.name) != getattr(default, f.name)}
            if vals:
                out[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in vals.items()}
        return out

    def to_toml(self, as_look: tuple[str, str] | None = None) -> str:
        """The recipe as a sidecar (``look = NAME`` and the values that differ from the defaults) or, with
        ``as_look=(name, description)``, as a look file that sets the same values."""
        if as_look is None:
            lines = ['schema_version = 1', f"look = {_toml_value(str(self.look))}", ""]
        else:
            lines = ['schema_version = 1', f"name = {_toml_value(as_look[0])}",
                     f"description = {_toml_value(as_look[1])}", ""]
        for stage, vals in self.to_dict().items():
            lines.append(f"[{stage}]")
            for k, v in vals.items():
                lines.append(f"{k} = {_toml_value(v)}")
            lines.append("")
        return "\n".join(lines)

    def digest(self) -> str:
        """A stable hash of every resolved param and the rawlux version (for the batch catalog)."""
        from .._version import __version__

        payload = json.dumps({"v": __version__, "p": self.to_dict(only_changed=False)},
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _toml_value(v: Any) -> str:
    from ..looks.schema import toml_value

    try:
        return toml_value(v)
    except ValueError:
        raise ParameterError(f"cannot write {v!r} to TOML") from None


def sidecar_path(image: str | Path) -> Path:
    p = Path(image)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def read_sidecar(path: str | Path) -> dict[str, dict[str, Any]]:
    """Stage tables of a sidecar (``look`` and ``schema_version`` keys are metadata)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as e:
        raise ParameterError(f"sidecar {path} cannot be read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"sidecar {path}: invalid TOML: {e}") from None
    out = {}
    for k, v in data.items():
        if k in ("schema_version", "look", "name", "description"):
            continue
        if not isinstance(v, dict):
            raise ParameterError(f"sidecar {path}: {k!r} must be a [stage] table")
        out[k] = v
    return out


def sidecar_look(path: str | Path) -> str | None:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    look = data.get("look")
    return look if isinstance(look, str) else None


def resolve_sidecar_look(name: str, photo: str | os.PathLike[str]) -> str:
    """A sidecar's look: a built-in name or a path as given; otherwise NAME (or NAME@s) saved as
    ``looks/NAME.toml`` in the photo's folder or one of the 8 folders above it (where the studio saves looks)."""
    from ..looks import builtin_names
    from ..looks.schema import split_spec

    base, strength = split_spec(name)
    if base in builtin_names() or base.endswith(".toml") or "/" in base or "\\" in base:
        return name
    here = Path(photo).resolve().parent
    for d in [here, *here.parents][:9]:
        cand = d / "looks" / f"{base}.toml"
        if cand.is_file():
            return str(cand) + (f"@{strength:g}" if strength is not None else "")
    return name
