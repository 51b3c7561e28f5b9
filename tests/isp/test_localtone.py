"""Local tone mapping: shadows lifted, highlights held, local contrast kept, no halos, hue kept."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.frame import Frame, State
from rawlux.isp.localtone import LocalTone, LocalToneParams
from rawlux.pipeline.stage import validate


def _scene(h=400, w=600, seed=0):
    """A dark half (1/64 of grey) and a bright half (4× grey), both with fine texture (±20 %)."""
    rng = np.random.default_rng(seed)
    base = np.where(np.arange(w)[None, :] < w // 2, 0.18 / 64, 0.18 * 4).astype(np.float32)
    tex = 1 + 0.2 * np.sign(np.sin(np.arange(w)[None, :] * 0.9) * np.sin(np.arange(h)[:, None] * 0.7))
    lum = np.broadcast_to(base, (h, w)) * tex.astype(np.float32)
    col = np.array([1.0, 0.8, 0.5], np.float32) + 0.01 * rng.standard_normal(3).astype(np.float32)
    return np.ascontiguousarray(lum[..., None] * col), lum


def _run(img, **kw):
    p = validate("localtone", LocalToneParams, {"enabled": True, **kw})
    return LocalTone().run(Frame(img, State.SCENE_LINEAR), p).pixels


def test_lifts_shadows_holds_highlights_keeps_detail_and_hue():
    img, lum = _scene()
    out = _run(img, strength=1.0)
    gain = out[..., 1] / img[..., 1]
    w = img.shape[1]
    dark, bright = np.log2(np.median(gain[:, 40:w // 2 - 60])), np.log2(np.median(gain[:, w // 2 + 60:-40]))
    assert dark > 1.0 and bright < -0.3                        # ≥ 1 stop up in the shadows, highlights down
    # local contrast: the ±20 % texture survives (ratio of texture amplitude in log2)
    def amp(a):
        l = np.log2(a[100:300, 60:w // 2 - 60, 1])
        return np.percentile(l, 90) - np.percentile(l, 10)
    assert amp(out) > 0.85 * amp(img)
    # hue: R:G:B ratios unchanged
    assert np.allclose(out[..., 0] / out[..., 1], img[..., 0] / img[..., 1], rtol=1e-4)


def test_no_halo_at_a_strong_edge():
    """Next to the edge each side must look like its own far field: no bright rim on the dark side,
    no dark rim on the bright side (a Gaussian base/detail split overshoots by ≈ 1 stop here)."""
    img, lum = _scene()
    out = _run(img, strength=1.0)
    g = np.log2(out[..., 1] / img[..., 1])
    w = img.shape[1]
    far_dark, far_bright = np.median(g[:, 40:120]), np.median(g[:, -120:-40])
    near_dark, near_bright = np.median(g[:, w // 2 - 6:w // 2 - 1]), np.median(g[:, w // 2 + 1:w // 2 + 6])
    assert abs(near_dark - far_dark) < 0.35
    assert abs(near_bright - far_bright) < 0.35


def test_strength_zero_is_identity_and_params_are_validated():
    img, _ = _scene(64, 96)
    p = validate("localtone", LocalToneParams, {"enabled": True, "strength": 0.0, "detail": 1.0})
    assert not LocalTone().applies(Frame(img, State.SCENE_LINEAR), p)
    out = _run(img, strength=0.0)
    assert np.allclose(out, img, rtol=1e-5)
    from rawlux.errors import ParameterError
    with pytest.raises(ParameterError):
        validate("localtone", LocalToneParams, {"strength": 1.5})
    with pytest.raises(ParameterError):
        validate("localtone", LocalToneParams, {"radius": 0.0})
