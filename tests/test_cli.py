"""The `rawlux` command line, run as a user runs it (a fresh process): outputs, metadata, bad input."""
from __future__ import annotations

import os
import shutil
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from testdata import DUMPS, HERO6, N900_PROFILE, RAW, need, run_cli, sha256

sys.path.insert(0, str(Path(__file__).resolve().parent / "io"))
from io_readback import icc_description, read_back  # noqa: E402

N900 = RAW / "nokia-n900-bayer-grbg-10bit.png"
N900_ARGS = ["--cfa", "GRBG,50,1023", "--profile", str(N900_PROFILE)]
OPENISP = DUMPS / "openisp" / "chart-1920x1080-10bit-rggb.raw"


def assert_one_error(res, code: int, *names: str) -> None:
    assert res.returncode == code, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    assert len(res.err_lines) == 1, res.stderr
    line = res.err_lines[0]
    for n in names:
        assert n in line, (n, line)


# ----------------------------------------------------------------------------- happy paths

def test_hero6_to_jpeg_end_to_end(tmp_path):
    need(HERO6)
    before = sha256(HERO6)
    out = tmp_path / "hero6.jpg"
    res = run_cli("develop", HERO6, "-o", out, "--set", "tone.contrast=1.2")
    assert res.returncode == 0, res.stderr
    assert str(out) in res.stdout
    assert sha256(HERO6) == before                                    # the input is never modified
    assert os.listdir(tmp_path) == ["hero6.jpg"]                      # no temporary file left
    rb = read_back(out)
    assert rb["pixels"].shape == (3000, 4000, 3)
    assert "srgb" in icc_description(rb["icc"]).lower()
    ex = rb["exif"]
    assert (ex["Make"], ex["Model"], ex["Orientation"], ex["ISO"]) == ("GoPro", "HERO6 Black", 1, 100)
    assert abs(ex["FNumber"] - 2.8) < 1e-6 and abs(ex["ExposureTime"] - 1 / 455) < 2e-5
    assert ex["DateTimeOriginal"] == "2016:01:01 23:07:27" and abs(ex["GPSLatitude"] - 33.126891) < 1e-5
    assert "contrast = 1.2" in rb["xmp"]


@pytest.mark.parametrize("ext,extra,dtype", [("png", ["--bits", "16"], np.uint16),
                                             ("tif", ["--bits", "16"], np.uint16),
                                             ("heic", ["--quality", "80"], np.uint8),
                                             ("jpg", ["--space", "display-p3"], np.uint8)])
def test_n900_formats(tmp_path, ext, extra, dtype):
    need(N900)
    out = tmp_path / f"n900.{ext}"
    res = run_cli("develop", N900, *N900_ARGS, "-o", out, *extra)
    assert res.returncode == 0, res.stderr
    rb = read_back(out)
    assert rb["pixels"].shape[:2] == (344, 256) and rb["pixels"].dtype == dtype
    want = "p3" if "display-p3" in extra else "srgb"
    assert want in icc_description(rb["icc"]).lower()
    assert rb["exif"].get("Orientation") == 1
    assert "rawlux:Recipe" in (rb["xmp"] or "")
    assert os.listdir(tmp_path) == [out.name]


def test_sensor_dump_out_dir_and_format(tmp_path):
    need(OPENISP)
    res = run_cli("develop", OPENISP, "--raw", "1920x1080,10,RGGB", "--out-dir", tmp_path, "--format", "png")
    assert res.returncode == 0, res.stderr
    rb = read_back(tmp_path / "chart-1920x1080-10bit-rggb.png")
    assert rb["pixels"].shape == (1080, 1920, 3)


def test_existing_output_not_clobbered(tmp_path):
    need(N900)
    out = tmp_path / "o.jpg"
    out.write_bytes(b"keep me")
    res = run_cli("develop", N900, *N900_ARGS, "-o", out)
    assert_one_error(res, 4, "o.jpg")
    assert out.read_bytes() == b"keep me"
    res = run_cli("develop", N900, *N900_ARGS, "-o", out, "--overwrite")
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("how", ["-o", "default", "--overwrite"])
def test_output_equal_to_input_refused(tmp_path, how):
    """A JPEG developed to itself (explicitly, by the default name, or with --overwrite) is refused."""
    from PIL import Image
    src = tmp_path / "in.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96, 3), dtype=np.uint8)).save(src, quality=90)
    before = sha256(src)
    args = {"-o": ["-o", src], "default": [], "--overwrite": ["-o", src, "--overwrite"]}[how]
    res = run_cli("develop", src, *args)
    assert_one_error(res, 4, "in.jpg")
    assert sha256(src) == before and os.listdir(tmp_path) == ["in.jpg"]


def test_multi_file_call_develops_the_good_ones(tmp_path):
    good = need(RAW / "kodak-dc50.kdc")
    res = run_cli("develop", tmp_path / "missing.dng", good, RAW / "gopro-hero6-vc5.gpr", "--out-dir", tmp_path)
    assert res.returncode == 3, res.stderr
    assert (tmp_path / "kodak-dc50.jpg").is_file()
    errors = [ln for ln in res.err_lines if "error" in ln]
    assert len(errors) == 2 and "missing.dng" in errors[0] and "gopro-hero6-vc5.gpr" in errors[1], res.stderr
    assert "Traceback" not in res.stderr


# ----------------------------------------------------------------------------- bad input (exit 3)

def _png_header_only(path: Path, w: int, h: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def _truncated(src: Path, dst: Path, keep: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def test_missing_file(tmp_path):
    assert_one_error(run_cli("develop", tmp_path / "nope.dng", "--out-dir", tmp_path), 3, "nope.dng", "no such file")


def test_directory(tmp_path):
    assert_one_error(run_cli("develop", tmp_path, "--out-dir", tmp_path), 3, str(tmp_path), "directory")


def test_unsupported_codec(tmp_path):
    gpr = need(RAW / "gopro-hero6-vc5.gpr")
    res = run_cli("develop", gpr, "--out-dir", tmp_path)
    assert_one_error(res, 3, "gopro-hero6-vc5.gpr")
    msg = res.err_lines[0].lower()
    assert "unsupported" in msg and "corrupt" not in msg, msg      # a VC-5 DNG is not corrupt: it is unsupported


def test_truncated_dng(tmp_path):
    bad = _truncated(need(HERO6), tmp_path / "cut.dng", 0.3)
    res = run_cli("develop", bad, "--out-dir", tmp_path)
    assert_one_error(res, 3, "cut.dng")
    assert not (tmp_path / "cut.jpg").exists()


def test_truncated_jpeg(tmp_path):
    from PIL import Image
    full = tmp_path / "full.jpg"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (400, 600, 3), dtype=np.uint8)).save(full, quality=95)
    bad = _truncated(full, tmp_path / "cut.jpg", 0.4)
    res = run_cli("develop", bad, "-o", tmp_path / "x.png")
    assert_one_error(res, 3, "cut.jpg")
    assert not (tmp_path / "x.png").exists()


def test_png_header_claiming_100k_square(tmp_path):
    bad = _png_header_only(tmp_path / "huge.png", 100_000, 100_000)
    res = run_cli("develop", bad, "-o", tmp_path / "x.jpg")
    assert_one_error(res, 3, "huge.png", "100000")


def test_dump_larger_than_max_pixels(tmp_path):
    need(OPENISP)
    res = run_cli("develop", OPENISP, "--raw", "1920x1080,10,RGGB", "--max-pixels", "1000000", "--out-dir", tmp_path)
    assert_one_error(res, 3, "chart-1920x1080-10bit-rggb.raw", "--max-pixels")


def test_dump_spec_not_matching_file_size(tmp_path):
    need(OPENISP)
    res = run_cli("develop", OPENISP, "--raw", "2000x1000,10,RGGB", "--out-dir", tmp_path)
    assert_one_error(res, 3, "chart-1920x1080-10bit-rggb.raw", "bytes")


def test_empty_file(tmp_path):
    (tmp_path / "empty.dng").write_bytes(b"")
    assert_one_error(run_cli("develop", tmp_path / "empty.dng", "--out-dir", tmp_path), 3, "empty.dng")


def test_garbage_file(tmp_path):
    (tmp_path / "noise.cr2").write_bytes(np.random.default_rng(2).integers(0, 255, 50_000, dtype=np.uint8).tobytes())
    assert_one_error(run_cli("develop", tmp_path / "noise.cr2", "--out-dir", tmp_path), 3, "noise.cr2")


def test_all_zero_proraw(tmp_path):
    path = need(RAW / "iphone12pro-proraw-stripped.dng")
    res = run_cli("develop", path, "--out-dir", tmp_path)
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr, res.stderr
    assert res.returncode in (0, 3)
    if res.returncode == 3:
        assert_one_error(res, 3, "iphone12pro-proraw-stripped.dng")


# ----------------------------------------------------------------------------- bad parameters (exit 2)

@pytest.mark.parametrize("args,names", [
    (["--look", "no-such-look"], ["no-such-look"]),
    (["--look", "missing-look.toml"], ["missing-look.toml"]),
    (["--set", "tone.sparkle=1"], ["tone.sparkle"]),
    (["--set", "nostage.x=1"], ["nostage"]),
    (["--set", "tone.contrast=5"], ["tone.contrast", "5"]),
    (["--set", "exposure.ev=abc"], ["exposure.ev", "abc"]),
    (["--set", "tonecontrast"], ["tonecontrast"]),
    (["--raw", "1920x1080"], ["1920x1080"]),
    (["--raw", "1920by1080,10,RGGB"], ["1920by1080"]),
    (["--raw", "1920x1080,10,XYZW"], ["XYZW"]),
    (["--raw", "1920x1080,99,RGGB"], ["99"]),
    (["--raw", "1920x1080,10,RGGB,lots"], ["lots"]),
    (["--cfa", "QQQQ"], ["QQQQ"]),
    (["--cfa", "GRBG,x"], ["GRBG,x"]),
    (["--cfa", "GRBG,500,100"], ["GRBG,500,100"]),
    (["--wb", "purple"], ["purple"]),
    (["--wb", "99999K"], ["99999"]),
    (["--wb", "5000K,900"], ["900"]),
    (["--profile", "nope-profile.toml"], ["nope-profile.toml"]),
])
def test_bad_parameters(tmp_path, args, names):
    src = tmp_path / "never-read.dng"
    src.write_bytes(b"parameters are validated before any input is decoded")
    res = run_cli("develop", src, "--out-dir", tmp_path, *args)
    assert_one_error(res, 2, *names)
    assert sorted(os.listdir(tmp_path)) == ["never-read.dng"]


def test_usage_errors(tmp_path):
    res = run_cli("develop")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    res = run_cli("develop", tmp_path / "a.dng", tmp_path / "b.dng", "-o", tmp_path / "x.jpg")
    assert_one_error(res, 2, "-o")
    res = run_cli("develop", tmp_path / "a.dng", "--format", "gif")
    assert res.returncode == 2 and "gif" in res.stderr and "Traceback" not in res.stderr


def test_debug_shows_traceback(tmp_path):
    res = run_cli("--debug", "develop", tmp_path / "nope.dng")
    assert res.returncode != 0 and "Traceback" in res.stderr


def test_help_and_version():
    res = run_cli("--help")
    assert res.returncode == 0 and "develop" in res.stdout and "demo" in res.stdout
    res = run_cli("--version")
    assert res.returncode == 0 and "0." in res.stdout


def test_demo(tmp_path):
    res = run_cli("demo", tmp_path / "demo")
    assert res.returncode == 0, res.stderr
    files = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert any(n.endswith(".png") and "sheet" in n for n in files) or any("contact" in n for n in files), files
    assert len([n for n in files if n.endswith((".jpg", ".png"))]) >= 3, files


def test_a_closed_pipe_ends_quietly():
    """`rawlux looks | true`: the reader goes away early; no 'internal error', no traceback."""
    import subprocess

    code = "import sys; from rawlux.cli import main; sys.exit(main())"
    p = subprocess.Popen([sys.executable, "-c", code, "looks"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()                      # the reader is gone before the first line (the child is still importing)
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "internal error" not in err and "Traceback" not in err
