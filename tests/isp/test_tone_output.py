"""tone (filmic scene → display) and output (gamut, transfer function, ICC)."""
from __future__ import annotations

import io

import numpy as np
import pytest

from rawlux.colour import spaces as S
from rawlux.frame import Frame, Metadata, State
from rawlux.isp.tone import ToneParams, curve
from rawlux.pipeline.order import get_stage


def scene(px) -> Frame:
    return Frame(np.asarray(px, np.float32).reshape(1, -1, 3), State.SCENE_LINEAR, Metadata(source="t", kind="raw"))


@pytest.mark.parametrize("contrast", [0.7, 1.0, 1.5])
def test_curve_shape(contrast):
    p = ToneParams(contrast=contrast)
    x = np.geomspace(1e-4, 1e4, 2000)
    y = curve(x, p)
    assert np.all(np.diff(y) > 0)                                       # monotonic
    assert abs(float(curve(np.array([0.18]), p)[0]) - p.grey_out) < 1e-6  # middle grey → display grey
    assert y[-1] < p.peak and y[-1] > 0.99 * p.peak                      # rolls off toward the peak
    assert curve(np.array([0.0]), p)[0] == 0.0


def test_contrast_steepens_midtones():
    lo, hi = ToneParams(contrast=0.8), ToneParams(contrast=1.5)
    x = np.array([0.18 / 1.1, 0.18 * 1.1])
    assert np.diff(curve(x, hi))[0] > np.diff(curve(x, lo))[0]


def test_tone_stage_matches_curve_on_greys_and_keeps_hue():
    st = get_stage("tone")
    p = st.Params(hue_preservation=1.0)
    greys = np.array([[v, v, v] for v in (0.01, 0.18, 1.0, 4.0, 50.0)])
    out = st.run(scene(greys), p).pixels.reshape(-1, 3)
    assert np.allclose(out[:, 0], curve(greys[:, 0], p), atol=2e-3)
    assert np.allclose(out, out[:, :1], atol=1e-5)
    col = np.array([[0.5, 0.2, 0.05]])
    o = st.run(scene(col), p).pixels.reshape(3)
    # full hue preservation: channel ratios (relative to the minimum) kept
    assert abs((o[0] - o[2]) / (o[1] - o[2]) - (0.5 - 0.05) / (0.2 - 0.05)) < 0.02
    assert st.run(scene(col * 1000), p).pixels.max() <= p.peak + 1e-6


def test_tone_leaves_display_referred_input_as_it_is():
    from rawlux.frame import State
    st = get_stage("tone")
    f = scene([[0.5, 0.5, 0.5]])
    f.meta.kind = "image"
    assert st.applies(f, st.Params())
    out = st.run(f, st.Params())           # already rendered: only marked display-referred
    assert np.array_equal(out.pixels, f.pixels) and out.meta.facts.display_referred
    assert st.gives is State.DISPLAY_LINEAR
    assert not st.applies(scene([[0.5, 0.5, 0.5]]), st.Params(method="none"))


@pytest.mark.parametrize("space", ["srgb", "display-p3", "rec2020"])
def test_output_white_grey_black_and_icc(space):
    from PIL import ImageCms

    st = get_stage("output")
    f = st.run(scene([[1, 1, 1], [0.18, 0.18, 0.18], [0, 0, 0]]), st.Params(space=space))
    assert f.state is State.DISPLAY and f.meta.output_space == space
    px = f.pixels.reshape(-1, 3)
    grey = float(S.encode(np.array([0.18]), S.transfer_of(space))[0])
    assert np.allclose(px[0], 1.0, atol=2e-3) and np.allclose(px[1], grey, atol=2e-3) and np.allclose(px[2], 0, atol=1e-4)
    prof = ImageCms.ImageCmsProfile(io.BytesIO(f.meta.icc))
    desc = ImageCms.getProfileDescription(prof).lower()
    assert {"srgb": "srgb", "display-p3": "p3", "rec2020": "2020"}[space] in desc


def test_output_maps_primaries_between_spaces():
    st = get_stage("output")
    # the sRGB red primary, expressed in Rec.2020, comes out as pure red in sRGB
    red2020 = S.rgb_to_rgb("srgb", "rec2020") @ np.array([0.5, 0.0, 0.0])
    px = st.run(scene([red2020]), st.Params(space="srgb", gamut="clip")).pixels.reshape(3)
    assert np.allclose(px, S.encode(np.array([0.5, 0.0, 0.0]), "srgb"), atol=3e-3)


def _hue_error(rgb2020: np.ndarray, gamut: str) -> float:
    import colour
    st = get_stage("output")
    out = st.run(scene([rgb2020]), st.Params(space="srgb", gamut=gamut)).pixels.reshape(3)
    assert out.min() >= 0 and out.max() <= 1
    lin = S.decode(out, "srgb")
    h = [colour.models.Lab_to_LCHab(colour.XYZ_to_Lab(m @ v))[2]
         for m, v in ((S.rgb_to_xyz("rec2020"), rgb2020), (S.rgb_to_xyz("srgb"), lin))]
    return abs((h[0] - h[1] + 180) % 360 - 180)


@pytest.mark.parametrize("rgb", [[0.05, 0.6, 0.05], [0.6, 0.05, 0.05], [0.0, 0.02, 0.6], [0.0, 0.5, 0.5]])
def test_gamut_compression_keeps_hue_of_out_of_gamut_colour(rgb):
    rgb = np.array(rgb)
    assert (S.rgb_to_rgb("rec2020", "srgb") @ rgb).min() < 0      # outside sRGB
    comp, clip = _hue_error(rgb, "compress"), _hue_error(rgb, "clip")
    assert comp < 10.0 and comp <= clip + 0.5, (comp, clip)     # CIELAB hue, degrees


# ----------------------------------------------------------------------------- a bright unclipped sky

@pytest.mark.parametrize("sky_frac,gradient", [(0.1, 0.1), (0.3, 0.45), (0.45, 0.1)])
def test_bright_unclipped_sky_keeps_its_gradation(tmp_path, sky_frac, gradient):
    """An overcast sky up to 0.95 of white (nothing clips in the raw), default look: auto exposure brightens
    the scene but the sky is not pushed to white: ≤ 1 % of its pixels at 255 in all channels, ≤ 5 % at ≥ 250,
    and its brightness gradient still shows."""
    import rawlux
    from skyscene import overcast_sky_dng

    dng, sky = overcast_sky_dng(tmp_path / "sky.dng", peak=0.95, sky_frac=sky_frac, gradient=gradient)
    assert np.all(rawlux.open_image(dng).meta.saturation == 1.0)          # nothing is declared clipped
    out = rawlux.develop(dng)
    v8 = np.clip(np.rint(out.pixels * 255.0), 0, 255)
    assert out.meta.extra.get("exposure_ev", 0.0) > 0 or sky_frac > 0.4   # brightened (a dark foreground)
    assert (v8 >= 255).all(axis=2)[sky].mean() <= 0.01
    assert (v8 >= 250).all(axis=2)[sky].mean() <= 0.05
    # gradation, not a flat white: the sky's brightest rows (top) stay brighter than its darkest (horizon)
    n = int(sky[:, 0].sum())
    k = max(1, n // 10)
    top, bottom = float(v8[:k, :, 1].mean()), float(v8[n - k:n, :, 1].mean())
    assert top < 250 and top - bottom >= 9.0 * gradient, (top, bottom)


def test_exposure_headroom_for_unclipped_highlights():
    from rawlux.isp.exposure import UNCLIPPED_HEADROOM, auto_ev

    rng = np.random.default_rng(0)
    img = np.full((200, 300, 3), 0.01, np.float32)
    img[:40] = (0.9 * rng.uniform(0.8, 1.0, (40, 300)))[..., None]         # a bright band below the clip (1.0)
    ev = auto_ev(img, 0.18, 8.0, clip_lum=1.0)
    assert np.percentile(img[..., 1], 99.5) * 2 ** ev <= UNCLIPPED_HEADROOM * 1.01     # the brightest 0.5 % only above
    assert img.max() * 2 ** ev < 1.1 * UNCLIPPED_HEADROOM
    # the same band clipped in the raw (at and above the clip luminance) may be pushed further
    ev_c = auto_ev(img / 0.9 * 1.5, 0.18, 8.0, clip_lum=1.0)
    assert 1.5 * 2 ** ev_c > UNCLIPPED_HEADROOM


# ----------------------------------------------------------------------------- reference look: exact gamut

def test_exact_gamut_keeps_in_gamut_colours_and_maps_others_along_hue():
    import colour

    st = get_stage("output")
    rng = np.random.default_rng(1)
    inside = rng.uniform(0.02, 0.98, (500, 3))                            # linear sRGB, in gamut
    work = inside @ S.rgb_to_rgb("srgb", "rec2020").T
    out = st.run(scene(work), st.Params(space="srgb", gamut="exact")).pixels.reshape(-1, 3)
    want = S.encode(inside, "srgb")
    assert np.abs(out - want).max() < 2e-4                                # exact through the encode LUT
    comp = st.run(scene(work), st.Params(space="srgb", gamut="compress")).pixels.reshape(-1, 3)
    assert np.abs(comp - want).max() > 5e-3                               # the soft knee moves some of them
    # out of gamut: onto the boundary, same CIELAB hue and luminance
    for rgb in ([0.05, 0.6, 0.05], [0.6, 0.05, 0.05], [0.0, 0.02, 0.6], [0.0, 0.5, 0.5]):
        rgb = np.array(rgb)
        o = st.run(scene([rgb]), st.Params(space="srgb", gamut="exact")).pixels.reshape(3)
        lin = S.decode(o, "srgb")
        assert lin.min() < 1e-3 and lin.max() <= 1.0
        lab_in = colour.XYZ_to_Lab(S.rgb_to_xyz("rec2020") @ rgb)
        lab_out = colour.XYZ_to_Lab(S.rgb_to_xyz("srgb") @ lin)
        h_in, h_out = (np.degrees(np.arctan2(lab[2], lab[1])) for lab in (lab_in, lab_out))
        assert abs((h_in - h_out + 180) % 360 - 180) < 6.0, (rgb, h_in, h_out)
        assert abs(lab_in[0] - lab_out[0]) < 0.5


def test_reference_look_uses_the_exact_gamut():
    from rawlux.pipeline.recipe import Recipe

    assert Recipe.build("reference")["output"].gamut == "exact"
    assert Recipe.build("natural")["output"].gamut == "compress"
