"""Hot folder: files that appear (copied in slowly, or renamed into place) are developed once each, whole."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from batchkit import KDC, LG, batch_cmd, env, leftovers, need_data, read_image, rows, sha256


def test_watch_develops_new_files_once_and_stops_cleanly(tmp_path: Path) -> None:
    need_data()
    src = tmp_path / "hot"
    src.mkdir()
    shutil.copy(LG, src / "first.dng")
    out = tmp_path / "out"
    p = subprocess.Popen(batch_cmd(src, "--out-dir", out, "--watch", "--watch-interval", "0.5", "-j", "1",
                                   "--json"), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t = time.time()
        while not (out / "first.jpg").exists():
            assert p.poll() is None and time.time() - t < 120, p.stderr.read() if p.poll() is not None else "slow"
            time.sleep(0.2)
        # a camera card copy: written in slow chunks (pauses shorter than the scan interval)
        data = KDC.read_bytes()
        with open(src / "slow.kdc", "wb") as fh:
            for i in range(0, len(data), len(data) // 6 + 1):
                fh.write(data[i:i + len(data) // 6 + 1])
                fh.flush()
                time.sleep(0.3)
        # a tool that writes under a hidden name and renames into place
        shutil.copy(LG, src / ".partial.dng")
        os.replace(src / ".partial.dng", src / "renamed.dng")
        t = time.time()
        while not ((out / "slow.jpg").exists() and (out / "renamed.jpg").exists()):
            assert p.poll() is None and time.time() - t < 120
            time.sleep(0.2)
        time.sleep(1.5)                      # a few more scans: nothing may be developed twice
        p.send_signal(signal.SIGTERM)
        stdout, stderr = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, stderr
    rep = json.loads(stdout)
    assert rep["counts"]["done"] == 3 and rep["counts"]["failed"] == 0 and not rep["interrupted"]
    cat = rows(out)
    assert sorted(Path(s).name for s in cat) == ["first.dng", "renamed.dng", "slow.kdc"]
    for s, r in cat.items():
        assert r["status"] == "done" and r["attempts"] == 1          # once each
        assert r["content_hash"] == sha256(s)                         # the whole file, not a prefix
        assert sha256(out / r["out_path"]) == r["out_checksum"]
        read_image(out / r["out_path"])
    assert read_image(out / "slow.jpg").shape[:2] == (512, 768)
    assert not leftovers(out)
