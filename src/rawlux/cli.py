"""``rawlux`` command line: a thin shell over the library.

Exit codes: 0 ok, 1 internal error, 2 usage/parameter error, 3 input error, 4 output error, 130 interrupted.
Errors print one line on stderr (``rawlux: error: FILE: what``); ``--debug`` shows tracebacks.
"""
from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

import click

from .errors import EXIT_CODES, ParameterError, RawluxError

#: command name → "module:attribute" (loaded when invoked, so `rawlux --help` stays fast)
COMMANDS: dict[str, str] = {
    "develop": "rawlux.cli:develop_cmd",
    "demo": "rawlux.cli:demo_cmd",
    "frame": "rawlux.frames.cli:frame",
    "studio": "rawlux.studio.cli:studio",
    "looks": "rawlux.looks.cli:looks",
    "look": "rawlux.looks.cli:look",
    "batch": "rawlux.batch.cli:batch",
    "calibrate": "rawlux.colour.cli:calibrate",
    "burst": "rawlux.burst.cli:burst",
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


def _debug() -> bool:
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
            if _debug():
                raise
            code = fail(e)                   # always printed, for every failing file
            first_code = first_code or code
    return first_code


def guarded(fn: Callable[..., int | None]) -> Callable[..., None]:
    """Run a command body; map errors to one line + exit code (tracebacks only with --debug)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> None:
        try:
            code = fn(*a, **kw) or 0
        except KeyboardInterrupt:
            click.echo("rawlux: interrupted", err=True)
            code = 130
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # noqa: BLE001 - the CLI boundary
            if _debug():
                raise
            code = fail(e)
        sys.exit(code)
    return wrapper


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rawlux")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def cli(debug: bool) -> None:
    """rawlux: an open computational camera (RAW/DNG in, finished photograph out)."""
    if debug:
        os.environ["RAWLUX_DEBUG"] = "1"


def main(argv: list[str] | None = None) -> int:
    """The `rawlux` entry point: usage errors are one line too (exit 2)."""
    if "--debug" in (argv if argv is not None else sys.argv[1:]):
        os.environ["RAWLUX_DEBUG"] = "1"
    else:
        # library notices (lens not found, opcode skipped, ...) are kept in meta.extra['notices'];
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
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return rv if isinstance(rv, int) else 0


# ----------------------------------------------------------------------------- develop

def parse_wb(value: str) -> dict[str, Any]:
    """--wb as-shot|auto|daylight|...|5500K[,tint] → whitebalance params."""
    from .isp.whitebalance import MODES

    v = value.strip().lower()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*k(?:\s*,\s*([+-]?\d+(?:\.\d+)?))?", v)
    if m:
        return {"mode": "kelvin", "kelvin": float(m.group(1)), "tint": float(m.group(2) or 0.0)}
    if v in MODES and v != "kelvin":
        return {"mode": v}
    raise ParameterError(f"--wb {value!r}: use one of {', '.join(x for x in MODES if x != 'kelvin')} or KELVINk[,tint] (e.g. 5500K,+5)")


def output_path(src: str, out: str | None, out_dir: str | None, fmt: str, multi: bool) -> Path:
    from .io.encode import EXTENSIONS

    if out:
        if multi:
            raise ParameterError("-o names one file: use --out-dir with several inputs")
        return Path(out)
    folder = Path(out_dir) if out_dir else Path(src).parent
    return folder / (Path(src).stem + EXTENSIONS[fmt])


def develop_options(f: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--look", "look", default=None, help="Look name or look .toml file (default: natural, or the sidecar's)."),
        click.option("--set", "sets", multiple=True, metavar="STAGE.FIELD=VALUE", help="Override one stage parameter (repeatable)."),
        click.option("--wb", default=None, help="White balance: as-shot, auto, daylight, cloudy, shade, tungsten, fluorescent, flash, or 5500K[,tint]."),
        click.option("--space", type=click.Choice(["srgb", "display-p3", "rec2020"]), default=None, help="Output colour space."),
        click.option("--raw", "raw", default=None, metavar="WxH,BITS,PATTERN[,BLACK][,le|be]", help="Read inputs as headerless sensor dumps."),
        click.option("--cfa", default=None, metavar="PATTERN[,BLACK[,WHITE]]", help="Read inputs as mosaics stored in greyscale PNG/TIFF."),
        click.option("--profile", default=None, type=click.Path(dir_okay=False), help="Camera profile (.toml) to use instead of the file's matrices."),
        click.option("--max-pixels", type=click.IntRange(min=1), default=None, help="Refuse images with more pixels (default 250 MP or RAWLUX_MAX_PIXELS)."),
        click.option("--no-sidecar", is_flag=True, help="Ignore IMG.ext.rawlux.toml sidecars."),
        click.option("--lens", "lens_name", default=None, help="Lens name in the lensfun database (overrides EXIF)."),
        click.option("--camera", "camera_name", default=None, help="Camera 'Maker Model' in the lensfun database."),
        click.option("--no-lens-profile", is_flag=True, help="Do not apply a lensfun profile."),
        click.option("--projection", default=None, help="Reproject a fisheye: rectilinear, equisolid, equidistant, stereographic."),
        click.option("--focal", type=float, default=None, help="Crop to this 35 mm-equivalent focal length (23, 28, 35, 50, 75, 90)."),
        click.option("--aspect", default=None, help="Crop to an aspect: 3:2, 4:3, 16:9, 1:1, 65:24, 2.39:1."),
        click.option("--bokeh", default=None, help="Synthetic depth of field preset: portrait-50, portrait-75, portrait-90, swirly-50, soft-90, documentary-35."),
        click.option("--depth", default=None, type=click.Path(dir_okay=False), help="Depth map (.png/.tif/.exr/.npy) for --bokeh."),
        click.option("--focus", default=None, metavar="X,Y", help="Focus point for --bokeh, as fractions of width and height."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def recipe_overrides(wb: str | None, space: str | None, **optics: Any) -> dict[str, Any]:
    """CLI conveniences → stage params (each is also reachable with --set)."""
    ov: dict[str, Any] = {}
    if wb:
        ov["whitebalance"] = parse_wb(wb)
    if space:
        ov["output"] = {"space": space}
    lens: dict[str, Any] = {}
    if optics.get("lens_name"):
        lens["lens"] = optics["lens_name"]
    if optics.get("camera_name"):
        lens["camera"] = optics["camera_name"]
    if optics.get("no_lens_profile"):
        lens["profile"] = "off"
    if optics.get("projection"):
        lens["projection"] = optics["projection"]
    if lens:
        ov["lens"] = lens
    crop: dict[str, Any] = {}
    if optics.get("focal") is not None:
        crop["focal"] = optics["focal"]
    if optics.get("aspect"):
        crop["aspect"] = optics["aspect"]
    if crop:
        ov["crop"] = crop
    bokeh: dict[str, Any] = {}
    if optics.get("bokeh"):
        bokeh["preset"] = optics["bokeh"]
        bokeh["depth"] = optics.get("depth") or "embedded"
    elif optics.get("depth"):
        bokeh["depth"] = optics["depth"]
    if optics.get("focus"):
        try:
            fx, fy = (float(v) for v in str(optics["focus"]).split(","))
        except ValueError:
            raise ParameterError(f"--focus {optics['focus']!r}: give X,Y as fractions, e.g. 0.5,0.4") from None
        bokeh["focus_point"] = [fx, fy]
    if bokeh:
        ov["bokeh"] = bokeh
    return ov


@click.command("develop")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--out", "out", default=None, help="Output file (one input).")
@click.option("--out-dir", default=None, type=click.Path(file_okay=False), help="Output folder (default: beside each input).")
@develop_options
@click.option("--format", "fmt", type=click.Choice(["jpeg", "png", "tiff", "heif"]), default=None, help="Output format (default: from -o's extension, else jpeg).")
@click.option("--bits", type=click.Choice(["8", "16", "32"]), default="8", help="Bits per channel (32 = linear float TIFF).")
@click.option("--quality", type=click.IntRange(1, 100), default=92, help="JPEG/HEIF quality.")
@click.option("--frame", "frame_t", default=None, metavar="TEMPLATE", help="Frame the photo with an EXIF template (bar, border, ...; see `rawlux frame --list`).")
@click.option("--frame-logo", default=None, type=click.Path(dir_okay=False), help="Logo (PNG/SVG) for the frame.")
@click.option("--frame-set", multiple=True, metavar="KEY=VALUE", help="Override a frame field (text.left=..., field.device=...).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def develop_cmd(inputs: tuple[str, ...], out: str | None, out_dir: str | None, look: str | None,
                sets: tuple[str, ...], wb: str | None, space: str | None, raw: str | None, cfa: str | None,
                profile: str | None, max_pixels: int | None, no_sidecar: bool, fmt: str | None, bits: str,
                quality: int, frame_t: str | None, frame_logo: str | None, frame_set: tuple[str, ...],
                overwrite: bool, quiet: bool, debug: bool, **optics: Any) -> int:
    """Develop RAW/DNG (or JPEG/PNG/TIFF/HEIF) files into finished photographs."""
    from .io.decode import CfaSpec, RawSpec
    from .io.encode import format_for
    from .pipeline.run import build_recipe

    # everything the user typed is validated before any file is decoded
    overrides = recipe_overrides(wb, space, **optics)
    raw_spec = RawSpec.parse(raw) if raw else None
    cfa_spec = CfaSpec.parse(cfa) if cfa else None
    if raw_spec and cfa_spec:
        raise ParameterError("--raw and --cfa exclude each other")
    camera_profile = None
    if profile is not None:                 # read and checked once, used for every file
        from .colour.profile import CameraProfile
        camera_profile = CameraProfile.from_file(profile)
    build_recipe(None, look, sets=sets, overrides=overrides, sidecar=False)
    fmt_name = format_for(out, fmt) if out else (fmt and format_for("x", fmt)) or "jpeg"
    if out_dir and not Path(out_dir).is_dir():
        raise ParameterError(f"--out-dir {out_dir}: no such folder")
    frame_ov = None
    if frame_t is not None:
        from .frames import load_template
        from .frames.cli import parse_sets
        frame_ov = parse_sets(frame_set)
        load_template(frame_t, frame_ov)
        if int(bits) == 32:
            raise ParameterError("--frame needs a display-referred output (--bits 8 or 16)")
    multi = len(inputs) > 1
    if out and multi:
        raise ParameterError("-o names one file: use --out-dir with several inputs")

    import rawlux
    from .errors import OutputError
    existing_inputs = [s for s in inputs if os.path.isfile(s)]

    def one(src: str) -> None:
        dst = output_path(src, out, out_dir, fmt_name, multi)
        if dst.exists():
            # never write over any input of this call (not only this file's own)
            for other in existing_inputs:
                if os.path.samefile(other, dst):
                    raise OutputError(f"output would replace the input {other}; choose -o or --out-dir", path=dst)
            if not overwrite:
                raise OutputError("exists (use --overwrite to replace it)", path=dst)
        rec = build_recipe(src, look, sets=sets, overrides=overrides, sidecar=not no_sidecar)
        frame = rawlux.develop(src, recipe=rec, raw=raw_spec, cfa=cfa_spec, profile=camera_profile,  # type: ignore[arg-type]
                               max_pixels=max_pixels, linear=int(bits) == 32)
        if frame_t is not None:
            from .frames import apply_frame
            frame = apply_frame(frame, template=frame_t, logo=frame_logo, overrides=frame_ov)
        rawlux.save(frame, dst, format=fmt_name, bits=int(bits), quality=quality, overwrite=overwrite, recipe=rec)
        if not quiet:
            click.echo(f"{src} → {dst}")
            notes = [frame.meta.extra.get("note"), frame.meta.extra.get("wb_note"), *frame.meta.extra.get("notices", [])]
            for n in dict.fromkeys(n for n in notes if n):
                click.echo(f"  note: {n}")

    return each_input(inputs, one)


# ----------------------------------------------------------------------------- demo

@click.command("demo")
@click.argument("outdir", required=False, default="rawlux-demo")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def demo_cmd(outdir: str, debug: bool) -> int:
    """Develop the bundled sample raw through every built-in look; write the photos and a contact sheet."""
    from .demo import run_demo

    paths, sheet = run_demo(Path(outdir))
    click.echo(f"developed the bundled raw through {len(paths)} looks into {Path(outdir).resolve()}")
    click.echo(f"contact sheet: {sheet.resolve()}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
