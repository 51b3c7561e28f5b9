"""Colour accuracy on a simulated ColorChecker, the real chart dump, and local tone mapping speed.

    python benchmarks/bench_colour.py            # everything (≈ 1–2 min on 2 cores)
    python benchmarks/bench_colour.py --quick    # the shared protocol and the simulated chart only
    python benchmarks/bench_colour.py --protocol # the shared chart protocol only (../shared/tools/colour)

The simulated chart: the 24 BabelColor spectral reflectances (../shared/data/colour) are rendered through the
Nikon 5100 spectral sensitivities shipped with colour-science under D65 and under illuminant A; the camera's
ColorMatrix1 (A) and ColorMatrix2 (D65) are fitted the way a DNG profile maker does (per illuminant, white-
preserving, ΔE00-minimising); the chart is mosaicked (RGGB, 14-bit, black 256, light photon + read noise) into a
DNG with those matrices and the as-shot neutral, developed with the ``reference`` look into a 16-bit Rec.2020
TIFF, and its patches are compared (ΔE00) with the patches' spectra under the scene illuminant adapted to D50
(Bradford), after one exposure scale on the middle grey patch. Peers (rawpy/LibRaw) are measured on the same DNG.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
SPECTRA = DATA / "colour" / "BabelColor_Average_spectral_reflectance.csv"
CHART_DUMP = DATA / "sensor-dumps" / "infinite-isp" / "ColorCheckerRAW_1920x1080_12bit_BGGR.raw"

CELL, GAP, MARGIN = 48, 12, 24          # simulated chart layout (pixels)
WHITE_LEVEL, BLACK_LEVEL = 16383, 256
ILLUMINANT_CODES = {"A": 17, "D65": 21}


# ----------------------------------------------------------------------------- spectral rendering

def spectral_chart(illuminant: str) -> dict[str, np.ndarray]:
    """Camera RGB and XYZ of the 24 patches and of the perfect white under ``illuminant`` (A or D65)."""
    import colour

    if illuminant not in ILLUMINANT_CODES:
        raise ValueError(f"unknown illuminant {illuminant!r} (A or D65)")
    wl = np.arange(380.0, 781.0, 5.0)
    table = np.genfromtxt(SPECTRA, delimiter=",", names=True)
    cols = table.dtype.names[1:]
    R = np.array([np.interp(wl, table["wavelength_nm"], table[c]) for c in cols])  # held beyond 730 nm
    shape = colour.SpectralShape(380, 780, 5)
    S = colour.MSDS_CAMERA_SENSITIVITIES["Nikon 5100 (NPL)"].copy().align(shape).values
    cmf = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"].copy().align(shape).values
    E = colour.SDS_ILLUMINANTS[illuminant].copy().align(shape).values
    k = 1.0 / float(E @ cmf[:, 1])
    return {"cam": (R * E) @ S, "cam_white": E @ S, "xyz": (R * E) @ cmf * k, "xyz_white": E @ cmf * k}


def reference_d50(sim: dict[str, np.ndarray]) -> np.ndarray:
    """The patches' XYZ under the scene light, adapted to D50 (Bradford)."""
    from rawlux.colour import spaces

    xy = spaces.XYZ_to_xy(sim["xyz_white"])
    return sim["xyz"] @ spaces.adaptation(xy, spaces.D50_XY).T


def dng_matrices() -> dict[str, np.ndarray]:
    """ColorMatrix1 (A) and ColorMatrix2 (D65) as a DNG profile maker fits them."""
    from rawlux.colour import calibrate, spaces

    out = {}
    for name in ("A", "D65"):
        sim = spectral_chart(name)
        neutral = sim["cam_white"] / sim["cam_white"][1]
        fm, _ = calibrate.fit_forward_matrix(sim["cam"] / neutral, reference_d50(sim))
        xy = spaces.XYZ_to_xy(sim["xyz_white"])
        out[name] = calibrate.color_matrix_from_forward(fm, neutral, xy)
    return out


def chart_layout() -> tuple[int, int, list[tuple[int, int]]]:
    w = 2 * MARGIN + 6 * CELL + 5 * GAP
    h = 2 * MARGIN + 4 * CELL + 3 * GAP
    origins = [(MARGIN + (k % 6) * (CELL + GAP), MARGIN + (k // 6) * (CELL + GAP)) for k in range(24)]
    return w, h, origins


def chart_corners() -> str:
    """--corners of the simulated chart's patch grid (a pitch of CELL+GAP, patches centred in their cells)."""
    w, h, _ = chart_layout()
    x0, y0 = MARGIN - GAP / 2, MARGIN - GAP / 2
    x1, y1 = x0 + 6 * (CELL + GAP), y0 + 4 * (CELL + GAP)
    return f"{x0},{y0},{x1},{y0},{x1},{y1},{x0},{y1}"


def write_chart_dng(path: Path, illuminant: str, matrices: dict[str, np.ndarray], seed: int = 1,
                    exposure: float = 0.8) -> Path:
    """Mosaic the simulated chart under ``illuminant`` into a CFA DNG with the fitted matrices."""
    from rawlux.frame import BAYER_PATTERNS, Metadata
    from rawlux.io.dngwrite import write_dng

    sim = spectral_chart(illuminant)
    w, h, origins = chart_layout()
    scale = exposure / float(sim["cam"][18].max())           # the white patch's brightest channel at 0.8
    bg = 0.03 * sim["cam_white"] * scale                        # a dark card between the patches
    img = np.broadcast_to(bg, (h, w, 3)).copy()
    for (x, y), rgb in zip(origins, sim["cam"] * scale):
        img[y:y + CELL, x:x + CELL] = rgb
    code = np.array(BAYER_PATTERNS["RGGB"]).reshape(2, 2)
    yy, xx = np.mgrid[0:h, 0:w]
    mosaic = np.take_along_axis(img, code[yy % 2, xx % 2][..., None], 2)[..., 0]
    rng = np.random.default_rng(seed)
    span = WHITE_LEVEL - BLACK_LEVEL
    electrons = mosaic * 20000.0                                # full well 20k e-: photon noise
    dn = rng.poisson(electrons) / 20000.0 * span + BLACK_LEVEL + rng.normal(0, 2.0, mosaic.shape)
    dn = np.clip(np.rint(dn), 0, WHITE_LEVEL).astype(np.uint16)
    meta = Metadata(make="Simulated", model="Spectral chart camera", cfa_pattern="RGGB")
    meta.black_level = np.full((2, 2), float(BLACK_LEVEL))
    meta.white_level = float(WHITE_LEVEL)
    meta.color_matrix1, meta.illuminant1 = matrices["A"], ILLUMINANT_CODES["A"]
    meta.color_matrix2, meta.illuminant2 = matrices["D65"], ILLUMINANT_CODES["D65"]
    meta.as_shot_neutral = sim["cam_white"] / sim["cam_white"][1]
    return write_dng(path, dn, meta)


# ----------------------------------------------------------------------------- measuring

def patch_means(rgb: np.ndarray, frac: float = 0.5) -> np.ndarray:
    _, _, origins = chart_layout()
    m = int(CELL * (1 - frac) / 2)
    return np.array([rgb[y + m:y + CELL - m, x + m:x + CELL - m].reshape(-1, 3).mean(0) for x, y in origins])


def delta_e_of_xyz_d50(xyz: np.ndarray, ref: np.ndarray) -> np.ndarray:
    from rawlux.colour.calibrate import delta_e00, xyz_to_lab

    xyz = xyz * (ref[21, 1] / xyz[21, 1])                      # one exposure scale on neutral 5
    return delta_e00(xyz_to_lab(xyz), xyz_to_lab(ref))


def tiff_to_xyz_d50(path: Path) -> np.ndarray:
    """Patch XYZ (D50) of a 16-bit Rec.2020 TIFF written by ``rawlux.save``."""
    import tifffile

    from rawlux.colour import spaces

    v = tifffile.imread(path).astype(np.float64) / 65535.0
    lin = spaces.decode(v, "rec709").astype(np.float64)
    m = spaces.adaptation(spaces.D65_XY, spaces.D50_XY) @ spaces.rgb_to_xyz("rec2020")
    return patch_means(lin) @ m.T


def develop_chart(dng: Path, out: Path, profile: Path | None = None, table: bool = False) -> Path:
    """Develop with the reference look into a 16-bit Rec.2020 TIFF. With a calibrated profile, ``table``
    says whether its hue/sat table is used (the colour stage applies it) or only its matrix."""
    import rawlux
    from rawlux.colour.profile import CameraProfile
    from rawlux.io.decode import open_image

    frame = open_image(dng)
    if profile is not None:
        prof = CameraProfile.from_file(profile)
        if not table:
            prof.hue_sat_map = None
        frame.meta.extra["profile"] = prof
    frame = rawlux.develop(frame, look="reference", output={"space": "rec2020"})
    rawlux.save(frame, out, bits=16)   # format from the .tif name
    return out


def rawpy_xyz_d50(dng: Path) -> np.ndarray:
    """The peer: LibRaw (rawpy) with the camera white balance, linear XYZ output."""
    import rawpy

    from rawlux.colour import spaces

    with rawpy.imread(str(dng)) as r:
        rgb = r.postprocess(use_camera_wb=True, output_color=rawpy.ColorSpace.XYZ, gamma=(1, 1),
                            no_auto_bright=True, output_bps=16, user_flip=0, half_size=False,
                            demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD)
    xyz = patch_means(rgb.astype(np.float64) / 65535.0)
    # LibRaw's XYZ output is relative to a D65 white: adapt like everything else
    return xyz @ spaces.adaptation(spaces.D65_XY, spaces.D50_XY).T


def simulated_chart(workdir: Path, with_peers: bool = True, calibrate_too: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """ΔE00 per patch for each (illuminant, pipeline) on the simulated chart."""
    from rawlux.colour import calibrate as cal

    mats = dng_matrices()
    results: dict[str, dict[str, np.ndarray]] = {}
    for ill in ("D65", "A"):
        sim = spectral_chart(ill)
        ref = reference_d50(sim)
        dng = write_chart_dng(workdir / f"chart-{ill}.dng", ill, mats)
        tif = develop_chart(dng, workdir / f"chart-{ill}.tif")
        res = {"rawlux (DNG profile)": delta_e_of_xyz_d50(tiff_to_xyz_d50(tif), ref)}
        if with_peers:
            try:
                res["rawpy / LibRaw"] = delta_e_of_xyz_d50(rawpy_xyz_d50(dng), ref)
            except ImportError:
                pass
        if calibrate_too and ill == "A":
            from rawlux.colour.cli import run_calibration
            prof = workdir / "chart-A.toml"
            run_calibration(str(dng), out=str(prof), corners=chart_corners(), illuminant="A")
            res["rawlux calibrate (matrix)"] = delta_e_of_xyz_d50(
                tiff_to_xyz_d50(develop_chart(dng, workdir / "cal-m.tif", profile=prof)), ref)
            res["rawlux calibrate (matrix + table)"] = delta_e_of_xyz_d50(
                tiff_to_xyz_d50(develop_chart(dng, workdir / "cal-t.tif", profile=prof, table=True)), ref)
        results[ill] = res
        _ = cal
    return results


# ----------------------------------------------------------------------------- the shared chart protocol

TOOLS = ROOT / ".." / "shared" / "tools" / "colour"
#: acceptance targets of the shared protocol (mean ΔE00): reference look under D65 and A, calibrated under A
PROTOCOL_TARGETS = {"D65": 0.95, "A": 1.10, "A, calibrate + --profile": 0.70}


def _mean_max(report: str) -> tuple[float, float]:
    """(mean, max) ΔE00 from measure_chart.py's summary line."""
    import re

    m = re.search(r"dE00 \(exposure-matched\): mean ([0-9.]+)\s+median [0-9.]+\s+max ([0-9.]+)", report)
    if not m:
        raise RuntimeError(f"measure_chart.py printed no ΔE00 summary:\n{report[-800:]}")
    return float(m.group(1)), float(m.group(2))


def shared_protocol(workdir: Path, seed: int = 7) -> dict[str, tuple[float, float]]:
    """The shared tools' chart protocol, exactly as ../shared/tools/README.md gives it, through the CLI:

        make_chart_dng.py --illuminant D65|A --out chart_X.dng --seed 7
        rawlux develop chart_X.dng --look reference --format tiff --bits 16 -o dev_X.tif
        measure_chart.py dev_X.tif chart_X.json --reference lab_adapted
        rawlux calibrate chart_A.dng --chart colorchecker24 -o cam.toml
        rawlux develop chart_A.dng --look reference --format tiff --bits 16 --profile cam.toml -o cal_A.tif

    Returns {row: (mean, max) ΔE00}."""
    import subprocess

    def run(*args: str) -> str:
        r = subprocess.run(list(args), cwd=workdir, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout[-800:]}{r.stderr[-800:]}")
        return r.stdout

    import shutil

    exe = Path(sys.executable).parent / "rawlux"
    rawlux_cli = [str(exe) if exe.exists() else (shutil.which("rawlux") or "rawlux")]
    out: dict[str, tuple[float, float]] = {}
    for ill in ("D65", "A"):
        run(sys.executable, str(TOOLS / "make_chart_dng.py"), "--illuminant", ill, "--out", f"chart_{ill}.dng",
            "--seed", str(seed))
        run(*rawlux_cli, "develop", f"chart_{ill}.dng", "--look", "reference", "--format", "tiff", "--bits", "16",
            "-o", f"dev_{ill}.tif", "--overwrite")
        out[ill] = _mean_max(run(sys.executable, str(TOOLS / "measure_chart.py"), f"dev_{ill}.tif",
                                 f"chart_{ill}.json", "--reference", "lab_adapted"))
    run(*rawlux_cli, "calibrate", "chart_A.dng", "--chart", "colorchecker24", "-o", "cam.toml")
    run(*rawlux_cli, "develop", "chart_A.dng", "--look", "reference", "--format", "tiff", "--bits", "16",
        "--profile", "cam.toml", "-o", "cal_A.tif", "--overwrite")
    out["A, calibrate + --profile"] = _mean_max(run(sys.executable, str(TOOLS / "measure_chart.py"), "cal_A.tif",
                                                    "chart_A.json", "--reference", "lab_adapted"))
    return out


def print_protocol(res: dict[str, tuple[float, float]]) -> None:
    print("\nShared chart protocol (make_chart_dng.py --seed 7 → develop --look reference --format tiff --bits 16"
          " → measure_chart.py --reference lab_adapted), ΔE00")
    print(f"| {'chart / pipeline':34s} | mean ΔE00 | max ΔE00 | target (mean) |")
    print(f"|{'-' * 36}|-----------|----------|---------------|")
    for name, (mean, mx) in res.items():
        print(f"| {name:34s} | {mean:9.2f} | {mx:8.2f} | ≤ {PROTOCOL_TARGETS[name]:.2f}        |")


# ----------------------------------------------------------------------------- real chart dump

def real_chart(workdir: Path, black: float = 16.0) -> dict[str, np.ndarray] | None:
    if not CHART_DUMP.exists():
        return None
    from rawlux.colour.cli import run_calibration

    res = run_calibration(str(CHART_DUMP), out=str(workdir / "dump.toml"), raw=f"1920x1080,12,BGGR,{black:g}",
                          picture=str(workdir / "dump-swatches.png"))
    return {"white balance only": res.delta_e("before"), "calibrate: matrix": res.delta_e("matrix"),
            "calibrate: matrix + table": res.delta_e("after")}


# ----------------------------------------------------------------------------- local tone speed

def localtone_speed(mp: float = 12.0, repeats: int = 3) -> list[tuple[str, float]]:
    import cv2

    from rawlux.frame import Frame, State
    from rawlux.isp.localtone import LocalTone, LocalToneParams

    h = int(np.sqrt(mp * 1e6 * 3 / 4))
    w = int(mp * 1e6 / h)
    rng = np.random.default_rng(0)
    small = rng.random((h // 64, w // 64, 3), dtype=np.float32) ** 3 * 4
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.maximum(img, 0.001)
    f = Frame(np.ascontiguousarray(img, np.float32), State.SCENE_LINEAR)
    st, p = LocalTone(), LocalToneParams(strength=0.6)
    st.run(f, p)   # compile / warm up
    rows = []
    t = min(_timed(lambda: st.run(f, p)) for _ in range(repeats))
    rows.append((f"rawlux localtone ({w}×{h})", t))
    mer = cv2.createMergeMertens()
    ex = [np.clip(img * s, 0, 1) for s in (0.25, 1.0, 4.0)]
    t2 = _timed(lambda: mer.process(ex))
    rows.append(("OpenCV MergeMertens, 3 synthetic exposures (peer)", t2))
    return rows


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="simulated chart only")
    ap.add_argument("--protocol", action="store_true", help="the shared chart protocol only")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as td:
        wd = Path(td)
        if (TOOLS / "make_chart_dng.py").exists():
            print_protocol(shared_protocol(wd))
        if a.protocol:
            return 0
        res = simulated_chart(wd)
        print("\nSimulated ColorChecker (Nikon 5100 spectral sensitivities), ΔE00 after one exposure scale")
        print(f"| {'pipeline':38s} | light | mean ΔE00 | max ΔE00 |")
        print(f"|{'-' * 40}|-------|-----------|----------|")
        for ill, rows in res.items():
            for name, de in rows.items():
                print(f"| {name:38s} | {ill:5s} | {de.mean():9.2f} | {de.max():8.2f} |")
        if a.quick:
            return 0
        real = real_chart(wd)
        if real:
            print("\nReal chart dump ColorCheckerRAW_1920x1080_12bit_BGGR.raw (black 16), ΔE00")
            print(f"| {'profile':28s} | mean ΔE00 | max ΔE00 |")
            print(f"|{'-' * 30}|-----------|----------|")
            for name, de in real.items():
                print(f"| {name:28s} | {de.mean():9.2f} | {de.max():8.2f} |")
        print("\nLocal tone mapping speed (best of 3, this machine)")
        print(f"| {'method':52s} | seconds |")
        print(f"|{'-' * 54}|---------|")
        for name, t in localtone_speed():
            print(f"| {name:52s} | {t:7.3f} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
