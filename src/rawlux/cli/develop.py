"""``rawlux develop``: RAW/DNG (or finished photos) in, photographs out; and the develop options other
commands share (``develop_options``, ``recipe_overrides``)."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable

import click

from ..errors import ParameterError
from .common import each_input, guarded


# ----------------------------------------------------------------------------- develop

def parse_wb(value: str) -> dict[str, Any]:
    """--wb as-shot|auto|daylight|...|5500K[,tint] → whitebalance params."""
    from ..isp.whitebalance import MODES

    v = value.strip().lower()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*k(?:\s*,\s*([+-]?\d+(?:\.\d+)?))?", v)
    if m:
        return {"mode": "kelvin", "kelvin": float(m.group(1)), "tint": float(m.group(2) or 0.0)}
    if v in MODES and v != "kelvin":
        return {"mode": v}
    raise ParameterError(f"--wb {value!r}: use one of {', '.join(x for x in MODES if x != 'kelvin')} or KELVINk[,tint] (e.g. 5500K,+5)")


def output_path(src: str, out: str | None, out_dir: str | None, fmt: str, multi: bool) -> Path:
    from ..io.formats import EXTENSIONS

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
    from ..io.decode import CfaSpec, RawSpec
    from ..io.formats import format_for
    from ..pipeline.recipe import Recipe

    # everything the user typed is validated before any file is decoded
    overrides = recipe_overrides(wb, space, **optics)
    raw_spec = RawSpec.parse(raw) if raw else None
    cfa_spec = CfaSpec.parse(cfa) if cfa else None
    if raw_spec and cfa_spec:
        raise ParameterError("--raw and --cfa exclude each other")
    camera_profile = None
    if profile is not None:                 # read and checked once, used for every file
        from ..colour.profile import CameraProfile
        camera_profile = CameraProfile.from_file(profile)
    Recipe.for_photo(None, look, sidecar=False, sets=sets, overrides=overrides)
    fmt_name = format_for(out, fmt) if out else (fmt and format_for("x", fmt)) or "jpeg"
    if out_dir and not Path(out_dir).is_dir():
        raise ParameterError(f"--out-dir {out_dir}: no such folder")
    frame_ov = None
    if frame_t is not None:
        from ..borders import load_template
        from .common import parse_sets
        frame_ov = parse_sets(frame_set)
        load_template(frame_t, frame_ov)
        if int(bits) == 32:
            raise ParameterError("--frame needs a display-referred output (--bits 8 or 16)")
    multi = len(inputs) > 1
    if out and multi:
        raise ParameterError("-o names one file: use --out-dir with several inputs")

    from ..errors import OutputError
    from ..pipeline.files import develop_file
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
        rec = Recipe.for_photo(src, look, sidecar=not no_sidecar, sets=sets, overrides=overrides)
        _frame, notes = develop_file(src, dst, rec, fmt=fmt_name, bits=int(bits), quality=quality,
                                     overwrite=overwrite, border=frame_t, border_logo=frame_logo,
                                     border_overrides=frame_ov, raw=raw_spec, cfa=cfa_spec,
                                     profile=camera_profile, max_pixels=max_pixels)
        if not quiet:
            click.echo(f"{src} → {dst}")
            for n in notes:
                click.echo(f"  note: {n}")

    return each_input(inputs, one)
