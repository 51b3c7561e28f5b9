"""HDR photographs out: Ultra HDR (gain-map) JPEG and 10-bit PQ/HLG HEIF/AVIF, checked with independent decoders
(Google's libultrahdr through imagecodecs, exiftool, libheif, libavif) on a real raw file and a synthetic scene."""
from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess

import numpy as np
import pytest

import rawlux
from rawlux.errors import InputError, ParameterError
from rawlux.frame import Frame, Metadata, State
from rawlux.io import ultrahdr as U

from testdata import RAW, need, run_cli

imagecodecs = pytest.importorskip("imagecodecs")
if not imagecodecs.ULTRAHDR.available:  # pragma: no cover
    pytest.skip("imagecodecs was built without libultrahdr", allow_module_level=True)
EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is absent (apt-get install libimage-exiftool-perl)")

LG = RAW / "lg-g4-linear-raw.dng"


def rel_err(x: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Median and 99th percentile of |x − ref| / max(ref, 0.05)."""
    r = np.abs(x - ref) / np.maximum(ref, 0.05)
    return float(np.median(r)), float(np.percentile(r, 99))


def exiftool_json(path, *args: str) -> dict:
    out = subprocess.run([EXIFTOOL, "-j", "-n", "-G1", *args, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


@pytest.fixture(scope="module")
def lg():
    """A real raw file (LG G4 DNG) developed with the scene-linear frame kept."""
    return rawlux.develop(need(LG), keep_scene_linear=True)


@pytest.fixture(scope="module")
def synthetic():
    """A scene with known highlights: a skimage photograph, linearised, with a sky gradient up to 16× white."""
    data = pytest.importorskip("skimage.data")
    img = data.astronaut()[::2, ::2].astype(np.float32) / 255.0
    lin = np.where(img <= 0.04045, img / 12.92, ((img + 0.055) / 1.055) ** 2.4).astype(np.float32)
    h, w = lin.shape[:2]
    ramp = np.exp2(np.linspace(0.0, 5.0, w, dtype=np.float32))[None, :, None]
    lin[: h // 5] = ramp * np.array([0.9, 0.95, 1.0], np.float32)        # a bright sky band: 0.5 … 16 after ×0.5
    frame = Frame(lin * 0.5, State.SCENE_LINEAR, Metadata(kind="linear_raw"))
    return rawlux.develop(frame, keep_scene_linear=True, exposure={"auto": False})


def _reference(frame, data: bytes) -> np.ndarray:
    """The HDR rendition the file encodes: the highlights rendition on the base as libultrahdr decodes it."""
    u = U.split(data)
    base = U.reference_base_linear(u.primary, u.icc)
    ref, _ = U.hdr_rendition(frame, base_linear=base)
    return ref


# --------------------------------------------------------------------------------------------- the JPEG

#: (fixture, gain-map quality, p99 bound): a real raw and a synthetic scene with a 16× sky next to a photograph
CASES = [("lg", 90, 0.05), ("synthetic", 90, 0.05), ("synthetic", 98, 0.03)]


@pytest.mark.parametrize("which,mq,p99_max", CASES, ids=[f"{c[0]}-q{c[1]}" for c in CASES])
def test_libultrahdr_reconstructs_the_hdr_rendition(which, mq, p99_max, request, tmp_path):
    frame = request.getfixturevalue(which)
    out = rawlux.save(frame, tmp_path / "hdr.jpg", hdr=True, hdr_map_quality=mq)
    data = out.read_bytes()
    assert imagecodecs.ultrahdr_check(data)
    ref = _reference(frame, data)
    hdr = imagecodecs.ultrahdr_decode(data)[..., :3].astype(np.float32)      # float16 linear, 1.0 = SDR white
    med, p99 = rel_err(hdr, ref)
    assert med < 0.01 and p99 < p99_max, (med, p99)
    # at boost 1 (an SDR display) libultrahdr gives the base back
    sdr = imagecodecs.ultrahdr_decode(data, boost=1.0)[..., :3].astype(np.float32)
    base = U.reference_base_linear(U.split(data).primary, None)
    assert np.percentile(np.abs(sdr - base), 99.9) < 2e-3
    # our own reader agrees with libultrahdr (it decodes the base with libjpeg-turbo's smooth chroma upsampling,
    # libultrahdr with its own: they differ at colour edges of a 4:2:0 base)
    _sdr, own, meta, space = U.read_hdr(out)
    assert space == "srgb"
    med, p99 = rel_err(own, hdr)
    assert med < 0.01, med


def test_display_p3_base_and_rec2020_refused(tmp_path):
    f = rawlux.develop(need(LG), keep_scene_linear=True, output={"space": "display-p3"})
    out = rawlux.save(f, tmp_path / "p3.jpg", hdr=True)
    data = out.read_bytes()
    assert U.read_hdr(out)[3] == "display-p3"
    med, p99 = rel_err(imagecodecs.ultrahdr_decode(data)[..., :3].astype(np.float32), _reference(f, data))
    assert med < 0.01 and p99 < 0.05, (med, p99)
    f2020 = rawlux.develop(need(LG), keep_scene_linear=True, output={"space": "rec2020"})
    with pytest.raises(ParameterError, match="sRGB or Display P3"):
        rawlux.save(f2020, tmp_path / "x.jpg", hdr=True)
    assert rawlux.save(f2020, tmp_path / "x.avif", hdr=True).is_file()       # BT.2020 HDR goes to AVIF/HEIF


def test_base_is_the_sdr_jpeg(lg, tmp_path):
    """The primary image decodes to exactly the pixels of the normal SDR JPEG (same encoder, same settings), with
    its EXIF and ICC."""
    import cv2
    sdr = rawlux.save(lg, tmp_path / "sdr.jpg", quality=90)
    hdr = rawlux.save(lg, tmp_path / "hdr.jpg", quality=90, hdr=True)
    a = cv2.imdecode(np.frombuffer(sdr.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    b = cv2.imdecode(np.frombuffer(hdr.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(a, b)
    from PIL import Image
    with Image.open(hdr) as im, Image.open(sdr) as im2:
        assert im.info.get("icc_profile") == im2.info.get("icc_profile") and im.info.get("icc_profile")
        assert im.getexif().get(0x0110) == "LG-H815"          # Model
    # plain open_image gives the SDR picture
    f = rawlux.open_image(hdr)
    assert f.meta.kind == "image" and f.shape == (lg.height, lg.width, 3)


@needs_exiftool
def test_mpf_and_metadata_read_back(lg, tmp_path):
    out = rawlux.save(lg, tmp_path / "hdr.jpg", hdr=True, hdr_headroom=2.5)
    data = out.read_bytes()
    u = U.split(data)
    # the MPF index's second image is exactly the bytes after the primary's EOI
    mp2 = subprocess.run([EXIFTOOL, "-b", "-MPImage2", str(out)], capture_output=True, check=True).stdout
    assert mp2 == data[len(u.primary):] and u.primary.endswith(b"\xff\xd9") and mp2[:2] == b"\xff\xd8"
    prim = exiftool_json(out, "-struct")
    assert prim["XMP-hdrgm:Version"] in ("1.0", 1.0)
    items = [d["Item"] for d in prim["XMP-Container:Directory"]]
    assert [(i["Semantic"], i["Mime"]) for i in items] == [("Primary", "image/jpeg"), ("GainMap", "image/jpeg")]
    assert items[1]["Length"] == len(mp2)
    assert prim["MPF0:NumberOfImages"] == 2
    # the gain map's own hdrgm XMP, read by exiftool, equals what was written, and equals its ISO 21496-1 segment
    gm = tmp_path / "gm.jpg"
    gm.write_bytes(mp2)
    g = exiftool_json(gm)
    meta = u.meta
    assert meta.capacity_max == pytest.approx(2.5)
    for key, val in (("GainMapMin", meta.gain_min[0]), ("GainMapMax", meta.gain_max[0]), ("Gamma", meta.gamma[0]),
                     ("OffsetSDR", meta.offset_sdr[0]), ("OffsetHDR", meta.offset_hdr[0]),
                     ("HDRCapacityMin", meta.capacity_min), ("HDRCapacityMax", meta.capacity_max)):
        assert float(g[f"XMP-hdrgm:{key}"]) == pytest.approx(val, abs=1e-9), key
    assert str(g["XMP-hdrgm:BaseRenditionIsHDR"]).lower() == "false"
    # ISO 21496-1, parsed here from the bytes by the layout of the standard (independent of rawlux's parser)
    iso_p = _app2(u.primary, b"urn:iso:std:iso:ts:21496:-1\0")
    assert iso_p == struct.pack(">HH", 0, 0)                          # primary: versions only
    iso = _app2(mp2, b"urn:iso:std:iso:ts:21496:-1\0")
    min_v, _w, flags = struct.unpack_from(">HHB", iso, 0)
    assert min_v == 0 and not flags & 0x80 and flags & 0x40 and not flags & 0x04 and not flags & 0x08
    bh = struct.unpack_from(">II", iso, 5)
    ah = struct.unpack_from(">II", iso, 13)
    ch = struct.unpack_from(">iIiIIIiIiI", iso, 21)
    assert len(iso) == 21 + 40
    vals = dict(zip(("HDRCapacityMin", "HDRCapacityMax", "GainMapMin", "GainMapMax", "Gamma", "OffsetSDR", "OffsetHDR"),
                    (bh[0] / bh[1], ah[0] / ah[1], *(ch[i] / ch[i + 1] for i in range(0, 10, 2)))))
    for key, v in vals.items():
        assert float(g[f"XMP-hdrgm:{key}"]) == pytest.approx(v, abs=1e-9), key


def _app2(jpg: bytes, sig: bytes) -> bytes:
    i = 2
    while jpg[i] == 0xFF and jpg[i + 1] != 0xDA:
        n = struct.unpack_from(">H", jpg, i + 2)[0]
        p = jpg[i + 4:i + 2 + n]
        if jpg[i + 1] == 0xE2 and p.startswith(sig):
            return p[len(sig):]
        i += 2 + n
    raise AssertionError(f"no APP2 {sig!r}")


def test_each_metadata_form_alone_decodes_the_same(lg, tmp_path):
    """libultrahdr gives the same HDR from the ISO segment alone and from the hdrgm XMP alone (the other one
    masked by a same-length rename, so every offset stays valid)."""
    data = rawlux.save(lg, tmp_path / "hdr.jpg", hdr=True).read_bytes()
    full = imagecodecs.ultrahdr_decode(data)[..., :3].astype(np.float32)
    n = len(U.split(data).primary)
    iso_only = data[:n] + data[n:].replace(b"http://ns.adobe.com/hdr-gain-map/1.0/", b"http://ns.adobe.com/hdr-gain-map/9.9/")
    xmp_only = data[:n] + data[n:].replace(b"urn:iso:std:iso:ts:21496:-1", b"urn:iso:std:iso:ts:99999:-1")
    for variant in (iso_only, xmp_only):
        assert variant != data and len(variant) == len(data)
        got = imagecodecs.ultrahdr_decode(variant)[..., :3].astype(np.float32)
        assert rel_err(got, full)[1] < 1e-3


def test_mono_map_and_scale(lg, tmp_path):
    import cv2
    data = rawlux.save(lg, tmp_path / "m.jpg", hdr=True, hdr_map="mono", hdr_scale=2).read_bytes()
    gm = cv2.imdecode(np.frombuffer(U.split(data).gain_map, np.uint8), cv2.IMREAD_UNCHANGED)
    assert gm.ndim == 2 and gm.shape == (-(-lg.height // 2), -(-lg.width // 2))
    hdr = imagecodecs.ultrahdr_decode(data)[..., :3].astype(np.float32)
    med, p99 = rel_err(hdr, _reference(lg, data))
    assert med < 0.03, med                           # one gain for three channels: colour shifts are not restored
    rgb4 = rawlux.save(lg, tmp_path / "q.jpg", hdr=True, hdr_scale=4).read_bytes()
    assert len(rgb4) < len(rawlux.save(lg, tmp_path / "f.jpg", hdr=True).read_bytes())


def test_hdr_rendition_known_truth(synthetic):
    """Highlights rendition: exactly the SDR picture below the knee (gain 1), the scene's own light (1.0 = SDR
    white) in the highlights, up to the headroom."""
    from rawlux.colour import spaces
    from rawlux.frame import SCENE_LINEAR_KEY
    hdr, h = U.hdr_rendition(synthetic)
    assert h == pytest.approx(4.0, abs=0.05)         # the sky reaches 16× white → the 4-stop cap
    sdr = U.sdr_linear(synthetic, "srgb")
    scene = synthetic.meta.extra[SCENE_LINEAR_KEY]
    below = sdr.max(axis=2) < 0.9 * U.KNEE_LO
    assert below.mean() > 0.3
    assert np.abs(hdr[below] - sdr[below]).max() < 1e-4
    sky = hdr[: synthetic.height // 5]
    assert sky.max() <= 2.0 ** h + 1e-3 and sky[:, -4:].max() > 0.75 * 2.0 ** h
    assert np.all(np.diff(sky[sky.shape[0] // 2, :, 1]) > -1e-3)          # monotonic along the ramp
    # where the sky is 2–6× SDR white, the HDR is the scene's light (in sRGB primaries)
    sc = cv2_transform(scene, spaces.rgb_to_rgb(spaces.WORKING, "srgb"))[: synthetic.height // 5]
    zone = (sc[..., 1] > 2) & (sc[..., 1] < 6)
    assert zone.sum() > 100
    assert np.median(np.abs(sky[zone] - sc[zone]) / sc[zone]) < 0.08
    # the scene rendition is the scene-linear render itself, capped at the headroom
    lit, _ = U.hdr_rendition(synthetic, 4.0, rendition="scene")
    top = lit[: synthetic.height // 5, :, 1]
    assert np.median(np.abs(top - np.minimum(sc[..., 1], 16)) / np.minimum(sc[..., 1], 16)) < 0.08


def test_look_colour_reaches_the_highlights(tmp_path):
    """A monochrome look stays monochrome above SDR white: the look's colour is applied to the scene light of
    the highlights (scale-invariantly, nothing clipped at SDR white)."""
    f = rawlux.develop(need(LG), look="mono", keep_scene_linear=True)
    hdr, _h = U.hdr_rendition(f, 2.0)
    hi = hdr.max(axis=2) > 1.0
    assert hi.mean() > 0.01 and hdr.max() > 1.3
    chroma = (hdr.max(axis=2) - hdr.min(axis=2)) / hdr.max(axis=2)
    assert np.percentile(chroma[hi], 99) < 1e-3
    # without the look's colour the same highlights would be coloured
    plain, _ = U.hdr_rendition(rawlux.develop(need(LG), look="mono", keep_scene_linear=True, mixer={"enabled": False}), 2.0)
    hi2 = plain.max(axis=2) > 1.0
    assert np.percentile(((plain.max(axis=2) - plain.min(axis=2)) / np.maximum(plain.max(axis=2), 1e-6))[hi2], 90) > 0.01


@pytest.mark.parametrize("space", ["srgb", "rec2020"])
def test_fused_kernel_matches_numpy_reference(lg, space):
    from rawlux.frame import SCENE_LINEAR_KEY
    x = np.maximum(lg.meta.extra[SCENE_LINEAR_KEY], 0)
    sdr = U.sdr_linear(lg, space)
    ref = sdr * U.highlight_gain(sdr, U._to_output_linear(x, space), 8.0)
    got = U.highlights_fused(lg, x, space, 8.0)
    assert np.percentile(np.abs(got - ref) / np.maximum(ref, 0.05), 99.9) < 1e-4


def cv2_transform(img: np.ndarray, m: np.ndarray) -> np.ndarray:
    return (img.reshape(-1, 3) @ np.asarray(m, np.float32).T).reshape(img.shape)


# --------------------------------------------------------------------------------------------- the reader

def test_open_image_hdr_and_develop_a_gain_map_jpeg(lg, tmp_path):
    out = rawlux.save(lg, tmp_path / "hdr.jpg", hdr=True)
    f = rawlux.open_image(out, hdr=True)
    assert f.state is State.SCENE_LINEAR and f.meta.kind == "hdr_image"
    _sdr, hdr, _m, _s = U.read_hdr(out)
    assert f.pixels.max() > 1.2 and hdr.max() == pytest.approx(np.asarray(f.pixels).max(), rel=0.2)
    # a phone's gain-map JPEG develops from its HDR data and can be written as HDR again
    dev = rawlux.develop(out, keep_scene_linear=True)
    again = rawlux.save(dev, tmp_path / "again.jpg", hdr=True)
    assert imagecodecs.ultrahdr_check(again.read_bytes())
    with pytest.raises(InputError, match="no gain map"):
        rawlux.open_image(rawlux.save(lg, tmp_path / "sdr.jpg"), hdr=True)


# --------------------------------------------------------------------------------------------- HEIF / AVIF

@needs_exiftool
@pytest.mark.parametrize("ext", ["avif", "heic"])
@pytest.mark.parametrize("transfer,cicp", [("pq", 16), ("hlg", 18)])
def test_hdr_heif_avif(lg, tmp_path, ext, transfer, cicp):
    from rawlux.io.hdr_heif import signal_to_linear
    out = rawlux.save(lg, tmp_path / f"hdr.{ext}", hdr=True, hdr_transfer=transfer)
    tags = exiftool_json(out)
    assert tags["QuickTime:ColorProfiles"] == "nclx"
    assert (tags["QuickTime:ColorPrimaries"], tags["QuickTime:TransferCharacteristics"],
            tags["QuickTime:MatrixCoefficients"]) == (9, cicp, 9)
    assert str(tags["QuickTime:ImagePixelDepth"]) == "10 10 10"
    if ext == "avif":
        code = imagecodecs.avif_decode(out.read_bytes())
    else:
        import pillow_heif
        hf = pillow_heif.open_heif(out, convert_hdr_to_8bit=False)
        assert hf.info["bit_depth"] == 10 and hf.info["nclx_profile"]["transfer_characteristics"] == cicp
        code = np.asarray(hf).astype(np.uint16) >> 6
        assert tags["IFD0:Model"] == "LG-H815"
    ref, _h = U.hdr_rendition(lg, space="rec2020")
    med, _p99 = rel_err(signal_to_linear(code, transfer), ref)
    assert med < 0.03, med                              # lossy 4:2:0 10-bit coding of the same rendition
    assert signal_to_linear(code, transfer).max() > 1.5   # highlights above SDR white survive


def test_pq_hlg_curves():
    from rawlux.io.hdr_heif import hlg_decode, hlg_encode, pq_decode, pq_encode
    assert pq_encode(np.array([10000.0]))[0] == pytest.approx(1.0)
    assert pq_encode(np.array([203.0]))[0] == pytest.approx(0.5807, abs=1e-3)      # BT.2408 reference white
    assert hlg_encode(np.array([0.26496256]))[0] == pytest.approx(0.75, abs=1e-4)
    x = np.geomspace(1e-3, 1.0, 50)
    assert hlg_decode(hlg_encode(x)) == pytest.approx(x, rel=1e-6)
    assert pq_decode(pq_encode(x * 1000)) == pytest.approx(x * 1000, rel=1e-6)


# --------------------------------------------------------------------------------------------- bad input

def test_bad_input(lg, tmp_path):
    for ext in ("png", "tif"):
        with pytest.raises(ParameterError, match="cannot be written as"):
            rawlux.save(lg, tmp_path / f"x.{ext}", hdr=True)
    plain = rawlux.develop(need(LG))
    with pytest.raises(ParameterError, match="no HDR data"):
        rawlux.save(plain, tmp_path / "x.jpg", hdr=True)
    sdr_jpeg = rawlux.save(plain, tmp_path / "in.jpg")
    display = rawlux.develop(sdr_jpeg, keep_scene_linear=True)       # a display-referred input: nothing kept
    with pytest.raises(ParameterError, match="no HDR data"):
        rawlux.save(display, tmp_path / "x.jpg", hdr=True)
    for kw, msg in ((dict(hdr_headroom=5), "at most 4"), (dict(hdr_map="grey"), "--hdr-map"),
                    (dict(hdr_scale=8), "scale"), (dict(bits=16), "--bits")):
        with pytest.raises(ParameterError, match=msg):
            rawlux.save(lg, tmp_path / "x.jpg", hdr=True, **kw)
    with pytest.raises(ParameterError, match="--hdr-transfer"):
        rawlux.save(lg, tmp_path / "x.avif", hdr=True, hdr_transfer="gamma")
    with pytest.raises(ParameterError, match="AVIF"):
        rawlux.save(lg, tmp_path / "x.avif")
    assert not any(p.name.startswith("x.") for p in tmp_path.iterdir())        # nothing half-written
    # a truncated Ultra HDR file is a clear input error, not a crash
    data = rawlux.save(lg, tmp_path / "t.jpg", hdr=True).read_bytes()
    bad = tmp_path / "trunc.jpg"
    bad.write_bytes(data[: len(data) - 5000])
    with pytest.raises(InputError):
        U.read_hdr(bad)


def test_damaged_files_are_input_errors(lg, tmp_path):
    """Flipped bytes anywhere in the metadata or the gain map: a clear InputError or a finite picture, nothing
    else (no crash, no NaN, no hang)."""
    data = bytearray(rawlux.save(lg, tmp_path / "hdr.jpg", hdr=True).read_bytes())
    u = U.split(bytes(data))
    n = len(u.primary)
    rng = np.random.default_rng(7)
    bad = tmp_path / "bad.jpg"
    spots = [*rng.integers(2, 1400, 20), *rng.integers(n, n + 900, 20), *rng.integers(n + 900, len(data), 10)]
    for pos in spots:
        d = bytearray(data)
        d[int(pos)] ^= 0xFF
        bad.write_bytes(bytes(d))
        try:
            _sdr, hdr, _m, _s = U.read_hdr(bad)
        except InputError:
            continue
        assert np.isfinite(hdr).all()


def test_cli_develop_hdr(tmp_path):
    """`rawlux develop --hdr`: an Ultra HDR JPEG or an HDR AVIF; PNG output or a display-referred input: exit 2,
    one line naming the problem, nothing written."""
    src = need(LG)
    out = tmp_path / "shot.jpg"
    r = run_cli("develop", src, "--hdr", "--hdr-map", "mono", "--hdr-headroom", "2", "-o", out)
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert imagecodecs.ultrahdr_check(data) and U.split(data).meta.capacity_max == pytest.approx(2.0)
    r = run_cli("develop", src, "--hdr", "--hdr-transfer", "hlg", "-o", tmp_path / "shot.avif")
    assert r.returncode == 0, r.stderr
    for args, what in (((src, "--hdr", "-o", tmp_path / "x.png"), "--hdr"),
                       ((src, "--hdr", "--hdr-headroom", "6", "-o", tmp_path / "x.jpg"), "--hdr-headroom"),
                       ((src, "-o", tmp_path / "x.avif"), "AVIF"),
                       ((out, "--hdr", "-o", tmp_path / "again.jpg"), None)):
        r = run_cli("develop", *args)
        if what is None:                    # an Ultra HDR input has HDR data: it develops to HDR again
            assert r.returncode == 0, r.stderr
            continue
        assert r.returncode == 2 and len(r.err_lines) == 1 and what in r.stderr, (r.returncode, r.stderr)
    sdr = rawlux.save(rawlux.develop(src), tmp_path / "in.jpg")
    r = run_cli("develop", sdr, "--hdr", "-o", tmp_path / "y.jpg")
    assert r.returncode == 2 and "no HDR data" in r.stderr and len(r.err_lines) == 1, r.stderr
    assert not any(p.name.startswith(("x.", "y.")) for p in tmp_path.iterdir())
