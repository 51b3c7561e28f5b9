"""``rawlux burst``: files in, photo and DNG out; clear one-line errors."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from rawlux.burst.cli import burst


@pytest.fixture(scope="module")
def burst_files(tmp_path_factory, moving_burst):
    folder = tmp_path_factory.mktemp("burst")
    return [str(p) for p in moving_burst.write(folder)][:4]


def run(args):
    return CliRunner().invoke(burst, args, catch_exceptions=False)


def test_cli_writes_photo_and_dng(tmp_path, burst_files, moving_burst):
    import rawlux
    from rawlux.burst.api import normalise
    from rawlux.burst.simulate import score

    out, raw = tmp_path / "night.jpg", tmp_path / "merged.dng"
    r = run([*burst_files, "-o", str(out), "--out-raw", str(raw), "--ref", "0", "--look", "natural"])
    assert r.exit_code == 0, r.output
    assert "merged 4 frames" in r.output and "reference 0" in r.output
    assert out.stat().st_size > 10_000
    merged = rawlux.open_image(raw)
    assert merged.meta.cfa_pattern == "RGGB" and merged.pixels.shape == (512, 512)
    # the DNG holds the merge: better than the reference frame against the truth
    assert score(normalise(merged), moving_burst)[0] > score(normalise(moving_burst.frames[0]), moving_burst)[0] + 4


def test_cli_hdr_and_fusion(tmp_path, burst_files):
    r = run([*burst_files[:3], "--mode", "hdr", "--out-raw", str(tmp_path / "h.dng"), "-q"])
    assert r.exit_code == 0 and r.output == ""
    r = run([*burst_files[:3], "--mode", "fusion", "-o", str(tmp_path / "f.png")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "f.png").exists()


@pytest.mark.parametrize("extra, code, message", [
    (["--ref", "9"], 2, "--ref 9: only 4 frames"),
    (["--ref", "sharp"], 2, "expected 'auto' or a frame index"),
    (["--out-raw", "x.tif"], 2, "written as DNG"),
    (["--mode", "fusion", "--out-raw", "x.dng"], 2, "fusion blends developed images"),
])
def test_cli_bad_options(tmp_path, burst_files, extra, code, message):
    r = CliRunner().invoke(burst, [*burst_files, "-o", str(tmp_path / "o.jpg"), *extra])
    assert r.exit_code == code
    assert message in r.output


def test_cli_nothing_to_write_and_existing_output(tmp_path, burst_files):
    r = CliRunner().invoke(burst, burst_files)
    assert r.exit_code == 2 and "nothing to write" in r.output
    (tmp_path / "o.jpg").write_bytes(b"x")
    r = CliRunner().invoke(burst, [*burst_files, "-o", str(tmp_path / "o.jpg")])
    assert r.exit_code == 4 and "exists" in r.output
    assert (tmp_path / "o.jpg").read_bytes() == b"x"


def test_cli_mismatched_and_missing_frames(tmp_path, burst_files):
    import rawlux
    from rawlux.io.dngwrite import write_dng

    f = rawlux.open_image(burst_files[0])
    small = write_dng(tmp_path / "small.dng", np.ascontiguousarray(f.pixels[:256, :256]), f.meta)
    r = CliRunner().invoke(burst, [burst_files[0], str(small), "-o", str(tmp_path / "o.jpg")])
    assert r.exit_code == 3
    assert "differ in size" in r.output and "small.dng" in r.output and "burst_00.dng" in r.output
    r = CliRunner().invoke(burst, [burst_files[0], str(tmp_path / "missing.dng"), "-o", str(tmp_path / "o.jpg")])
    assert r.exit_code == 3 and "missing.dng" in r.output and "no such file" in r.output
    assert not (tmp_path / "o.jpg").exists()


def test_registered_under_the_rawlux_command(tmp_path, burst_files, monkeypatch, capsys):
    """Through `rawlux burst ...` (the lead registers COMMANDS['burst'] = 'rawlux.burst.cli:burst')."""
    import rawlux.cli as main_cli

    monkeypatch.setitem(main_cli.COMMANDS, "burst", "rawlux.burst.cli:burst")
    code = main_cli.main(["burst", *burst_files[:2], "--out-raw", str(tmp_path / "m.dng"), "-q"])
    assert code == 0 and (tmp_path / "m.dng").exists()
    code = main_cli.main(["burst", burst_files[0], str(tmp_path / "nope.dng"), "-o", str(tmp_path / "x.jpg")])
    assert code == 3
    assert "nope.dng" in capsys.readouterr().err


@pytest.fixture(scope="module")
def bracket_files(tmp_path_factory, bright_scene):
    """3 small exposure brackets (−2, 0, +2 EV) of a scene whose highlights reach 3× a middle exposure's white."""
    from rawlux.burst.simulate import simulate_burst

    sim = simulate_burst(bright_scene, 3, iso=400, seed=3, size=(256, 256), shift=4.0, rotation=0.2,
                         exposures=[0.25, 1.0, 4.0], ref=1)
    return [str(p) for p in sim.write(tmp_path_factory.mktemp("brackets"))]


def test_cli_hdr_merge_writes_an_ultra_hdr_jpeg(tmp_path, bracket_files):
    from rawlux.io.ultrahdr import read_hdr

    out = tmp_path / "hdr.jpg"
    r = run([*bracket_files, "--mode", "hdr", "--ref", "1", "-o", str(out), "--hdr", "--hdr-headroom", "2", "-q"])
    assert r.exit_code == 0, r.output
    sdr, hdr, meta, _space = read_hdr(out)
    assert sdr.shape == hdr.shape == (256, 256, 3)
    assert meta.capacity_max == pytest.approx(2.0, abs=0.05)
    # the merged highlights (up to 3× SDR white in the scene) come back above SDR white in the HDR rendition
    assert float(np.percentile(hdr, 99.9)) > 1.3 and float(hdr.max()) <= 4.0 * 1.05
    # without --hdr: a plain JPEG, no gain map
    plain = tmp_path / "sdr.jpg"
    assert run([*bracket_files, "--mode", "hdr", "-o", str(plain), "-q"]).exit_code == 0
    from rawlux.io.ultrahdr import is_ultrahdr
    assert is_ultrahdr(out) and not is_ultrahdr(plain)


@pytest.mark.parametrize("extra, message", [
    (["--mode", "fusion", "-o", "f.jpg", "--hdr"], "fusion blends display-referred images"),
    (["--out-raw", "m.dng", "--hdr"], "--hdr describes the finished photo"),
    (["-o", "o.png", "--hdr"], "--hdr cannot be written as PNG"),
    (["-o", "o.avif"], "AVIF is written for HDR output only"),
])
def test_cli_hdr_bad_options(tmp_path, bracket_files, extra, message):
    extra = [str(tmp_path / e) if e.endswith((".jpg", ".dng", ".png", ".avif")) else e for e in extra]
    r = CliRunner().invoke(burst, [*bracket_files, *extra])
    assert r.exit_code == 2 and message in r.output, r.output
    assert not any(tmp_path.iterdir())
