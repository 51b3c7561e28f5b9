"""Point-wise stages fused into one pass (pipeline/fuse.py, isp/_finish_kernel.py): the same picture as the stages
one by one, the kernel's maths against the exact formulas, and the runs the runner may and may not fuse."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.colour import spaces as S
from rawlux.isp.tone import ToneParams, curve
from rawlux.pipeline.fuse import Encode, Matrix, ToneCurve, apply, fits, probe, probe_step


def _reference(img, ops):
    """The ops in float64 numpy, one after the other, with the exact formulas."""
    x = img.astype(np.float64)
    for op in ops:
        if isinstance(op, Matrix):
            x = x @ np.asarray(op.m, np.float64).T
        elif isinstance(op, ToneCurve):
            x = np.maximum(x, 0.0)
            xc = x ** op.c
            y = op.peak * xc / (xc + op.s_c)
            xmax, xmin = x.max(-1, keepdims=True), x.min(-1, keepdims=True)
            ymax, ymin = y.max(-1, keepdims=True), y.min(-1, keepdims=True)
            span = xmax - xmin
            slope = np.where(span > 1e-12, (ymax - ymin) / np.maximum(span, 1e-12), 0.0)
            hp = np.where(span > 1e-12, op.hue_pres, 0.0)
            x = y + hp * (ymin + (x - xmin) * slope - y)
        else:
            x = x @ np.asarray(op.m, np.float64).T
            ach = x.max(-1, keepdims=True)
            if op.compress == 1:
                d = (ach - x) / np.where(ach > 1e-9, ach, 1.0)
                e = d - 0.8
                dn = 0.8 + e / (1 + e / 0.4)
                x = np.where((d > 0.8) & (ach > 1e-9), ach - dn * ach, x)
            elif op.compress == 2:
                mn = x.min(-1, keepdims=True)
                on = (mn < 0) & (ach > 1e-9)
                x = np.where(on, ach - (ach - x) * (ach / np.where(on, ach - mn, 1.0)), x)
            x = S.encode(x, op.tf).astype(np.float64)
    return x


def synthetic_raw_frame():
    """A small RAW frame of the ColorChecker under D65 (tests/synth.py), with a bright patch that clips."""
    from tests.synth import chart_image, checker_xyz, synth_raw

    xyz, white, _names = checker_xyz("D65")
    img, _boxes = chart_image(np.vstack([xyz, white * 3.0]), patch=16, gap=4)
    return synth_raw(img, white).frame


def _image(seed=0, h=37, w=53):
    rng = np.random.default_rng(seed)
    img = (rng.random((h, w, 3)) ** 2 * 3.0 - 0.1).astype(np.float32)   # negatives, highlights up to 3
    img[0, :5] = [[0, 0, 0], [1, 1, 1], [300.0, 2.0, 0.0], [1e-7, 0, 0], [0.5, 0.5, 0.5]]
    return img


@pytest.mark.parametrize("tf", ["srgb", "rec709", "gamma2.2", "linear"])
@pytest.mark.parametrize("compress", [0, 1, 2])
def test_fused_pass_matches_the_exact_formulas(tf, compress):
    c, s_c = ToneParams().curve_params()
    m = S.rgb_to_rgb(S.WORKING, "srgb")
    ops = [Matrix(np.array([[1.2, -0.1, -0.1], [-0.05, 1.1, -0.05], [0.0, -0.2, 1.2]])), Matrix(np.eye(3) * 1.7),
           ToneCurve(c, s_c, 1.0, 0.7), Encode(m, compress, tf)]
    img = _image()
    got = apply(ops, img)
    ref = _reference(img, ops)
    assert got.dtype == np.float32 and got.shape == img.shape
    # 1/65535 is 1.5e-5; a pure gamma's infinite slope at 0 turns float32 rounding of values that land on 0
    # (the pull-in of mode 2) into up to 1e-3
    assert float(np.abs(got - ref).max()) < (1e-3 if tf.startswith("gamma") else 2e-6)


def test_tone_curve_is_exact_over_the_whole_range():
    p = ToneParams(contrast=1.3, hue_preservation=0.0)
    c, s_c = p.curve_params()
    x = np.concatenate([[0.0], np.geomspace(1e-9, 1e4, 20001)]).astype(np.float32)
    img = np.repeat(x[None, :, None], 3, axis=2)
    got = apply([ToneCurve(c, s_c, p.peak, 0.0)], img)[0, :, 0]
    ref = curve(x.astype(np.float64), p)
    assert float(np.max(np.abs(got - ref) / np.maximum(ref, 1e-3))) < 5e-6
    assert got[0] == pytest.approx(0.0, abs=1e-30)


def test_in_place_and_non_contiguous_input():
    img = _image(1, 40, 60)
    ops = [Matrix(np.eye(3) * 0.5), Encode(np.eye(3), 0, "srgb")]
    ref = apply(ops, img)
    view = np.ascontiguousarray(img.transpose(1, 0, 2)).transpose(1, 0, 2)   # strided
    assert np.array_equal(apply(ops, view), ref)
    buf = img.copy()
    assert apply(ops, buf, buf) is buf and np.array_equal(buf, ref)


def test_which_runs_fit_one_pass():
    m, t, e = Matrix(np.eye(3)), ToneCurve(1.4, 0.1, 1.0, 0.5), Encode(np.eye(3), 1, "srgb")
    assert fits([m, m, t, e]) and fits([m, e]) and fits([t, e]) and fits([m])
    assert not fits([t, m]) and not fits([e, t]) and not fits([t, t]) and not fits([e, e])
    with pytest.raises(ValueError):
        apply([e, m], np.zeros((2, 2, 3), np.float32))


def test_probe_is_a_fixed_point():
    img = np.zeros((3000, 4000, 3), np.float32)
    s = probe_step(img.shape)
    assert s == 6 and probe(img).shape == (500, 667, 3)
    assert probe_step(probe(img).shape) == 1


@pytest.mark.parametrize("look", ["natural", "vivid", "mono"])
def test_fused_develop_equals_stage_by_stage(look):
    """The runner fuses colour..output when nothing watches the stages; with an ``on_stage`` callback every
    stage runs on its own. The pictures agree to float rounding, and so do the metadata."""
    from rawlux.pipeline.run import develop

    frame = synthetic_raw_frame()
    times: dict[str, float] = {}
    fused = develop(frame, look, timings=times)
    seen: list[str] = []
    single = develop(synthetic_raw_frame(), look, on_stage=lambda name, f: seen.append(name))
    assert any("+" in k for k in times), times             # something was fused
    assert not any("+" in k for k in seen)
    assert fused.meta.history == single.meta.history
    assert fused.meta.extra.get("exposure_ev") == pytest.approx(single.meta.extra.get("exposure_ev"), abs=1e-6)
    assert np.allclose(fused.meta.extra["camera_matrix"], single.meta.extra["camera_matrix"])
    assert fused.meta.output_space == single.meta.output_space and fused.meta.icc == single.meta.icc
    assert fused.meta.facts.notes == single.meta.facts.notes
    assert float(np.abs(fused.pixels - single.pixels).max()) < 1e-5


def test_keep_scene_linear_is_not_fused():
    from rawlux.frame import SCENE_LINEAR_KEY
    from rawlux.pipeline.run import develop

    times: dict[str, float] = {}
    f = develop(synthetic_raw_frame(), timings=times, keep_scene_linear=True)
    assert "tone" in times and SCENE_LINEAR_KEY in f.meta.extra
