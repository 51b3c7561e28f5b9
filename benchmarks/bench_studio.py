"""Studio preview latency: what the page waits for after each action (server side of ``/api/render``:
recipe, proxy render, JPEG encoding, histogram), on the 12 MP DNG and on a 500 px JPEG.

    python benchmarks/bench_studio.py [--repeat 3] [--quick]

Prints one table per photo: the first render (decode + the stages up to geometry at full resolution +
the proxy render), then each slider moved (median of ``--repeat`` successive values, as when dragging;
CPU seconds beside wall time, since a shared machine inflates wall time), the look strength, the frame
template preview, and a temperature change. Peers in the same run: the full-resolution develop of the
same photo (what re-rendering without a proxy would cost) and the part-1 design (proxy kept after
``colour``, keyed by the white balance, so a temperature change re-runs decode..colour). The last table
is the proxy's fidelity: PSNR of the proxy render against the full render downscaled to the same size.
Set NUMBA_NUM_THREADS=2 to measure "on 2 cores".
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
RAW = DATA / "raw" / "gopro-hero6-12mp.dng"
MCM = DATA / "demosaic" / "mcmaster"
TOKEN = "bench"
H = {"X-Rawlux-Token": TOKEN}

#: (label, extra request body per successive value) — three values per control, as when dragging
CONTROLS = [
    ("exposure", [{"params": {"exposure": {"ev": v}}} for v in (0.3, 0.6, 0.9)]),
    ("temperature", [{"params": {"whitebalance": {"temp_shift": v}}} for v in (500.0, 1000.0, 1500.0)]),
    ("tint", [{"params": {"whitebalance": {"tint_shift": v}}} for v in (10.0, 20.0, 30.0)]),
    ("contrast", [{"params": {"tone": {"contrast": v}}} for v in (1.1, 1.2, 1.3)]),
    ("highlights", [{"params": {"curve": {"highlights": v}}} for v in (-0.1, -0.2, -0.3)]),
    ("shadows", [{"params": {"curve": {"shadows": v}}} for v in (0.1, 0.2, 0.3)]),
    ("saturation", [{"params": {"saturation": {"saturation": v}}} for v in (1.1, 1.2, 1.3)]),
    ("vibrance", [{"params": {"saturation": {"vibrance": v}}} for v in (0.1, 0.2, 0.3)]),
    ("clarity", [{"params": {"clarity": {"amount": v}}} for v in (0.2, 0.3, 0.4)]),
    ("vignette", [{"params": {"vignette": {"amount": v}}} for v in (-0.2, -0.3, -0.4)]),
    ("grain", [{"params": {"grain": {"amount": v}}} for v in (0.1, 0.2, 0.3)]),
    ("look strength (vivid)", [{"look": "vivid", "strength": v} for v in (0.4, 0.6, 0.8)]),
    ("frame preview (border)", [{"frame": "border", "params": {"exposure": {"ev": v}}} for v in (0.1, 0.2, 0.3)]),
]


def _timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


def bench_photo(label: str, folder: Path, name: str, repeat: int, peers: bool) -> list[tuple[str, float, float]]:
    from fastapi.testclient import TestClient

    from rawlux.studio.app import create_app, warm_up
    warm_up()  # as the server does in a background thread at start
    client = TestClient(create_app(folder, token=TOKEN, warm=False))

    def post(body):
        r = client.post("/api/render", headers=H, json={"path": name, "look": "natural", **body})
        assert r.status_code == 200, r.text
        return r.json()

    rows = []
    _, w, c = _timed(lambda: post({}))
    rows.append(("first render", w, c))
    for ctl, bodies in CONTROLS:
        ws, cs = [], []
        for i in range(repeat):
            _, w, c = _timed(lambda: post(bodies[i % len(bodies)]))
            ws.append(w)
            cs.append(c)
        rows.append((f"slider: {ctl}", statistics.median(ws), statistics.median(cs)))
    if peers:
        import rawlux
        from rawlux.studio.app import Renderer

        _, w, c = _timed(lambda: rawlux.develop(str(folder / name), look="natural", sidecar=False))
        rows.append(("peer: full-resolution develop", w, c))

        class Part1(Renderer):
            """Part 1's design: the proxy after `colour`, keyed by every front param (white balance too)."""
            FRONT_STOP = "colour"

            @staticmethod
            def _front_wb(recipe):
                return recipe.params["whitebalance"]
        r1 = Part1()
        p = folder / name
        r1.render(p, r1._recipe(p, "natural", None))
        _, w, c = _timed(lambda: r1.render(p, r1._recipe(p, "natural", {"whitebalance": {"temp_shift": 700.0}})))
        rows.append(("peer: part-1 proxy, temperature", w, c))
    return rows


def fidelity(folder: Path, name: str) -> list[tuple[str, float]]:
    import cv2

    from rawlux.pipeline.run import run_stages
    from rawlux.studio.app import Renderer
    r = Renderer()
    p = folder / name
    full_frame = r.decode(p)
    out = []
    for look, params in (("natural", {}), ("natural", {"whitebalance": {"temp_shift": 1500.0}}),
                         ("vivid", {"whitebalance": {"tint_shift": -20.0}, "exposure": {"ev": 0.5}})):
        rec = r._recipe(p, look, params)
        prev = r.render(p, rec)
        f = full_frame.with_pixels(full_frame.pixels.copy())
        f.meta = full_frame.meta.copy()
        full = np.clip(cv2.resize(run_stages(f, rec).pixels, prev.shape[1::-1], interpolation=cv2.INTER_AREA), 0, 1)
        mse = float(np.mean((prev - full) ** 2))
        out.append((f"{look} {params or ''}".strip(), 10 * np.log10(1.0 / max(mse, 1e-12))))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="skip the peers and the fidelity table")
    a = ap.parse_args(argv)
    import cv2
    import numba
    print(f"numba threads: {numba.config.NUMBA_NUM_THREADS}; times in ms (wall / CPU), median of {a.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photos = []
        if RAW.is_file():
            (folder / RAW.name).symlink_to(RAW.resolve())
            photos.append(("12 MP DNG (4000×3000)", RAW.name))
        if (MCM / "1.tif").is_file():
            cv2.imwrite(str(folder / "mcm1.jpg"), cv2.imread(str(MCM / "1.tif")), [cv2.IMWRITE_JPEG_QUALITY, 92])
            photos.append(("500 px JPEG", "mcm1.jpg"))
        if not photos:
            print("shared data folder is absent", file=sys.stderr)
            return 1
        # the served folder must hold the files themselves (symlinks out are refused): copy the DNG
        if RAW.is_file():
            (folder / RAW.name).unlink()
            import shutil
            shutil.copy(RAW, folder / RAW.name)
        tables = {lab: bench_photo(lab, folder, name, a.repeat, not a.quick) for lab, name in photos}
        labels = [r[0] for r in next(iter(tables.values()))]
        head = "| action | " + " | ".join(tables) + " |"
        print()
        print(head)
        print("|---|" + "---|" * len(tables))
        for i, lab in enumerate(labels):
            cells = []
            for rows in tables.values():
                _, w, c = rows[i]
                cells.append(f"{w:.0f} / {c:.0f}")
            print(f"| {lab} | " + " | ".join(cells) + " |")
        if not a.quick and RAW.is_file():
            print()
            print("| proxy vs full render downscaled (12 MP DNG) | PSNR dB |")
            print("|---|---|")
            for lab, psnr in fidelity(folder, RAW.name):
                print(f"| {lab} | {psnr:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
