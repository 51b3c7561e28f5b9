"""``rawlux frame``: put EXIF frames around finished photos (or raws, developed first)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from .common import each_input, guarded, parse_sets
from ..errors import OutputError, ParameterError

SUFFIX = "-framed"


def list_text() -> str:
    from ..borders.template import builtin_names, load_template

    rows = []
    for name in builtin_names():
        t = load_template(name)
        rows.append(f"{name:<10} {t.kind:<8} {t.description}")
    return "\n".join(rows)


def output_for(src: str, out: str | None, out_dir: str | None, fmt: str | None, multi: bool) -> Path:
    from ..borders.imageio import DISPLAY_EXTENSIONS, OUT_EXTENSIONS, output_format

    if out:
        if multi:
            raise ParameterError("-o names one file: use --out-dir with several inputs")
        return Path(out)
    in_fmt = DISPLAY_EXTENSIONS.get(Path(src).suffix.lower())
    f = output_format("x", fmt) if fmt else (in_fmt or "jpeg")
    ext = Path(src).suffix if (in_fmt == f and not fmt) else OUT_EXTENSIONS[f]
    folder = Path(out_dir) if out_dir else Path(src).parent
    return folder / (Path(src).stem + SUFFIX + ext)


def frame_file(src: str, dst: Path, template: Any, logo: Any, overrides: dict[str, Any], *, font: str | None,
               fmt: str | None, quality: int, overwrite: bool) -> Path:
    """Frame one file: display images are framed as stored (bit-exact); raws are developed first."""
    from ..borders import frame_pixels
    from ..borders.imageio import DISPLAY_EXTENSIONS, exif_for_output, read_photo, write_photo

    if dst.exists() and not overwrite:
        raise OutputError("exists (use --overwrite to replace it)", path=dst)
    if os.path.exists(src) and dst.exists() and os.path.samefile(src, dst):
        raise OutputError(f"output would replace the input {src}; choose -o or --out-dir", path=dst)
    if Path(src).suffix.lower() in DISPLAY_EXTENSIONS:
        photo = read_photo(src)
        px, layout = frame_pixels(photo.pixels, photo.exif, template, logo, overrides, font=font)
        exif = exif_for_output(photo.exif_bytes, photo.exif, px.shape[1], px.shape[0])
        return write_photo(px, dst, exif=exif, icc=photo.icc, fmt=fmt, quality=quality, overwrite=overwrite,
                           inputs=(src,))
    import rawlux

    from ..borders import apply_frame
    frame = apply_frame(rawlux.develop(src), template, logo, overrides, font=font)
    from ..borders.imageio import output_format
    return rawlux.save(frame, dst, format=output_format(dst, fmt), quality=quality, overwrite=overwrite)


def write_preview_sheet(src: str, dst: str, logo: Any, overrides: dict[str, Any], *, font: str | None,
                  overwrite: bool, tile: int = 640) -> Path:
    """Every built-in template on one photo, side by side with their names, as one PNG."""
    import cv2
    import numpy as np

    from ..borders import frame_pixels
    from ..borders.canvas import Canvas
    from ..borders.fonts import builtin_font_path, measure
    from ..borders.imageio import DISPLAY_EXTENSIONS, read_photo, write_photo
    from ..borders.template import builtin_names

    if Path(src).suffix.lower() in DISPLAY_EXTENSIONS:
        photo = read_photo(src)
        px, exif, icc = photo.pixels, photo.exif, photo.icc
    else:
        import rawlux
        fr = rawlux.develop(src)
        px = np.clip(fr.pixels * 255.0 + 0.5, 0, 255).astype(np.uint8)
        exif, icc = fr.meta.exif, fr.meta.icc
    if px.dtype != np.uint8:
        px = ((px.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    # frame a copy at a size where the text is legible in the tile
    s = min(1.0, 1600.0 / max(px.shape[:2]))
    if s < 1.0:
        px = cv2.resize(px, (round(px.shape[1] * s), round(px.shape[0] * s)), interpolation=cv2.INTER_AREA)
    names = builtin_names()
    tiles = []
    for n in names:
        ov = {k: v for k, v in overrides.items() if k.startswith("field.")}
        out, _ = frame_pixels(px, exif, n, logo, ov, font=font)
        k = tile / max(out.shape[:2])
        tiles.append(cv2.resize(out, (max(1, round(out.shape[1] * k)), max(1, round(out.shape[0] * k))),
                                interpolation=cv2.INTER_AREA))
    cols = 3
    rows = (len(tiles) + cols - 1) // cols
    gap, label = 24, 40
    sheet = Canvas(rows * (tile + label + gap) + gap, cols * (tile + gap) + gap, np.uint8, (0.93, 0.93, 0.93))
    for i, (n, t) in enumerate(zip(names, tiles)):
        r, c = divmod(i, cols)
        x0, y0 = gap + c * (tile + gap), gap + r * (tile + label + gap)
        sheet.paste(t, x0 + (tile - t.shape[1]) // 2, y0 + (tile - t.shape[0]) // 2)
        tb = measure(n, builtin_font_path("sans-bold"), 22, True)
        sheet.blend(tb.mask(), x0 + (tile - tb.width) // 2, y0 + tile + 8, (0.1, 0.1, 0.1))
    return write_photo(sheet.px, dst, exif=None, icc=icc, fmt="png", overwrite=overwrite, inputs=(src,))


@click.command("frame")
@click.argument("inputs", nargs=-1)
@click.option("-t", "--template", "template", default="bar", show_default=True,
              help="Built-in template name (see --list) or a template .toml file.")
@click.option("--logo", default=None, type=click.Path(dir_okay=False), help="Logo image: PNG (with alpha) or SVG.")
@click.option("-o", "--out", "out", default=None, help="Output file (one input).")
@click.option("--out-dir", default=None, type=click.Path(file_okay=False),
              help=f"Output folder (default: beside each input, named NAME{SUFFIX}.EXT).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help='Override text or a field: text.left="My camera", field.device=..., layout.bar_height=0.1 (repeatable).')
@click.option("--font", default=None, type=click.Path(dir_okay=False), help="Font file (.ttf/.otf/.ttc) for all text.")
@click.option("--format", "fmt", type=click.Choice(["jpeg", "png", "tiff", "heif"]), default=None,
              help="Output format (default: the input's, or -o's extension).")
@click.option("--quality", type=click.IntRange(1, 100), default=95, show_default=True, help="JPEG/HEIF quality.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--list", "list_", is_flag=True, help="List the built-in templates and exit.")
@click.option("--preview-sheet", default=None, metavar="OUT.png",
              help="Write every built-in template applied to the first INPUT as one PNG.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def frame(inputs: tuple[str, ...], template: str, logo: str | None, out: str | None, out_dir: str | None,
          sets: tuple[str, ...], font: str | None, fmt: str | None, quality: int, overwrite: bool, list_: bool,
          preview_sheet: str | None, quiet: bool, debug: bool) -> int:
    """Put a frame with the shot's story (device, exposure, date, GPS from EXIF) around photos."""
    if list_:
        click.echo(list_text())
        return 0
    if not inputs:
        raise ParameterError("give one or more photos (or --list)")
    from ..borders import split_overrides
    from ..borders.logo import Logo
    from ..borders.template import load_template

    # everything the user typed is checked before any photo is read
    overrides = parse_sets(sets)
    tpl_over, _ = split_overrides(overrides, font)
    load_template(template, tpl_over)
    lg = Logo(logo) if logo else None
    if out_dir and not Path(out_dir).is_dir():
        raise ParameterError(f"--out-dir {out_dir}: no such folder")
    if preview_sheet:
        p = write_preview_sheet(inputs[0], preview_sheet, lg, overrides, font=font, overwrite=overwrite)
        if not quiet:
            click.echo(f"preview sheet: {p}")
        return 0
    multi = len(inputs) > 1
    if out and multi:
        raise ParameterError("-o names one file: use --out-dir with several inputs")

    def one(src: str) -> None:
        dst = output_for(src, out, out_dir, fmt, multi)
        frame_file(src, dst, template, lg, overrides, font=font, fmt=fmt, quality=quality, overwrite=overwrite)
        if not quiet:
            click.echo(f"{src} → {dst}")

    return each_input(inputs, one)
