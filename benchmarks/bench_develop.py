"""Whole-process develop of a 12 MP DNG to JPEG: rawlux vs rawpy's postprocess() + Pillow (and darktable-cli /
rawtherapee-cli when installed). Each run is a fresh subprocess; wall time and peak RSS (of that child) are
measured; the table shows the median of N runs.

    python benchmarks/bench_develop.py [--runs 5] [--file ../shared/data/raw/gopro-hero6-12mp.dng]

Candidates:
- rawlux API (warm): one process develops + saves once to warm the numba cache/imports, then the timed
  develop + save (reported from inside the child: what a long-running app or batch worker pays per photo);
- rawlux CLI (cold): `python -m rawlux.cli develop IN -o OUT.jpg` — a whole new process, imports included;
- rawpy postprocess + Pillow: LibRaw's default AHD develop, sRGB 8-bit, saved as JPEG q92;
- darktable-cli / rawtherapee-cli when found on PATH.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / ".." / "shared" / "data" / "raw" / "gopro-hero6-12mp.dng"

WARM = r"""
import json, sys, time
import rawlux
src, out = sys.argv[1], sys.argv[2]
rawlux.save(rawlux.develop(src), out, quality=92)          # warm-up: imports, numba cache, LUTs
t0 = time.perf_counter()
rawlux.save(rawlux.develop(src), out, quality=92)
dt = time.perf_counter() - t0
print(json.dumps({"inner_s": dt}))
"""

RAWPY = r"""
import sys, rawpy
from PIL import Image
with rawpy.imread(sys.argv[1]) as rp:
    rgb = rp.postprocess()
Image.fromarray(rgb).save(sys.argv[2], quality=92)
"""


def run_child(cmd: list[str]) -> tuple[float, float, str]:
    """Run one child; return (wall seconds, its peak RSS in MiB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = p.stdout.read().decode() if p.stdout else ""
    err = p.stderr.read().decode() if p.stderr else ""
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} … failed ({p.returncode}): {err.strip()[-400:]}")
    return wall, ru.ru_maxrss / 1024.0, out   # Linux: ru_maxrss in KiB


def candidates(src: Path, tmp: Path) -> dict[str, list[str]]:
    py = sys.executable
    c = {
        "rawlux develop+save, in process (warm)": [py, "-c", WARM, str(src), str(tmp / "warm.jpg")],
        "rawlux CLI, cold process": [py, "-m", "rawlux.cli", "develop", str(src), "-o",
                                     str(tmp / "cli.jpg"), "--overwrite", "-q"],
        "rawpy postprocess() + Pillow JPEG": [py, "-c", RAWPY, str(src), str(tmp / "rawpy.jpg")],
    }
    dt = shutil.which("darktable-cli")
    if dt:
        c["darktable-cli"] = [dt, str(src), str(tmp / "dt.jpg"), "--core", "--configdir", str(tmp / "dtconf")]
    rt = shutil.which("rawtherapee-cli")
    if rt:
        c["rawtherapee-cli"] = [rt, "-o", str(tmp / "rt.jpg"), "-j92", "-Y", "-c", str(src)]
    return c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--file", type=Path, default=DEFAULT)
    a = ap.parse_args()
    src = a.file.resolve()
    if not src.is_file():
        print(f"bench_develop: {src} not found", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for name, cmd in candidates(src, tmp).items():
            walls, rss, inner = [], [], []
            try:
                for _ in range(a.runs):
                    w, m, out = run_child(cmd)
                    walls.append(w)
                    rss.append(m)
                    if out.strip().startswith("{"):
                        inner.append(json.loads(out.strip().splitlines()[-1])["inner_s"])
            except RuntimeError as e:
                rows.append((name, None, None, None, str(e)))
                continue
            t = statistics.median(inner) if inner else statistics.median(walls)
            rows.append((name, t, max(rss), statistics.median(walls), ""))
            print(f"  {name}: {t:.2f} s", file=sys.stderr)
    print(f"\nDevelop `{src.name}` to JPEG (q92), median of {a.runs} runs, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}\n")
    print("| candidate | time per photo (s) | process wall (s) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|")
    for name, t, m, w, err in rows:
        if t is None:
            print(f"| {name} | failed: {err} | | |")
        else:
            print(f"| {name} | {t:.2f} | {w:.2f} | {m:.0f} |")
    print("\n'time per photo' is the timed develop+save inside a warm process for the in-process row, and the "
          "whole process wall time for the others; peak RSS is the child's maximum resident set.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
