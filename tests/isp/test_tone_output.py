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


def test_tone_skipped_for_display_referred_input():
    st = get_stage("tone")
    f = scene([[0.5, 0.5, 0.5]])
    f.meta.kind = "image"
    assert not st.applies(f, st.Params())
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
