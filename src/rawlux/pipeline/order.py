"""The order of the stages: one table, each position with its reason.

Looks and recipes set stage params; they never reorder stages. ``RULES`` are checked by a test:
each pair (a, b) says a must come before b.
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .stage import Stage

#: (stage name, "module:Class", why it sits here)
ORDER: list[tuple[str, str, str]] = [
    ("opcodes1", "rawlux.optics.stages:Opcodes1",
     "DNG OpcodeList1 works on the values as stored in the file, before any linearisation"),
    ("levels", "rawlux.isp.levels:Levels",
     "linearise, subtract black, scale by white: every later stage assumes 0 = black, 1 = clip"),
    ("opcodes2", "rawlux.optics.stages:Opcodes2",
     "DNG OpcodeList2 (lens-shading GainMap, MapPolynomial) is defined on linear reference values, "
     "i.e. right after levels and before white balance"),
    ("whitebalance", "rawlux.isp.whitebalance:WhiteBalance",
     "per-channel gains on linear sensor data, before anything that mixes channels"),
    ("highlights", "rawlux.isp.highlights:Highlights",
     "needs white-balanced data and the per-channel clip levels; must precede demosaic so "
     "clipped channels do not leak false colour into neighbours"),
    ("denoise", "rawlux.isp.denoise:Denoise",
     "raw noise is independent per photosite and follows the Poisson–Gaussian model only before "
     "demosaic spreads and correlates it; after highlights so repaired clips are not read as noise"),
    ("demosaic", "rawlux.isp.demosaic.stage:Demosaic",
     "mosaic → camera RGB, on clean, balanced, clip-repaired data"),
    ("lens", "rawlux.optics.stages:Lens",
     "distortion/TCA/vignetting + OpcodeList3 need full RGB and the uncropped, unrotated sensor frame "
     "their profiles are written for; one resample for all warps"),
    ("geometry", "rawlux.isp.geometry:Geometry",
     "default crop and EXIF orientation right after demosaic: every later stage works in display coordinates"),
    ("colour", "rawlux.isp.colour:Colour",
     "camera RGB → linear Rec.2020 D65 by the camera profile; needs full RGB per pixel"),
    ("exposure", "rawlux.isp.exposure:Exposure",
     "scene-linear gain (baseline + auto + user) on colourimetric data"),
    ("crop", "rawlux.optics.stages:Crop",
     "focal-length/aspect crop in display coordinates, before bokeh so blur sizes match the final frame "
     "and before the look vignette so it is centred on the picture kept"),
    ("vignette", "rawlux.looks.ingredients.vignette:Vignette",
     "look: a gain in EV on scene-linear light, after exposure and before tone, like a lens's fall-off"),
    ("bokeh", "rawlux.optics.bokeh_stage:Bokeh",
     "synthetic depth of field in scene-linear light (highlights bloom), before the tone curve"),
    ("localtone", "rawlux.isp.localtone:LocalTone",
     "local (edge-aware) tone mapping on the final scene-linear frame, after bokeh so discs bloom from true "
     "radiance, before the global tone curve that it hands a smaller range"),
    ("tone", "rawlux.isp.tone:Tone",
     "scene-referred → display-referred (filmic curve with highlight roll-off; gives DISPLAY_LINEAR); "
     "inputs that are already display-referred are only marked so"),
    ("clarity", "rawlux.looks.ingredients.clarity:Clarity",
     "look: local contrast on display-referred luminance, before the colour grade (rendered by grade)"),
    ("sharpen", "rawlux.looks.ingredients.sharpen:Sharpen",
     "look: unsharp mask on display-referred luminance, with clarity (rendered by grade)"),
    ("balance", "rawlux.looks.ingredients.balance:Balance",
     "look: white-balance shift of the rendered colour, first of the global colour part (rendered by grade)"),
    ("curve", "rawlux.looks.ingredients.curve:Curve",
     "look: tone curve on display-referred values, after tone (rendered by grade)"),
    ("saturation", "rawlux.looks.ingredients.saturation:Saturation",
     "look: saturation/vibrance on the curved colour (rendered by grade)"),
    ("hsl", "rawlux.looks.ingredients.hsl:Hsl",
     "look: per-hue adjustments after global saturation (rendered by grade)"),
    ("mixer", "rawlux.looks.ingredients.mixer:Mixer",
     "look: channel mixer / monochrome after colour edits, before toning (rendered by grade)"),
    ("split", "rawlux.looks.ingredients.split:Split",
     "look: split toning after the mixer, so monochrome looks can be toned (rendered by grade)"),
    ("lut", "rawlux.looks.ingredients.lut:Lut",
     "look: a creative 3D LUT on the graded display-referred colour (rendered by grade)"),
    ("grain", "rawlux.looks.ingredients.grain:Grain",
     "look: film grain on the finished colour, last ingredient (rendered by grade)"),
    ("grade", "rawlux.looks.ingredients.grade:Grade",
     "look: renders clarity..grain in one fused pass (colour part baked into one 3D LUT); before output"),
    ("output", "rawlux.isp.output:Output",
     "gamut map and encode for the output space: last, after every look stage"),
]

#: stages that cannot be switched off (``enabled = false`` is refused with a ParameterError), and why
REQUIRED: dict[str, str] = {
    "levels": "every later stage needs black-subtracted, normalised data",
    "demosaic": "every later stage needs RGB",
    "colour": "every later stage works in the linear Rec.2020 working space",
    "output": "a photograph has to be encoded for a display",
}

#: (a, b): stage a must run before stage b
RULES: list[tuple[str, str]] = [
    ("opcodes1", "levels"),
    ("levels", "opcodes2"),
    ("opcodes2", "whitebalance"),
    ("levels", "whitebalance"),
    ("whitebalance", "highlights"),
    ("highlights", "demosaic"),
    ("highlights", "denoise"),
    ("denoise", "demosaic"),
    ("demosaic", "lens"),
    ("lens", "geometry"),
    ("lens", "colour"),
    ("demosaic", "geometry"),
    ("demosaic", "colour"),
    ("colour", "exposure"),
    ("geometry", "crop"),
    ("exposure", "crop"),
    ("crop", "bokeh"),
    ("crop", "vignette"),
    ("exposure", "bokeh"),
    ("bokeh", "tone"),
    ("exposure", "localtone"), ("crop", "localtone"), ("bokeh", "localtone"), ("localtone", "tone"),
    ("exposure", "tone"),
    ("tone", "output"),
    ("exposure", "vignette"), ("vignette", "tone"),
    ("tone", "clarity"), ("clarity", "sharpen"), ("sharpen", "balance"), ("balance", "curve"),
    ("curve", "saturation"), ("saturation", "hsl"), ("hsl", "mixer"), ("mixer", "split"), ("split", "lut"),
    ("lut", "grain"), ("grain", "grade"), ("grade", "output"),
]


def stage_names() -> list[str]:
    return [n for n, _, _ in ORDER]


@lru_cache(maxsize=None)
def get_stage(name: str) -> "Stage":
    """The stage object for ``name`` (imported on first use, to keep start-up light)."""
    for n, target, _ in ORDER:
        if n == name:
            mod, cls = target.split(":")
            return getattr(importlib.import_module(mod), cls)()
    from ..errors import ParameterError
    raise ParameterError(f"unknown stage {name!r} (valid: {', '.join(stage_names())})")


def check_rules() -> None:
    """Raise AssertionError if ORDER breaks a rule (used by the tests)."""
    pos = {n: i for i, n in enumerate(stage_names())}
    for a, b in RULES:
        assert a in pos and b in pos, f"rule names an unknown stage: {a}, {b}"
        assert pos[a] < pos[b], f"{a} must run before {b}"
