"""HDR photographs benchmark: the cost of ``save(..., hdr=True)`` over the SDR JPEG, in time and bytes, and how
closely Google's libultrahdr (imagecodecs) reconstructs the HDR rendition from the file.

    NUMBA_NUM_THREADS=2 python benchmarks/bench_hdr.py [--quick]

One table per raw file (``--quick``: the small LG G4 DNG only; default: also the 12 MP GoPro HERO6 DNG). Times
are wall-clock, best of 2 (HEIF/AVIF: 1 run; noisy on a shared machine: CPU seconds are printed too). Accuracy: relative error
|decode − rendition| / max(rendition, 0.05) over all pixels and over the highlight pixels only (where the HDR
rendition differs from the SDR base by more than 1 %).
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
RAW = ROOT / ".." / "shared" / "data" / "raw"


def best(fn, repeat=2):
    out, bw, bc = None, 1e9, 1e9
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        bw, bc = min(bw, time.perf_counter() - w0), min(bc, time.process_time() - c0)
    return out, bw, bc


def accuracy(frame, data: bytes) -> tuple[float, float, float, float]:
    import imagecodecs

    from rawlux.io import ultrahdr as U
    u = U.split(data)
    base = U.reference_base_linear(u.primary, u.icc)
    ref, _ = U.hdr_rendition(frame, base_linear=base)
    got = imagecodecs.ultrahdr_decode(data)[..., :3].astype(np.float32)
    r = np.abs(got - ref) / np.maximum(ref, 0.05)
    hi = np.abs(ref - base) > 0.01 * np.maximum(base, 0.05)
    rh = r[hi] if hi.any() else r.ravel()
    return (float(np.median(r)), float(np.percentile(r, 99)), float(np.median(rh)), float(np.percentile(rh, 99)))


def bench(path: Path, tmp: Path) -> None:
    import rawlux
    from rawlux.io import ultrahdr as U

    rawlux.develop(path)                                           # warm-up (numba caches, file cache)
    _, dt_plain, _ = best(lambda: rawlux.develop(path), 1)
    frame, dt_keep, _ = best(lambda: rawlux.develop(path, keep_scene_linear=True), 1)
    hdr_px, headroom = U.hdr_rendition(frame)
    share = float(np.mean(np.abs(hdr_px - U.sdr_linear(frame, "srgb")) > 1e-3))
    del hdr_px
    print(f"\n## {path.name}: {frame.width}×{frame.height}, headroom {headroom:.2f} stops (from the scene), "
          f"{share * 100:.1f} % of pixels brighter than SDR; develop {dt_plain:.2f} s, with keep_scene_linear "
          f"{dt_keep:.2f} s")
    print("| output | save wall s | CPU s | bytes | × SDR JPEG | median err | p99 err | highlights median | highlights p99 |")
    print("|---|---|---|---|---|---|---|---|---|")
    _, w0, c0 = best(lambda: rawlux.save(frame, tmp / "sdr.jpg"))
    sdr_bytes = (tmp / "sdr.jpg").stat().st_size
    print(f"| SDR JPEG q92 | {w0:.2f} | {c0:.2f} | {sdr_bytes:,} | 1.00 | | | | |")
    for label, kw in (("Ultra HDR, rgb map 1/1 (default)", {}), ("Ultra HDR, rgb map 1/2", dict(hdr_scale=2)),
                      ("Ultra HDR, rgb map 1/4", dict(hdr_scale=4)), ("Ultra HDR, mono map 1/1", dict(hdr_map="mono")),
                      ("Ultra HDR, rgb map 1/1, map q95", dict(hdr_map_quality=95))):
        out, w, c = best(lambda: rawlux.save(frame, tmp / "hdr.jpg", hdr=True, **kw))
        data = out.read_bytes()
        m, p, mh, ph = accuracy(frame, data)
        print(f"| {label} | {w:.2f} | {c:.2f} | {len(data):,} | {len(data) / sdr_bytes:.2f} | {m * 100:.2f} % | "
              f"{p * 100:.2f} % | {mh * 100:.2f} % | {ph * 100:.2f} % |")
    for ext, tr in (("heic", "pq"), ("heic", "hlg"), ("avif", "pq"), ("avif", "hlg")):
        out, w, c = best(lambda: rawlux.save(frame, tmp / f"hdr.{ext}", hdr=True, hdr_transfer=tr), 1)
        n = out.stat().st_size
        print(f"| 10-bit {ext.upper()} {tr.upper()} | {w:.2f} | {c:.2f} | {n:,} | {n / sdr_bytes:.2f} | | | | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the small LG G4 DNG only")
    a = ap.parse_args()
    files = [RAW / "lg-g4-linear-raw.dng"] + ([] if a.quick else [RAW / "gopro-hero6-12mp.dng"])
    print(f"numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'all')}, CPUs: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as d:
        for f in files:
            if not f.is_file():
                print(f"(skipped: {f} is absent)", file=sys.stderr)
                continue
            bench(f, Path(d))


if __name__ == "__main__":
    main()
