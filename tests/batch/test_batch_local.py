"""End-to-end batches on the local process pool: real decoders, real SQLite, real processes and signals."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from batchkit import (KDC, N900, batch_cmd, copies, env, leftovers, need_data, read_image, rows,
                      run_batch_cli, sha256)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_mixed_folder_failures_recorded_and_reruns_skip(mixed_folder: Path, tmp_path: Path) -> None:
    import rawlux
    from rawlux.batch import run_batch

    out = tmp_path / "out"
    rep = run_batch([str(mixed_folder)], out, workers=2)
    by = {Path(f.src).name: f for f in rep.files}
    # the scan took the raws and ignored notes.txt, the hidden file and the sidecar
    assert sorted(by) == ["a.kdc", "b.kdc", "c.dng", "garbage.nef", "truncated.dng", "vc5.gpr"]
    assert {n for n, f in by.items() if f.status == "done"} == {"a.kdc", "b.kdc", "c.dng"}
    assert {n for n, f in by.items() if f.status == "failed"} == {"garbage.nef", "truncated.dng", "vc5.gpr"}
    for n in ("garbage.nef", "truncated.dng", "vc5.gpr"):
        assert n in by[n].error and by[n].error_code == 3, by[n].error
    assert "unsupported" in by["vc5.gpr"].error
    assert rep.exit_code == 3

    # outputs are complete images; the batch gives what develop + save give; the sidecar was honoured
    ref = rawlux.develop(KDC)
    rawlux.save(ref, tmp_path / "ref.jpg")
    a, b, c = (read_image(out / n) for n in ("a.jpg", "b.jpg", "c.jpg"))
    r = read_image(tmp_path / "ref.jpg")
    assert a.shape == r.shape and psnr(a, r) > 40.0
    assert b.shape == a.shape and 1.2 < b.mean() / a.mean() < 2.5      # exposure.target 0.3 from b.kdc.rawlux.toml
    assert c.shape[:2] == (338, 600)
    assert not leftovers(out)

    # the catalog: WAL, input hashes, output checksums, errors
    cat = rows(out)
    db = sqlite3.connect(out / ".rawlux" / "catalog.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    for n in ("a.kdc", "b.kdc", "c.dng"):
        row = cat[str(mixed_folder / n)]
        assert row["status"] == "done" and row["attempts"] == 1
        assert row["content_hash"] == sha256(mixed_folder / n)
        assert row["out_checksum"] == sha256(out / row["out_path"])
        assert row["worker"] and row["seconds"] > 0 and json.loads(row["timings"])["encode"] > 0
    assert cat[str(mixed_folder / "a.kdc")]["job_hash"] != cat[str(mixed_folder / "b.kdc")]["job_hash"]
    assert "truncated" in cat[str(mixed_folder / "truncated.dng")]["error"] or \
        "corrupt" in cat[str(mixed_folder / "truncated.dng")]["error"]

    # re-run: nothing to do, everything reported as skipped, outputs untouched, still exit code 3
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.jpg")}
    rep2 = run_batch([str(mixed_folder)], out, workers=2)
    assert rep2.done == 0 and rep2.skipped == 3 and rep2.count("skipped-failed") == 3
    assert rep2.exit_code == 3
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.jpg")} == mtimes

    # a touched (same bytes) input is recognised by its hash; a changed sidecar redoes that file only;
    # a dry run writes nothing
    os.utime(mixed_folder / "a.kdc", ns=(time.time_ns(), time.time_ns()))
    (mixed_folder / "b.kdc.rawlux.toml").write_text("schema_version = 1\n[exposure]\ntarget = 0.1\n")
    before = sha256(out / ".rawlux" / "catalog.sqlite")
    dry = run_batch([str(mixed_folder)], out, dry_run=True)
    assert [Path(f.src).name for f in dry.files if f.status == "would-run"] == ["b.kdc"]
    assert sha256(out / ".rawlux" / "catalog.sqlite") == before
    rep3 = run_batch([str(mixed_folder)], out, workers=1)
    assert [Path(f.src).name for f in rep3.files if f.status == "done"] == ["b.kdc"]
    assert read_image(out / "b.jpg").mean() < a.mean()
    assert (out / "a.jpg").stat().st_mtime_ns == mtimes["a.jpg"]

    # --retry-failed tries the failures again (and they fail again, recorded once more)
    rep4 = run_batch([str(mixed_folder)], out, workers=1, retry_failed=True)
    assert rep4.count("failed") == 3 and rep4.done == 0 and rep4.skipped == 3
    assert rows(out)[str(mixed_folder / "vc5.gpr")]["attempts"] == 2


def test_cli_json_exit_codes_cfa_and_bad_options(tmp_path: Path) -> None:
    need_data()
    if not N900.exists():
        pytest.skip("N900 mosaic absent")
    src = tmp_path / "phone"
    src.mkdir()
    (src / "n900.png").write_bytes(N900.read_bytes())
    (src / "n900b.png").write_bytes(N900.read_bytes())
    out = tmp_path / "out"
    # a bad option is refused before anything is written
    bad = run_batch_cli(src, "--out-dir", out, "--cfa", "GRBG,50,1023", "--set", "tone.nonsense=1")
    assert bad.returncode == 2 and "nonsense" in bad.stderr and not out.exists()
    res = run_batch_cli(src, "--out-dir", out, "--cfa", "GRBG,50,1023", "--json", "-j", "1",
                        "--set", "tone.contrast=1.1", "--format", "png", "--bits", "16")
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["counts"]["done"] == 2 and rep["counts"]["failed"] == 0 and rep["exit_code"] == 0
    import cv2
    for f in rep["files"]:
        px = cv2.imread(str(out / f["out"]), cv2.IMREAD_UNCHANGED)
        assert px is not None and px.dtype == np.uint16 and px.shape == (344, 256, 3)
        assert 0.05 < px.mean() / 65535 < 0.95 and px.std() > 500
    again = run_batch_cli(src, "--out-dir", out, "--cfa", "GRBG,50,1023", "--json",
                          "--set", "tone.contrast=1.1", "--format", "png", "--bits", "16")
    assert again.returncode == 0 and json.loads(again.stdout)["counts"]["skipped"] == 2


def _wait_for(pred, timeout: float, what: str) -> None:
    t = time.time()
    while time.time() - t < timeout:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _done_count(out: Path) -> int:
    try:
        return sum(1 for r in rows(out).values() if r["status"] == "done")
    except sqlite3.Error:
        return 0


def _spawn_children(pid: int) -> list:
    psutil = pytest.importorskip("psutil")
    try:
        kids = psutil.Process(pid).children()
    except psutil.Error:
        return []
    return [k for k in kids if "spawn_main" in " ".join(k.cmdline())]


def test_sigkill_mid_run_then_resume_completes_without_duplicate_work(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")

    src = tmp_path / "in"
    inputs = copies(src, 10)
    out = tmp_path / "out"
    p = subprocess.Popen(batch_cmd(src, "--out-dir", out, "-j", "2", "-q"), env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _done_count(out) >= 2 or p.poll() is not None, 120, "two files done")
        workers = _spawn_children(p.pid)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == -signal.SIGKILL
    # the workers die with the batch (no orphan keeps writing)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    cat = rows(out)
    done_before = {s: r for s, r in cat.items() if r["status"] == "done"}
    assert 2 <= len(done_before) < len(inputs)
    for s, r in done_before.items():       # every 'done' row points at a complete output
        assert sha256(out / r["out_path"]) == r["out_checksum"]
    stamp = {s: (out / r["out_path"]).stat().st_mtime_ns for s, r in done_before.items()}

    res = run_batch_cli(src, "--out-dir", out, "-j", "2", "--json")
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    # the second run redid exactly the files not recorded done, nothing more
    assert rep["counts"]["skipped"] == len(done_before)
    assert rep["counts"]["done"] == len(inputs) - len(done_before)
    cat = rows(out)
    assert all(r["status"] == "done" for r in cat.values()) and len(cat) == len(inputs)
    for s, r in cat.items():
        img = read_image(out / r["out_path"])
        assert img.shape[0] > 300 and img.std() > 5
        assert sha256(out / r["out_path"]) == r["out_checksum"]
    for s, t in stamp.items():
        assert (out / cat[s]["out_path"]).stat().st_mtime_ns == t     # finished work was not redone
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(f"img_{i:03d}.jpg" for i in range(10))
    assert not leftovers(out)


def test_a_worker_killed_mid_file_is_replaced_and_the_file_redone(tmp_path: Path) -> None:
    src = tmp_path / "in"
    inputs = copies(src, 6, (KDC,))
    out = tmp_path / "out"
    p = subprocess.Popen(batch_cmd(src, "--out-dir", out, "-j", "2", "--json"), env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _done_count(out) >= 1 or p.poll() is not None, 120, "a first file")
        victims = _spawn_children(p.pid)
        assert victims, "no worker processes found"
        victims[0].kill()
        stdout, stderr = p.communicate(timeout=150)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, stderr
    rep = json.loads(stdout)
    assert rep["counts"]["done"] == len(inputs) and rep["counts"]["failed"] == 0
    cat = rows(out)
    assert len(cat) == len(inputs) and all(r["status"] == "done" for r in cat.values())
    for r in cat.values():
        assert sha256(out / r["out_path"]) == r["out_checksum"]
        read_image(out / r["out_path"])
    assert len({r["worker"] for r in cat.values()}) >= 2
