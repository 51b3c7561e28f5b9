"""``rawlux looks`` (list, preview sheet) and ``rawlux look`` (export, fit, show)."""
from __future__ import annotations

import os
from pathlib import Path

import click

from ..cli.common import guarded
from ..errors import ParameterError


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def looks(ctx: click.Context) -> None:
    """List the built-in looks (or draw them all on one photo: `looks preview`)."""
    if ctx.invoked_subcommand is None:
        _list()


@guarded
def _list() -> int:
    from . import list_looks

    rows = list_looks()
    width = max(len(lf.name) for lf in rows)
    for lf in rows:
        click.echo(f"{lf.name:<{width}}  {lf.description}")
    return 0


def _preview_frame(image: str, size: int):
    """The photo developed up to (not including) exposure, downscaled to `size` on its long side."""
    import cv2

    from ..pipeline.recipe import Recipe
    from ..pipeline.run import run_stages
    from ..io.decode import open_image

    frame = open_image(image)
    frame = run_stages(frame, Recipe.build("natural"), stop="colour")
    h, w = frame.pixels.shape[:2]
    s = size / max(h, w)
    if s < 1:
        px = cv2.resize(frame.pixels, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        frame = frame.with_pixels(px)
    return frame


def contact_sheet(image: str, out: str | os.PathLike[str], size: int = 360, cols: int = 4,
                  names: list[str] | None = None) -> Path:
    """Every look (or ``names``) on one photo, labelled, as one PNG."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from . import builtin_names, load_look
    from ..io.atomic import atomic_path
    from ..pipeline.recipe import Recipe
    from ..pipeline.run import run_stages

    names = names or builtin_names()
    base = _preview_frame(image, size)
    tiles = []
    for n in names:
        rec = Recipe.build(n)
        f = run_stages(base.with_pixels(base.pixels.copy()), rec, start="exposure")
        tiles.append((load_look(n).name, np.clip(f.pixels, 0, 1)))
    th, tw = tiles[0][1].shape[:2]
    label_h = max(18, size // 14)
    rows = (len(tiles) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * (tw + 8) + 8, rows * (th + label_h + 8) + 8), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    try:
        font = ImageFont.load_default(size=max(10, label_h - 6))
    except TypeError:  # pragma: no cover - old Pillow
        font = ImageFont.load_default()
    for i, (name, px) in enumerate(tiles):
        r, c = divmod(i, cols)
        x0, y0 = 8 + c * (tw + 8), 8 + r * (th + label_h + 8)
        sheet.paste(Image.fromarray((px * 255 + 0.5).astype(np.uint8)), (x0, y0))
        draw.text((x0 + 2, y0 + th + 2), name, fill=(235, 235, 235), font=font)
    p = Path(out)
    with atomic_path(p, suffix=".png") as tmp:
        sheet.save(tmp, format="PNG")
    return p


@looks.command("preview")
@click.argument("image", type=click.Path(dir_okay=False))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Contact sheet PNG to write.")
@click.option("--size", default=360, show_default=True, type=click.IntRange(64, 2000), help="Tile size (long side, px).")
@click.option("--cols", default=4, show_default=True, type=click.IntRange(1, 16), help="Tiles per row.")
@click.option("--looks", "only", default=None, help="Comma-separated look names (default: all built-in).")
@guarded
def preview(image: str, out: str, size: int, cols: int, only: str | None) -> int:
    """Draw every look on IMAGE as one labelled contact sheet."""
    names = [s.strip() for s in only.split(",") if s.strip()] if only else None
    p = contact_sheet(image, out, size, cols, names)
    click.echo(str(p))
    return 0


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def look() -> None:
    """Export a look as a LUT, learn one from examples, or show one."""


@look.command("export")
@click.argument("name")
@click.option("--cube", "size", default=33, show_default=True, type=int, help="LUT size (2..65).")
@click.option("--space", default="srgb", show_default=True, help="encoding of the cube's input and output "
              "(srgb, display-p3, rec2020)")
@click.option("--source", type=click.Choice(["raw", "image"]), default="raw", show_default=True,
              help="what the neutral renders the cube will grade were developed from: raw files, or "
                   "JPEG/PNG/TIFF/HEIF images")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help=".cube (or HaldCLUT .png) to write.")
@guarded
def export(name: str, size: int, space: str, source: str, out: str) -> int:
    """Bake the global colour part of look NAME into a 3D LUT (neutral render → look)."""
    from .bake import export_cube

    p, notes = export_cube(name, out, size, space, source)
    click.echo(str(p))
    for n in notes[3:]:
        click.echo(f"note: {n}", err=True)
    return 0


@look.command("fit")
@click.option("--pairs", "pairs_dir", required=True, type=click.Path(file_okay=False), help="Folder of before/after pairs.")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Look .toml to write (a .cube goes beside it).")
@click.option("--source", type=click.Choice(["image", "raw"]), default="image", show_default=True,
              help="what the *after* images were rendered from: JPEG/PNG/TIFF/HEIF files or another tool "
                   "(image), or raw files developed by rawlux (raw: its gamut compression is undone)")
@guarded
def fit(pairs_dir: str, out: str, source: str) -> int:
    """Learn a look (tone curve + smooth 3D LUT) from before/after image pairs."""
    from .fit import fit_pairs, write_look

    if not out.lower().endswith(".toml"):
        raise ParameterError(f"-o {out}: the fitted look is a .toml file")
    res, pairs = fit_pairs(pairs_dir, progress=lambda m: click.echo(m, err=True), source=source)
    toml, cube = write_look(res, out, pairs)
    if res.held_out:
        click.echo(f"held-out mean ΔE00 {res.held_out_mean:.2f} over {len(res.held_out)} pair(s) "
                   f"(each predicted by a fit on the others); fit on all: {res.train_de:.2f}")
    else:
        click.echo(f"one pair: no held-out score; fit ΔE00 {res.train_de:.2f}")
    click.echo(f"{toml}\n{cube}")
    return 0


@look.command("show")
@click.argument("name")
@guarded
def show(name: str) -> int:
    """Print look NAME as a look file, with everything it inherits and its strength resolved."""
    from ..pipeline.recipe import Recipe
    from . import load_look

    lf = load_look(name)
    click.echo(Recipe.build(name).to_toml(as_look=(lf.name, lf.description)))
    return 0


@look.command("import")
@click.argument("preset", type=click.Path(dir_okay=False))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Look .toml to write.")
@click.option("--overwrite", is_flag=True, help="Replace an existing look file.")
@guarded
def import_cmd(preset: str, out: str, overwrite: bool) -> int:
    """Turn a Lightroom/Camera Raw develop preset (.xmp) into a rawlux look (.toml)."""
    from .xmp import import_preset, write_look

    if not out.lower().endswith(".toml"):
        raise ParameterError(f"-o {out}: the imported look is a .toml file")
    imp = import_preset(preset)
    p = write_look(imp, out, overwrite=overwrite)
    n = imp.notice()
    if n:
        click.echo(f"note: {n}", err=True)
    click.echo(str(p))
    return 0
