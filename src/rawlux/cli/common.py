"""What every ``rawlux`` command shares: one error line per failure, exit codes, per-file loops, ``--set``.

Command modules import from here (never from ``rawlux.cli`` itself), so no command depends on the group that
lists it.
"""
from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable

import click

from ..errors import EXIT_CODES, RawluxError


def debug_on() -> bool:
    """Whether tracebacks were asked for (``--debug`` or ``RAWLUX_DEBUG``)."""
    return bool(os.environ.get("RAWLUX_DEBUG")) or "--debug" in sys.argv


def fail(err: BaseException) -> int:
    """Print one line for ``err`` and return its exit code."""
    if isinstance(err, RawluxError):
        click.echo(f"rawlux: error: {err}", err=True)
        return err.exit_code
    click.echo(f"rawlux: internal error: {type(err).__name__}: {err} (run with --debug for details)", err=True)
    return EXIT_CODES["internal"]


def each_input(inputs: list[str] | tuple[str, ...], work: Callable[[str], None]) -> int:
    """Run ``work(src)`` for every input; a failing file prints its one line and the others go on.
    Returns the first failure's exit code (0 when all succeeded)."""
    first_code = 0
    for src in inputs:
        try:
            work(src)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - one bad file must not stop the others
            if debug_on():
                raise
            code = fail(e)                   # always printed, for every failing file
            first_code = first_code or code
    return first_code


def guarded(fn: Callable[..., int | None]) -> Callable[..., None]:
    """Run a command body; map errors to one line + exit code (tracebacks only with --debug)."""

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> None:
        try:
            code = fn(*a, **kw) or 0
        except KeyboardInterrupt:
            click.echo("rawlux: interrupted", err=True)
            code = 130
        except BrokenPipeError:
            # the reader went away (`rawlux ... | head`): stop quietly, as Unix tools do
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            code = 141
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # noqa: BLE001 - the CLI boundary
            if debug_on():
                raise
            code = fail(e)
        sys.exit(code)
    return wrapper


def parse_sets(sets: tuple[str, ...] | list[str], flag: str = "--set") -> dict[str, Any]:
    """``("text.left=A b", "layout.bar_height=0.1")`` → ``{"text.left": "A b", "layout.bar_height": 0.1}``.

    The one ``--set`` rule of rawlux (``pipeline.recipe.parse_set``): ``TABLE.KEY=VALUE``, the value read as
    TOML (numbers, booleans, quoted strings), else kept as text."""
    from ..pipeline.recipe import parse_set

    out: dict[str, Any] = {}
    for s in sets:
        table, key, value = parse_set(s, flag=flag)
        out[f"{table}.{key}"] = value
    return out
