"""Built-in looks are visibly distinct, fast paths match exact maths, and `look export` matches rendering."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import rawlux
from rawlux.frame import Frame, Metadata, State
from rawlux.looks import builtin_names

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lookdata import de00, display_linear, lab_of_encoded, lab_of_linear, lab_of_srgb, mcmaster_paths  # noqa: E402


def _scene_frame(path, size=160):
    """A real photo as a scene-referred frame (so the tone stage runs, as for a raw file)."""
    return Frame(display_linear(path, size) * 0.8, State.SCENE_LINEAR, Metadata(kind="raw", source=str(path)))


@pytest.fixture(scope="module")
def renders():
    paths = mcmaster_paths((1, 9, 18))
    out = {}
    for n in builtin_names():
        out[n] = [lab_of_srgb(rawlux.develop(_scene_frame(p), look=n).pixels) for p in paths]
    return out


def test_every_pair_of_looks_differs_by_at_least_3_de00(renders):
    worst = []
    for a, b in itertools.combinations(sorted(renders), 2):
        d = float(np.mean([de00(x, y).mean() for x, y in zip(renders[a], renders[b])]))
        worst.append((d, a, b))
    worst.sort()
    assert worst[0][0] >= 3.0, f"looks too alike: {worst[:3]}"


def test_fused_lut_matches_exact_colour_maths():
    from rawlux.looks.ingredients import COLOUR_STAGES
    from rawlux.looks.ingredients.grade import colour_function, render
    from rawlux.pipeline.recipe import Recipe

    lin = display_linear(mcmaster_paths((5,))[0], 200)
    for n in builtin_names():
        rec = Recipe.build(n)
        ops = tuple((s, rec[s]) for s in COLOUR_STAGES if not rec[s].is_identity())
        if not ops:
            continue
        exact = colour_function(ops)(lin.reshape(-1, 3)).reshape(lin.shape)
        fast = render(lin, ops, 33)
        d = de00(lab_of_linear(exact), lab_of_linear(fast))
        assert d.mean() < 0.5, (n, d.mean())


@pytest.mark.parametrize("look", ["vivid", "cinema", "sepia", "chrome", "authentic", "negative"])
def test_exported_cube_on_neutral_render_matches_look(tmp_path, look):
    """Neutral render (quantised to 8 bits, as saved) → exported cube ≈ the look's render, mean ΔE00 ≤ 1.
    A display-referred photo with an sRGB cube; a scene-referred one (tone curve runs) rendered and
    graded in Rec.2020, where the neutral render loses no colour to gamut mapping. Spatial ingredients
    (vignette, grain, clarity, sharpening) are not in a cube, so they are off in the comparison render."""
    from rawlux.looks.bake import SPATIAL, export_cube
    from rawlux.looks.lutfiles import read_cube

    off = {f"{s}__enabled": False for s in SPATIAL}
    des = []
    for space in ("srgb", "rec2020"):
        # the sRGB pass develops display-referred photos, the Rec.2020 pass scene-referred ones
        p, notes = export_cube(look, tmp_path / f"{space}.cube", 33, space,
                               source="image" if space == "srgb" else "raw")
        cube = read_cube(p)
        for path in mcmaster_paths((1, 13)):
            src = (lambda: str(path)) if space == "srgb" else (lambda: _scene_frame(path, 200))
            neutral = rawlux.develop(src(), look="natural", output__space=space).pixels
            neutral8 = np.round(np.clip(neutral, 0, 1) * 255) / 255
            graded = cube.apply(neutral8.astype(np.float32))
            ref = rawlux.develop(src(), look=look, output__space=space, **off).pixels
            des.append(float(de00(lab_of_encoded(graded, space), lab_of_encoded(ref, space)).mean()))
    assert max(des) <= 1.0, des


def test_strength_zero_is_the_neutral_render():
    f = _scene_frame(mcmaster_paths((1,))[0], 100)
    a = rawlux.develop(f, look="natural").pixels
    b = rawlux.develop(f, look="slide@0").pixels
    assert np.abs(a - b).max() < 1e-6


def test_looks_apply_to_jpeg_inputs(tmp_path):
    import cv2

    src = mcmaster_paths((9,))[0]
    im = cv2.imread(str(src))
    jp = tmp_path / "x.jpg"
    cv2.imwrite(str(jp), im, [cv2.IMWRITE_JPEG_QUALITY, 95])
    nat = lab_of_srgb(rawlux.develop(str(jp), look="natural").pixels)
    mono = rawlux.develop(str(jp), look="mono").pixels
    assert np.abs(mono[..., 0] - mono[..., 1]).max() < 2e-3            # grey
    assert de00(nat, lab_of_srgb(rawlux.develop(str(jp), look="cinema").pixels)).mean() > 3
