"""Clip detection (io/decode.py): real sensor clipping is a ceiling, a bright flat area is not.

A real clip piles pixels up on one value (or a few) in flat plateaus, with almost nothing above; a bright
sky, a white wall or the white patch of a chart is a noisy bump with tails on both sides. The detector must
find the Hero6's real clips (wherever the ceiling sits when the data are scaled) and nothing in bright,
unclipped data, real or synthetic.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from rawlux.frame import BAYER_PATTERNS
from rawlux.io.decode import _clip_level, _detect_saturation, open_image
from testdata import DATA, HERO6, need

WHITE, BLACK = 16383.0, 256.0
COLS = np.array(BAYER_PATTERNS["RGGB"]).reshape(2, 2)
# a Poisson-Gaussian sensor: full well 20 000 e- over the 14-bit range, read noise 2 DN
FULL_WELL = 20000.0


def sensor(scene: np.ndarray, seed: int = 0, clip: float | None = None) -> np.ndarray:
    """Scene (fraction of the range, H×W mosaic) → 14-bit DN with photon and read noise; an optional
    clip (fraction of the range) applied before quantisation, as a saturating pixel does."""
    rng = np.random.default_rng(seed)
    e = rng.poisson(np.clip(scene, 0, None) * FULL_WELL) / FULL_WELL
    if clip is not None:
        e = np.minimum(e, clip)
    dn = e * (WHITE - BLACK) + BLACK + rng.normal(0, 2.0, scene.shape)
    if clip is not None:
        dn = np.where(e >= clip, clip * (WHITE - BLACK) + BLACK, dn)   # the clipped value carries no noise
    return np.clip(np.rint(dn), 0, WHITE).astype(np.uint16)


def detect(mos: np.ndarray, profile=None) -> np.ndarray:
    return _detect_saturation(mos, COLS, np.full(3, BLACK), WHITE, noise_profile=profile)


PROFILE = (1.0 / FULL_WELL, (2.0 / (WHITE - BLACK)) ** 2)      # the DNG NoiseProfile of that sensor


@pytest.mark.parametrize("profile", [None, PROFILE])
def test_large_flat_noisy_patches_are_not_clips(profile):
    """Six big flat patches at 0.6–0.97 of white (an overcast sky, a white wall): no clip."""
    h, w = 600, 900
    scene = np.full((h, w), 0.3)
    for k, lv in enumerate((0.6, 0.7, 0.8, 0.9, 0.95, 0.97)):
        scene[(k // 3) * 300:(k // 3) * 300 + 300, (k % 3) * 300:(k % 3) * 300 + 300] = lv
    # a colour cast: red and blue lower, as white-balance multipliers imply
    scene = scene * np.where(COLS[np.arange(h)[:, None] % 2, np.arange(w)[None] % 2] == 1, 1.0, 0.8)
    assert np.all(detect(sensor(scene), profile) == 1.0)


@pytest.mark.parametrize("profile", [None, PROFILE])
def test_smooth_bright_gradients_are_not_clips(profile):
    h, w = 500, 1000
    x = np.linspace(0.6, 0.97, w)[None].repeat(h, 0)
    y = np.linspace(0.6, 0.97, h)[:, None].repeat(w, 1)
    scene = np.concatenate([x, y, 0.97 - 0.1 * (x - 0.6)], 0)
    assert np.all(detect(sensor(scene, seed=3), profile) == 1.0)


def test_noisy_clip_is_found_at_its_level():
    """The same sensor clipping at 0.82 of the range (a bright area driven past it): that ceiling."""
    h, w = 400, 600
    x = np.linspace(0.5, 1.3, w)[None].repeat(h, 0)
    scene = x * np.where(COLS[np.arange(h)[:, None] % 2, np.arange(w)[None] % 2] == 1, 1.0, 0.55)
    sat = detect(sensor(scene, clip=0.82, seed=5), PROFILE)
    assert abs(sat[1] - 0.82 * (WHITE - BLACK) / (WHITE - BLACK)) < 0.005, sat
    assert np.all(sat[[0, 2]] == 1.0), sat                # red and blue stay below the clip


def test_noiseless_pileup_at_the_top_is_a_clip():
    """Noiseless synthetic data: flatness cannot tell, a pile-up at the very top of the data still counts."""
    h, w = 200, 300
    x = np.linspace(0.2, 1.5, w)[None].repeat(h, 0)
    dn = np.rint(np.minimum(x, 0.9) * (WHITE - BLACK) + BLACK).astype(np.uint16)
    assert abs(detect(dn)[1] - 0.9) < 0.003


def test_clip_in_one_green_plane_only_is_not_a_clip():
    """Per-CFA-plane evidence: a stuck pile-up in one green plane (a defect) is not the sensor's clip."""
    h, w = 400, 600
    mos = sensor(np.full((h, w), 0.5), seed=2)
    mos[0:200:2, 1:300:2] = 14000                        # one green plane only, flat
    assert detect(mos)[1] == 1.0
    mos[1:200:2, 0:300:2] = 14000                        # both green planes: a clip
    assert detect(mos)[1] < 1.0


def test_too_small_or_dark_planes():
    assert _clip_level(np.zeros((4, 4), np.uint16), WHITE, BLACK) is None
    assert _clip_level(np.full((100, 100), 1000, np.uint16), WHITE, BLACK) is None


# ----------------------------------------------------------------------------- real data

@pytest.fixture(scope="module")
def hero6_raw():
    f = open_image(need(HERO6))
    return f


def _hero_detect(fr, mos):
    m = fr.meta
    cols = np.array(BAYER_PATTERNS[m.cfa_pattern]).reshape(2, 2)
    bl = np.array([m.black_level[cols == c].mean() for c in range(3)])
    return _detect_saturation(np.ascontiguousarray(mos), cols, bl, m.white_level, noise_profile=m.noise_profile)


def test_hero6_green_clip_is_found(hero6_raw):
    sat = hero6_raw.meta.saturation
    level = sat[1] * hero6_raw.meta.white_level
    assert 15400 < level < 15650, sat                     # the green ceiling near 15.6k of 16383
    assert sat[2] < 0.95                                  # blue clips too (a spread ceiling near 15.1k)


@pytest.mark.parametrize("scale", [0.9, 0.75])
def test_hero6_scaled_ceiling_moves_with_the_data(hero6_raw, scale):
    """Clipped data stay clipped wherever the ceiling sits: the same ceilings at 0.9× and 0.75×."""
    mos = np.rint(hero6_raw.pixels.astype(np.float64) * scale).astype(np.uint16)
    sat = _hero_detect(hero6_raw, mos)
    base = hero6_raw.meta.saturation
    np.testing.assert_allclose(sat, base * scale, atol=0.012)


def test_hero6_without_its_sky_has_no_clip(hero6_raw):
    """The scene cropped below its clipped sky is a real unclipped scene: nothing is found."""
    mos = hero6_raw.pixels[1200:]
    assert np.all(_hero_detect(hero6_raw, mos) == 1.0)


@pytest.mark.parametrize("illuminant", ["D65", "A"])
def test_simulated_charts_do_not_clip(tmp_path, illuminant):
    """The shared simulated ColorChecker (white patch at 75 % of the range, nothing clips)."""
    tool = need(DATA / ".." / "tools" / "colour" / "make_chart_dng.py")
    out = tmp_path / f"chart_{illuminant}.dng"
    subprocess.run([sys.executable, str(tool), "--illuminant", illuminant, "--out", str(out), "--seed", "7"],
                   check=True, capture_output=True)
    assert np.all(open_image(out).meta.saturation == 1.0)


@pytest.mark.parametrize("peak", [0.958, 0.99])
def test_companded_low_noise_overcast_sky_is_not_a_clip(peak):
    """The hard real case: an action camera's overcast sky, in-camera denoised (σ ≈ 8 DN) and companded (only
    every 18th value used at the top), brightening smoothly to ``peak`` of white over textured ground. Its
    pixels are flat to within a step, but no flatter than the sky just below: no clip."""
    rng = np.random.default_rng(11)
    h, w = 600, 800
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    sky = peak * (1.0 - 0.15 * yy / 0.6) * (1.0 - 0.01 * np.sin(6.0 * xx + 3.0 * yy))
    ground = 0.05 + 0.45 * rng.random((h // 8, w // 8)).repeat(8, 0).repeat(8, 1)
    scene = np.where(yy < 0.6, sky, ground)
    scene = scene * np.where(COLS[np.arange(h)[:, None] % 2, np.arange(w)[None] % 2] == 1, 1.0, 0.7)
    dn = scene * (WHITE - BLACK) + BLACK + rng.normal(0, 8.0, scene.shape)
    top = dn > 8192
    dn[top] = np.round(dn[top] / 18.0) * 18.0                               # companding steps at the top
    mos = np.clip(np.rint(dn), 0, WHITE).astype(np.uint16)
    assert np.all(detect(mos) == 1.0)
    assert np.all(detect(mos, PROFILE) == 1.0)


def test_companded_low_noise_sky_that_clips_is_found():
    """The same camera and sky driven past a clip at 0.93 of the range: that ceiling is found."""
    rng = np.random.default_rng(12)
    h, w = 600, 800
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    sky = 1.2 * (1.0 - 0.25 * yy / 0.6) * (1.0 - 0.01 * np.sin(6.0 * xx + 3.0 * yy))
    ground = 0.05 + 0.45 * rng.random((h // 8, w // 8)).repeat(8, 0).repeat(8, 1)
    scene = np.where(yy < 0.6, sky, ground)
    scene = scene * np.where(COLS[np.arange(h)[:, None] % 2, np.arange(w)[None] % 2] == 1, 1.0, 0.6)
    dn = np.minimum(scene, 0.93) * (WHITE - BLACK) + BLACK
    dn = dn + np.where(scene >= 0.93, 0.0, rng.normal(0, 8.0, scene.shape))
    top = dn > 8192
    dn[top] = np.round(dn[top] / 18.0) * 18.0
    sat = detect(np.clip(np.rint(dn), 0, WHITE).astype(np.uint16))
    assert abs(sat[1] - 0.93) < 0.004, sat
    assert np.all(sat[[0, 2]] == 1.0), sat


@pytest.mark.parametrize("scale", [1.0, 0.8])
def test_four_plane_pass_equals_plane_by_plane(hero6_raw, scale):
    """The four planes' histograms in two parallel passes (unsigned mosaics) give exactly what the
    plane-by-plane code gives (any other dtype takes that path): on the Hero6, scaled, cropped and odd-sized,
    and on synthetic clipped and unclipped sensors."""
    mos = np.rint(hero6_raw.pixels.astype(np.float64) * scale).astype(np.uint16)
    cases = [(hero6_raw, mos), (hero6_raw, mos[1:1201, 3:2004]), (hero6_raw, mos[:5, :7])]
    for fr, m in cases:
        assert np.array_equal(_hero_detect(fr, m), _hero_detect(fr, m.astype(np.int32)))
    y, x = np.mgrid[0:256, 0:384]
    for scene, clip in [(0.4 + 0.6 * x / 384.0, 0.85), (0.9 + 0.05 * np.sin(y / 9.0), None)]:
        m = sensor(scene, seed=3, clip=clip)
        assert np.array_equal(detect(m), detect(m.astype(np.int32)))
        assert np.array_equal(detect(m.astype(np.uint8) if m.max() < 256 else m[::2, ::2]),
                              detect((m.astype(np.uint8) if m.max() < 256 else m[::2, ::2]).astype(np.int64)))
