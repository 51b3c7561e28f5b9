"""``rawlux`` command line: a thin shell over the library.

Exit codes: 0 ok, 1 internal error, 2 usage/parameter error, 3 input error, 4 output error, 130 interrupted.
Errors print one line on stderr (``rawlux: error: FILE: what``); ``--debug`` shows tracebacks.

Adding a command: write a ``click`` command (or group) in a module of its own, say ``rawlux/cli/video.py``
(or a feature's ``cli.py``), decorate its body with :func:`rawlux.cli.common.guarded`, and add one line to
:data:`COMMANDS` below. Modules are imported only when their command runs, so ``rawlux --help`` stays fast.
"""
from __future__ import annotations

import importlib
import os
import sys

import click

from ..errors import EXIT_CODES
from .common import each_input, fail, guarded, parse_sets  # noqa: F401 - the helpers every command uses

#: command name → "module:attribute" (loaded when invoked, so `rawlux --help` stays fast). The one registry.
COMMANDS: dict[str, str] = {
    "develop": "rawlux.cli.develop:develop_cmd",
    "demo": "rawlux.cli.demo:demo_cmd",
    "frame": "rawlux.cli.frame:frame",
    "studio": "rawlux.studio.cli:studio",
    "looks": "rawlux.looks.cli:looks",
    "look": "rawlux.looks.cli:look",
    "batch": "rawlux.batch.cli:batch",
    "calibrate": "rawlux.colour.cli:calibrate",
    "profile": "rawlux.colour.profile_cli:profile",
    "burst": "rawlux.burst.cli:burst",
    "video": "rawlux.video.cli:video",
    "worker": "rawlux.cli.worker_cmd:worker",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        mod, attr = target.split(":")
        return getattr(importlib.import_module(mod), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rawlux")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def cli(debug: bool) -> None:
    """rawlux: an open computational camera (RAW/DNG in, finished photograph out)."""
    if debug:
        os.environ["RAWLUX_DEBUG"] = "1"


def main(argv: list[str] | None = None) -> int:
    """The `rawlux` entry point: usage errors are one line too (exit 2). As a command (``argv`` None), a
    ``develop`` goes to the warm worker when one can be used (see :mod:`rawlux.cli.worker`)."""
    if argv is None:
        from .worker import forward
        rc = forward(sys.argv[1:])
        if rc is not None:
            return rc
    if "--debug" in (argv if argv is not None else sys.argv[1:]):
        os.environ["RAWLUX_DEBUG"] = "1"
    else:
        # library notices (lens not found, opcode skipped, ...) are kept on the frame (develop_file's notes);
        # the CLI shows errors only, one line each (`--debug` shows everything)
        import logging
        lg = logging.getLogger("rawlux")
        lg.addHandler(logging.NullHandler())
        lg.propagate = False
    try:
        rv = cli.main(args=argv, prog_name="rawlux", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as e:   # `rawlux` alone: the help text
        click.echo(e.ctx.get_help() if e.ctx else str(e))
        return 0
    except click.UsageError as e:
        where = f" ({e.ctx.command_path})" if e.ctx is not None and e.ctx.command_path else ""
        click.echo(f"rawlux: error: {' '.join(e.format_message().split())}{where}", err=True)
        return EXIT_CODES["parameter"]
    except click.exceptions.Abort:
        click.echo("rawlux: interrupted", err=True)
        return 130
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        click.echo(f"rawlux: error: {' '.join(e.format_message().split())}", err=True)
        return e.exit_code
    except SystemExit as e:
        rv = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        if argv is None:
            _lighter_exit()
    return rv if isinstance(rv, int) else 0


#: commands whose outputs are all written (atomically, closed) when they return: the process may then skip
#: the interpreter's final garbage collection of the cycles numba and friends leave (~0.3 s of a develop)
_DONE_AT_RETURN = frozenset({"develop"})


def _lighter_exit() -> None:
    """At the end of a `rawlux develop` process (not in-process callers: they pass argv): freeze the heap so
    the interpreter's shutdown does not walk every object numba, cv2 and the pipeline made (measured ~0.3 s
    on the 12 MP develop; atexit handlers and module teardown still run)."""
    words = [a for a in sys.argv[1:] if not a.startswith("-")]
    if words and words[0] in _DONE_AT_RETURN:
        import gc
        gc.disable()
        gc.freeze()


def __getattr__(name: str):  # noqa: ANN202 - old names of the develop helpers (rawlux.cli.parse_wb, ...)
    if name in ("parse_wb", "develop_options", "recipe_overrides", "output_path", "develop_cmd"):
        from . import develop
        return getattr(develop, name)
    raise AttributeError(f"module 'rawlux.cli' has no attribute {name!r}")
