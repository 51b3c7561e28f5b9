"""DNG profile tables in the pipeline: HueSatMap (2.5D/3D, linear/sRGB value encoding, blended by the white),
LookTable, ProfileToneCurve, DefaultBlackRender — the look `camera`; `reference`/`natural` unchanged."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rawlux.colour import dcp, dcpfile, spaces
from rawlux.colour.profile import CameraProfile
from rawlux.frame import Frame, Metadata, State

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "raw"
IPHONE = DATA / "iphone12pro-proraw-stripped.dng"
TO_PP = spaces.rgb_to_rgb(spaces.WORKING, "prophoto")


def _hsv(pp):
    mx, mn = pp.max(-1), pp.min(-1)
    c = np.maximum(mx - mn, 1e-12)
    r, g, b = np.moveaxis(pp, -1, 0)
    h = np.where(mx == r, ((g - b) / c) % 6, np.where(mx == g, (b - r) / c + 2, (r - g) / c + 4))
    return h * 60.0, (mx - mn) / np.maximum(mx, 1e-12), mx


def _colours(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    pp = rng.uniform(0.02, 0.95, (n, 3)).astype(np.float32)
    return (pp @ np.linalg.inv(TO_PP).T).astype(np.float32), pp


def _table(hd, sd, vd, hue=0.0, sat=1.0, val=1.0, srgb=False):
    d = np.zeros((vd, hd, sd, 3), np.float32)
    d[..., 0], d[..., 1], d[..., 2] = hue, sat, val
    return dcpfile.HsvTable(hd, sd, vd, d, srgb_gamma=srgb)


def test_identity_table_is_identity():
    w, _ = _colours()
    out = dcp.apply_dng_table(w, _table(90, 30, 1))
    np.testing.assert_allclose(out, w, atol=2e-5)


def test_uniform_hue_shift_sat_and_value_scale():
    w, pp = _colours()
    out = dcp.apply_dng_table(w, _table(36, 8, 1, hue=30.0, sat=0.5, val=0.8)) @ TO_PP.T
    h0, s0, v0 = _hsv(pp)
    h1, s1, v1 = _hsv(out)
    dh = (h1 - h0 + 180) % 360 - 180
    ok = s0 > 0.05
    np.testing.assert_allclose(dh[ok], 30.0, atol=0.05)
    np.testing.assert_allclose(s1, 0.5 * s0, atol=1e-4)
    np.testing.assert_allclose(v1, 0.8 * v0, rtol=1e-4)


@pytest.mark.parametrize("srgb", [False, True])
def test_3d_table_value_divisions_and_encoding(srgb):
    """Value scale = the encoded value itself (a ramp over the value nodes): dark colours keep little, bright
    colours keep all; with sRGB encoding the index and the scale act on the encoded value."""
    vd = 9
    d = np.zeros((vd, 12, 4, 3), np.float32)
    d[..., 1] = 1.0
    d[..., 2] = np.linspace(0.2, 1.0, vd)[:, None, None]
    t = dcpfile.HsvTable(12, 4, vd, d, srgb_gamma=srgb)
    w, pp = _colours(seed=2)
    out = dcp.apply_dng_table(w, t) @ TO_PP.T
    v0, v1 = pp.max(1), out.max(1)
    enc = np.where(v0 <= 0.0031308, 12.92 * v0, 1.055 * v0 ** (1 / 2.4) - 0.055) if srgb else v0
    scale = np.interp(enc, np.linspace(0, 1, vd), np.linspace(0.2, 1.0, vd))
    want = enc * scale
    if srgb:
        want = np.where(want <= 0.04045, want / 12.92, ((want + 0.055) / 1.055) ** 2.4)
    np.testing.assert_allclose(v1, want, rtol=2e-4, atol=1e-6)


def test_hue_sat_maps_blend_with_the_white():
    m1 = _table(24, 4, 1, hue=20.0)
    m2 = _table(24, 4, 1, hue=-20.0)
    p = dcpfile.DngProfile(source="t.dcp", illuminant1=17, illuminant2=21, hue_sat_map1=m1, hue_sat_map2=m2,
                           color_matrix1=np.array([[0.9, -0.3, -0.05], [-0.4, 1.2, 0.2], [-0.05, 0.15, 0.6]]),
                           color_matrix2=np.array([[0.75, -0.2, -0.1], [-0.45, 1.3, 0.15], [-0.1, 0.25, 0.75]]))
    prof = CameraProfile.from_dng_profile(p, explicit=True)
    from rawlux.colour import temperature as T
    assert prof.hue_sat_table(T.illuminant_xy(17)).data[0, 0, 1, 0] == pytest.approx(20.0)
    assert prof.hue_sat_table(T.illuminant_xy(21)).data[0, 0, 1, 0] == pytest.approx(-20.0)
    xy = T.temp_tint_to_xy(4000.0)
    w = prof._weight(xy)
    assert 0 < w < 1
    assert prof.hue_sat_table(xy).data[0, 0, 1, 0] == pytest.approx(20 * w - 20 * (1 - w), abs=1e-4)


def test_black_render_ramp_is_smooth():
    b, slope, r, q = dcp.black_render_ramp(dcp.AUTO_BLACK)
    x = np.linspace(0, 0.05, 2001, dtype=np.float32)
    w = np.stack([x] * 3, 1) @ np.linalg.inv(TO_PP).T
    y = (dcp.camera_render(w.astype(np.float32), black=dcp.AUTO_BLACK) @ TO_PP.T)[:, 0]
    assert y[0] == 0 and np.all(np.diff(y) >= -1e-7)
    far = x > b + r + 1e-3
    np.testing.assert_allclose(y[far], (x[far] - b) * slope, atol=2e-5)


def _open_iphone():
    """The stripped ProRAW file: its tags are all there, its pixel data are not."""
    import inspect

    from rawlux.io.decode import open_image
    kw = {"allow_truncated": True} if "allow_truncated" in inspect.signature(open_image).parameters else {}
    return open_image(str(IPHONE), **kw)


def _iphone_frames(look: str):
    """The iPhone ProRAW's own profile on synthetic, white-balanced camera RGB (the stripped file has no
    picture): a grey ramp and saturated colours."""
    from rawlux.pipeline.recipe import Recipe
    from rawlux.pipeline.run import run_stages

    f = _open_iphone()
    rec = Recipe.build(look)
    f = run_stages(f, rec, stop="whitebalance")
    ramp = np.linspace(0.0, 1.3, 64, dtype=np.float32)
    rng = np.random.default_rng(1)
    cols = rng.uniform(0.0, 1.0, (64, 3)).astype(np.float32)
    px = np.stack([np.stack([ramp] * 3, 1), cols], 0)         # 2 × 64 × 3
    g = Frame(px, State.CAMERA_RGB, f.meta)
    g.meta.kind = "raw"
    names = ("colour", "exposure", "tone")
    out = run_stages(g, rec, start="colour", stop="tone")
    return out


@pytest.mark.skipif(not IPHONE.exists(), reason="shared data not present")
def test_iphone_profile_tone_curve_is_applied():
    p = dcpfile.read_dng_profile(IPHONE)
    cam = _iphone_frames("camera").pixels @ TO_PP.T
    ref = _iphone_frames("reference").pixels @ TO_PP.T      # same matrices and exposure, no curve
    x = np.clip(ref.max(-1), 0, 1)
    want = np.interp(x, p.tone_curve[:, 0], p.tone_curve[:, 1])   # DefaultBlackRender None: no black ramp
    np.testing.assert_allclose(cam.max(-1), want, atol=3e-3)
    assert np.abs(cam - ref).max() > 0.05                     # the curve really moved the picture
    # hue kept: the middle channel stays in its place between the other two
    rc = np.clip(ref, 0, 1)                                   # the ramp clips to [0, 1] first
    lo, hi, mid = rc.min(-1), rc.max(-1), np.median(rc, -1)
    rel = (mid - lo) / np.maximum(hi - lo, 1e-6)
    lo2, hi2, mid2 = cam.min(-1), cam.max(-1), np.median(cam, -1)
    rel2 = (mid2 - lo2) / np.maximum(hi2 - lo2, 1e-6)
    sel = (hi - lo > 0.05) & (ref.max(-1) < 1)
    np.testing.assert_allclose(rel2[sel], rel[sel], atol=1e-3)


@pytest.mark.skipif(not IPHONE.exists(), reason="shared data not present")
def test_natural_and_reference_ignore_the_embedded_tables():
    for look in ("natural", "reference"):
        out = _iphone_frames(look)
        assert out.meta.extra["profile"].dng is None, look     # the DNG's tables are not even read
    cam = _iphone_frames("camera")
    assert cam.meta.extra["profile"].dng is not None


def test_explicit_dcp_hue_sat_map_applies_in_every_look():
    """A DCP chosen with --profile brings its HueSatMap to every look; its LookTable/curve only to `camera`."""
    from rawlux.pipeline.recipe import Recipe
    from rawlux.pipeline.run import run_stages

    cm = np.array([[0.8, -0.25, -0.05], [-0.35, 1.2, 0.15], [-0.05, 0.2, 0.65]])
    p = dcpfile.DngProfile(source="t.dcp", unique_camera_model="", illuminant1=21, color_matrix1=cm,
                           hue_sat_map1=_table(24, 5, 1, hue=15.0),
                           tone_curve=np.array([[0, 0], [0.5, 0.8], [1, 1]]))
    prof = CameraProfile.from_dng_profile(p, explicit=True)
    rng = np.random.default_rng(0)
    px = rng.uniform(0.05, 0.6, (8, 8, 3)).astype(np.float32)

    def run(look, profile):
        m = Metadata(source=None, kind="raw")
        m.as_shot_neutral = np.ones(3)
        m.extra["profile"] = profile
        m.extra["neutral"] = np.ones(3)
        m.white_xy = spaces.D65_XY
        return run_stages(Frame(px.copy(), State.CAMERA_RGB, m), Recipe.build(look), start="colour", stop="tone").pixels

    plain = CameraProfile.from_dng_profile(dcpfile.DngProfile(source="u.dcp", illuminant1=21, color_matrix1=cm),
                                           explicit=True)
    pp0 = run("reference", plain) @ TO_PP.T
    h0, s0, _ = _hsv(pp0)
    h1, _, _ = _hsv(run("reference", prof) @ TO_PP.T)
    dh = (h1 - h0 + 180) % 360 - 180
    inside = (s0 > 0.05) & (pp0.min(-1) > 0)                 # (negative ProPhoto values are taken as 0)
    assert inside.sum() > 20
    np.testing.assert_allclose(dh[inside], 15.0, atol=0.1)
    cam = run("camera", prof) @ TO_PP.T
    ref = run("reference", prof) @ TO_PP.T
    assert np.all(cam.max(-1) > ref.max(-1))               # the (brightening) tone curve only in `camera`
