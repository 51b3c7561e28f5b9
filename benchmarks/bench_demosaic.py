"""Demosaic quality (CPSNR) and speed (MP/s), rawlux beside colour-demosaicing's methods, in one run.

Protocol (issue 3): 8-bit sRGB ground truth → float [0, 1] → Bayer mosaic, each of the 4 patterns → demosaic →
clip → CPSNR over the three channels, 10-pixel border excluded, mean over images and patterns.

    python benchmarks/bench_demosaic.py                 # McMaster-18 + photographs + 12 MP speed
    python benchmarks/bench_demosaic.py --extra DIR     # also a folder of ground-truth images (e.g. Kodak)
    python benchmarks/bench_demosaic.py --quick         # fewer images, one speed repeat
    python benchmarks/bench_demosaic.py --methods ri quality   # only the methods whose names contain these

"Photographs" are the colour photographs that ship with scikit-image (astronaut, chelsea, coffee, motorcycle
left/right, rocket, hubble): ordinary pictures, not used to choose any parameter of the McMaster methods.
Speed is wall time on this machine (best and median of the repeats, after the numba compile), with the load
average printed beside it: on a shared machine, read the MP/s together with the load. The project's figures are
taken with ``NUMBA_NUM_THREADS=2`` (two cores).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MCMASTER = ROOT / ".." / "shared" / "data" / "demosaic" / "mcmaster"
PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")
#: substrings of the method names to run (--methods); empty: all
ONLY: list[str] = []


def _methods():
    import colour_demosaicing as cd

    from rawlux.isp.demosaic import demosaic

    return {
        "bilinear (rawlux)": lambda c, p: demosaic(c, p, "bilinear"),
        "Malvar2004 (colour-demosaicing)": lambda c, p: cd.demosaicing_CFA_Bayer_Malvar2004(c, p).astype(np.float32),
        "Menon2007 (colour-demosaicing)": lambda c, p: cd.demosaicing_CFA_Bayer_Menon2007(c, p).astype(np.float32),
        "rcd (rawlux)": lambda c, p: demosaic(c, p, "rcd"),
        "residual (rawlux, numpy/OpenCV)": lambda c, p: demosaic(c, p, "residual"),
        "ri (rawlux, default)": lambda c, p: demosaic(c, p, "ri"),
        "ari (rawlux, numpy/OpenCV)": lambda c, p: demosaic(c, p, "ari"),
        "ari-fast (rawlux)": lambda c, p: demosaic(c, p, "ari-fast"),
        "quality (rawlux, learned)": lambda c, p: demosaic(c, p, "quality"),
    }


def _load(folder: Path, limit: int | None) -> list[np.ndarray]:
    from PIL import Image

    files = sorted([f for f in folder.iterdir() if f.suffix.lower() in (".tif", ".tiff", ".png", ".jpg", ".bmp")],
                   key=lambda f: (len(f.stem), f.stem))
    out = []
    for f in files[:limit]:
        a = np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255.0
        out.append(a)
    return out


def _photographs(limit: int | None) -> list[np.ndarray]:
    import skimage
    from PIL import Image

    d = Path(skimage.__file__).parent / "data"
    names = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "motorcycle_right.png",
             "rocket.jpg", "hubble_deep_field.jpg"]
    return [np.asarray(Image.open(d / n).convert("RGB"), np.float32) / 255.0 for n in names[:limit] if (d / n).exists()]


def quality(sets: dict[str, list[np.ndarray]]) -> None:
    from rawlux.isp.demosaic.quality import cpsnr, mosaic

    methods = _methods()
    if ONLY:
        methods = {k: v for k, v in methods.items() if any(o in k for o in ONLY)}
    names = list(sets)
    scores: dict[str, dict[str, dict[str, list[float]]]] = {}
    for mname, fn in methods.items():
        scores[mname] = {n: {p: [cpsnr(im, fn(mosaic(im, p), p)) for im in sets[n]] for p in PATTERNS}
                         for n in names}
    print("\n### Demosaic quality: CPSNR (dB), mean over images × 4 patterns, 10-px border excluded\n")
    print("| method | " + " | ".join(f"{n} ({len(sets[n])})" for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for mname in methods:
        cells = [f"{np.mean([v for p in PATTERNS for v in scores[mname][n][p]]):.2f}" for n in names]
        print(f"| {mname} | " + " | ".join(cells) + " |")
    for n in names:
        print(f"\n#### {n}: CPSNR (dB) per pattern (mean over the {len(sets[n])} images)\n")
        print("| method | " + " | ".join(PATTERNS) + " |")
        print("|---|" + "---:|" * len(PATTERNS))
        for mname in methods:
            print(f"| {mname} | " + " | ".join(f"{np.mean(scores[mname][n][p]):.2f}" for p in PATTERNS) + " |")
    print(flush=True)


def speed(repeats: int) -> None:
    import cv2

    rng = np.random.default_rng(0)
    # a 12 MP mosaic of natural-looking content (smooth noise at several scales)
    base = rng.random((375, 500, 3)).astype(np.float32)
    img = cv2.resize(cv2.GaussianBlur(base, (0, 0), 2), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img + 0.05 * rng.standard_normal(img.shape).astype(np.float32), 0, 1)
    from rawlux.isp.demosaic.quality import mosaic

    cfa = mosaic(img, "RGGB")
    mp = cfa.size / 1e6
    print(f"\n### Demosaic speed: {cfa.shape[1]}×{cfa.shape[0]} mosaic ({mp:.0f} MP), "
          f"{os.cpu_count()} CPUs, NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f} at start\n")
    print("| method | first call (s) | best (s) | MP/s best | MP/s median |")
    print("|---|---:|---:|---:|---:|")
    for mname, fn in _methods().items():
        if ONLY and not any(o in mname for o in ONLY):
            continue
        slow = "colour-demosaicing" in mname or "residual" in mname or mname.startswith("ari")
        t0 = time.perf_counter()
        fn(cfa, "RGGB")
        first = time.perf_counter() - t0
        times = []
        for _ in range(1 if slow else repeats):
            t0 = time.perf_counter()
            fn(cfa, "RGGB")
            times.append(time.perf_counter() - t0)
        print(f"| {mname} | {first:.2f} | {min(times):.3f} | {mp / min(times):.1f} | {mp / np.median(times):.1f} |",
              flush=True)
    print(f"\n(load average {os.getloadavg()[0]:.1f} at end)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra", type=Path, help="folder of ground-truth RGB images to add as a set")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--methods", nargs="+", default=[],
                    help="run only the methods whose names contain one of these (e.g. --methods ri quality)")
    a = ap.parse_args()
    ONLY[:] = a.methods
    lim = 4 if a.quick else None
    sets: dict[str, list[np.ndarray]] = {}
    if MCMASTER.is_dir():
        sets["McMaster"] = _load(MCMASTER, lim)
    sets["photographs"] = _photographs(lim)
    if a.extra:
        sets[a.extra.name] = _load(a.extra, lim)
    quality(sets)
    if not a.no_speed:
        speed(1 if a.quick else a.repeats)


if __name__ == "__main__":
    main()
