"""``rawlux batch --hdr``: every output an Ultra HDR (gain-map) JPEG; a changed HDR option re-develops."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchkit import LG, need_data, run_batch_cli


def test_batch_hdr_writes_ultra_hdr_jpegs_and_hdr_options_are_in_the_job_hash(tmp_path: Path) -> None:
    need_data()
    from rawlux.io.ultrahdr import read_hdr

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.dng").write_bytes(LG.read_bytes())
    (src / "b.dng").write_bytes(LG.read_bytes())
    out = tmp_path / "out"
    res = run_batch_cli(src, "--out-dir", out, "--hdr", "--hdr-headroom", "2", "--json", "-j", "1", "--glob", "*.dng")
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["counts"]["done"] == 2 and rep["counts"]["failed"] == 0
    for f in rep["files"]:
        sdr, hdr, meta, _space = read_hdr(out / f["out"])
        assert sdr.shape == hdr.shape == (338, 600, 3)
        # the HDR rendition reaches above SDR white (up to the asked 2 stops), never below the base
        assert float(meta.capacity_max) == pytest.approx(2.0, abs=0.05)
        assert float(hdr.max()) > 1.2 and float(hdr.max()) <= 4.0 * 1.05
    # same options: skipped; another gain-map option: the job changed, both re-developed
    again = run_batch_cli(src, "--out-dir", out, "--hdr", "--hdr-headroom", "2", "--json", "-j", "1", "--glob", "*.dng")
    assert again.returncode == 0 and json.loads(again.stdout)["counts"]["skipped"] == 2
    mono = run_batch_cli(src, "--out-dir", out, "--hdr", "--hdr-headroom", "2", "--hdr-map", "mono", "--json",
                         "-j", "1", "--glob", "*.dng")
    assert mono.returncode == 0, mono.stderr
    rep = json.loads(mono.stdout)
    assert rep["counts"]["done"] == 2
    _sdr, _hdr, meta, _ = read_hdr(out / rep["files"][0]["out"])
    assert len(set(meta.gain_max)) == 1     # one map for all channels


@pytest.mark.parametrize("args, message", [
    (["--hdr", "--format", "png"], "--hdr cannot be written as PNG"),
    (["--hdr", "--bits", "16", "--format", "heif"], "--bits 16 with --hdr"),
    (["--hdr", "--frame", "bar"], "--frame cannot be combined with --hdr"),
    (["--format", "avif"], "AVIF is written for HDR output only"),
])
def test_batch_hdr_bad_combinations_refused_before_any_work(tmp_path: Path, args, message) -> None:
    need_data()
    out = tmp_path / "out"
    res = run_batch_cli(LG, "--out-dir", out, *args)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert not out.exists()
