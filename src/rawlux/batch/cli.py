"""``rawlux batch``: develop folders, resumably, on this machine or a Dask cluster."""
from __future__ import annotations

import sys
from typing import Any

import click

from ..cli.common import guarded
from ..cli.develop import develop_options, hdr_options, hdr_save_kw, recipe_overrides


@click.command("batch")
@click.argument("sources", nargs=-1, required=True)
@click.option("--out-dir", required=True, type=click.Path(file_okay=False),
              help="Output folder; its catalog lives in OUT_DIR/.rawlux/catalog.sqlite.")
@develop_options
@click.option("--recipe", "recipe_file", default=None, type=click.Path(dir_okay=False),
              help="A recipe .toml (sidecar format) applied to every input, under each input's own sidecar.")
@click.option("--frame", "frame", default=None, metavar="TEMPLATE",
              help="Frame every photo with a template (built-in name or .toml; see `rawlux frame --list`).")
@click.option("--format", "fmt", type=click.Choice(["jpeg", "png", "tiff", "heif", "avif"]), default="jpeg",
              show_default=True, help="Output format (avif needs --hdr).")
@click.option("--bits", type=click.Choice(["8", "16", "32"]), default="8", show_default=True,
              help="Bits per channel (32 = linear float TIFF).")
@click.option("--quality", type=click.IntRange(1, 100), default=92, show_default=True, help="JPEG/HEIF quality.")
@hdr_options
@click.option("-r", "--recursive", is_flag=True, help="Descend into sub-folders (outputs mirror them).")
@click.option("--glob", "globs", multiple=True, metavar="PATTERN",
              help="Which files of a folder to take, e.g. '*.dng' (repeatable; default: camera raw extensions).")
@click.option("-j", "--workers", type=click.IntRange(1, 512), default=None,
              help="Local worker processes (default: one per CPU core, as free memory allows).")
@click.option("--threads", type=click.IntRange(1, 512), default=None,
              help="Threads per local worker (default: cores ÷ workers).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on an existing Dask distributed cluster instead of the local pool.")
@click.option("--shared-storage", is_flag=True,
              help="With --scheduler: workers read inputs and write outputs by path (same paths everywhere).")
@click.option("-n", "--dry-run", is_flag=True, help="Show what would be developed or skipped; write nothing.")
@click.option("--retry-failed", is_flag=True, help="Try again the files that failed in an earlier run.")
@click.option("--watch", is_flag=True, help="Hot folder: after the batch, keep developing new files as they appear.")
@click.option("--watch-interval", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True,
              help="Seconds between scans of a watched folder.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def batch(sources: tuple[str, ...], out_dir: str, look: str | None, sets: tuple[str, ...], wb: str | None,
          space: str | None, raw: str | None, cfa: str | None, profile: str | None, max_pixels: int | None,
          no_sidecar: bool, recipe_file: str | None, frame: str | None, fmt: str, bits: str, quality: int,
          hdr: bool, hdr_map: str, hdr_scale: int, hdr_headroom: float | None, hdr_transfer: str,
          recursive: bool, globs: tuple[str, ...], workers: int | None, threads: int | None,
          scheduler: str | None, shared_storage: bool, dry_run: bool, retry_failed: bool, watch: bool,
          watch_interval: float, as_json: bool, quiet: bool, debug: bool, **optics: Any) -> int:
    """Develop many files into OUT_DIR; re-runs skip finished work and finish interrupted batches.

    SOURCES are files and folders (with --watch, the folders are watched). Sidecars (IMG.ext.rawlux.toml)
    are honoured. Exit code 0 when every file is developed, else the code of the first
    failure (3 input, 4 output, 1 internal); 130 when interrupted.
    """
    from .engine import BatchOptions, run_batch
    from .report import Progress, print_summary, to_json

    if watch and dry_run:
        from ..errors import ParameterError
        raise ParameterError("--watch and --dry-run exclude each other")
    hdr_kw = hdr_save_kw(hdr, fmt, bits, frame, hdr_map, hdr_scale, hdr_headroom, hdr_transfer)
    opts = BatchOptions(look=look, recipe_file=recipe_file, sets=sets, overrides=recipe_overrides(wb, space, **optics),
                        sidecars=not no_sidecar, raw=raw, cfa=cfa, profile=profile, max_pixels=max_pixels,
                        fmt=fmt, bits=int(bits), quality=quality, frame=frame, hdr_kw=hdr_kw or None, recursive=recursive, globs=globs,
                        workers=workers, threads=threads, scheduler=scheduler, shared_storage=shared_storage,
                        dry_run=dry_run, retry_failed=retry_failed)
    progress = Progress(quiet=quiet or as_json)
    if watch:
        from .watch import watch_batch
        report = watch_batch(sources, out_dir, opts=opts, progress=progress, interval=watch_interval,
                             argv=sys.argv[1:])
    else:
        report = run_batch(sources, out_dir, opts=opts, progress=progress, argv=sys.argv[1:])
    if as_json:
        click.echo(to_json(report))
    elif not quiet:
        print_summary(report, progress.console)
    return report.exit_code
