"""demosaic method ``quality`` (rawlux.isp.demosaic.learned: ``ri`` plus a learned per-bucket correction) and
``ari-fast`` (rawlux.isp.demosaic.hq, the classical adaptive residual interpolation): gain over the default on
crops of McMaster and of scikit-image's photographs, exposure independence, exactness on flat fields and ramps in
all four patterns, small and odd sizes, clipped and degenerate input, the shipped weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rawlux.frame import BAYER_PATTERNS
from rawlux.isp.demosaic import DEFAULT_METHOD, DEMOSAIC_METHODS, demosaic
from rawlux.isp.demosaic.quality import cpsnr, mosaic

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MCMASTER = DATA / "demosaic" / "mcmaster"
PATTERNS = list(BAYER_PATTERNS)
#: least gains (dB) of ``quality`` over the default on the crops below (measured: 0.40 and 0.25; the whole sets:
#: about 0.6 and 0.2, benchmarks/bench_demosaic.py)
GAIN_MCMASTER = 0.3
GAIN_PHOTO = 0.15


def _mcmaster() -> list[np.ndarray]:
    import tifffile

    files = sorted(MCMASTER.glob("*.tif"), key=lambda p: int(p.stem)) if MCMASTER.is_dir() else []
    if not files:
        pytest.skip(f"shared data {MCMASTER} is absent")
    return [tifffile.imread(f)[..., :3].astype(np.float32) / 255.0 for f in files[::3]]


def _photographs() -> list[np.ndarray]:
    import skimage
    from PIL import Image

    d = Path(skimage.__file__).parent / "data"
    names = ("astronaut.png", "coffee.png", "motorcycle_left.png", "rocket.jpg", "chelsea.png")
    out = [np.asarray(Image.open(d / n).convert("RGB"), np.float32) / 255.0 for n in names if (d / n).exists()]
    if not out:
        pytest.skip("scikit-image's photographs are absent")
    return out


def _mean_gain(crops: list[np.ndarray], method: str = "quality", gain: float = 1.0) -> float:
    out = []
    for i, im in enumerate(crops):
        pattern = PATTERNS[i % 4]
        cfa = mosaic(im, pattern) * np.float32(gain)
        ref = im * np.float32(gain)
        out.append(cpsnr(ref, demosaic(cfa, pattern, method), peak=gain)
                   - cpsnr(ref, demosaic(cfa, pattern, DEFAULT_METHOD), peak=gain))
    return float(np.mean(out))


def _photo_crops() -> list[np.ndarray]:
    crops = []
    for im in _photographs():
        cy, cx = im.shape[0] // 2, im.shape[1] // 2
        crops.append(np.ascontiguousarray(im[cy - 128:cy + 128, cx - 128:cx + 128]))
    return crops


def test_registered_and_weights_shipped():
    from rawlux.isp.demosaic import learned

    assert DEMOSAIC_METHODS["quality"] == "rawlux.isp.demosaic.learned:quality"
    assert DEMOSAIC_METHODS["ari-fast"] == "rawlux.isp.demosaic.hq:quality"
    assert learned.WEIGHTS.parent == Path(learned.__file__).parent and learned.WEIGHTS.stat().st_size < 10e6
    m = learned.load_model()
    assert m["weights"].dtype == np.float32 and np.all(np.isfinite(m["weights"]))


def test_sharper_than_the_default_on_mcmaster_crops():
    """Six McMaster crops, the four patterns in turn (whole set: benchmarks/bench_demosaic.py)."""
    crops = [np.ascontiguousarray(im[100:356, 100:356]) for im in _mcmaster()]
    assert _mean_gain(crops) >= GAIN_MCMASTER


def test_better_than_the_default_on_photograph_crops():
    assert _mean_gain(_photo_crops()) >= GAIN_PHOTO


def test_gain_does_not_depend_on_exposure():
    """The correction is linear in the image and its buckets are exposure-independent: a mosaic at a quarter of
    the level (as a linear pipeline may feed) gains as much."""
    crops = _photo_crops()[:3]
    assert abs(_mean_gain(crops, gain=0.25) - _mean_gain(crops)) < 0.05


@pytest.mark.parametrize("method", ["quality", "ari-fast"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_flat_field_ramp_and_small_odd_sizes(pattern, method):
    rgb = np.empty((48, 52, 3), np.float32)
    rgb[:] = (0.21, 0.55, 0.83)
    np.testing.assert_allclose(demosaic(mosaic(rgb, pattern), pattern, method), rgb, atol=2e-5)
    h, w = 96, 112
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = np.stack([0.15 + 0.6 * x / w, 0.25 + 0.4 * y / h + 0.2 * x / w, 0.7 - 0.5 * y / h], -1).astype(np.float32)
    out = demosaic(mosaic(ramp, pattern), pattern, method)
    assert np.abs(out[16:-16, 16:-16] - ramp[16:-16, 16:-16]).max() < 2e-3
    for shape in [(2, 2), (3, 3), (7, 2), (2, 9), (33, 17), (45, 71), (65, 33)]:
        rgb = np.empty(shape + (3,), np.float32)
        rgb[:] = (0.3, 0.6, 0.45)
        out = demosaic(mosaic(rgb, pattern), pattern, method)
        assert out.shape == shape + (3,) and out.dtype == np.float32
        np.testing.assert_allclose(out, rgb, atol=1e-4)


@pytest.mark.parametrize("method", ["quality", "ari-fast"])
def test_clipped_degenerate_input_is_finite(method):
    rng = np.random.default_rng(7)
    cfa = rng.random((96, 120)).astype(np.float32) * 1.4
    cfa[20:60, 30:90] = 1.0
    cfa[:, :10] = 0.0
    cfa[5, 5] = -0.02
    cfa[50, 50] = np.nan
    for pattern in PATTERNS:
        for c in (cfa, np.zeros_like(cfa), np.ones_like(cfa), np.full_like(cfa, 1e-7)):
            out = demosaic(c, pattern, method)
            assert out.shape == c.shape + (3,) and np.all(np.isfinite(out))


def test_ari_fast_tiles_match_one_tile_and_borders_hold(monkeypatch):
    from rawlux.isp.demosaic import hq

    im = _photographs()[0][:300, :420]
    cfa = mosaic(im, "GRBG")
    monkeypatch.setattr(hq, "_TILE", 128)
    tiled = demosaic(cfa, "GRBG", "ari-fast")
    monkeypatch.setattr(hq, "_TILE", 4096)
    one = demosaic(cfa, "GRBG", "ari-fast")
    diff = np.abs(tiled - one)
    # float roundings can flip an iteration choice at a few pixels; nothing else differs
    assert np.mean(diff) < 1e-5 and np.mean(diff > 1e-3) < 1e-3, (diff.max(), np.mean(diff))
    out = np.clip(one, 0, 1)
    frame = np.ones(im.shape[:2], bool)
    frame[4:-4, 4:-4] = False
    psnr = [10 * np.log10(1 / np.mean((out[s] - im[s]) ** 2)) for s in (frame, ~frame)]
    assert psnr[0] > psnr[1] - 3.0, psnr


def test_quality_borders_hold():
    im = _photographs()[0][:300, :420]
    out = np.clip(demosaic(mosaic(im, "GBRG"), "GBRG", "quality"), 0, 1)
    frame = np.ones(im.shape[:2], bool)
    frame[4:-4, 4:-4] = False
    psnr = [10 * np.log10(1 / np.mean((out[s] - im[s]) ** 2)) for s in (frame, ~frame)]
    assert psnr[0] > psnr[1] - 3.0, psnr
