"""Batch throughput: a folder of 12 MP raws (copies of the Hero6 DNG, each with its own sidecar recipe).

    python benchmarks/bench_batch.py                 # 8 files
    python benchmarks/bench_batch.py --count 16 --workers 2

Rows (same folder, same machine, one after the other; each row is a fresh batch with an empty output
folder, so pool start-up and the workers' first-call costs are included — this is what a user waits for):

- ``rawlux batch, local pool`` (one worker process per core, 1 thread each);
- ``rawlux batch, 1 worker`` (one process using every core's threads);
- ``rawlux develop, serial loop`` (develop + save in this process, warm: the plain-Python-loop baseline);
- ``rawlux batch, re-run`` (everything up to date: the catalog's skip path);
- ``darktable-cli`` over the same files (when installed), one invocation per file as its CLI requires;
- ``LibRaw postprocess (rawpy), serial``: LibRaw's own dcraw-style pipeline + Pillow JPEG, a floor for
  "decode + a basic develop" in one process.

Images per minute are counted over the whole folder's wall time; "CPU s/image" (this process and its
finished children) is the load-independent cost, useful when the machine is shared.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
HERO6 = DATA / "raw" / "gopro-hero6-12mp.dng"

#: varied recipes, one per copy (cycled)
SIDECARS = [
    "",
    "[tone]\ncontrast = 1.2\n",
    "[exposure]\ntarget = 0.25\n",
    "[whitebalance]\nmode = \"daylight\"\n",
    "[tone]\ncontrast = 0.9\n[exposure]\ntarget = 0.15\n",
    "[output]\nspace = \"display-p3\"\n",
]


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers, darktable-cli)."""
    import resource
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def make_folder(root: Path, n: int) -> Path:
    src = root / "raws"
    src.mkdir()
    for i in range(n):
        p = src / f"hero6_{i:03d}.dng"
        try:
            os.link(HERO6, p)
        except OSError:
            shutil.copy(HERO6, p)
        side = SIDECARS[i % len(SIDECARS)]
        if side:
            (src / f"{p.name}.rawlux.toml").write_text("schema_version = 1\n" + side)
    return src


def bench_batch(src: Path, out: Path, **kw) -> tuple[float, int, str]:
    from rawlux.batch import run_batch

    t = time.perf_counter()
    rep = run_batch([str(src)], out, **kw)
    dt = time.perf_counter() - t
    if rep.failed:
        raise SystemExit(f"batch failed: {[f.error for f in rep.files if f.error]}")
    return dt, rep.done + rep.skipped, rep.executor or "catalog only"


def bench_serial(src: Path, out: Path) -> tuple[float, int, str]:
    import rawlux
    from rawlux.pipeline.run import build_recipe

    files = sorted(src.glob("*.dng"))
    rawlux.save(rawlux.develop(files[0]), out / "warm.jpg")          # warm: imports and JIT are not counted
    t = time.perf_counter()
    for f in files:
        rec = build_recipe(str(f), None)
        rawlux.save(rawlux.develop(str(f), recipe=rec), out / (f.stem + ".jpg"), recipe=rec)
    return time.perf_counter() - t, len(files), "1 process, warm"


def bench_darktable(src: Path, out: Path) -> tuple[float, int, str] | None:
    exe = shutil.which("darktable-cli")
    if exe is None:
        return None
    files = sorted(src.glob("*.dng"))
    conf = out / "dtconf"
    t = time.perf_counter()
    for f in files:
        subprocess.run([exe, str(f), str(out / (f.stem + ".jpg")), "--core", "--configdir", str(conf)],
                       check=True, capture_output=True, timeout=600)
    return time.perf_counter() - t, len(files), "one call per file"


def bench_libraw(src: Path, out: Path) -> tuple[float, int, str]:
    import rawpy
    from PIL import Image

    files = sorted(src.glob("*.dng"))
    t = time.perf_counter()
    for f in files:
        with rawpy.imread(str(f)) as r:
            rgb = r.postprocess(use_camera_wb=True, output_bps=8)
        Image.fromarray(rgb).save(out / (f.stem + ".jpg"), quality=92)
    return time.perf_counter() - t, len(files), "AHD, sRGB, no tone curve"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--workers", type=int, default=None, help="local pool size (default: one per core)")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()
    if not HERO6.is_file():
        raise SystemExit(f"{HERO6} is absent")
    from rawlux.batch.local import cpu_count

    cores = cpu_count()
    rows: list[tuple[str, float, int, str]] = []
    with tempfile.TemporaryDirectory(prefix="rawlux-bench-batch-") as tmp:
        root = Path(tmp)
        src = make_folder(root, args.count)
        print(f"{args.count} × 12 MP (4000×3000) DNG, {cores} CPU core(s); outputs JPEG q92", flush=True)

        def run(name: str, fn, *a, **kw) -> None:
            out = root / f"out{len(rows)}"
            out.mkdir()
            c0 = cpu_seconds()
            r = fn(src, out, *a, **kw)
            cpu = cpu_seconds() - c0
            if r is None:
                rows.append((name, float("nan"), 0, float("nan"), "not installed"))
            else:
                rows.append((name, r[0], r[1], cpu, r[2]))
            print(f"  {name}: done", flush=True)

        run("rawlux batch, local pool", bench_batch, workers=args.workers)
        pool_out = root / "out0"
        run("rawlux batch, 1 worker", bench_batch, workers=1, threads=cores)
        c0 = cpu_seconds()
        dt, n, _ = bench_batch(src, pool_out, workers=args.workers)
        rows.append(("rawlux batch, re-run (all up to date)", dt, n, cpu_seconds() - c0, "catalog skip path"))
        if not args.skip_peers:
            run("rawlux develop, serial loop", bench_serial)
            run("darktable-cli", bench_darktable)
            run("LibRaw postprocess (rawpy), serial", bench_libraw)

    print()
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (on {cores} cores)")
    print(f"| {'pipeline':<40} | {'images':>6} | {'seconds':>8} | {'images/min':>10} | {'CPU s/image':>11} | notes")
    print(f"|{'-' * 42}|{'-' * 8}|{'-' * 10}|{'-' * 12}|{'-' * 13}|------")
    for name, dt, n, cpu, note in rows:
        ipm = 60.0 * n / dt if n and dt == dt and dt > 0 else float("nan")
        secs = f"{dt:8.1f}" if dt == dt else "       –"
        rate = f"{ipm:10.1f}" if ipm == ipm else "         –"
        cps = f"{cpu / n:11.2f}" if n and cpu == cpu else "          –"
        print(f"| {name:<40} | {n:>6} | {secs} | {rate} | {cps} | {note}")


if __name__ == "__main__":
    sys.exit(main())
