"""Each look ingredient does what it says, measured on real photos and on exact synthetic inputs."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "looks"))
from _lookdata import de00, display_linear, lab_of_linear, mcmaster_paths  # noqa: E402

from rawlux.frame import Frame, Metadata, State  # noqa: E402
from rawlux.colour import oklab as cm  # noqa: E402
from rawlux.looks.ingredients import curve, hsl, mixer, saturation, split  # noqa: E402
from rawlux.looks.ingredients.grade import render  # noqa: E402
from rawlux.pipeline.order import check_rules  # noqa: E402
from rawlux.pipeline.stage import validate  # noqa: E402


def _p(mod_cls, **kw):
    return mod_cls(**kw)


def test_order_rules_hold():
    check_rules()


def test_curve_identity_contrast_and_monotone():
    v = np.linspace(0, 1, 1001)
    assert np.abs(curve.apply_encoded(v, curve.CurveParams()) - v).max() < 1e-6
    p = curve.CurveParams(contrast=0.6, toe=-0.5, shoulder=0.5, shadows=-1.0, highlights=1.0)
    y = curve.apply_encoded(v, p)
    assert np.all(np.diff(y) >= -1e-12)
    p = curve.CurveParams(contrast=0.6, toe=-0.5, shoulder=0.5)
    y = curve.apply_encoded(v, p)
    k = np.gradient(y, v)[np.argmin(np.abs(v - p.pivot))]
    assert 2 ** 0.6 * 0.85 < k < 2 ** 0.6 * 1.15                         # slope at the pivot
    lifted = curve.apply_encoded(np.array([0.0, 1.0]), curve.CurveParams(lift=0.1, ceiling=0.9))
    assert np.allclose(lifted, [0.1, 0.9])
    pts = curve.apply_encoded(np.array([0.25, 0.5]), curve.CurveParams(points=((0, 0), (0.25, 0.4), (1, 1))))
    assert abs(pts[0] - 0.4) < 1e-6 and pts[1] > 0.5


def test_saturation_and_skin_protecting_vibrance():
    sky = np.array([[0.12, 0.16, 0.3]])
    skin_srgb = np.array([0.85, 0.62, 0.50])
    from rawlux.colour import spaces
    skin = (spaces.decode(skin_srgb, "srgb") @ np.asarray(spaces.rgb_to_rgb("srgb", spaces.WORKING)).T)[None, :]

    def chroma(x):
        lab = cm.rgb_to_oklab(x)
        return float(np.hypot(lab[0, 1], lab[0, 2]))

    p = saturation.SaturationParams(vibrance=0.8, skin=1.0)
    g_sky = chroma(saturation.apply(sky, p)) / chroma(sky)
    g_skin = chroma(saturation.apply(skin, p)) / chroma(skin)
    assert g_sky > 1.2 and g_skin < 1.0 + 0.25 * (g_sky - 1.0)
    assert chroma(saturation.apply(sky, saturation.SaturationParams(saturation=0.0))) < 1e-6
    assert chroma(saturation.apply(sky, saturation.SaturationParams(saturation=1.2))) / chroma(sky) == pytest.approx(1.2)


def test_hsl_moves_only_its_band():
    from rawlux.colour import spaces

    colours = {"blue": (0.0, 0.0, 1.0), "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0)}
    p = hsl.HslParams(blue_sat=-1.0, blue_lum=-0.5)
    to_rec = np.asarray(spaces.rgb_to_rgb("srgb", spaces.WORKING)).T
    for name, c in colours.items():
        x = (np.array([c]) * 0.6) @ to_rec
        lab0, lab1 = cm.rgb_to_oklab(x), cm.rgb_to_oklab(hsl.apply(x, p))
        c0, c1 = np.hypot(*lab0[0, 1:]), np.hypot(*lab1[0, 1:])
        if name == "blue":
            assert c1 < 0.05 * c0 and lab1[0, 0] < lab0[0, 0] * 0.9
        else:
            assert abs(c1 - c0) < 0.02 * c0 and abs(lab1[0, 0] - lab0[0, 0]) < 1e-3
    w = hsl.band_weights(np.linspace(0, 359, 360))
    assert np.allclose(w.sum(axis=1), 1.0)
    grey = np.array([[0.3, 0.3, 0.3]])
    assert np.abs(hsl.apply(grey, hsl.HslParams(red_hue=30, red_lum=1.0, blue_sat=1.0)) - grey).max() < 1e-3


def test_mixer_monochrome_filters_behave_like_filters():
    blue_sky = np.array([[0.10, 0.25, 0.60]])
    red_brick = np.array([[0.50, 0.15, 0.08]])
    grey = np.array([[0.4, 0.4, 0.4]])
    none = mixer.MixerParams(monochrome=True)
    red = mixer.MixerParams(monochrome=True, filter="red")
    for p in (none, red):
        out = mixer.apply(blue_sky, p)
        assert np.ptp(out) < 1e-9                                       # grey
        assert np.allclose(mixer.apply(grey, p), grey)                  # neutrals keep their level
    assert mixer.apply(blue_sky, red)[0, 0] < 0.6 * mixer.apply(blue_sky, none)[0, 0]   # dark sky
    assert mixer.apply(red_brick, red)[0, 0] > 1.3 * mixer.apply(red_brick, none)[0, 0]


def test_split_toning_tints_shadows_and_highlights():
    p = split.SplitParams(shadows_hue=200, shadows_sat=1.0, highlights_hue=40, highlights_sat=1.0)
    dark, light = np.array([[0.03] * 3]), np.array([[0.6] * 3])
    lab_d, lab_l = cm.rgb_to_oklab(split.apply(dark, p)), cm.rgb_to_oklab(split.apply(light, p))
    hd = np.degrees(np.arctan2(lab_d[0, 2], lab_d[0, 1])) % 360
    hl = np.degrees(np.arctan2(lab_l[0, 2], lab_l[0, 1])) % 360
    cyan_h = np.degrees(np.arctan2(*cm.wheel_direction(200)[::-1])) % 360
    orange_h = np.degrees(np.arctan2(*cm.wheel_direction(40)[::-1])) % 360
    assert abs((hd - cyan_h + 180) % 360 - 180) < 10 and abs((hl - orange_h + 180) % 360 - 180) < 10
    assert np.abs(split.apply(np.zeros((1, 3)), p)).max() < 1e-9                         # black stays black


def test_vignette_is_exact_in_ev_at_the_corners():
    from rawlux.looks.ingredients.vignette import Vignette, VignetteParams

    img = np.full((300, 400, 3), 0.2, np.float32)
    p = validate("vignette", VignetteParams, {"amount": -0.5, "midpoint": 0.5, "feather": 0.6})
    out = Vignette().run(Frame(img, State.SCENE_LINEAR, Metadata(kind="image")), p).pixels
    assert out[0, 0, 0] / 0.2 == pytest.approx(2 ** -0.5, rel=0.02)
    assert out[150, 200, 0] / 0.2 == pytest.approx(1.0, abs=1e-4)
    assert abs(out[150, 0, 0] - out[0, 200, 0]) < 1e-4           # ellipse of the frame's shape: sides alike
    rnd = validate("vignette", VignetteParams, {"amount": -1.0, "roundness": 1.0})
    o2 = Vignette().run(Frame(img, State.SCENE_LINEAR, Metadata(kind="image")), rnd).pixels
    assert o2[150, 0, 0] < o2[0, 200, 0]                          # circle: sides at 0.8 vs 0.6 of the corner


def test_grain_is_seeded_and_resolution_independent():
    import cv2

    from rawlux.looks.ingredients.grain import GrainParams

    g = GrainParams(amount=0.5, size=4.0, seed=7)
    big = render(np.full((800, 1200, 3), 0.18, np.float32), (("grain", g),))
    small = render(np.full((400, 600, 3), 0.18, np.float32), (("grain", g),))
    again = render(np.full((400, 600, 3), 0.18, np.float32), (("grain", g),))
    other = render(np.full((400, 600, 3), 0.18, np.float32), (("grain", GrainParams(amount=0.5, size=4.0, seed=8)),))
    assert np.array_equal(small, again)
    down = cv2.resize(big, (600, 400), interpolation=cv2.INTER_AREA)
    a, b = (down[..., 1] - down[..., 1].mean()).ravel(), (small[..., 1] - small[..., 1].mean()).ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.8                         # same grain pattern at both sizes
    assert 0.6 < a.std() / b.std() < 1.5                          # same strength
    c = (other[..., 1] - other[..., 1].mean()).ravel()
    assert abs(np.corrcoef(b, c)[0, 1]) < 0.1                     # another seed, another pattern
    assert abs(small.mean() - 0.18) < 0.01                        # grain does not shift the level


def test_fine_grain_on_a_preview_is_the_full_size_grain_averaged():
    """Grains smaller than the preview's pixels: the preview area-averages the same lattice the 12 MP render
    shows, so both look alike at the preview's size (same pattern, same strength)."""
    import cv2

    from rawlux.looks.ingredients.grain import GrainParams

    g = GrainParams(amount=0.3, size=1.0, seed=3)                # 1500 grains across: finer than 750 px
    full = render(np.full((3000, 4000, 3), 0.18, np.float32), (("grain", g),))
    prev = render(np.full((750, 1000, 3), 0.18, np.float32), (("grain", g),))
    a = cv2.resize(full, (500, 375), interpolation=cv2.INTER_AREA)[..., 1]
    b = cv2.resize(prev, (500, 375), interpolation=cv2.INTER_AREA)[..., 1]
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.95
    assert abs(a.std() / b.std() - 1.0) < 0.1


def test_clarity_and_sharpen_raise_local_contrast_on_a_photo():
    from rawlux.looks.ingredients.clarity import ClarityParams
    from rawlux.looks.ingredients.sharpen import SharpenParams

    img = display_linear(mcmaster_paths((9,))[0])
    ye = np.sqrt(np.clip(img @ cm.LUMA.astype(np.float32), 0, 1))

    def local_contrast(x, sigma):
        import cv2
        y = np.sqrt(np.clip(x @ cm.LUMA.astype(np.float32), 0, 1))
        return float(np.abs(y - cv2.GaussianBlur(y, (0, 0), sigma)).mean())

    cl = render(img, (("clarity", ClarityParams(amount=0.6)),))
    sh = render(img, (("sharpen", SharpenParams(amount=1.5, threshold=0.0)),))
    soft = render(img, (("clarity", ClarityParams(amount=-0.6)),))
    assert local_contrast(cl, 8) > 1.15 * local_contrast(img, 8)
    assert local_contrast(sh, 1) > 1.5 * local_contrast(img, 1)
    assert local_contrast(soft, 8) < 0.9 * local_contrast(img, 8)
    assert abs(np.sqrt(np.clip(cl @ cm.LUMA.astype(np.float32), 0, 1)).mean() - ye.mean()) < 0.01
    assert de00(lab_of_linear(cl), lab_of_linear(img)).mean() < 5


def test_strength_blends_each_ingredient_to_identity():
    img = display_linear(mcmaster_paths((5,))[0], 100)
    full = curve.CurveParams(contrast=0.8, lift=0.1)
    zero = curve.CurveParams(contrast=0.8, lift=0.1, strength=0.0)
    assert zero.is_identity()
    half = render(img, (("curve", curve.CurveParams(contrast=0.8, lift=0.1, strength=0.5)),))
    d_full = de00(lab_of_linear(render(img, (("curve", full),))), lab_of_linear(img)).mean()
    d_half = de00(lab_of_linear(half), lab_of_linear(img)).mean()
    assert 0.3 * d_full < d_half < 0.7 * d_full


def test_balance_tint_plus_is_magenta_and_warmth_plus_is_warm():
    """The signs users know from every raw developer: + tint magenta (a* up), + warmth yellow (b* up)."""
    from rawlux.looks.ingredients import balance

    grey = np.full((1, 1, 3), 0.18, np.float32)
    lab0 = lab_of_linear(grey)[0, 0]
    tint = lab_of_linear(balance.apply(grey, validate("balance", balance.BalanceParams, {"tint": 20.0})))[0, 0]
    warm = lab_of_linear(balance.apply(grey, validate("balance", balance.BalanceParams, {"warmth": 20.0})))[0, 0]
    assert tint[1] - lab0[1] > 2.0 and abs(tint[2] - lab0[2]) < abs(tint[1] - lab0[1])
    assert warm[2] - lab0[2] > 2.0
