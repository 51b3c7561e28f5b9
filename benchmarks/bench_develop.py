"""Whole-process develop of a 12 MP DNG to JPEG: rawlux vs rawpy's postprocess() + Pillow (and darktable-cli /
rawtherapee-cli when installed), interleaved in one run. Each run is a fresh subprocess; wall time and peak RSS
are measured; the table shows the median of N runs (the candidates take turns, run by run).

    python benchmarks/bench_develop.py [--runs 5] [--file ../shared/data/raw/gopro-hero6-12mp.dng] [--batch 4]

Candidates:
- `rawlux develop IN -o OUT.jpg` (the default: the command hands the job to the warm worker, started before the
  runs with `rawlux worker start`; RAWLUX_WORKER=require so a run that did not use it fails). Peak RSS is the
  larger of the command's and the worker job's (the forked child that did the work, which shares the warm
  worker's pages; `--timings` prints it);
- `rawlux develop` in its own process (RAWLUX_WORKER=off): a whole new process, imports and numba start-up
  included (what the first command of a session pays);
- rawlux API (warm): one process develops + saves once to warm up, then the timed develop + save (reported from
  inside the child: what a long-running app or batch worker pays per photo);
- rawpy postprocess + Pillow: LibRaw's default AHD develop, sRGB 8-bit, saved as JPEG q92;
- darktable-cli / rawtherapee-cli when found on PATH.

Then a per-stage table (median over the runs): the `--timings` rows of the command in its own process and
through the worker (start-up, setup, decode, each stage that ran, encode; first-use imports and numba cache
loading land in the stage that triggers them) beside the warm in-process develop's. And, with ``--batch N``
(default 4, 0 to skip), `rawlux batch` throughput on N copies of the file (images per minute, the batch's own
count, pool start-up included).
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
stages = {}
t0 = time.perf_counter()
frame = rawlux.develop(src, timings=stages)
t1 = time.perf_counter()
rawlux.save(frame, out, quality=92)
dt = time.perf_counter() - t0
stages["encode"] = time.perf_counter() - t1
stages["other (notes, checks)"] = max(dt - sum(stages.values()), 0.0)   # the rows add up to the timed total
print(json.dumps({"inner_s": dt, "stages": stages}))
"""

PEAK = "peak memory (MiB)"
TOTAL, PROCESS_ROWS = "total (this file)", ("start-up (interpreter + imports)", "setup (options, look, stage modules)",
                                             "process so far")


def parse_timings(stdout: str) -> dict[str, float]:
    """The rows of the first `rawlux develop --timings` table in ``stdout`` (step → seconds)."""
    rows: dict[str, float] = {}
    inside = False
    for line in stdout.splitlines():
        if line.strip().startswith("peak memory of this process"):
            rows[PEAK] = float(line.split(":", 1)[1].split()[0])
            continue
        if line.startswith("timings: "):
            if inside:
                break
            inside = True
        elif inside and line.startswith("  ") and not line.strip().startswith("step "):
            parts = line.strip().rsplit(None, 2)
            if len(parts) == 3 and parts[2].endswith("%"):
                name, sec = parts[0], parts[1]
            else:
                name, sec = line.strip().rsplit(None, 1)
            rows[name.strip()] = float(sec)
    return rows


def stage_table(columns: dict[str, list[dict[str, float]]], warm: list[dict[str, float]]) -> list[str]:
    """Markdown rows: each step with the median of each CLI column's runs and of the warm in-process runs."""
    def med(runs: list[dict[str, float]], k: str) -> str:
        v = [r[k] for r in runs if k in r]
        return f"{statistics.median(v):.3f}" if v else ""
    cli_runs = [r for runs in columns.values() for r in runs]
    names = list(dict.fromkeys([*PROCESS_ROWS[:2],
                                *(k for r in cli_runs for k in r if k not in (TOTAL, PEAK, *PROCESS_ROWS)),
                                *(k for r in warm for k in r)]))
    out = ["| step | " + " | ".join(f"{c} (s)" for c in columns) + " | in process, warm (s) |",
           "|---|" + "---:|" * (len(columns) + 1)]
    for k in names:
        out.append(f"| {k} | " + " | ".join(med(runs, k) for runs in columns.values()) + f" | {med(warm, k)} |")
    warm_tot = [sum(r.values()) for r in warm]
    out.append("| **develop + save** | " + " | ".join(med(runs, TOTAL) for runs in columns.values())
               + f" | {statistics.median(warm_tot) if warm_tot else 0:.3f} |")
    out.append("| **process so far** (start-up + setup + develop) | "
               + " | ".join(med(runs, PROCESS_ROWS[2]) for runs in columns.values()) + " | |")
    out.append("| peak memory of the process that did the work (MiB) | "
               + " | ".join(med(runs, PEAK)[:-4] for runs in columns.values()) + " | |")
    return out


def batch_throughput(src: Path, n: int, tmp: Path) -> str:
    """`rawlux batch` over ``n`` copies of ``src`` (2 workers): its own images per minute, and the process wall."""
    folder = tmp / "batch-in"
    folder.mkdir()
    for i in range(n):
        shutil.copyfile(src, folder / f"copy{i}{src.suffix}")
    cmd = [sys.executable, "-m", "rawlux.cli", "batch", str(folder), "--out-dir", str(tmp / "batch-out"), "--json",
           "-q", "--glob", f"*{src.suffix}"]
    wall, rss, out = run_child(cmd)
    rep = json.loads(out)
    return (f"rawlux batch, {n} copies of `{src.name}`, {rep['executor']}: **{rep['images_per_minute']:.1f} "
            f"images/min** (batch wall {rep['wall_seconds']:.2f} s, whole process {wall:.2f} s, "
            f"peak RSS of the parent {rss:.0f} MiB)")

RAWPY = r"""
import sys, rawpy
from PIL import Image
with rawpy.imread(sys.argv[1]) as rp:
    rgb = rp.postprocess()
Image.fromarray(rgb).save(sys.argv[2], quality=92)
"""


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run one child; return (wall seconds, its peak RSS in MiB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = p.stdout.read().decode() if p.stdout else ""
    err = p.stderr.read().decode() if p.stderr else ""
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} … failed ({p.returncode}): {err.strip()[-400:]}")
    return wall, ru.ru_maxrss / 1024.0, out   # Linux: ru_maxrss in KiB


WORKER, OWN = "rawlux develop (warm worker, the default)", "rawlux develop (own process, RAWLUX_WORKER=off)"


def rawlux_command() -> list[str]:
    """The installed `rawlux` script beside this interpreter (what users type), else `python -m rawlux.cli`."""
    script = Path(sys.executable).with_name("rawlux")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rawlux.cli"]


def candidates(src: Path, tmp: Path) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    py = sys.executable
    rl = rawlux_command()
    dev = ["develop", str(src), "-o", str(tmp / "cli.jpg"), "--overwrite", "-q", "--timings"]
    c = {
        WORKER: (rl + dev, dict(os.environ, RAWLUX_WORKER="require")),
        OWN: (rl + dev, dict(os.environ, RAWLUX_WORKER="off")),
        "rawlux develop+save, in process (warm)": ([py, "-c", WARM, str(src), str(tmp / "warm.jpg")], None),
        "rawpy postprocess() + Pillow JPEG": ([py, "-c", RAWPY, str(src), str(tmp / "rawpy.jpg")], None),
    }
    dt = shutil.which("darktable-cli")
    if dt:
        c["darktable-cli"] = ([dt, str(src), str(tmp / "dt.jpg"), "--core", "--configdir", str(tmp / "dtconf")], None)
    rt = shutil.which("rawtherapee-cli")
    if rt:
        c["rawtherapee-cli"] = ([rt, "-o", str(tmp / "rt.jpg"), "-j92", "-Y", "-c", str(src)], None)
    return c


def measure(cands: dict, runs: int) -> tuple[dict, dict, list]:
    """Run every candidate ``runs`` times, taking turns; per candidate: walls, peak RSS, inner times."""
    res = {name: {"walls": [], "rss": [], "inner": [], "stages": [], "error": ""} for name in cands}
    warm_stages: list[dict[str, float]] = []
    for _ in range(runs):
        for name, (cmd, env) in cands.items():
            r = res[name]
            if r["error"]:
                continue
            try:
                w, m, out = run_child(cmd, env)
            except RuntimeError as e:
                r["error"] = str(e)
                continue
            r["walls"].append(w)
            if out.strip().startswith("{"):
                rec = json.loads(out.strip().splitlines()[-1])
                r["inner"].append(rec["inner_s"])
                warm_stages.append(rec.get("stages") or {})
            elif "--timings" in cmd:
                st = parse_timings(out)
                r["stages"].append(st)
                m = max(m, st.get(PEAK, 0.0))          # the worker's job, when a worker did the work
            r["rss"].append(m)
    return res, {n: res[n]["stages"] for n in (WORKER, OWN) if res[n]["stages"]}, warm_stages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--file", type=Path, default=DEFAULT)
    ap.add_argument("--batch", type=int, default=4, help="copies of the file for the batch line (0: skip it)")
    a = ap.parse_args()
    src = a.file.resolve()
    if not src.is_file():
        print(f"bench_develop: {src} not found", file=sys.stderr)
        return 2
    batch_line = ""
    started = subprocess.run(rawlux_command() + ["worker", "start"], capture_output=True, text=True,
                             env=dict(os.environ, RAWLUX_WORKER="on"))
    if started.returncode != 0:
        print(f"bench_develop: the worker did not start: {started.stderr.strip()}", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory() as td:
            tmp = Path(td)
            res, columns, warm_stages = measure(candidates(src, tmp), a.runs)
            if a.batch > 0:
                try:
                    batch_line = batch_throughput(src, a.batch, tmp)
                except (RuntimeError, ValueError, KeyError) as e:
                    batch_line = f"rawlux batch: failed: {e}"
    finally:
        subprocess.run(rawlux_command() + ["worker", "stop"], capture_output=True)
    ref = res.get("rawpy postprocess() + Pillow JPEG", {}).get("walls")
    ref_t = statistics.median(ref) if ref else None
    print(f"\nDevelop `{src.name}` to JPEG (q92), median of {a.runs} runs taking turns, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}\n")
    print("| candidate | time per photo (s) | × rawpy | process wall (s) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name, r in res.items():
        if r["error"] or not r["walls"]:
            print(f"| {name} | failed: {r['error']} | | | |")
            continue
        t = statistics.median(r["inner"]) if r["inner"] else statistics.median(r["walls"])
        ratio = f"{t / ref_t:.2f}" if ref_t else ""
        print(f"| {name} | {t:.2f} | {ratio} | {statistics.median(r['walls']):.2f} | {max(r['rss']):.0f} |")
    print("\n'time per photo' is the timed develop+save inside a warm process for the in-process row, and the "
          "whole process wall time for the others; peak RSS is the child's maximum resident set (for the worker "
          "row, the larger of the command's and its job's).")
    if columns or warm_stages:
        print(f"\nPer stage (median of {a.runs}; `rawlux develop --timings` for the commands, the runner's "
              "timings for the warm one; first-use imports and numba start-up count in the stage that makes them):\n")
        print("\n".join(stage_table(columns, warm_stages)))
    if batch_line:
        print(f"\n{batch_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
