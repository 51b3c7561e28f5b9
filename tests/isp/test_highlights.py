"""highlights: clipped channels rebuilt, fully clipped areas neutral, never magenta or cyan."""
from __future__ import annotations

import numpy as np
import pytest

import synth
from rawlux.frame import Frame, Metadata, State
from rawlux.pipeline.order import get_stage
from rawlux.pipeline.run import run_stages
from rawlux.pipeline.recipe import Recipe

NEUTRAL = np.array([0.55, 1.0, 0.65])   # camera response to white: G clips first, then B, then R


def ramp_frame(pattern="RGGB", lo=0.3, hi=2.5, w=256, h=64) -> tuple[Frame, np.ndarray]:
    """A neutral surface whose brightness ramps left → right past every channel's clip level."""
    L = np.linspace(lo, hi, w)[None, :].repeat(h, 0)
    cam = L[..., None] * NEUTRAL
    m = Metadata(source="synthetic", kind="raw", cfa_pattern=pattern)
    m.color_matrix1, m.illuminant1 = synth.camera_matrix(), 21
    m.as_shot_neutral = NEUTRAL.copy()
    m.saturation = np.ones(3, np.float32)
    mos = np.minimum(synth.mosaic(cam, pattern), 1.0).astype(np.float32)    # the sensor clips at 1.0
    return Frame(mos, State.CFA, m), L


def develop_to_rgb(frame: Frame, method: str) -> np.ndarray:
    rec = Recipe.build("reference", overrides={"highlights": {"method": method}})
    out = run_stages(frame, rec, start="whitebalance", stop="demosaic")
    assert out.state is State.CAMERA_RGB
    return out.pixels


def chroma(rgb: np.ndarray) -> np.ndarray:
    g = np.maximum(rgb[..., 1], 1e-6)
    return np.maximum(np.abs(rgb[..., 0] / g - 1), np.abs(rgb[..., 2] / g - 1))


@pytest.mark.parametrize("pattern", ["RGGB", "GRBG", "BGGR"])
def test_clipped_neutral_stays_neutral(pattern):
    f, L = ramp_frame(pattern)
    rgb = develop_to_rgb(f, "reconstruct")
    inner = np.s_[4:-4, 4:-4]
    c = chroma(rgb)[inner]
    clipped = (L > 1.02)[inner]
    assert c[~clipped].mean() < 0.01
    assert c[clipped].mean() < 0.04 and np.percentile(c[clipped], 99) < 0.12, (c[clipped].mean(), c[clipped].max())
    # the rebuilt highlights are not darker than the clip level
    assert rgb[inner][clipped].min() >= 0.99


def test_without_reconstruction_the_ramp_turns_magenta():
    """The same data with method=none: green clipped first gives the magenta cast the stage removes."""
    f, L = ramp_frame()
    rgb = develop_to_rgb(f, "none")
    band = (L > 1.2) & (L < 1.5)
    sel = rgb[band]
    assert np.mean(sel[:, 0] / sel[:, 1]) > 1.15 and np.mean(sel[:, 2] / sel[:, 1]) > 1.15


def test_clip_method_is_neutral():
    f, L = ramp_frame()
    rgb = develop_to_rgb(f, "clip")
    assert chroma(rgb)[4:-4, 4:-4][(L > 1.02)[4:-4, 4:-4]].mean() < 0.02


def test_nothing_clipped_is_untouched():
    f, _ = ramp_frame(hi=0.9)
    st = get_stage("highlights")
    wbf = get_stage("whitebalance").run(f, get_stage("whitebalance").Params())
    out = st.run(wbf, st.Params())
    assert np.array_equal(out.pixels, wbf.pixels)


def test_colored_highlight_keeps_its_hue():
    """A blue sky whose blue channel clips next to unclipped sky: rebuilt blue, not cyan or magenta."""
    h, w = 64, 256
    sky = np.array([0.30, 0.55, 1.0])                  # white-balanced sky colour (blue strongest)
    L = np.linspace(0.5, 2.0, w)[None, :].repeat(h, 0)
    cam = L[..., None] * sky * NEUTRAL                 # raw = wb'd × neutral
    m = Metadata(source="synthetic", kind="raw", cfa_pattern="RGGB")
    m.color_matrix1, m.illuminant1 = synth.camera_matrix(), 21
    m.as_shot_neutral = NEUTRAL.copy()
    m.saturation = np.ones(3, np.float32)
    f = Frame(np.minimum(synth.mosaic(cam, "RGGB"), 1.0).astype(np.float32), State.CFA, m)
    rgb = develop_to_rgb(f, "reconstruct")
    raw = L[..., None] * sky * NEUTRAL
    only_b = (raw[..., 2] >= 1.0) & (raw[..., 1] < 0.97) & (raw[..., 0] < 0.97)
    sel = rgb[4:-4, 4:-4][only_b[4:-4, 4:-4]]
    assert sel.size, "the scene must have a band where only blue clipped"
    # hue: blue stays the strongest channel and the R:G ratio of the sky is kept
    assert np.all(sel[:, 2] >= sel[:, 1] * 0.98)
    assert abs(np.median(sel[:, 0] / sel[:, 1]) - sky[0] / sky[1]) < 0.06


def test_rebuilt_highlights_blend_without_steps():
    """A blue sky brightening past blue's clip, then green's: the rebuilt colour changes smoothly along the
    ramp (the pull toward neutral fades in above the clip instead of switching on at it)."""
    h, w = 64, 512
    sky = np.array([0.30, 0.55, 1.0])
    L = np.linspace(0.5, 2.0, w)[None, :].repeat(h, 0)
    m = Metadata(source="synthetic", kind="raw", cfa_pattern="RGGB")
    m.color_matrix1, m.illuminant1 = synth.camera_matrix(), 21
    m.as_shot_neutral = NEUTRAL.copy()
    m.saturation = np.ones(3, np.float32)
    f = Frame(np.minimum(synth.mosaic(L[..., None] * sky * NEUTRAL, "RGGB"), 1.0).astype(np.float32), State.CFA, m)
    row = develop_to_rgb(f, "reconstruct")[16:48].mean(0)[8:-8]
    for c in (0, 2):
        ratio = row[:, c] / row[:, 1]
        assert np.abs(np.diff(ratio)).max() < 0.1, (c, np.abs(np.diff(ratio)).max())


def test_bright_unclipped_sky_is_not_touched(tmp_path):
    """An overcast sky up to 0.95 of white through the decoder's clip detection: nothing is found clipped
    and the highlights stage leaves every pixel as it is (same render as with method=none)."""
    import rawlux
    from skyscene import overcast_sky_dng

    dng, _ = overcast_sky_dng(tmp_path / "sky.dng", peak=0.95, h=240, w=360)
    f = rawlux.open_image(dng)
    assert np.all(f.meta.saturation == 1.0)
    a = rawlux.develop(dng, look="reference")
    b = rawlux.develop(dng, look="reference", highlights={"method": "none"})
    assert np.array_equal(a.pixels, b.pixels)


def _reference_rebuild(rgb, clip, thr):
    """The per-pixel part of the reconstruction, in numpy over the clipped pixels only (what the numba kernel
    ``rebuild_clipped`` replaced), from the same low-resolution chroma."""
    import cv2

    from rawlux.isp import highlights as H

    anyc = (rgb >= thr).any(axis=2)
    ys, xs = np.nonzero(anyc)
    h, w = anyc.shape
    scale = max(1, int(round(max(h, w) / 512)))
    sw, sh = max(1, w // scale), max(1, h // scale)
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    sm_any = cv2.resize(anyc.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    lum = small.sum(axis=2)
    wgt = (sm_any < 0.01).astype(np.float32) * lum
    sigma = max(2.0, 0.02 * max(sh, sw))
    den = cv2.GaussianBlur(wgt, (0, 0), sigma)
    num = cv2.GaussianBlur(wgt[..., None] * small / np.maximum(lum, 1e-6)[..., None], (0, 0), sigma)
    chroma_ = num / np.maximum(den, 1e-12)[..., None]
    chroma_[den <= 1e-8] = 1.0 / 3.0
    fy = np.clip((ys + 0.5) * sh / h - 0.5, 0, sh - 1)
    fx = np.clip((xs + 0.5) * sw / w - 0.5, 0, sw - 1)
    y0, x0 = fy.astype(int), fx.astype(int)
    y1, x1 = np.minimum(y0 + 1, sh - 1), np.minimum(x0 + 1, sw - 1)
    ty, tx = (fy - y0)[:, None], (fx - x0)[:, None]
    ch = ((chroma_[y0, x0] * (1 - tx) + chroma_[y0, x1] * tx) * (1 - ty)
          + (chroma_[y1, x0] * (1 - tx) + chroma_[y1, x1] * tx) * ty)
    v = rgb[ys, xs].astype(np.float64)
    mk = v >= thr
    unc = ~mk
    s_num = (v * ch * unc).sum(1)
    s_den = (ch * ch * unc).sum(1)
    s = np.where(s_den > 1e-12, s_num / np.maximum(s_den, 1e-12), 0.0)
    rec = np.where(mk, np.maximum(v, ch * s[:, None]), v)
    n = mk.sum(1)
    excess = np.max(np.where(mk, rec / np.maximum(clip, 1e-6), 0.0), axis=1) - 1.0
    fade = np.clip(excess / 0.15, 0.0, 1.0)
    fade = fade * fade * (3.0 - 2.0 * fade)
    t = np.where(n >= 3, 1.0, (n / 3.0) ** 2 * fade)
    peak = rec.max(1)
    neutral_v = np.where(n >= 3, np.maximum(peak, clip.max()), peak)
    out = rgb.astype(np.float64).copy()
    out[ys, xs] = np.maximum(rec + t[:, None] * (neutral_v[:, None] - rec), v)
    assert H is not None
    return out


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (300, 517), (1100, 1700)])
def test_rebuild_kernel_matches_the_numpy_reference(shape):
    from rawlux.isp.highlights import _reconstruct_rgb

    rng = np.random.default_rng(shape[0])
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    base = (0.6 + 0.9 * x / max(w, 1) + 0.3 * np.sin(y / 13.0))[..., None] * np.array([0.9, 1.2, 0.8])
    rgb = (base * (1 + 0.05 * rng.standard_normal((h, w, 3)))).astype(np.float32)
    clip = np.array([1.3, 1.0, 1.2], np.float32)
    rgb = np.minimum(rgb, clip)
    thr = clip * np.float32(0.99)
    got = _reconstruct_rgb(rgb, clip, thr)
    ref = _reference_rebuild(rgb, clip, thr)
    assert float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-3))) < 1e-5


@pytest.mark.parametrize("h,w,sigma", [(40, 300, 2.0), (300, 512, 10.2), (512, 301, 7.7), (97, 211, 3.3)])
def test_blur_pair_is_two_plain_blurs(h, w, sigma):
    import cv2

    from rawlux.isp.highlights import _blur_pair

    rng = np.random.default_rng(h + w)
    a = rng.random((h, w), dtype=np.float32)
    b = rng.random((h, w, 3), dtype=np.float32)
    den, num = _blur_pair(a, b, sigma)
    assert np.array_equal(den, cv2.GaussianBlur(a, (0, 0), sigma))
    assert np.array_equal(num, cv2.GaussianBlur(b, (0, 0), sigma))
