"""Burst merge benchmark on the shared burst protocol (../shared/tools/burst): quality per scene, 12 MP speed.

    python benchmarks/bench_burst.py                  # 6 fine-detail 768×512 scenes + 8 × 12 MP whole process
    python benchmarks/bench_burst.py --no-speed       # quality only
    python benchmarks/bench_burst.py --no-quality     # 12 MP only
    python benchmarks/bench_burst.py --work DIR       # where the simulated bursts are cached (default: a temp dir)
    python benchmarks/bench_burst.py --no-speed --bursts B1 B2 ...   # score other make_burst.py folders

Scenes are made by ``make_burst.py`` (8 frames, ISO 3200-like Poisson–Gaussian noise, ±16 px / ±0.5° hand-shake,
a textured object moving 5–40 px a frame; frame 0 is the reference, so rawlux runs with ``ref=0``) from
photographs at or below their native resolution, so the CFA planes are aliased (the hard case):

- ``mcm-a``, ``mcm-b``: McMaster images tiled at native size (1, 4, 9 and 13, 16, 18);
- ``skimage-a``, ``skimage-b``: scikit-image's colour photographs tiled at native size;
- ``hero6``, ``fusion``: the shared GoPro DNGs developed at half size and reduced to 768×512.

Scores are ``score_burst.py``'s: PSNR after a fixed Malvar demosaic against the noiseless truth mosaic through the
same demosaic, 32 px border out; ``all`` = whole interior, ``ghost`` = union of the object's footprints. Columns:
frame 0 alone, the tool's global ECC alignment + robust average, rawlux ``merge_burst`` (timed in-process).

Speed: ``rawlux burst`` as a separate process, 8 × 12 MP DNGs (made from the HERO6 DNG) → merged DNG + JPEG,
wall time and peak RSS of the child, then its DNG scored. Timings on a shared machine are noisy: the load average is
printed with them.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
DATA = SHARED / "data"
TOOLS = SHARED / "tools" / "burst"

MCM = DATA / "demosaic" / "mcmaster"
SCENES = {
    "mcm-a": (["mcm:1", "mcm:4", "mcm:9"], 1),
    "skimage-a": (["ski:astronaut", "ski:coffee"], 3),
    "hero6": ([str(DATA / "raw" / "gopro-hero6-12mp.dng")], 2),
    "mcm-b": (["mcm:13", "mcm:16", "mcm:18"], 4),
    "skimage-b": (["ski:rocket", "ski:chelsea", "ski:immunohistochemistry"], 5),
    "fusion": ([str(DATA / "raw" / "gopro-fusion-front-fisheye.dng")], 6),
}


def _source(tag: str, work: Path) -> str:
    kind, name = tag.split(":", 1) if ":" in tag and not tag.startswith("/") else ("file", tag)
    if kind == "mcm":
        return str(MCM / f"{name}.tif")
    if kind == "ski":
        import cv2
        import skimage.data

        p = work / f"ski-{name}.png"
        if not p.exists():
            cv2.imwrite(str(p), getattr(skimage.data, name)()[..., ::-1])
        return str(p)
    return name


def make_scene(name: str, work: Path) -> Path:
    srcs, seed = SCENES[name]
    out = work / name
    if (out / "burst.json").exists():
        return out
    files = [_source(s, work) for s in srcs]
    cmd = [sys.executable, str(TOOLS / "make_burst.py"), "--src", *files, "--size", "768x512", "--object",
           "--seed", str(seed), "--out", str(out)]
    if len(files) > 1:
        cmd.append("--tile")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def _scorer():
    sys.path.insert(0, str(TOOLS))
    import score_burst

    return score_burst


def quality(names: list[str], work: Path, dirs: list[Path] | None = None) -> None:
    from rawlux.burst.api import merge_burst

    sb = _scorer()
    todo = [(d.name, d) for d in dirs] if dirs else [(n, make_scene(n, work)) for n in names]
    merge_burst(sorted(todo[0][1].glob("frame_*.dng"))[:2], ref=0)  # JIT warm-up
    rows = []
    for name, d in todo:
        meta = sb.load_meta(str(d))
        sc = sb.Scorer(str(d), meta)
        frames, sat = sb.load_frames(str(d), meta)
        res, info = sb.run_baselines(frames, sat, meta)
        s_ref = sc.score(res["ref (frame 0)"][0])
        s_ecc = sc.score(res["ecc-robust"][0])
        t = time.perf_counter()
        r = merge_burst(sorted(d.glob("frame_*.dng")), ref=0)
        dt = time.perf_counter() - t
        s_rl = sc.score(r.cfa)
        rows.append((name, s_ref, s_ecc, s_rl, dt, r.frame.meta.extra["burst"]["resampling"]))
        print(f"  {name}: frame0 {s_ref['all']:.2f}, ecc-robust {s_ecc['all']:.2f}, rawlux {s_rl['all']:.2f}",
              flush=True)
    print()
    what = "given bursts" if dirs else ("fine-detail 768×512 scenes (make_burst.py, 8 frames, ISO 3200, "
                                        "±16 px / ±0.5° shake, moving object)")
    print(f"Burst merge quality: {len(rows)} {what}; ref = frame 0; PSNR dB (score_burst.py: Malvar, 32 px border)")
    print()
    print("| scene | frame 0 all / ghost | ECC-robust all / ghost | rawlux all / ghost | rawlux gain all / ghost "
          "| vs ECC-robust all / ghost | resampling | time |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for name, a, e, m, dt, meth in rows:
        print(f"| {name} | {a['all']:.2f} / {a['ghost']:.2f} | {e['all']:.2f} / {e['ghost']:.2f} | "
              f"{m['all']:.2f} / {m['ghost']:.2f} | {m['all'] - a['all']:+.2f} / {m['ghost'] - a['ghost']:+.2f} | "
              f"{m['all'] - e['all']:+.2f} / {m['ghost'] - e['ghost']:+.2f} | {meth} | {dt:.2f} s |")
    g = np.array([[m["all"] - a["all"], m["ghost"] - a["ghost"], m["all"] - e["all"], m["ghost"] - e["ghost"]]
                  for _, a, e, m, _, _ in rows])
    print(f"| **mean** | | | | **{g[:, 0].mean():+.2f} / {g[:, 1].mean():+.2f}** | "
          f"{g[:, 2].mean():+.2f} / {g[:, 3].mean():+.2f} (min {g[:, 2].min():+.2f} / {g[:, 3].min():+.2f}) | | |")
    print()


def speed(work: Path, runs: int) -> None:
    sb = _scorer()
    d = work / "b12"
    if not (d / "burst.json").exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, str(TOOLS / "make_burst.py"),
                        "--src", str(DATA / "raw" / "gopro-hero6-12mp.dng"), "--size", "4000x3000", "--object",
                        "--iso", "3200", "--seed", "0", "--out", str(d)],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"(made the 12 MP burst in {time.perf_counter() - t:.0f} s)")
    exe = Path(sys.executable).with_name("rawlux")
    frames = sorted(str(p) for p in d.glob("frame_*.dng"))
    env = dict(os.environ)
    env.setdefault("NUMBA_NUM_THREADS", "2")
    results = []
    for i in range(runs):
        out_j, out_d = work / f"b12-{i}.jpg", work / f"b12-{i}.dng"
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([str(exe), "burst", *frames, "--ref", "0", "-o", str(out_j), "--out-raw", str(out_d),
                        "--overwrite", "-q"], check=True, env=env)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        results.append((wall, cpu, after.ru_maxrss / 1024 / 1024, load))
    meta = sb.load_meta(str(d))
    s = sb.Scorer(str(d), meta).score(sb.load_candidate(str(work / "b12-0.dng"), meta))
    print(f"Burst speed: `rawlux burst` 8 × 4000×3000 DNG → merged DNG + JPEG, whole process, "
          f"{os.cpu_count()} CPUs visible, NUMBA_NUM_THREADS={env['NUMBA_NUM_THREADS']}")
    print()
    print("| run | wall | CPU (all threads) | peak RSS | load average before | PSNR all / ghost |")
    print("|---|---:|---:|---:|---:|---:|")
    for i, (wall, cpu, rss, load) in enumerate(results):
        print(f"| {i + 1} | {wall:.1f} s | {cpu:.1f} s | {rss:.2f} GiB | {load:.1f} | "
              f"{s['all']:.2f} / {s['ghost']:.2f} |")
    print()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--quick", action="store_true", help="3 scenes, one 12 MP run")
    ap.add_argument("--runs", type=int, default=2, help="12 MP whole-process runs")
    ap.add_argument("--work", default=None, help="folder for the simulated bursts (kept; reused when present)")
    ap.add_argument("--bursts", nargs="+", default=None, help="score these make_burst.py folders instead of the "
                    "built-in scenes (e.g. held-out photographs)")
    args = ap.parse_args()
    if not DATA.exists() or not TOOLS.exists():
        print(f"shared data/tools not found under {SHARED}", file=sys.stderr)
        return 1
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="rawlux-bench-burst-"))
    work.mkdir(parents=True, exist_ok=True)
    names = list(SCENES)[:3] if args.quick else list(SCENES)
    if not args.no_quality:
        quality(names, work, [Path(b) for b in args.bursts] if args.bursts else None)
    if not args.no_speed:
        speed(work, 1 if args.quick else args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
