"""Every real file in ../shared/data develops; dimensions, orientation and the clipped Hero6 sky are right."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import rawlux
from testdata import DUMPS, HERO6, N900_PROFILE, RAW, need, sha256

warnings.filterwarnings("ignore", message=".*Matplotlib.*")


def check_display(frame, w, h):
    assert frame.state is rawlux.State.DISPLAY
    assert frame.pixels.dtype == np.float32 and frame.shape == (h, w, 3), frame.shape
    px = frame.pixels
    assert np.all(np.isfinite(px)) and px.min() >= 0.0 and px.max() <= 1.0
    assert frame.meta.orientation == 1 and frame.meta.icc


def psnr(a, b) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-20))


# ----------------------------------------------------------------------------- every file develops

CASES = [
    ("raw/gopro-fusion-front-fisheye.dng", {}, (3104, 3000)),
    ("raw/lg-g4-linear-raw.dng", {}, (600, 338)),
    ("raw/kodak-dc50.kdc", {}, None),
    ("raw/nokia-n900-bayer-grbg-10bit.png", {"cfa": "GRBG,50,1023", "profile": str(N900_PROFILE)}, (256, 344)),
    ("sensor-dumps/openisp/chart-1920x1080-10bit-rggb.raw", {"raw": "1920x1080,10,RGGB"}, (1920, 1080)),
    ("sensor-dumps/infinite-isp/ColorCheckerRAW_1920x1080_12bit_BGGR.raw", {"raw": "1920x1080,12,BGGR"}, (1920, 1080)),
] + [(f"sensor-dumps/infinite-isp/{n}_2592x1536_8bit_GRBG.raw", {"raw": "2592x1536,8,GRBG,12"}, (2592, 1536))
     for n in ("Indoor1", "Outdoor1", "Outdoor2", "Outdoor3", "Outdoor4")]


@pytest.mark.parametrize("rel,kw,size", CASES, ids=[c[0].split("/")[-1] for c in CASES])
def test_real_file_develops(rel, kw, size):
    path = need(RAW.parent / rel)
    before = sha256(path)
    f = rawlux.develop(path, **kw)
    if size is None:   # LibRaw's own idea of the visible size
        import rawpy
        with rawpy.imread(str(path)) as rp:
            size = (rp.sizes.width, rp.sizes.height)
    check_display(f, *size)
    # a real photograph, not a flat or black frame
    luma = f.pixels.mean(axis=2)
    assert 0.08 < float(luma.mean()) < 0.85 and float(luma.std()) > 0.04, (luma.mean(), luma.std())
    assert sha256(path) == before


def test_all_zero_dng_does_not_crash():
    """iPhone ProRAW with its pixels pruned to zeros: develops to black, no NaN, no division by zero."""
    path = need(RAW / "iphone12pro-proraw-stripped.dng")
    with np.errstate(divide="raise", invalid="raise"):
        try:
            f = rawlux.develop(path)
        except rawlux.InputError as e:            # refusing it with a clear message is also acceptable
            assert "iphone12pro-proraw-stripped.dng" in str(e)
            return
    assert f.state is rawlux.State.DISPLAY and np.all(np.isfinite(f.pixels))
    assert float(f.pixels.max()) < 0.05


# ----------------------------------------------------------------------------- the Hero6 DNG

@pytest.fixture(scope="module")
def hero6_unoriented():
    return rawlux.develop(need(HERO6), geometry={"orient": False})


def test_hero6_dimensions_and_mirror(hero6_developed, hero6_unoriented):
    check_display(hero6_developed, 4000, 3000)
    assert rawlux.open_image(HERO6).meta.orientation == 2          # the file says: mirrored horizontally
    mirrored = hero6_unoriented.pixels[:, ::-1]
    assert psnr(hero6_developed.pixels, mirrored) > 45
    assert psnr(hero6_developed.pixels, hero6_unoriented.pixels) < 25   # the scene is not symmetric


def test_hero6_exif_normalised(hero6_developed):
    ex = hero6_developed.meta.exif
    for k in ("Make", "Model", "ExposureTime", "FNumber", "ISO", "DateTimeOriginal", "GPSLatitude", "GPSLongitude"):
        assert k in ex, k
    assert ex.get("Orientation", 1) == 1


def test_hero6_clipped_sky_is_neutral(hero6_developed, hero6_unoriented):
    """Where every raw channel is at/above its clip level, the output has (almost) no chroma."""
    colour = pytest.importorskip("colour")
    import cv2

    from rawlux.frame import BAYER_PATTERNS

    r = rawlux.open_image(HERO6)
    m, raw = r.meta, r.pixels
    white, black = float(m.white_level), np.asarray(m.black_level, np.float64).reshape(-1)
    code = BAYER_PATTERNS[m.cfa_pattern]
    clip = np.ones((raw.shape[0] // 2, raw.shape[1] // 2), bool)
    for i, c in enumerate(code):
        level = black[i] + float(m.saturation[c]) * (white - black[i])
        clip &= raw[i // 2::2, i % 2::2] >= level
    clip = cv2.erode(clip.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)   # away from the edges
    assert clip.sum() > 2000, "the Hero6 sky is expected to clip"
    full = np.kron(clip, np.ones((2, 2), bool))[:, ::-1]                  # orientation 2: mirrored
    lab = colour.XYZ_to_Lab(colour.sRGB_to_XYZ(hero6_developed.pixels[full].astype(np.float64)))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    assert lab[:, 0].mean() > 90                                          # bright
    assert chroma.mean() < 6.0 and np.percentile(chroma, 99) < 12.0, (chroma.mean(), np.percentile(chroma, 99))
    assert abs(lab[:, 1].mean()) < 3.0 and abs(lab[:, 2].mean()) < 3.0   # no magenta/cyan/yellow cast
