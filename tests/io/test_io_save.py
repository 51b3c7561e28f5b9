"""rawlux.save: every format and bit depth with ICC, EXIF (orientation 1), XMP recipe; atomic writes."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest

import rawlux
from rawlux.errors import OutputError, ParameterError
from rawlux.pipeline.recipe import Recipe

from io_readback import icc_description, read_back

FORMATS = [("jpg", 8), ("png", 8), ("png", 16), ("tif", 8), ("tif", 16), ("tif", 32), ("heic", 8)]


@pytest.fixture(scope="module")
def small(hero6_developed):
    """The developed Hero6 frame downsized to 800×600, all its metadata kept (saves stay fast)."""
    import cv2
    px = cv2.resize(hero6_developed.pixels, (800, 600), interpolation=cv2.INTER_AREA)
    return hero6_developed.with_pixels(px)


@pytest.fixture(scope="module")
def recipe():
    return Recipe.build("natural", sets=["tone.contrast=1.2"])


@pytest.mark.parametrize("ext,bits", FORMATS, ids=[f"{e}{b}" for e, b in FORMATS])
def test_format_round_trip(small, recipe, tmp_path, ext, bits):
    out = tmp_path / f"photo.{ext}"
    got = rawlux.save(small, out, bits=bits, quality=90, recipe=recipe)
    assert got == out and out.is_file()
    assert sorted(os.listdir(tmp_path)) == [out.name]                 # no temporary file left
    rb = read_back(out)
    px = rb["pixels"]
    assert px.shape[:2] == (600, 800) and px.shape[2] >= 3
    assert px.dtype == {8: np.uint8, 16: np.uint16, 32: np.float32}[bits], px.dtype
    # pixels: what was asked for, within the codec's loss
    if bits != 32:      # (float TIFF values: test_float_tiff_of_reference_look_is_linear)
        got_px = px[..., :3].astype(np.float64) / (255.0 if bits == 8 else 65535.0)
        mae = float(np.abs(got_px - small.pixels).mean())
        assert mae < {"jpg": 0.015, "heic": 0.015}.get(ext, 0.002), mae
    # ICC: sRGB (linear for the float TIFF)
    assert rb["icc"], "no ICC profile"
    desc = icc_description(rb["icc"]).lower()
    assert "srgb" in desc, desc
    if bits == 32:
        assert "linear" in desc, desc
    # EXIF kept and orientation normalised
    ex = rb["exif"]
    assert ex.get("Make") == "GoPro" and ex.get("Model") == "HERO6 Black", ex
    assert ex.get("Orientation") == 1
    assert ex.get("DateTimeOriginal") == "2016:01:01 23:07:27"
    assert abs(ex["ExposureTime"] - 0.0021978) < 2e-5 and abs(ex["FNumber"] - 2.8) < 1e-6 and ex["ISO"] == 100
    assert abs(ex["GPSLatitude"] - 33.126891) < 1e-5 and abs(ex["GPSLongitude"] + 117.326646) < 1e-5
    # XMP: rawlux version and the recipe
    xmp = rb["xmp"] or ""
    assert "rawlux:Recipe" in xmp and "contrast = 1.2" in xmp and rawlux.__version__ in xmp


def test_float_tiff_of_reference_look_is_linear(hero6_developed, tmp_path):
    """--bits 32 is documented as a linear float TIFF: its values are the linear light of the 16-bit PNG."""
    import cv2
    small = hero6_developed.with_pixels(cv2.resize(hero6_developed.pixels, (400, 300), interpolation=cv2.INTER_AREA))
    rawlux.save(small, tmp_path / "a.tif", bits=32)
    rawlux.save(small, tmp_path / "a.png", bits=16)
    f32 = read_back(tmp_path / "a.tif")["pixels"].astype(np.float64)
    p16 = read_back(tmp_path / "a.png")["pixels"].astype(np.float64) / 65535
    lin = rawlux.colour.spaces.decode(p16, "srgb")
    assert np.abs(f32 - lin).max() < 1e-3, "float TIFF values are not linear (transfer function left in)"


def test_no_temporary_file_left_on_failure(small, tmp_path, monkeypatch):
    import rawlux.io.encode as enc

    def broken(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(enc, "_write", broken)
    with pytest.raises(OutputError, match="No space left"):
        rawlux.save(small, tmp_path / "x.jpg")
    assert os.listdir(tmp_path) == []


def test_existing_file_not_replaced_without_overwrite(small, tmp_path):
    out = tmp_path / "x.jpg"
    out.write_bytes(b"precious")
    with pytest.raises(OutputError, match="exists"):
        rawlux.save(small, out, overwrite=False)
    assert out.read_bytes() == b"precious" and os.listdir(tmp_path) == ["x.jpg"]
    rawlux.save(small, out, overwrite=True)
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"


def test_refuses_to_write_over_its_input(small, tmp_path):
    src = tmp_path / "in.jpg"
    rawlux.save(small, src)
    before = src.read_bytes()
    f = rawlux.develop(src)
    with pytest.raises(OutputError, match="input"):
        rawlux.save(f, src, overwrite=True)
    assert src.read_bytes() == before


@pytest.mark.parametrize("kw,exc,match", [
    (dict(path="x.jpg", bits=16), ParameterError, "8-bit"),
    (dict(path="x.png", bits=32), ParameterError, "TIFF"),
    (dict(path="x.jpg", quality=0), ParameterError, "quality"),
    (dict(path="x.bmp"), ParameterError, "format"),
    (dict(path="x.jpg", format="gif"), ParameterError, "gif"),
    (dict(path="nofolder/x.jpg"), OutputError, "does not exist"),
])
def test_bad_save_arguments(small, tmp_path, kw, exc, match):
    kw = dict(kw)
    path = tmp_path / kw.pop("path")
    with pytest.raises(exc, match=match):
        rawlux.save(small, path, **kw)
    assert not path.exists()


def test_undeveloped_frame_is_refused(tmp_path):
    f = rawlux.Frame(np.zeros((4, 4, 3), np.float32), rawlux.State.CAMERA_RGB)
    with pytest.raises(ParameterError, match="develop"):
        rawlux.save(f, tmp_path / "x.jpg")


@pytest.mark.parametrize("h,w,quality", [(2999, 4001, 92), (1601, 1333, 95), (1203, 9000, 80)])
def test_jpeg_strips_are_the_stream_of_one_encoder_with_restart_markers(h, w, quality, monkeypatch):
    """Large JPEGs are encoded in strips on two threads and joined with restart markers: byte for byte what
    libjpeg writes in one pass with a restart interval of one strip, so every decoder reads the same pixels."""
    import cv2

    from rawlux.io import encode as E

    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    rng = np.random.default_rng(h)
    img = cv2.resize(rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    img[::7, ::5] = rng.integers(0, 256, img[::7, ::5].shape, dtype=np.uint8)
    got = E._jpeg_bytes(img, quality)
    mcu = 8 if quality >= 95 else 16
    per_row = -(-w // mcu)
    rows = min(-(-(-(-h // mcu)) // 2), 0xFFFF // per_row)
    sampling = cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444 if quality >= 95 else cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420
    ok, ref = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling,
                                         cv2.IMWRITE_JPEG_RST_INTERVAL, per_row * rows])
    assert ok and got == ref.tobytes()
    assert b"\xff\xdd" in got[:2000] and b"\xff\xd0" in got
    from PIL import Image
    assert Image.open(io.BytesIO(got)).size == (w, h)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")                  # one thread: one plain stream
    assert b"\xff\xdd" not in E._jpeg_bytes(img, quality)[:2000]


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("bgr", [False, True])
def test_quantise_matches_rounding_and_channel_order(bits, bgr):
    from rawlux.isp.kernels import quantise

    rng = np.random.default_rng(3)
    img = (rng.random((37, 53, 3), dtype=np.float32) * 1.2 - 0.1).astype(np.float32)
    img[0, :4] = [[0, 0.5, 1], [-1, 2, 0.999], [1 / 510, 1 / 255, 0.5 / 65535], [0.25, 0.75, 0.0]]
    scale = 255.0 if bits == 8 else 65535.0
    out = np.empty(img.shape, np.uint8 if bits == 8 else np.uint16)
    quantise(img, np.float32(scale), bgr, out)
    ref = np.floor(np.clip(img.astype(np.float64) * scale + 0.5, 0, scale)).astype(out.dtype)
    if bgr:
        ref = ref[..., ::-1]
    assert np.abs(out.astype(np.int64) - ref).max() <= (1 if bits == 16 else 0)   # float32 vs float64 at .5
