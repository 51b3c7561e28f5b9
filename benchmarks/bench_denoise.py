"""Raw denoise: PSNR at three Poisson–Gaussian noise levels on the McMaster mosaics, and speed at 12 MP.

Each McMaster image → RGGB mosaic → Poisson–Gaussian noise ``var = S·x + O`` (Poisson sampling of x/S
photons, Gaussian read noise of variance O) → then, all demosaiced with rawlux's default (rcd):

- demosaic alone;
- OpenCV fastNlMeansDenoisingColored after demosaic (8-bit, template 7, search 21), its h = hColor chosen per
  level as the best of a grid on the same images (an oracle setting: it favours the baseline);
- rawlux denoise (auto: noise model estimated from each noisy mosaic) before demosaic;
- rawlux denoise with the true noise model (as a DNG NoiseProfile would give it).

Also: the change rawlux's auto mode makes on the clean mosaics (do no harm), and the time to estimate the
model and denoise a 12 MP mosaic (best of the repeats, load average printed beside it).

    python benchmarks/bench_denoise.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MCMASTER = ROOT / ".." / "shared" / "data" / "demosaic" / "mcmaster"
LEVELS = {"low": (0.0005, 2e-6), "mid": (0.002, 1e-5), "high": (0.008, 4e-5)}


def _noisy(cfa, s, o, seed):
    rng = np.random.default_rng(seed)
    return (rng.poisson(np.maximum(cfa, 0) / s) * s + rng.normal(0, np.sqrt(o), cfa.shape)).astype(np.float32)


def _nlm(rgb: np.ndarray, h: float) -> np.ndarray:
    import cv2

    u8 = np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)
    return cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21).astype(np.float32) / 255.0


def main() -> None:
    import tifffile

    from rawlux.isp.demosaic import demosaic
    from rawlux.isp.demosaic.quality import cpsnr, mosaic
    from rawlux.isp.denoise import NoiseModel, denoise_cfa, estimate_noise

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    files = sorted(MCMASTER.glob("*.tif"), key=lambda f: int(f.stem))[: 4 if a.quick else None]
    imgs = [tifffile.imread(f)[..., :3].astype(np.float32) / 255.0 for f in files]

    print(f"\n### Raw denoise on McMaster ({len(imgs)} images, RGGB): CPSNR (dB) after demosaic (rcd)\n")
    print("| noise (S, O) | σ at 0.5 (8-bit) | demosaic alone | + OpenCV NLM colored (h) | "
          "rawlux auto + demosaic | rawlux, true profile |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (s, o) in LEVELS.items():
        sig8 = np.sqrt(s * 0.5 + o) * 255
        noisy = [_noisy(mosaic(im, "RGGB"), s, o, k) for k, im in enumerate(imgs)]
        dem = [demosaic(n, "RGGB") for n in noisy]
        base = np.mean([cpsnr(im, d) for im, d in zip(imgs, dem)])
        best_h, best = None, -1.0
        for f in (0.3, 0.45, 0.6, 0.8, 1.0, 1.25):
            h = float(f * sig8)
            v = np.mean([cpsnr(im, _nlm(d, h)) for im, d in zip(imgs[:6], dem[:6])])
            if v > best:
                best_h, best = h, v
        nlm = np.mean([cpsnr(im, _nlm(d, best_h)) for im, d in zip(imgs, dem)])
        auto = np.mean([cpsnr(im, demosaic(denoise_cfa(n, "RGGB", estimate_noise(n, "RGGB")), "RGGB"))
                        for im, n in zip(imgs, noisy)])
        true = NoiseModel((s,) * 3, (o,) * 3, "profile")
        prof = np.mean([cpsnr(im, demosaic(denoise_cfa(n, "RGGB", true), "RGGB")) for im, n in zip(imgs, noisy)])
        print(f"| {name} ({s:g}, {o:g}) | {sig8:.1f} | {base:.2f} | {nlm:.2f} (h={best_h:.1f}) | "
              f"{auto:.2f} | {prof:.2f} |", flush=True)

    deltas = []
    for im in imgs:
        c = mosaic(im, "RGGB")
        deltas.append(cpsnr(im, demosaic(denoise_cfa(c, "RGGB", estimate_noise(c, "RGGB")), "RGGB"))
                      - cpsnr(im, demosaic(c, "RGGB")))
    print(f"\nClean mosaics, auto mode: mean change {np.mean(deltas):+.3f} dB, worst {np.min(deltas):+.3f} dB "
          f"(the film-scan grain of some images reads as noise)")

    rng = np.random.default_rng(0)
    import cv2

    img = cv2.resize(cv2.GaussianBlur(rng.random((375, 500, 3)).astype(np.float32), (0, 0), 2), (4000, 3000))
    cfa = _noisy(mosaic(np.clip(img, 0, 1), "RGGB"), 0.002, 1e-5, 0)
    print(f"\n### Raw denoise speed: 4000×3000 mosaic, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| step | first call (s) | best (s) |")
    print("|---|---:|---:|")
    for label, fn in (("estimate noise model", lambda: estimate_noise(cfa, "RGGB")),
                      ("denoise (GAT + wavelet Wiener)",
                       lambda: denoise_cfa(cfa, "RGGB", NoiseModel((0.002,) * 3, (1e-5,) * 3, "x")))):
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        ts = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        print(f"| {label} | {first:.2f} | {min(ts):.3f} |", flush=True)
    rgb = demosaic(cfa[:1000, :1000].copy(), "RGGB")
    t0 = time.perf_counter()
    _nlm(rgb, 8.0)
    t = time.perf_counter() - t0
    print(f"| OpenCV NLM colored, 1 MP (×12 for 12 MP) | — | {t:.3f} (≈ {12 * t:.1f} s at 12 MP) |")
    print(f"\n(load average {os.getloadavg()[0]:.1f} at end)")


if __name__ == "__main__":
    main()
