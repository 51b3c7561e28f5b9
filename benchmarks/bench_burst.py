"""Burst merge benchmark: quality against truth on simulated bursts, and speed on 8 × 12 MP.

    python benchmarks/bench_burst.py                 # quality (6 scenes) + speed (8 × 12 MP)
    python benchmarks/bench_burst.py --quick         # 3 scenes, speed on 8 × 3 MP
    python benchmarks/bench_burst.py --no-speed

Quality: McMaster images (linear, upsampled ×2.5) as clean scenes; 8 frames of 752×752 with random
hand-shake (±16 px, ≤ 0.5°), a textured disc that jumps 25–60 px in half of the other frames,
Poisson–Gaussian noise of a small sensor at ISO 3200. Every method's mosaic goes through the same
white balance and the same demosaic (rawlux's default), then PSNR (peak 1, linear, 24 px border excluded) against the
clean reference view, overall and inside the moving object.
Speed: wall time of align + merge of 8 in-memory 12 MP mosaics (decode excluded), after a warm-up.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def quality(images: list[int], iso: float, n: int, demosaic: str | None = None) -> None:
    from rawlux.burst.api import merge_burst, normalise
    from rawlux.burst.baselines import global_average, plain_average
    from rawlux.burst.simulate import mcmaster_scene, score, simulate_burst

    methods = ["reference alone", "plain average", "global-aligned average", "global-aligned robust average",
               "rawlux merge_burst"]
    rows = {m: [] for m in methods}
    times = {m: [] for m in methods}
    for img in images:
        scene = mcmaster_scene(img, DATA, 2.5)
        obj = mcmaster_scene(5 if img != 5 else 6, DATA, 1.0)
        sim = simulate_burst(scene, n, iso=iso, seed=img, size=(752, 752), moving_object=obj)
        cfas = [normalise(f) for f in sim.frames]
        pattern = sim.frames[0].meta.cfa_pattern
        outs = {}
        t = time.perf_counter(); outs["reference alone"] = cfas[0]; times["reference alone"].append(0.0)
        t = time.perf_counter(); outs["plain average"] = plain_average(cfas)
        times["plain average"].append(time.perf_counter() - t)
        t = time.perf_counter(); outs["global-aligned average"] = global_average(cfas, 0, pattern)
        times["global-aligned average"].append(time.perf_counter() - t)
        t = time.perf_counter()
        outs["global-aligned robust average"] = global_average(cfas, 0, pattern, robust=True, noise=sim.noise)
        times["global-aligned robust average"].append(time.perf_counter() - t)
        t = time.perf_counter(); outs["rawlux merge_burst"] = merge_burst(sim.frames, ref=0).cfa
        times["rawlux merge_burst"].append(time.perf_counter() - t)
        for m in methods:
            rows[m].append(score(outs[m], sim, method=demosaic))
        print(f"  scene {img:2d}: " + ", ".join(f"{m.split()[0]} {rows[m][-1][0]:.2f}/{rows[m][-1][1]:.2f}"
                                              for m in methods), flush=True)
    ref = np.array(rows["reference alone"])
    from rawlux.isp.demosaic import DEFAULT_METHOD
    print()
    print(f"Burst merge quality: {len(images)} McMaster scenes ×2.5, {n} frames 752×752, ISO {iso:g}, "
          f"±16 px / ≤0.5° shake, moving object; PSNR dB after the same demosaic ({demosaic or DEFAULT_METHOD})")
    print()
    print("| method | PSNR overall | Δ vs reference | PSNR in moving object | Δ vs reference | time / burst |")
    print("|---|---:|---:|---:|---:|---:|")
    for m in methods:
        a = np.array(rows[m])
        print(f"| {m} | {a[:, 0].mean():.2f} | {a[:, 0].mean() - ref[:, 0].mean():+.2f} | {a[:, 1].mean():.2f} | "
              f"{a[:, 1].mean() - ref[:, 1].mean():+.2f} | {np.mean(times[m]):.2f} s |")
    print()


def speed(h: int, w: int, n: int, repeats: int) -> None:
    from rawlux.burst.api import merge_burst
    from rawlux.burst.baselines import global_average, plain_average
    from rawlux.burst.api import normalise
    from rawlux.burst.simulate import mcmaster_scene, simulate_burst

    # warm-up (JIT caches) on a small burst
    small = simulate_burst(mcmaster_scene(1, DATA, 1.0), 3, size=(256, 256), seed=0)
    merge_burst(small.frames, ref=0)
    scale = (max(h, w) + 120) / 500.0
    scene = mcmaster_scene(7, DATA, scale)
    t = time.perf_counter()
    sim = simulate_burst(scene, n, size=(h, w), seed=3, iso=3200)
    del scene
    t_sim = time.perf_counter() - t
    def timed(fn, *a, **k):
        t, c = time.perf_counter(), time.process_time()
        fn(*a, **k)
        return time.perf_counter() - t, time.process_time() - c

    best = (np.inf, np.inf)
    for _ in range(repeats):
        best = min(best, timed(merge_burst, sim.frames, ref=0))
    t_auto = timed(merge_burst, sim.frames, ref="auto")
    cfas = [normalise(f) for f in sim.frames]
    t_avg = timed(plain_average, cfas)
    t_glob = timed(global_average, cfas, 0, "RGGB")
    try:
        load = "load average %.1f" % os.getloadavg()[0]
    except OSError:
        load = ""
    threads = os.environ.get("NUMBA_NUM_THREADS", "default")
    try:
        import numba
        threads = str(numba.get_num_threads())
    except Exception:  # noqa: BLE001
        pass
    print(f"Burst merge speed: {n} × {w}×{h} ({w * h / 1e6:.0f} MP) in-memory mosaics, "
          f"{os.cpu_count()} CPUs visible, numba threads {threads}, {load} (simulation took {t_sim:.1f} s)")
    print("CPU time = process CPU seconds over all threads: on an idle machine, wall ≈ CPU / threads at best.")
    print()
    print("| method | wall time | CPU time |")
    print("|---|---:|---:|")
    print(f"| rawlux merge_burst, ref given (best of {repeats}) | {best[0]:.2f} s | {best[1]:.2f} s |")
    print(f"| rawlux merge_burst, ref auto (sharpness) | {t_auto[0]:.2f} s | {t_auto[1]:.2f} s |")
    print(f"| plain average | {t_avg[0]:.2f} s | {t_avg[1]:.2f} s |")
    print(f"| global-aligned average (ECC + Catmull–Rom) | {t_glob[0]:.2f} s | {t_glob[1]:.2f} s |")
    print()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--iso", type=float, default=3200)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--demosaic", default=None, help="demosaic used to score every method (default: rawlux's)")
    args = ap.parse_args()
    if not DATA.exists():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 1
    if not args.no_quality:
        quality([1, 4, 9] if args.quick else [1, 4, 9, 13, 16, 18], args.iso, args.frames, args.demosaic)
    if not args.no_speed:
        if args.quick:
            speed(1500, 2000, args.frames, 1)
        else:
            speed(3000, 4000, args.frames, 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
