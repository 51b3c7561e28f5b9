"""Export a look's global colour part as a 3D LUT (``rawlux look export NAME --cube 33 -o x.cube``).

The cube maps the **neutral render** to the **look's render**, both as the pipeline writes them: the
input is a photo developed with the ``natural`` look and encoded in ``space`` (sRGB by default:
IEC 61966-2-1 primaries, D65 white and transfer function, values 0..1, ``DOMAIN_MIN 0 0 0``,
``DOMAIN_MAX 1 1 1``); the output is the same photo with the look, in the same encoding, after the
output stage's gamut compression. Red varies fastest (Cube LUT Specification 1.0), so the file
loads in colour-grading, photo and raw-development tools as a display-referred creative LUT.

What a cube cannot hold is left out and listed in the file's comments: the spatial ingredients
(vignette, clarity, sharpening, grain) and any change the look makes to the scene-referred spine
stages (exposure, white balance, tone), which act before the display transform.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..errors import LookError, ParameterError
from ..frame import Frame, Metadata, State
from .lutfiles import Lut, write_cube

SPATIAL = ("vignette", "clarity", "sharpen", "grain")
SPINE = ("levels", "whitebalance", "highlights", "demosaic", "geometry", "colour", "exposure", "tone")


def look_parts(look: str | Path):
    """(recipe, colour ops, spatial stages it uses, spine stages it changes vs natural)."""
    from .ingredients import COLOUR_STAGES
    from ..pipeline.recipe import Recipe

    rec = Recipe.build(look)
    nat = Recipe.build("natural")
    ops = tuple((s, rec.params[s]) for s in COLOUR_STAGES
                if s in rec.params and rec.params[s].enabled and not rec.params[s].is_identity())
    spatial = [s for s in SPATIAL if s in rec.params and not rec.params[s].is_identity()]
    spine = [s for s in SPINE if s in rec.params and rec.params[s] != nat.params[s]]
    return rec, ops, spatial, spine


def uncompress(lin: np.ndarray, source: str = "raw") -> np.ndarray:
    """Undo the output stage's hue-keeping gamut compression, so the cube sees the colour the look saw.
    For raw (scene-referred) sources the stage compressed channel distances from the pixel's max
    (d > 0.8 mapped to 0.8 + e/(1 + e/0.4)); for display-referred sources (``source="image"``) it moved only
    out-of-gamut pixels, so encoded values are returned as they are."""
    if source == "image":
        return lin
    ach = lin.max(axis=1, keepdims=True)
    safe = np.maximum(ach, 1e-9)
    d = (ach - lin) / safe
    e_out = np.clip(d - 0.8, 0.0, 0.399)
    e = e_out / (1.0 - e_out / 0.4)
    d_in = np.where(d > 0.8, 0.8 + e, d)
    return np.where(ach > 1e-9, ach - d_in * ach, lin)


def bake_cube(look: str | Path, size: int = 33, space: str = "srgb", source: str = "raw") -> tuple[Lut, list[str]]:
    """The look's global colour part as a ``size``³ Lut in ``space`` encoding, and the notes on what
    it leaves out. ``source``: what the neutral render the cube is applied to was developed from — "raw"
    (scene-referred: its most saturated colours were compressed smoothly toward the gamut) or "image"
    (JPEG/PNG/TIFF/HEIF: in-gamut colours untouched)."""
    from ..colour import spaces
    from .ingredients.grade import colour_function
    from ..isp.output import Output, OutputParams
    from ..pipeline.stage import validate

    if not 2 <= size <= 65:
        raise LookError(f"--cube {size} is out of range [2, 65]")
    if space not in spaces.OUTPUT_SPACES:
        raise LookError(f"cube space {space!r} is not one of: {', '.join(spaces.OUTPUT_SPACES)}")
    rec, ops, spatial, spine = look_parts(look)
    grid = Lut.identity(size).table.reshape(-1, 3).astype(np.float64)
    lin = spaces.decode(grid, spaces.transfer_of(space)).astype(np.float64)
    if source not in ("raw", "image"):
        raise LookError(f"cube source {source!r} is not one of: raw, image")
    if rec.params["output"].gamut == "compress":
        lin = uncompress(lin, source)
    x = lin @ np.asarray(spaces.rgb_to_rgb(space, spaces.WORKING)).T
    y = colour_function(ops)(x) if ops else x
    out_p = validate("output", OutputParams, {"space": space},
                     base=dataclasses.replace(rec.params["output"]))  # type: ignore[arg-type]
    frame = Frame(np.ascontiguousarray(y.reshape(-1, 1, 3), np.float32), State.SCENE_LINEAR, Metadata(kind=source))
    enc = Output().run(frame, out_p).pixels.reshape(size, size, size, 3)
    notes = [f"rawlux look {rec.look}: global colour part, {size}^3, tetrahedral",
             f"input: the neutral ('natural') render encoded in {space} (its primaries, D65, its transfer "
             f"function), 0..1",
             f"neutral render developed from: {source} files (--source {source})",
             "output: the look's render in the same encoding"]
    if spatial:
        notes.append("not included (spatial): " + ", ".join(spatial))
    if spine:
        notes.append("not included (scene-referred stages the look changes): " + ", ".join(spine))
    return Lut(enc, title=f"rawlux {rec.look}"), notes


def export_cube(look: str | Path, path: str | Path, size: int = 33, space: str = "srgb",
                source: str = "raw") -> tuple[Path, list[str]]:
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".cube", ".png", ".tif", ".tiff"):
        raise ParameterError(f"-o {p}: write a .cube file, or a HaldCLUT .png/.tif (not {ext or 'no extension'!r})")
    lut, notes = bake_cube(look, size, space, source)
    if ext in (".png", ".tif", ".tiff"):
        from .lutfiles import write_hald
        return write_hald(p, lut), notes
    return write_cube(p, lut, notes), notes
