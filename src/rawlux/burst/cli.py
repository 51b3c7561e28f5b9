"""``rawlux burst``: align and merge a burst (night), merge brackets (hdr) or fuse them (fusion)."""
from __future__ import annotations

import os
from pathlib import Path

import click

from ..cli.common import guarded
from ..cli.develop import hdr_options, hdr_save_kw
from ..errors import OutputError, ParameterError

MODES = ("night", "hdr", "fusion")


def parse_ref(value: str) -> int | str:
    v = value.strip().lower()
    if v == "auto":
        return "auto"
    try:
        r = int(v)
    except ValueError:
        raise ParameterError(f"--ref {value!r}: expected 'auto' or a frame index (0 = first frame)") from None
    if r < 0:
        raise ParameterError(f"--ref {value!r}: frame indices start at 0")
    return r


@click.command("burst")
@click.argument("frames", nargs=-1, required=True)
@click.option("-o", "--out", "out", default=None, help="Finished photo (.jpg/.png/.tif/.heic; .avif with --hdr).")
@click.option("--mode", type=click.Choice(MODES), default="night", show_default=True,
              help="night: align + robust merge of a burst; hdr: merge exposure brackets into one HDR raw; "
                   "fusion: exposure fusion (Mertens) of developed brackets.")
@click.option("--ref", "ref", default="auto", show_default=True,
              help="Reference frame: auto (sharpest; middle exposure for hdr/fusion) or an index from 0.")
@click.option("--out-raw", default=None, help="Also write the merged raw mosaic as a DNG (night, hdr).")
@click.option("--look", default=None, help="Look name or look .toml file for the development.")
@click.option("--set", "sets", multiple=True, metavar="STAGE.FIELD=VALUE", help="Override one stage parameter (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["jpeg", "png", "tiff", "heif", "avif"]), default=None,
              help="Output format (default: from -o's extension).")
@click.option("--bits", type=click.Choice(["8", "16", "32"]), default="8", help="Bits per channel (32 = linear float TIFF).")
@click.option("--quality", type=click.IntRange(1, 100), default=92, help="JPEG/HEIF quality.")
@hdr_options
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def burst(frames: tuple[str, ...], out: str | None, mode: str, ref: str, out_raw: str | None, look: str | None,
          sets: tuple[str, ...], fmt: str | None, bits: str, quality: int, hdr: bool, hdr_map: str, hdr_scale: int,
          hdr_headroom: float | None, hdr_transfer: str, overwrite: bool, quiet: bool, debug: bool) -> int:
    """Merge FRAME... (raw files of one burst) into one photograph and/or one DNG."""
    import time

    from ..io.encode import format_for
    from ..pipeline.run import build_recipe

    # validate everything typed before decoding anything
    if out is None and out_raw is None:
        raise ParameterError("nothing to write: give -o OUT (a photo) and/or --out-raw FILE.dng")
    if mode == "fusion" and out_raw:
        raise ParameterError("--out-raw: fusion blends developed images and has no raw result; use --mode hdr")
    if mode == "fusion" and out is None:
        raise ParameterError("--mode fusion needs -o OUT")
    r = parse_ref(ref)
    if isinstance(r, int) and r >= len(frames):
        raise ParameterError(f"--ref {r}: only {len(frames)} frame{'s' if len(frames) > 1 else ''} given "
                             f"(valid: 0..{len(frames) - 1} or auto)")
    fmt_name = format_for(out, fmt) if out else None
    if hdr and out is None:
        raise ParameterError("--hdr describes the finished photo: give -o OUT (.jpg Ultra HDR, .avif or .heic)")
    if hdr and mode == "fusion":
        raise ParameterError("--hdr: fusion blends display-referred images and keeps no scene light; "
                             "use --mode hdr (or night) for an HDR photo")
    hdr_kw = hdr_save_kw(hdr, fmt_name, bits, None, hdr_map, hdr_scale, hdr_headroom, hdr_transfer)
    if out_raw is not None and not out_raw.lower().endswith(".dng"):
        raise ParameterError(f"--out-raw {out_raw!r}: the merged raw is written as DNG; name it *.dng")
    rec = build_recipe(None, look, sets=sets, sidecar=False)
    for dst in (out, out_raw):
        if dst is None:
            continue
        if Path(dst).exists() and not overwrite:
            raise OutputError("exists (use --overwrite to replace it)", path=dst)
        if not Path(dst).resolve().parent.is_dir():
            raise OutputError(f"folder {str(Path(dst).parent)!r} does not exist", path=dst)
        if any(os.path.exists(f) and os.path.samefile(f, dst) for f in frames if Path(dst).exists()):
            raise OutputError("output would replace an input frame", path=dst)

    import rawlux
    t0 = time.perf_counter()
    if mode == "fusion":
        from .fusion import fuse_exposures
        photo = fuse_exposures(list(frames), look=look, ref=r)
        rawlux.save(photo, out, format=fmt_name, bits=int(bits), quality=quality, overwrite=True)  # type: ignore[arg-type]
        if not quiet:
            click.echo(f"fused {len(frames)} frames → {out}  ({time.perf_counter() - t0:.1f} s)")
        return 0
    if mode == "hdr":
        from .hdr import merge_hdr
        res = merge_hdr(list(frames), ref=r)
    else:
        from .api import merge_burst
        res = merge_burst(list(frames), ref=r)
    written = []
    if out_raw:
        res.write_dng(out_raw)
        written.append(out_raw)
    if out:
        left = res.frame.meta.extra.get("burst", {}).get("noise_left_by_spatial_denoise", 1.0)
        if left < 1.0 and not any(x.strip().lower().startswith("denoise.") for x in sets):
            # the merge already denoised by the frame count of every pixel: do not denoise twice
            rec = build_recipe(None, look, sets=(*sets, "denoise.strength=0"), sidecar=False)
        photo = rawlux.develop(res.frame, recipe=rec, keep_scene_linear=hdr)
        rawlux.save(photo, out, format=fmt_name, bits=int(bits), quality=quality, overwrite=True, recipe=rec,
                    **hdr_kw)
        written.append(out)
    if not quiet:
        used = sum(1 for w in res.weights if w > 0.05)
        click.echo(f"merged {len(frames)} frames (reference {res.ref}: {res.sources[res.ref]}; "
                   f"{used} contributed) → {', '.join(written)}  ({time.perf_counter() - t0:.1f} s)")
    return 0
