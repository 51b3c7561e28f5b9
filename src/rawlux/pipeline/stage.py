"""The stage contract.

A stage is a pure function of a frame and a frozen ``Params`` dataclass. Params fields carry
their range and documentation in ``dataclasses.field(metadata=...)`` (use :func:`param`), so a
recipe can be validated against them before anything is decoded.
"""
from __future__ import annotations

import contextvars

import abc
import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Mapping

from ..errors import ParameterError
from ..frame import Frame, State

if typing.TYPE_CHECKING:  # pragma: no cover
    from .fuse import PointOp


def param(default: Any, *, min: float | None = None, max: float | None = None,
          choices: Iterable[str] | Callable[[], Iterable[str]] | None = None,
          doc: str = "", nullable: bool = False) -> Any:
    """A Params field with its allowed range (numbers) or choices (strings) and a doc line."""
    meta = {"min": min, "max": max, "choices": choices, "doc": doc, "nullable": nullable}
    if isinstance(default, (list, dict, tuple)) and not isinstance(default, tuple):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Params:
    """Base of every stage's params. ``enabled`` switches a stage off (refused for the stages in
    ``pipeline/order.py`` ``REQUIRED``). Files that carry params (looks, sidecars) are versioned as a whole by
    their ``schema_version``; params themselves carry no version."""

    enabled: bool = param(True, doc="run this stage")


class Stage(abc.ABC):
    """One step of the pipeline. Subclasses set name, Params, takes, gives and implement run."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params
    takes: ClassVar[frozenset[State]] = frozenset()
    gives: ClassVar[State | None] = None       # None: the state is left as it is
    doc: ClassVar[str] = ""

    def applies(self, frame: Frame, p: Params) -> bool:
        """Whether this stage runs on this frame (its state, its kind) with these params."""
        return bool(p.enabled) and frame.state in self.takes

    @abc.abstractmethod
    def run(self, frame: Frame, p: Params) -> Frame:
        """The stage's work: pure, a function of ``frame`` and ``p`` only."""

    def pointwise(self, frame: Frame, p: Params) -> "tuple[PointOp, Frame] | None":
        """When this stage is a function of each pixel alone for this frame and these params: that operation
        (see :mod:`rawlux.pipeline.fuse`) and the frame ``run`` gives; else None (the default), and the runner
        calls ``run``. The runner calls it on small probes of the frame to fuse point-wise stages into one
        pass, so it must be pure too, and take its statistics of the pixels from :func:`~rawlux.pipeline.fuse.probe`."""
        return None


# ----------------------------------------------------------------------------- validation

def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


#: set while validating look files: numbers written as strings are refused there (the studio's form
#: fields and presets hand numbers over as text, and those are read as numbers)
STRICT_NUMBERS: contextvars.ContextVar[bool] = contextvars.ContextVar("rawlux_strict_numbers", default=False)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _coerce(stage: str, name: str, tp: Any, value: Any, meta: Mapping[str, Any]) -> Any:
    key = f"{stage}.{name}"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if value is None:
        if meta.get("nullable") or type(None) in args:
            return None
        raise ParameterError(f"{key} must not be empty")
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        inner = [a for a in args if a is not type(None)]
        tp = inner[0] if len(inner) == 1 else inner[0]
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
            return value.lower() in ("true", "yes", "on", "1")
        raise ParameterError(f"{key} must be true or false, not {value!r}")
    if tp in (int, float):
        if isinstance(value, bool):
            raise ParameterError(f"{key} must be a number, not {value!r}")
        if isinstance(value, str) and STRICT_NUMBERS.get():   # a look file: a quoted number is a typo
            raise ParameterError(f"{key} must be a number, not the string {value!r}"
                                 + (" (write it without quotes)" if _is_number(value) else ""))
        try:
            num = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{key} must be a number, not {value!r}") from None
        if not math.isfinite(num):
            raise ParameterError(f"{key} must be a finite number, not {value!r}")
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and num < lo) or (hi is not None and num > hi):
            raise ParameterError(f"{key}={value!r} is out of range [{lo}, {hi}]")
        if tp is int:
            if num != int(num):
                raise ParameterError(f"{key} must be a whole number, not {value!r}")
            return int(num)
        return num
    if tp is str:
        if not isinstance(value, str):
            raise ParameterError(f"{key} must be a string, not {value!r}")
        choices = meta.get("choices")
        if choices is not None:
            valid = list(choices() if callable(choices) else choices)
            if value not in valid:
                raise ParameterError(f"{key}={value!r} is not one of: {', '.join(valid)}")
        return value
    if origin in (tuple, list) or tp in (tuple, list):
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ParameterError(f"{key} must be a list, not {value!r}")
        elem = args[0] if args else float
        out = []
        for i, v in enumerate(value):
            if isinstance(v, (list, tuple)):
                out.append(tuple(_coerce(stage, f"{name}[{i}]", tuple[float, ...], v, meta)))
            else:
                out.append(_coerce(stage, f"{name}[{i}]", elem if elem is not Ellipsis else float, v, meta))
        return tuple(out)
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise ParameterError(f"{key} must be a table, not {value!r}")
        return dict(value)
    return value


def validate(stage: str, cls: type[Params], values: Mapping[str, Any], base: Params | None = None) -> Params:
    """Build ``cls`` from ``values`` over ``base`` (or the defaults), checking every key and value."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k not in fields:
            valid = ", ".join(sorted(fields))
            raise ParameterError(f"unknown parameter {stage}.{k} (valid: {valid})")
        out[k] = _coerce(stage, k, hints[k], v, fields[k].metadata)
    try:
        return dataclasses.replace(base, **out) if base is not None else cls(**out)
    except ParameterError:
        raise
    except (TypeError, ValueError) as e:
        raise ParameterError(f"{stage}: {e}") from None


def describe(cls: type[Params]) -> list[dict[str, Any]]:
    """Fields of a Params class with default, range and doc (for help texts and the studio)."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        choices = f.metadata.get("choices")
        if callable(choices):
            choices = list(choices())
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
        rows.append({"name": f.name, "type": _type_name(hints[f.name]), "default": default,
                     "min": f.metadata.get("min"), "max": f.metadata.get("max"),
                     "choices": list(choices) if choices is not None else None,
                     "doc": f.metadata.get("doc", "")})
    return rows
