"""``rawlux demo``: the bundled sample raw through every built-in look, and a contact sheet."""
from __future__ import annotations

from pathlib import Path

import click

from .common import guarded


@click.command("demo")
@click.argument("outdir", required=False, default="rawlux-demo")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def demo_cmd(outdir: str, debug: bool) -> int:
    """Develop the bundled sample raw through every built-in look; write the photos and a contact sheet."""
    from ..demo import run_demo

    paths, sheet = run_demo(Path(outdir))
    click.echo(f"developed the bundled raw through {len(paths)} looks into {Path(outdir).resolve()}")
    click.echo(f"contact sheet: {sheet.resolve()}")
    return 0
