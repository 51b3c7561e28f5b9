"""Frame speed: every template on 12 MP and 50 MP photos, and the whole `rawlux frame` file path.

    python benchmarks/bench_frames.py [--quick]

Peers in the same run: Pillow's ImageOps.expand (a plain border, no text: the floor for "copy the photo into
a bigger canvas") and a JPEG decode + encode of the same photo (the floor for the file path).
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / ".." / "shared" / "data" / "demosaic" / "mcmaster"
EXIF = dict(Make="ACME IMAGING CORP.", Model="ACME X-100 II", FocalLength=4.3, FocalLengthIn35mmFormat=24,
            FNumber=1.8, ExposureTime=1 / 120, ISO=100, DateTimeOriginal="2024:05:01 14:03:22",
            GPSLatitude=40.446111, GPSLongitude=-79.982222)


def photo(h: int, w: int) -> np.ndarray:
    from PIL import Image
    files = sorted(DATA.glob("*.tif"))[:4]
    if files:
        row = np.concatenate([np.asarray(Image.open(f).convert("RGB")) for f in files], axis=1)
    else:  # no shared data: a smooth synthetic scene
        yy, xx = np.mgrid[0:500, 0:2000]
        row = np.stack([(xx % 256), (yy % 256), ((xx + yy) % 256)], -1).astype(np.uint8)
    reps = (-(-h // row.shape[0]), -(-w // row.shape[1]), 1)
    return np.ascontiguousarray(np.tile(row, reps)[:h, :w])


def best(fn, n: int) -> float:
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="12 MP only, one repeat")
    a = ap.parse_args()
    from PIL import Image, ImageOps

    from rawlux.borders import frame_pixels
    from rawlux.borders.template import builtin_names

    sizes = [("12 MP", 3000, 4000)] + ([] if a.quick else [("50 MP", 5792, 8688)])
    reps = 1 if a.quick else 3
    frame_pixels(photo(300, 400), EXIF, "bar")  # fonts and caches warm
    print(f"{'photo':<7} {'what':<26} {'dtype':<8} {'seconds':>8} {'MP/s':>7}")
    print("-" * 60)
    for label, h, w in sizes:
        px = photo(h, w)
        mp = h * w / 1e6
        im = Image.fromarray(px)
        t = best(lambda: ImageOps.expand(im, border=int(0.04 * h), fill="white"), reps)
        print(f"{label:<7} {'peer: Pillow expand':<26} {'uint8':<8} {t:8.3f} {mp / t:7.1f}")
        for name in builtin_names():
            t = best(lambda: frame_pixels(px, EXIF, name), reps)
            print(f"{label:<7} {'frame ' + name:<26} {'uint8':<8} {t:8.3f} {mp / t:7.1f}")
        if label == "12 MP":
            f32 = px.astype(np.float32) / 255
            t = best(lambda: frame_pixels(f32, EXIF, "bar"), reps)
            print(f"{label:<7} {'frame bar (Frame API)':<26} {'float32':<8} {t:8.3f} {mp / t:7.1f}")
            with tempfile.TemporaryDirectory() as d:
                src = Path(d) / "in.jpg"
                im.save(src, quality=92)

                def peer() -> None:
                    Image.open(src).convert("RGB").save(io.BytesIO(), "JPEG", quality=95, subsampling=0)
                t = best(peer, reps)
                print(f"{label:<7} {'peer: JPEG decode+encode':<26} {'uint8':<8} {t:8.3f} {mp / t:7.1f}")
                from rawlux.cli.frame import frame_file

                def ours() -> None:
                    frame_file(str(src), Path(d) / "out.jpg", "bar", None, {}, font=None, fmt=None, quality=95,
                               overwrite=True)
                t = best(ours, reps)
                print(f"{label:<7} {'rawlux frame JPEG→JPEG':<26} {'uint8':<8} {t:8.3f} {mp / t:7.1f}")


if __name__ == "__main__":
    sys.exit(main())
