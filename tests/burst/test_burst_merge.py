"""Merge: quality against truth, identity, single frame, mismatched frames, noise estimation."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.burst.api import PEDESTAL, WHITE, merge_burst, normalise
from rawlux.burst.simulate import score
from rawlux.errors import InputError, ParameterError
from rawlux.frame import Frame, State


def test_merge_beats_reference_and_global_baselines(moving_burst):
    """+dB over the reference alone, overall and inside the moving object, and ahead of the globally
    aligned robust average on both (6 frames of 512×512: the physical limit is +7.8 dB)."""
    from rawlux.burst.baselines import global_average

    sim = moving_burst
    cfas = [normalise(f) for f in sim.frames]
    ref_all, ref_obj = score(cfas[0], sim)
    res = merge_burst(sim.frames, ref=0)
    m_all, m_obj = score(res.cfa, sim)
    g_all, g_obj = score(global_average(cfas, 0, "RGGB", robust=True, noise=sim.noise), sim)
    assert m_all - ref_all >= 6.5, (ref_all, m_all)
    assert m_obj - ref_obj >= 2.5, (ref_obj, m_obj)
    assert m_all > g_all + 0.5 and m_obj > g_obj + 1.0, ((m_all, m_obj), (g_all, g_obj))


def test_plain_average_ghosts_and_merge_does_not(moving_burst):
    from rawlux.burst.baselines import plain_average

    sim = moving_burst
    cfas = [normalise(f) for f in sim.frames]
    ref_all, _ = score(cfas[0], sim)
    avg_all, _ = score(plain_average(cfas), sim)
    assert avg_all < ref_all            # the simulated shake really blurs a naive average
    # frames where the object jumped are down-weighted inside the object
    res = merge_burst(sim.frames, ref=0)
    assert all(w < 1.0 for w in res.weights[1:])
    assert min(res.weights[1:]) > 0.5   # but they still serve the static background


def test_identical_frames_merge_to_the_frame(moving_burst):
    """Red and blue come back exactly; green within noise (other frames' greens are estimated from
    both green planes of their Bayer cells), and never worse than the frame against the truth."""
    from rawlux.burst.merge import MergeParams

    sim = moving_burst
    f = sim.frames[0]
    ref = normalise(f)
    res = merge_burst([f, f, f, f], ref=0, params=MergeParams(method="cubic", spatial=0))
    assert all(w > 0.95 for w in res.weights)
    diff = res.cfa - ref
    assert np.max(np.abs(diff[0::2, 0::2])) < 1e-5 and np.max(np.abs(diff[1::2, 1::2])) < 1e-5   # R, B
    a, b = sim.noise
    sigma = np.sqrt(a * np.clip(ref, 0, None) + b)
    g = np.zeros_like(ref, bool)
    g[0::2, 1::2] = g[1::2, 0::2] = True
    assert np.sqrt(np.mean(diff[g] ** 2)) < 0.5 * np.sqrt(np.mean(sigma[g] ** 2))
    assert abs(np.mean(diff[g])) < 0.02 * np.sqrt(np.mean(sigma[g] ** 2))
    assert score(res.cfa, sim)[0] >= score(ref, sim)[0] - 0.05
    # with one green plane per frame the merge is the frame itself
    res1 = merge_burst([f, f, f], ref=0, params=MergeParams(method="cubic", both_greens=False, spatial=0))
    assert np.max(np.abs(res1.cfa - ref)) < 1e-5
    # demosaic resampling at zero motion reads every frame's own samples back
    res2 = merge_burst([f, f, f], ref=0, params=MergeParams(method="demosaic", spatial=0))
    assert np.max(np.abs(res2.cfa - ref)) < 1e-4
    # the default (spatial denoising after the merge) only gets closer to the truth
    assert score(merge_burst([f, f, f, f], ref=0).cfa, sim)[0] > score(ref, sim)[0] + 0.5


def test_repeated_exposures_of_a_static_scene_average_the_noise(scene):
    """No shake, independent noise: merge ≈ the plain average (the physical limit)."""
    from rawlux.burst.baselines import plain_average
    from rawlux.burst.simulate import simulate_burst

    sim = simulate_burst(scene, 6, size=(384, 384), iso=3200, seed=4, shift=0.0, rotation=0.0)
    cfas = [normalise(f) for f in sim.frames]
    res = merge_burst(sim.frames, ref=0)
    avg = score(plain_average(cfas), sim)[0]
    assert score(res.cfa, sim)[0] >= avg - 0.3
    assert avg - score(cfas[0], sim)[0] > 4.5     # 6 frames: +7.8 dB less the demosaic floor


def test_single_frame_passes_through(moving_burst):
    f = moving_burst.frames[2]
    res = merge_burst([f])
    np.testing.assert_array_equal(res.cfa, normalise(f))
    assert res.ref == 0 and res.frame.state is State.RAW and res.frame.pixels.dtype == np.uint16
    back = (res.frame.pixels.astype(np.float32) - PEDESTAL) / (WHITE - PEDESTAL)
    assert np.max(np.abs(back - np.clip(normalise(f), -PEDESTAL / (WHITE - PEDESTAL), 1))) < 1.0 / (WHITE - PEDESTAL)
    assert res.frame.meta.cfa_pattern == f.meta.cfa_pattern
    np.testing.assert_array_equal(res.frame.meta.color_matrix1, f.meta.color_matrix1)


def _named(f: Frame, name: str, **meta) -> Frame:
    g = f.with_pixels(f.pixels, **meta)
    g.meta.source = name
    return g


def test_mismatched_frames_error_clearly(moving_burst):
    a = _named(moving_burst.frames[0], "a.dng")
    small = _named(moving_burst.frames[1], "small.dng")
    small.pixels = np.ascontiguousarray(small.pixels[:256, :256])
    with pytest.raises(InputError, match=r"differ in size.*a\.dng.*512×512.*small\.dng.*256×256"):
        merge_burst([a, small])
    other = _named(moving_burst.frames[1], "bggr.dng", cfa_pattern="BGGR")
    with pytest.raises(InputError, match=r"CFA pattern.*a\.dng is RGGB.*bggr\.dng is BGGR"):
        merge_burst([a, other])
    cam = _named(moving_burst.frames[1], "other-camera.dng", model="another model")
    with pytest.raises(InputError, match=r"different cameras.*other-camera\.dng"):
        merge_burst([a, cam])
    rgb = Frame(np.zeros((64, 64, 3), np.float32), State.SCENE_LINEAR)
    with pytest.raises(InputError, match="Bayer raw mosaics"):
        merge_burst([a, rgb])
    with pytest.raises(ParameterError, match="valid: 0..1"):
        merge_burst([a, moving_burst.frames[1]], ref=5)
    with pytest.raises(ParameterError, match="at least one frame"):
        merge_burst([])


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        merge_burst([str(tmp_path / "nope.dng")])


def test_noise_estimate_matches_the_simulated_sensor(moving_burst):
    from rawlux.burst.merge import estimate_noise

    a, b = moving_burst.noise
    ea, eb = estimate_noise(normalise(moving_burst.frames[0]), "RGGB")
    for v in (0.05, 0.2, 0.5):
        assert abs((ea * v + eb) / (a * v + b) - 1) < 0.3, (v, (ea, eb), (a, b))


def test_kernel_method_also_merges(moving_burst):
    from rawlux.burst.merge import MergeParams

    sim = moving_burst
    ref_all, _ = score(normalise(sim.frames[0]), sim)
    res = merge_burst(sim.frames, ref=0, params=MergeParams(method="kernel"))
    assert score(res.cfa, sim)[0] - ref_all >= 5.0


def test_unknown_merge_method_is_a_parameter_error(moving_burst):
    from rawlux.burst.merge import MergeParams

    with pytest.raises(ParameterError, match="merge method 'bogus'"):
        merge_burst(moving_burst.frames[:2], params=MergeParams(method="bogus"))
    with pytest.raises(ParameterError, match="merge kernel 'sinc'"):
        merge_burst(moving_burst.frames[:2], params=MergeParams(kernel="sinc"))
