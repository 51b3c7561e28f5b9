"""Looks benchmark: tetrahedral 3D-LUT speed (with peers), built-in look speed at 12 MP, look-fit quality.

    python benchmarks/bench_looks.py [--quick]

Prints three tables. Speeds are wall-clock with numba's thread count shown (set NUMBA_NUM_THREADS=2
to measure "on 2 cores"); CPU seconds are shown too, since a shared machine inflates wall time.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
MCM = DATA / "demosaic" / "mcmaster"


def photo_12mp() -> np.ndarray:
    """A 4000×3000 display-linear Rec.2020 image: a real photo (McMaster 1) upscaled, or noise if absent."""
    import cv2
    if (MCM / "1.tif").is_file():
        import tifffile
        im = tifffile.imread(str(MCM / "1.tif")).astype(np.float32) / 255.0
        im = cv2.resize(im, (4000, 3000), interpolation=cv2.INTER_CUBIC)
        return np.ascontiguousarray(np.clip(im, 0, 1) ** 2.2, dtype=np.float32)
    return np.random.default_rng(0).random((3000, 4000, 3), dtype=np.float32)


def timeit(fn, repeat=3):
    best_w, best_c = 1e9, 1e9
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        best_w = min(best_w, time.perf_counter() - w0)
        best_c = min(best_c, time.process_time() - c0)
    return best_w, best_c


def bench_lut(img: np.ndarray, quick: bool) -> None:
    from rawlux.looks.lutfiles import Lut, apply_lut

    ident = Lut.identity(33)
    lut = Lut(np.clip(ident.table ** 0.8 + 0.05 * np.roll(ident.table, 1, axis=-1), 0, 1))
    out = np.empty_like(img)
    apply_lut(img[:64, :64], lut)                              # compile
    mp = img.shape[0] * img.shape[1] / 1e6
    print("\n## 3D LUT, 33³, tetrahedral — %.0f MP image (numba threads: %s)" % (mp, os.environ.get("NUMBA_NUM_THREADS", "all")))
    print("| implementation | interpolation | MP/s (wall) | MP/s per CPU-second |")
    print("|---|---|---|---|")
    w, c = timeit(lambda: apply_lut(img, lut, out))
    print(f"| rawlux (numba) | tetrahedral | {mp / w:.0f} | {mp / c:.0f} |")
    sub = np.ascontiguousarray(img[:500, :2000]).reshape(-1, 3)            # 1 MP for the peers
    smp = sub.shape[0] / 1e6
    try:
        import colour
        L = colour.LUT3D(table=lut.table.astype(np.float64))
        w, c = timeit(lambda: L.apply(sub, interpolator=colour.algebra.table_interpolation_tetrahedral), 1)
        print(f"| colour-science LUT3D.apply | tetrahedral | {smp / w:.1f} | {smp / c:.1f} |")
    except Exception as e:  # noqa: BLE001
        print(f"| colour-science | tetrahedral | n/a ({type(e).__name__}) | |")
    from scipy.interpolate import RegularGridInterpolator
    g = np.linspace(0, 1, 33)
    rgi = RegularGridInterpolator((g, g, g), lut.table, method="linear")
    w, c = timeit(lambda: rgi(sub), 1)
    print(f"| scipy RegularGridInterpolator | trilinear | {smp / w:.1f} | {smp / c:.1f} |")


def bench_looks(img: np.ndarray, quick: bool) -> None:
    from rawlux.frame import Frame, Metadata, State
    from rawlux.looks import builtin_names
    from rawlux.pipeline.recipe import Recipe
    from rawlux.pipeline.run import run_stages

    base = Frame(img, State.SCENE_LINEAR, Metadata(kind="image"))
    print("\n## Applying a look to a 12 MP image (stages vignette → grade; numba threads: %s)"
          % os.environ.get("NUMBA_NUM_THREADS", "all"))
    print("| look | ingredients | first (bakes LUT) s | warm s (wall) | warm CPU s |")
    print("|---|---|---|---|---|")
    small = Frame(np.ascontiguousarray(img[:64, :64]), State.SCENE_LINEAR, Metadata(kind="image"))
    for n in builtin_names():
        rec = Recipe.build(n)
        run_stages(small, rec, start="vignette", stop="grade")      # compile kernels
        t = {}
        w0 = time.perf_counter()
        run_stages(base, rec, start="vignette", stop="grade", timings=t)
        first = time.perf_counter() - w0
        w, c = timeit(lambda: run_stages(base, rec, start="vignette", stop="grade"), 2 if quick else 3)
        used = ", ".join(k for k in t if k != "grade") or "—"
        print(f"| {n} | {used} | {first:.3f} | {w:.3f} | {c:.3f} |")


def bench_fit(quick: bool) -> None:
    import cv2

    import rawlux
    from rawlux.looks.fit import fit_pairs, write_look
    if not MCM.is_dir():
        print("\n(look fit: shared data absent, skipped)")
        return
    sys.path.insert(0, str(ROOT / "tests" / "looks"))
    from _lookdata import de00, lab_of_srgb

    imgs = sorted(MCM.glob("*.tif"), key=lambda p: int(p.stem))
    looks = ["cinema"] if quick else ["cinema", "vivid", "slide", "mono-warm"]
    print("\n## Learning a look from pairs (fit on 9 McMaster photos, measured on the other 9)")
    print("| known look | pairs | fit s | leave-one-out ΔE00 | held-out photos mean ΔE00 | max | natural vs look ΔE00 |")
    print("|---|---|---|---|---|---|---|")
    for look in looks:
        with tempfile.TemporaryDirectory() as td:
            d = Path(td)
            for i, p in enumerate(imgs):
                if i % 2 == 0:
                    a = rawlux.develop(str(p), look=look).pixels
                    cv2.imwrite(str(d / f"{p.stem}.after.png"), (np.clip(a, 0, 1) * 65535 + 0.5).astype(np.uint16)[..., ::-1])
                    cv2.imwrite(str(d / f"{p.stem}.before.png"), cv2.imread(str(p)))
            t0 = time.perf_counter()
            res, pairs = fit_pairs(d)
            tf = time.perf_counter() - t0
            toml, _ = write_look(res, d / "mine.toml", pairs)
            des, nat = [], []
            for i, p in enumerate(imgs):
                if i % 2 == 1:
                    want = lab_of_srgb(rawlux.develop(str(p), look=look).pixels)
                    des.append(float(de00(want, lab_of_srgb(rawlux.develop(str(p), look=str(toml)).pixels)).mean()))
                    nat.append(float(de00(want, lab_of_srgb(rawlux.develop(str(p), look="natural").pixels)).mean()))
            print(f"| {look} | {len(pairs)} | {tf:.1f} | {res.held_out_mean:.2f} | {np.mean(des):.2f} | "
                  f"{np.max(des):.2f} | {np.mean(nat):.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=["lut", "looks", "fit"])
    a = ap.parse_args()
    img = photo_12mp()
    print(f"CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    if a.only in (None, "lut"):
        bench_lut(img, a.quick)
    if a.only in (None, "looks"):
        bench_looks(img, a.quick)
    if a.only in (None, "fit"):
        bench_fit(a.quick)


if __name__ == "__main__":
    main()
