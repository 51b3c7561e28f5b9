"""``rawlux develop``: RAW/DNG (or finished photos) in, photographs out; and the develop options other
commands share (``develop_options``, ``recipe_overrides``)."""
from __future__ import annotations

import os
import re
import sys
import time
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
        click.option("--profile", default=None, type=click.Path(dir_okay=False), help="Camera profile (.toml, .dcp, or a .dng's embedded profile) to use instead of the file's matrices."),
        click.option("--profile-any-camera", is_flag=True, help="Use a DCP --profile made for another camera model."),
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


def hdr_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The HDR output options (``--hdr``, ``--hdr-map``, ``--hdr-scale``, ``--hdr-headroom``, ``--hdr-transfer``),
    shared by ``develop``, ``batch`` and ``burst``; :func:`hdr_save_kw` checks them."""
    opts = [
        click.option("--hdr", is_flag=True, help="HDR photograph: an Ultra HDR (gain-map) JPEG, or a 10-bit PQ/HLG .avif/.heic."),
        click.option("--hdr-map", type=click.Choice(["rgb", "mono"]), default="rgb", help="Ultra HDR gain map: per channel (default) or one for all."),
        click.option("--hdr-scale", type=click.IntRange(1, 4), default=1, help="Ultra HDR gain map at 1/N of the image size (default 1)."),
        click.option("--hdr-headroom", type=float, default=None, metavar="STOPS", help="Stops above SDR white the HDR picture reaches (default: from the scene, at most 4)."),
        click.option("--hdr-transfer", type=click.Choice(["pq", "hlg"]), default="pq", help="Transfer function of HDR AVIF/HEIF (default pq)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def hdr_save_kw(hdr: bool, fmt_name: str | None, bits: str | int, frame: Any, hdr_map: str, hdr_scale: int,
                hdr_headroom: float | None, hdr_transfer: str) -> dict[str, Any]:
    """The :func:`rawlux.save` keywords of the HDR options ({} without ``--hdr``), checked before any decoding:
    a format that holds HDR, 8 bits, no frame, a headroom in (0, 4]. AVIF without ``--hdr`` is refused."""
    if not hdr:
        if fmt_name == "avif":
            raise ParameterError("AVIF is written for HDR output only: add --hdr, or use .jpg/.heic for SDR")
        return {}
    from ..io.formats import HDR_FORMATS
    if fmt_name is not None and fmt_name not in HDR_FORMATS:
        raise ParameterError(f"--hdr cannot be written as {fmt_name.upper()}: use .jpg (Ultra HDR gain map), "
                             ".avif or .heic (10-bit PQ/HLG)")
    if int(bits) != 8:
        raise ParameterError(f"--bits {bits} with --hdr: the Ultra HDR JPEG is 8-bit, HDR AVIF/HEIF 10-bit")
    if frame is not None:
        raise ParameterError("--frame cannot be combined with --hdr (a border has no HDR data)")
    if hdr_headroom is not None and not 0 < hdr_headroom <= 4:
        raise ParameterError(f"--hdr-headroom {hdr_headroom:g}: must be above 0 and at most 4 stops")
    return dict(hdr=True, hdr_map=hdr_map, hdr_scale=hdr_scale, hdr_headroom=hdr_headroom, hdr_transfer=hdr_transfer)


def recipe_overrides(wb: str | None, space: str | None, **optics: Any) -> dict[str, Any]:
    """CLI conveniences → stage params (each is also reachable with --set)."""
    ov: dict[str, Any] = {}
    if optics.get("profile_any_camera"):
        ov["colour"] = {"profile_any_camera": True}
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


def process_age() -> float | None:
    """Seconds since this process started (Linux: /proc; else None): the interpreter's start-up and the
    imports done so far, when called as a command begins. Clock-tick resolution (10 ms)."""
    try:
        started = os.environ.get("_RAWLUX_CLIENT_STARTED")   # run by the worker: the caller's start
        if started:
            start_s = float(started)
        else:
            with open("/proc/self/stat", "rb") as f:
                start_s = int(f.read().rsplit(b")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")  # field 22
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_s)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (0 where the platform does not say)."""
    try:
        import resource
    except ImportError:
        return 0.0
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)     # bytes on macOS, KiB on Linux


def timings_table(src: str, times: dict[str, float], total: float,
                  process: dict[str, float] | None = None) -> str:
    """The ``--timings`` table: recipe, decode, every stage that ran (in the order it ran), frame, encode, the
    rest, and the file's total (wall, from its recipe to its written file: the rows add up to it). ``process``
    rows follow (start-up, setup, the process so far). First-use imports count in the row that made them."""
    rows = list(times.items())
    rows.append(("other (notes, checks)", max(total - sum(times.values()), 0.0)))
    width = max(len(k) for k in [*(k for k, _v in rows), *(process or {}), "total (this file)"])
    out = [f"timings: {src}", f"  {'step':<{width}}  {'seconds':>8}  {'share':>6}"]
    for k, v in rows:
        out.append(f"  {k:<{width}}  {v:8.3f}  {100 * v / total if total > 0 else 0.0:5.1f}%")
    out.append(f"  {'total (this file)':<{width}}  {total:8.3f}  100.0%")
    for k, v in (process or {}).items():
        out.append(f"  {k:<{width}}  {v:8.3f}")
    return "\n".join(out)


@click.command("develop")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--out", "out", default=None, help="Output file (one input).")
@click.option("--out-dir", default=None, type=click.Path(file_okay=False), help="Output folder (default: beside each input).")
@develop_options
@click.option("--format", "fmt", type=click.Choice(["jpeg", "png", "tiff", "heif", "avif"]), default=None, help="Output format (default: from -o's extension, else jpeg; avif needs --hdr).")
@click.option("--bits", type=click.Choice(["8", "16", "32"]), default="8", help="Bits per channel (32 = linear float TIFF).")
@click.option("--quality", type=click.IntRange(1, 100), default=92, help="JPEG/HEIF quality.")
@hdr_options
@click.option("--frame", "frame_t", default=None, metavar="TEMPLATE", help="Frame the photo with an EXIF template (bar, border, ...; see `rawlux frame --list`).")
@click.option("--frame-logo", default=None, type=click.Path(dir_okay=False), help="Logo (PNG/SVG) for the frame.")
@click.option("--frame-set", multiple=True, metavar="KEY=VALUE", help="Override a frame field (text.left=..., field.device=...).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--allow-truncated", is_flag=True, help="Develop a truncated file: what is there, the missing rows black (with a note).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--timings", is_flag=True, help="Print a per-stage time table for each file (decode, stages, encode, total).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def develop_cmd(inputs: tuple[str, ...], out: str | None, out_dir: str | None, look: str | None,
                sets: tuple[str, ...], wb: str | None, space: str | None, raw: str | None, cfa: str | None,
                profile: str | None, max_pixels: int | None, no_sidecar: bool, fmt: str | None, bits: str,
                quality: int, hdr: bool, hdr_map: str, hdr_scale: int, hdr_headroom: float | None, hdr_transfer: str,
                frame_t: str | None, frame_logo: str | None, frame_set: tuple[str, ...],
                overwrite: bool, quiet: bool, debug: bool, timings: bool = False, allow_truncated: bool = False,
                **optics: Any) -> int:
    """Develop RAW/DNG (or JPEG/PNG/TIFF/HEIF) files into finished photographs."""
    started = process_age()                 # interpreter start-up + imports so far (for --timings)
    t_cmd = time.perf_counter()
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
    # checked before any decoding (rawlux.save checks again)
    hdr_kw = hdr_save_kw(hdr, fmt_name, bits, frame_t, hdr_map, hdr_scale, hdr_headroom, hdr_transfer)
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
    develop_kw: dict[str, Any] = {}
    if hdr:
        develop_kw["keep_scene_linear"] = True
    if allow_truncated:
        develop_kw["allow_truncated"] = True

    def one(src: str) -> None:
        dst = output_path(src, out, out_dir, fmt_name, multi)
        if dst.exists():
            # never write over any input of this call (not only this file's own)
            for other in existing_inputs:
                if os.path.samefile(other, dst):
                    raise OutputError(f"output would replace the input {other}; choose -o or --out-dir", path=dst)
            if not overwrite:
                raise OutputError("exists (use --overwrite to replace it)", path=dst)
        t0 = time.perf_counter()
        times: dict[str, float] | None = {} if timings else None
        rec = Recipe.for_photo(src, look, sidecar=not no_sidecar, sets=sets, overrides=overrides)
        if times is not None:
            times["recipe"] = time.perf_counter() - t0
        _frame, notes = develop_file(src, dst, rec, fmt=fmt_name, bits=int(bits), quality=quality,
                                     overwrite=overwrite, border=frame_t, border_logo=frame_logo,
                                     border_overrides=frame_ov, raw=raw_spec, cfa=cfa_spec,
                                     profile=camera_profile, max_pixels=max_pixels, timings=times,
                                     develop_kw=develop_kw or None, save_kw=hdr_kw)
        total = time.perf_counter() - t0
        if not quiet:
            click.echo(f"{src} → {dst}")
            for n in notes:
                click.echo(f"  note: {n}")
        if times is not None:
            process = {}
            if src == inputs[0]:            # what the process spent before its first file
                if started is not None:
                    process["start-up (interpreter + imports)"] = started
                process["setup (options, look, stage modules)"] = t0 - t_cmd
            if started is not None:
                process["process so far"] = started + time.perf_counter() - t_cmd
            click.echo(timings_table(src, times, total, process))
            click.echo(f"  peak memory of this process so far: {peak_rss_mib():.0f} MiB"
                       + (" (the worker's job; see `rawlux worker`)" if os.environ.get("_RAWLUX_CLIENT_STARTED")
                          else ""))

    return each_input(inputs, one)
