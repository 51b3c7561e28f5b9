"""``rawlux video IN -o OUT --look NAME|FILE.toml[@strength]``: grade a video with a look (or write one graded
frame as a photo with ``--still T``).

Exit codes as the rest of the CLI: 0 ok, 1 internal, 2 usage/parameter, 3 input, 4 output, 130 interrupted; errors
are one line on stderr (``--debug`` shows the traceback).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..cli.common import guarded

STILL_EXT = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif")
VIDEO_EXT = (".mp4", ".m4v", ".mov", ".mkv")


def _default_out(src: str, look: str | None, cube: str | None, still: bool) -> Path:
    p = Path(src)
    tag = Path(cube).stem if cube and not look else (look or "natural")
    tag = Path(tag.split("@")[0]).stem
    ext = ".jpg" if still else (p.suffix.lower() if p.suffix.lower() in VIDEO_EXT else ".mp4")
    return p.with_name(f"{p.stem}-{tag}{ext}")


class _Progress:
    """A rich progress bar on stderr: frames done/total, frames per second, ETA."""

    def __init__(self, name: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        self.console = Console(stderr=True)
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("frames"), TextColumn("{task.fields[fps]:>6.1f} fps"),
                            TextColumn("ETA"), TimeRemainingColumn(), console=self.console, transient=True,
                            disable=not self.console.is_terminal)
        self.task = self.bar.add_task(name, total=None, fps=0.0)
        self.t0 = 0.0

    def __enter__(self) -> "_Progress":
        import time
        self.t0 = time.perf_counter()
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)

    def __call__(self, done: int, total: int) -> None:
        import time
        dt = time.perf_counter() - self.t0
        self.bar.update(self.task, completed=done, total=total or None, fps=done / dt if dt > 0 else 0.0)


@click.command("video", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("src", metavar="IN", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", "out", type=click.Path(path_type=str), default=None,
              help="Output file: .mp4/.mov/.mkv (a photo .jpg/.png/.tif/.heic with --still). "
                   "Default: IN-LOOK.mp4 beside the input.")
@click.option("--look", default=None, metavar="NAME|FILE.toml[@S]", help="Look (built-in name or TOML), @strength.")
@click.option("--set", "sets", multiple=True, metavar="STAGE.FIELD=VALUE", help="Set a look/stage field (repeatable).")
@click.option("--cube", default=None, metavar="FILE.cube",
              help="A 3D LUT applied to the video's R'G'B' (after --look).")
@click.option("--codec", default="h264", show_default=True, type=click.Choice(["h264", "hevc"]), help="Video codec.")
@click.option("--crf", type=float, default=None, help="Constant quality (0-51, default 18); or --bitrate.")
@click.option("--bitrate", default=None, metavar="RATE", help="Target bit rate, e.g. 8M or 2500k.")
@click.option("--preset", default=None, help="x264/x265 preset (ultrafast .. veryslow, default medium).")
@click.option("--bits", type=click.Choice(["8", "10"]), default=None, help="Output bit depth (default: the input's).")
@click.option("--start", type=float, default=None, metavar="SECONDS", help="Cut: start time.")
@click.option("--duration", type=float, default=None, metavar="SECONDS", help="Cut: length.")
@click.option("--still", type=float, default=None, metavar="T",
              help="Write the frame at T seconds, graded, as a photo (-o x.jpg) instead of a video.")
@click.option("--quality", type=int, default=92, show_default=True, help="JPEG/HEIF quality for --still.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def video(src: str, out: str | None, look: str | None, sets: tuple[str, ...], cube: str | None, codec: str,
          crf: float | None, bitrate: str | None, preset: str | None, bits: str | None, start: float | None,
          duration: float | None, still: float | None, quality: int, overwrite: bool, debug: bool) -> int:
    """Grade the video IN with a look: colour (the look's 3D LUT), vignette and grain (new every frame); audio and
    subtitles copied as they are; frame rate, timing, rotation and colour tags kept. Clarity and sharpening are
    not rendered on video."""
    if debug:
        os.environ["RAWLUX_DEBUG"] = "1"
    return _run(src, out, look, sets, cube, codec, crf, bitrate, preset, bits, start, duration, still, quality,
                overwrite)


def _run(src: str, out: str | None, look: str | None, sets: tuple[str, ...], cube: str | None, codec: str,
         crf: float | None, bitrate: str | None, preset: str | None, bits: str | None, start: float | None,
         duration: float | None, still: float | None, quality: int, overwrite: bool) -> int:
    from ..errors import ParameterError
    from . import transcode

    dst = Path(out) if out else _default_out(src, look, cube, still is not None)
    if still is not None:
        if dst.suffix.lower() not in STILL_EXT:
            raise ParameterError(f"-o {dst}: --still writes a photo ({', '.join(STILL_EXT)})")
        if any(v is not None for v in (crf, bitrate, preset, bits, start, duration)):
            raise ParameterError("--still writes one photo: --crf/--bitrate/--preset/--bits/--start/--duration "
                                 "do not apply")
        p = transcode.still(src, still, dst, look, sets=sets, cube=cube, quality=quality, overwrite=overwrite)
        click.echo(f"{p}: frame at {still:g} s, look {look or 'natural'}")
        return 0
    if crf is not None and bitrate is not None:
        raise ParameterError("give --crf or --bitrate, not both")
    with _Progress(Path(src).name) as bar:
        r = transcode.grade(src, dst, look, sets=sets, cube=cube, codec=codec, crf=crf, bitrate=bitrate,
                            preset=preset, bits=int(bits) if bits else None, start=start, duration=duration,
                            overwrite=overwrite, progress=bar)
    line = (f"{r.path}: {r.frames} frames, look {r.look}, {r.codec} {r.bits}-bit, {r.fps:.1f} fps"
            + (f"; copied {', '.join(r.copied)}" if r.copied else ""))
    click.echo(line)
    if r.skipped:
        click.echo(f"note: {', '.join(r.skipped)} not rendered on video (the look's colour, vignette and grain are)",
                   err=True)
    return 0
