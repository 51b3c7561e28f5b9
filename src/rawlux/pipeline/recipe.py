"""Recipes: look + overrides, merged and validated before any decoding.

Layers, lowest first: stage defaults < look < sidecar (``IMG.ext.rawlux.toml``) < ``--set
stage.field=value`` < API keyword arguments. Unknown stages or keys are errors.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import LookError, ParameterError
from .order import get_stage, stage_names
from .stage import Params, validate

SIDECAR_SUFFIX = ".rawlux.toml"


def parse_set(expr: str) -> tuple[str, str, Any]:
    """``'tone.contrast=1.2'`` → ``('tone', 'contrast', 1.2)``; the value is read as TOML, else a string."""
    if "=" not in expr:
        raise ParameterError(f"--set {expr!r}: expected stage.field=value")
    key, _, raw = expr.partition("=")
    key = key.strip()
    if key.count(".") != 1:
        raise ParameterError(f"--set {expr!r}: the key must be stage.field (e.g. tone.contrast=1.2)")
    stage, name = (s.strip() for s in key.split("."))
    if not stage or not name:
        raise ParameterError(f"--set {expr!r}: the key must be stage.field")
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
    def build(cls, look: str | Path | None = "natural", *, sidecar: str | Path | None = None,
              sets: Iterable[str] = (), overrides: Mapping[str, Any] | None = None) -> "Recipe":
        from ..looks import load_look

        layers: list[tuple[str, dict[str, dict[str, Any]]]] = []
        lf = load_look(look if look is not None else "natural")
        layers.append((f"look {lf.name}", lf.tables))
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
        from .. import __version__

        payload = json.dumps({"v": __version__, "p": self.to_dict(only_changed=False)},
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise ParameterError(f"cannot write {v!r} to TOML")


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
