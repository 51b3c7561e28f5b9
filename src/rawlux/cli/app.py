"""The ``rawlux`` click group (commands loaded from :data:`rawlux.cli.COMMANDS` when invoked) and the
click side of :func:`rawlux.cli.main`: kept out of ``rawlux/cli/__init__.py`` so that a command handed to the
warm worker (:mod:`rawlux.cli.worker`) never imports click."""
from __future__ import annotations

import importlib
import os

import click

from ..errors import EXIT_CODES
from .commands import COMMANDS


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


def run(argv: list[str] | None) -> int:
    """Run the group on ``argv`` (None: ``sys.argv[1:]``); usage errors and aborts become one line and an exit
    code."""
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
    return rv if isinstance(rv, int) else 0
