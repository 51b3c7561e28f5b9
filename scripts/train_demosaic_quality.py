"""Train the weights of the ``quality`` demosaic (src/rawlux/isp/demosaic/learned_weights.npz).

    python scripts/train_demosaic_quality.py            # about 2.5 min on one core; writes the shipped file
    python scripts/train_demosaic_quality.py --out /tmp/w.npz --base ari-fast   # experiments (see --help)

Deterministic (fixed seeds, no threading-dependent sums in the fit): rerunning it regenerates the shipped file
(run with NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 to be sure of the last bit).

Training data and provenance: full-colour images rendered, without any demosaicing, from the real raw files of
the shared test data (../shared/data, see its MANIFEST.md and licences; nothing of them is copied into the
repository, only the fitted filters are):

- raw/gopro-hero6-12mp.dng, raw/gopro-fusion-front-fisheye.dng (GoPro gpr samples, Apache-2.0 or MIT);
- sensor-dumps/infinite-isp/{Indoor1,Outdoor1..4}_2592x1536_8bit_GRBG.raw and
  ColorCheckerRAW_1920x1080_12bit_BGGR.raw (10xEngineers Infinite-ISP, Apache-2.0);
- sensor-dumps/openisp/chart-1920x1080-10bit-rggb.raw (openISP, MIT).

Each Bayer mosaic is split into its four colour planes (half resolution); each plane is shifted by a quarter
pixel so the four share one centre (bilinear), the two greens are averaged, and the result is binned by area to
1/4, 1/6 and 1/3 of the sensor resolution, which leaves clean, sharp, fully sampled RGB. Then white balance
(camera as-shot for the DNGs, grey world for the dumps), a random saturation boost, a random exposure, clipping,
the sRGB curve and rounding to 8 bits, as the benchmark protocol's images are; one of the two renderings of each
goes through a JPEG round trip (quality 85–95, 4:2:0 chroma), as most photographs have (without it the model
over-sharpened chroma and lost on photographs). No image of McMaster or of scikit-image's photographs (or any
other evaluation set) is used; they served only to compare the variants tried.

The fit: each rendered image is mosaicked in the four patterns (and transposed), demosaicked by ``ri``, and every
pixel (a random fraction, away from the border) adds its features (5×5 window of the base RGB minus the centre)
and residual (truth − base) to its bucket's normal equations; per bucket and missing channel, ridge least squares
restricted to filters that vanish on linear ramps of every channel, then shrunk by the factor that is best on
each source when that source is left out of the fit (the sources differ more from each other than the bucket
statistics suggest; unshrunk filters lost on the photographs).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
sys.path.insert(0, str(ROOT / "src"))

from rawlux.isp.demosaic.learned import WEIGHTS, site_kinds, structure  # noqa: E402
from rawlux.isp.demosaic.quality import mosaic  # noqa: E402

PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")
RADIUS = 2
SIGMA = 1.2
N_ANG = 8
N_STR = 3
N_COH = 3
N_CHR = 3
RIDGE = 1e-3
MARGIN = 8
#: binning of the half-resolution planes, and the range of the saturation boost
SCALES = (0.5, 1.0 / 3.0, 2.0 / 3.0)
SATURATION = (1.0, 2.2)
#: renderings of each source (random saturation and exposure each), and how many go through a JPEG round trip
RENDERS = 2
JPEG_RENDERS = 1
#: the demosaic the correction is learned on (a name in DEMOSAIC_METHODS)
BASE = "ri"


# ----------------------------------------------------------------------------------------------- rendering
def _raw_sources() -> list[tuple[str, np.ndarray, str, np.ndarray | None]]:
    """(name, linear mosaic normalised to [0, 1], pattern, white-balance gains or None for grey world)."""
    import rawpy

    out = []
    for name in ("gopro-hero6-12mp.dng", "gopro-fusion-front-fisheye.dng"):
        with rawpy.imread(str(DATA / "raw" / name)) as r:
            raw = r.raw_image_visible.astype(np.float32)
            black = float(np.mean(r.black_level_per_channel))
            raw = (raw - black) / (r.white_level - black)
            desc = r.color_desc.decode()
            pat = "".join(desc[i] for i in r.raw_pattern.ravel())
            wb = np.asarray(r.camera_whitebalance[:3], np.float32)
        out.append((name, raw, pat, wb / wb[1]))
    dumps = DATA / "sensor-dumps"
    for f, shape, bits, pat, black in (
            *[(f"infinite-isp/{n}_2592x1536_8bit_GRBG.raw", (1536, 2592), 8, "GRBG", 12.5)
              for n in ("Indoor1", "Outdoor1", "Outdoor2", "Outdoor3", "Outdoor4")],
            ("infinite-isp/ColorCheckerRAW_1920x1080_12bit_BGGR.raw", (1080, 1920), 12, "BGGR", None),
            ("openisp/chart-1920x1080-10bit-rggb.raw", (1080, 1920), 10, "RGGB", 0.0)):
        dt = np.uint8 if bits == 8 else np.dtype("<u2")
        raw = np.fromfile(dumps / f, dtype=dt)[: shape[0] * shape[1]].reshape(shape).astype(np.float32)
        if black is None:
            black = float(np.percentile(raw, 0.1))
        raw = np.clip((raw - black) / ((1 << bits) - 1 - black), 0, 1)
        out.append((f, raw, pat, None))
    return out


def _planes(raw: np.ndarray, pat: str) -> np.ndarray:
    """Half-resolution RGB from the four Bayer planes, each shifted onto the quad's centre."""
    import cv2

    h2, w2 = raw.shape[0] // 2, raw.shape[1] // 2
    acc = np.zeros((h2, w2, 3), np.float32)
    for i in range(4):
        y, x = divmod(i, 2)
        p = np.ascontiguousarray(raw[y::2, x::2][:h2, :w2])
        m = np.float32([[1, 0, (0.5 - x) / 2], [0, 1, (0.5 - y) / 2]])
        p = cv2.warpAffine(p, m, (w2, h2), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REFLECT_101)
        c = "RGB".index(pat[i])
        acc[..., c] += p * (0.5 if c == 1 else 1.0)
    return acc


def _tone(lin: np.ndarray, wb: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """White balance, saturation, exposure, sRGB curve, 8-bit rounding."""
    if wb is None:
        wb = lin.reshape(-1, 3).mean(0)
        wb = wb[1] / np.maximum(wb, 1e-6)
    x = lin * wb.astype(np.float32)
    y = x @ np.float32([0.2126, 0.7152, 0.0722])
    s = np.float32(rng.uniform(*SATURATION))
    x = np.maximum(y[..., None] + s * (x - y[..., None]), 0)
    x *= np.float32(rng.uniform(0.6, 1.3) / max(np.percentile(y, 99.0), 1e-6))
    x = np.clip(x, 0, 1)
    x = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return (np.round(x * 255) / 255).astype(np.float32)


def _jpeg(im: np.ndarray, q: int) -> np.ndarray:
    """A JPEG round trip (4:2:0 chroma), as most photographs have been through."""
    import cv2

    ok, buf = cv2.imencode(".jpg", np.round(im[..., ::-1] * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, q])
    return (cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1] / 255.0).astype(np.float32)


def render(seed: int = 0) -> list[tuple[str, np.ndarray]]:
    import cv2

    rng = np.random.default_rng(seed)
    out = []
    for name, raw, pat, wb in _raw_sources():
        half = _planes(raw, pat)
        for scale in SCALES:
            lin = cv2.resize(half, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            for k in range(RENDERS):
                im = _tone(lin, wb, rng)
                if k < JPEG_RENDERS:
                    im = _jpeg(im, int(rng.integers(85, 96)))
                out.append((f"{name}@{scale:.2f}#{k}", im))
    return out


# ----------------------------------------------------------------------------------------------- fitting
def offsets() -> np.ndarray:
    o = [(dy, dx, c) for c in range(3) for dy in range(-RADIUS, RADIUS + 1) for dx in range(-RADIUS, RADIUS + 1)
         if (dy, dx) != (0, 0)]
    return np.asarray(o, np.int64)


def features(base: np.ndarray, offs: np.ndarray) -> np.ndarray:
    """H×W×nf float32: base at each offset minus base at the centre (mirrored borders)."""
    h, w = base.shape[:2]
    r = RADIUS
    bp = np.pad(base, ((r, r), (r, r), (0, 0)), mode="reflect")
    f = np.empty((h, w, len(offs)), np.float32)
    for i, (dy, dx, c) in enumerate(offs):
        f[..., i] = bp[r + dy:r + dy + h, r + dx:r + dx + w, c] - base[..., c]
    return f


def _stats(images, fraction):
    """Strength/coherence thresholds (tertiles over the training pixels)."""
    from rawlux.isp.demosaic import get_method

    ri = get_method(BASE)
    ss, cc, hh = [], [], []
    rng = np.random.default_rng(1)
    for _, im in images:
        base = ri(mosaic(im, "RGGB"), "RGGB")
        jxx, jyy, jxy, mean, jc = structure(base, SIGMA)
        tr = jxx + jyy
        d = np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2)
        s1 = np.sqrt(np.maximum(0.5 * (tr + d), 0))
        s2 = np.sqrt(np.maximum(0.5 * (tr - d), 0))
        pick = rng.random(s1.shape) < fraction
        ss.append((s1 / (np.abs(mean) + 1e-4))[pick])
        cc.append(((s1 - s2) / (s1 + s2 + 1e-12))[pick])
        sc = np.sqrt(np.maximum(jc, 0))
        hh.append((sc / (sc + s1 + 1e-12))[pick])
    return tuple(np.quantile(np.concatenate(v), np.linspace(0, 1, n + 1)[1:-1]).astype(np.float32)
                 for v, n in ((ss, N_STR), (cc, N_COH), (hh, N_CHR)))


def accumulate(images, offs, s_thr, c_thr, h_thr, fraction):
    """Normal equations per source (groups × buckets × nf × nf, groups × buckets × nf × 3) and counts."""
    from rawlux.isp.demosaic import get_method
    from rawlux.isp.demosaic._learned_kernel import bucket_map

    ri = get_method(BASE)

    nb = 4 * N_ANG * N_STR * N_COH * N_CHR
    nf = len(offs)
    groups = sorted({name.split("@")[0] for name, _ in images})
    ata = np.zeros((len(groups), nb, nf, nf))
    atb = np.zeros((len(groups), nb, nf, 3))
    count = np.zeros(nb, np.int64)
    rng = np.random.default_rng(2)
    for name, im0 in images:
        g = groups.index(name.split("@")[0])
        for im in (im0, np.ascontiguousarray(im0.transpose(1, 0, 2))):
            for p in PATTERNS:
                base = ri(mosaic(im, p), p)
                jxx, jyy, jxy, mean, jc = structure(base, SIGMA)
                b = bucket_map(jxx, jyy, jxy, mean, jc, site_kinds(p), N_ANG, s_thr, c_thr, h_thr)
                f = features(base, offs)
                res = im - base
                sl = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
                b, f, res = b[sl].ravel(), f[sl].reshape(-1, nf), res[sl].reshape(-1, 3)
                pick = np.flatnonzero(rng.random(b.size) < fraction)
                b, f, res = b[pick], f[pick], res[pick]
                order = np.argsort(b, kind="stable")
                b, f, res = b[order], f[order].astype(np.float64), res[order].astype(np.float64)
                edges = np.searchsorted(b, np.arange(nb + 1))
                for k in range(nb):
                    lo, hi = edges[k], edges[k + 1]
                    if hi > lo:
                        ata[g, k] += f[lo:hi].T @ f[lo:hi]
                        atb[g, k] += f[lo:hi].T @ res[lo:hi]
                        count[k] += hi - lo
        print(f"  {name}: {im0.shape[1]}x{im0.shape[0]}", flush=True)
    return ata, atb, count


def _ramp_free_basis(offs) -> np.ndarray:
    """Orthonormal basis (nf × (nf − 6)) of the filters whose response to a linear ramp of any channel is 0."""
    nf = len(offs)
    ramps = np.zeros((nf, 6))
    for i, (dy, dx, c) in enumerate(offs):
        ramps[i, 2 * c] = dx
        ramps[i, 2 * c + 1] = dy
    u, _, _ = np.linalg.svd(ramps, full_matrices=True)
    return u[:, 6:]


def _fit(a, b, q):
    """Ridge solution in the ramp-free subspace for one bucket and channel."""
    aq = q.T @ a @ q
    lam = RIDGE * np.trace(aq) / aq.shape[0] + 1e-12
    return q @ np.linalg.solve(aq + lam * np.eye(aq.shape[0]), q.T @ b)


def solve(ata, atb, offs) -> tuple[np.ndarray, np.ndarray]:
    """Per bucket and missing channel: the ridge fit on all sources, shrunk by the factor in [0, 1] that is best
    for each source when the fit leaves that source out (leave-one-source-out, from the normal equations: the
    squared error changes by alpha^2 w'Aw - 2 alpha w'b on the held-out source)."""
    ng, nb, nf, _ = ata.shape
    q = _ramp_free_basis(offs)
    missing = {0: (1, 2), 1: (0, 1), 2: (0, 2), 3: (0, 2)}
    per_kind = nb // 4
    w = np.zeros((nb, 3, nf), np.float32)
    shrink = np.zeros((nb, 3), np.float32)
    a_all, b_all = ata.sum(0), atb.sum(0)
    for k in range(nb):
        for c in missing[k // per_kind]:
            num = den = 0.0
            for g in range(ng):
                wg = _fit(a_all[k] - ata[g, k], b_all[k, :, c] - atb[g, k, :, c], q)
                num += wg @ atb[g, k, :, c]
                den += wg @ ata[g, k] @ wg
            alpha = float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0
            shrink[k, c] = alpha
            w[k, c] = (alpha * _fit(a_all[k], b_all[k, :, c], q)).astype(np.float32)
    return w, shrink


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--fraction", type=float, default=0.25, help="fraction of the pixels used")
    ap.add_argument("--scales", type=float, nargs="+", default=None)
    ap.add_argument("--saturation", type=float, nargs=2, default=None)
    ap.add_argument("--ridge", type=float, default=None)
    ap.add_argument("--jpeg", type=int, default=None)
    ap.add_argument("--radius", type=int, default=None)
    ap.add_argument("--renders", type=int, default=None)
    ap.add_argument("--base", default=None)
    a = ap.parse_args()
    global SCALES, SATURATION, RIDGE, JPEG_RENDERS, RADIUS, RENDERS, BASE
    RADIUS = a.radius or RADIUS
    RENDERS = a.renders or RENDERS
    BASE = a.base or BASE
    JPEG_RENDERS = JPEG_RENDERS if a.jpeg is None else a.jpeg
    SCALES = tuple(a.scales or SCALES)
    SATURATION = tuple(a.saturation or SATURATION)
    RIDGE = a.ridge or RIDGE
    t0 = time.perf_counter()
    images = render()
    print(f"rendered {len(images)} images, {sum(im.shape[0] * im.shape[1] for _, im in images) / 1e6:.1f} MP "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    offs = offsets()
    s_thr, c_thr, h_thr = _stats(images, 0.05)
    print("thresholds", s_thr, c_thr, h_thr, flush=True)
    ata, atb, count = accumulate(images, offs, s_thr, c_thr, h_thr, a.fraction)
    w, shrink = solve(ata, atb, offs)
    print(f"leave-one-source-out shrinkage: median {np.median(shrink[shrink > 0]):.2f}, "
          f"zero in {int(np.sum(shrink == 0))} of {shrink.size} (incl. the sampled channels)", flush=True)
    np.savez_compressed(a.out, weights=w, offs=offs, radius=np.int64(RADIUS), sigma=np.float64(SIGMA),
                        n_ang=np.int64(N_ANG), base=np.str_(BASE), s_thr=s_thr, c_thr=c_thr, h_thr=h_thr, count=count)
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e3:.0f} kB), buckets {len(count)}, "
          f"min/median count {count.min()}/{int(np.median(count))}, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
