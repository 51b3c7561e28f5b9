"""whitebalance: as shot, automatic (clipped pixels ignored), presets and kelvin through the camera profile."""
from __future__ import annotations

import numpy as np
import pytest

import synth
from rawlux.colour import temperature as T
from rawlux.frame import BAYER_PATTERNS, Frame, Metadata, State
from rawlux.isp.whitebalance import estimate_neutral, profile_for
from rawlux.pipeline.order import get_stage


def cfa_frame(cam_rgb: np.ndarray, pattern="RGGB", neutral=None, sat=1.0) -> Frame:
    m = Metadata(source="synthetic", kind="raw", cfa_pattern=pattern)
    m.color_matrix1, m.illuminant1 = synth.camera_matrix(), 21
    m.saturation = np.full(3, sat, np.float32)
    if neutral is not None:
        m.as_shot_neutral = np.asarray(neutral, np.float64)
    return Frame(synth.mosaic(cam_rgb.astype(np.float32), pattern), State.CFA, m)


def channel_means(cfa: np.ndarray, pattern: str, region=np.s_[:, :]) -> np.ndarray:
    code = BAYER_PATTERNS[pattern]
    sums, counts = np.zeros(3), np.zeros(3)
    for i, c in enumerate(code):
        site = cfa[i // 2::2, i % 2::2][region]
        sums[c] += site.sum()
        counts[c] += site.size
    return sums / counts


def wb(frame, **kw):
    st = get_stage("whitebalance")
    return st.run(frame, st.Params(**kw))


NEUTRAL = np.array([0.55, 1.0, 0.65])


@pytest.mark.parametrize("pattern", ["RGGB", "GBRG"])
def test_as_shot_makes_grey_grey(pattern):
    cam = np.ones((32, 32, 3)) * 0.3 * NEUTRAL
    out = wb(cfa_frame(cam, pattern, neutral=NEUTRAL))
    mean = channel_means(out.pixels, pattern)
    assert np.abs(mean / mean.mean() - 1).max() < 1e-5
    assert abs(float(out.meta.wb_multipliers.min()) - 1.0) < 1e-6     # weakest channel keeps its scale
    assert out.meta.wb_applied and out.meta.white_xy is not None
    t, _ = T.xy_to_temp_tint(out.meta.white_xy)
    assert abs(t - 6504) < 60, t      # the synthetic camera's D65 neutral maps back to ~6500 K


def grey_world_scene(seed=0, blocks=16, block=8):
    rng = np.random.default_rng(seed)
    refl = np.kron(rng.uniform(0.05, 0.6, (blocks, blocks, 3)), np.ones((block, block, 1)))
    return refl * (0.3 / refl.mean(axis=(0, 1)))                       # a grey world, with edges


def test_auto_estimates_a_grey_world():
    f = cfa_frame(grey_world_scene() * NEUTRAL)
    assert np.abs(estimate_neutral(f, "grey-world") / NEUTRAL - 1).max() < 0.01
    assert np.abs(estimate_neutral(f, "grey-edge") / NEUTRAL - 1).max() < 0.2
    out = wb(f, mode="auto", auto_method="grey-world")
    assert np.abs(out.meta.extra["neutral"] / NEUTRAL - 1).max() < 0.01


@pytest.mark.parametrize("method", ["grey-world", "grey-edge"])
def test_auto_ignores_clipped_pixels(method):
    """A large clipped, strongly coloured area (and its border) must not move the estimate."""
    cam = grey_world_scene() * NEUTRAL
    clean = estimate_neutral(cfa_frame(cam), method)
    cam[:40] = np.array([1.0, 1.0, 0.5])
    est = estimate_neutral(cfa_frame(cam), method)
    assert est is not None and np.abs(est / clean - 1).max() < 0.1, (method, clean, est)


def test_kelvin_and_presets_use_the_profile():
    cam = np.full((8, 8, 3), 0.2)
    f = cfa_frame(cam, neutral=NEUTRAL)
    prof = profile_for(f)
    out = wb(f, mode="kelvin", kelvin=3200.0, tint=5.0)
    expect = prof.xy_to_neutral(T.temp_tint_to_xy(3200.0, 5.0))
    assert np.allclose(out.meta.extra["neutral"], expect, rtol=1e-9)
    tungsten = wb(f, mode="tungsten").meta.extra["neutral"]
    daylight = wb(f, mode="daylight").meta.extra["neutral"]
    assert tungsten[0] / tungsten[2] > 1.5 * daylight[0] / daylight[2]   # warm light: red strong, blue weak


def test_temp_shift_warms():
    """temp_shift > 0 is documented as 'warmer': red/blue of a grey must rise."""
    cam = np.full((8, 8, 3), 0.2) * NEUTRAL
    f = cfa_frame(cam, neutral=NEUTRAL)
    base = wb(f)
    warm = wb(f, temp_shift=1000.0)
    r = lambda o: channel_means(o.pixels, "RGGB")               # noqa: E731
    assert r(warm)[0] / r(warm)[2] > 1.05 * r(base)[0] / r(base)[2]


def test_no_as_shot_falls_back_to_estimate_with_note():
    f = cfa_frame(grey_world_scene() * NEUTRAL, neutral=None)
    out = wb(f)
    assert any("estimated" in n for n in out.meta.facts.notes)
    assert np.allclose(out.meta.extra["neutral"], estimate_neutral(f, "grey-edge"), rtol=1e-6)


def test_all_zero_frame_does_not_crash():
    out = wb(cfa_frame(np.zeros((16, 16, 3)), neutral=None))
    assert np.all(np.isfinite(out.pixels)) and np.all(np.isfinite(out.meta.wb_multipliers))
