"""rawlux vs RawTherapee (rawtherapee-cli) developing the same DNG with the same DCP camera profile.

For each DCP (from Debian's rawtherapee-data), a synthetic raw DNG is written for that camera (its make/model,
the DCP's ColorMatrix1/2, white balance = the DCP's D65 neutral; Bayer cameras only: RawTherapee treats a
file named after an X-Trans camera as X-Trans): a grid of colour patches spanning hues and
saturations plus greys, mosaicked RGGB, without noise. Both developers read it with the DCP, white balance as shot,
the DCP's HueSatMap applied (dual-illuminant blend), no LookTable, no tone curve, no other adjustment:

* rawlux: ``develop(dng, look="reference", profile=DCP, linear=True)``, linear Rec.2020;
* RawTherapee: a neutral processing profile plus ``InputProfile=file:DCP``, ``ApplyHueSatMap=true``,
  ``ToneCurve=false``, ``ApplyLookTable=false``, ``ApplyBaselineExposureOffset=false``, output RTv4_Rec2020
  (Rec.2020 primaries, sRGB-shaped TRC read from the ICC and undone), 32-bit float TIFF.

Patch centres are averaged, converted to CIELAB (D65), RawTherapee's result is scaled once so the middle-grey
patch matches, and ΔE00 is reported (mean / max), with the HueSatMap on in both, and — to show what the table
does — rawlux without the table against RawTherapee with it.

    python benchmarks/bench_dcp.py [--dcp NAME ...] [--keep DIR]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DCP_DIR = Path("/usr/share/rawtherapee/dcpprofiles")
DEFAULT_DCPS = ("Canon EOS 1300D", "Canon EOS 5D Mark III", "NIKON D750", "SONY ILCE-7M3", "OLYMPUS E-M1MarkII",
                "Panasonic DC-G9", "Canon EOS 100D")
CELL, GAP, COLS, ROWS = 24, 4, 12, 8
WHITE, BLACK = 16383, 512


def patches(seed: int = 0) -> np.ndarray:
    """Target colours, linear ProPhoto (D50): 12 hues × 6 saturation/value steps + 8 greys + 16 random; values
    stay below white after the profile (highlight clipping is not what is compared)."""
    import colorsys

    rng = np.random.default_rng(seed)
    out = []
    for h in np.arange(12) / 12:
        for s, v in ((0.25, 0.5), (0.5, 0.35), (0.75, 0.3), (0.5, 0.55), (0.85, 0.45), (0.35, 0.15)):
            out.append(colorsys.hsv_to_rgb(h, s, v))
    greys = [0.03, 0.06, 0.1, 0.18, 0.25, 0.35, 0.45, 0.55]
    out += [(g, g, g) for g in greys]
    for _ in range(COLS * ROWS - len(out)):
        out.append(tuple(rng.uniform(0.03, 0.5, 3)))
    return np.array(out, np.float64)


GREY_INDEX = 72 + 3          # the 0.18 grey


def write_dng_for(dcp_path: Path, out: Path) -> tuple[Path, np.ndarray]:
    """A DNG for the DCP's camera whose patches, through the DCP's matrix at D65, are ``patches()``."""
    from rawlux.colour import dcpfile, spaces
    from rawlux.colour.profile import CameraProfile
    from rawlux.frame import BAYER_PATTERNS, Metadata
    from rawlux.io.dngwrite import write_dng

    p = dcpfile.read_dcp(dcp_path)
    prof = CameraProfile.from_dng_profile(p)
    neutral = prof.xy_to_neutral(spaces.D65_XY)
    cam_to_d50 = prof.camera_to_xyz_d50(spaces.D65_XY, neutral)     # white-balanced camera → XYZ D50
    pp = patches()
    xyz = pp @ np.asarray(spaces.rgb_to_xyz("prophoto")).T
    cam_wb = xyz @ np.linalg.inv(cam_to_d50).T
    # white-balanced values stay ≤ 0.6 of white: RawTherapee clips a channel once its white-balanced value
    # passes white (without highlight reconstruction), rawlux keeps it; clipping is not what is compared here
    k = 0.6 / cam_wb.max()
    cam = np.clip(cam_wb * neutral, 0.0, None) * k
    w = COLS * (CELL + GAP) + GAP
    h = ROWS * (CELL + GAP) + GAP
    img = np.zeros((h, w, 3))
    img[:] = 0.02 * neutral * k
    for k, rgb in enumerate(cam):
        r, c = divmod(k, COLS)
        y, x = GAP + r * (CELL + GAP), GAP + c * (CELL + GAP)
        img[y:y + CELL, x:x + CELL] = rgb
    code = np.array(BAYER_PATTERNS["RGGB"]).reshape(2, 2)
    yy, xx = np.mgrid[0:h, 0:w]
    mosaic = np.take_along_axis(img, code[yy % 2, xx % 2][..., None], 2)[..., 0]
    dn = np.clip(np.rint(mosaic * (WHITE - BLACK) + BLACK), 0, WHITE).astype(np.uint16)
    model = p.unique_camera_model
    make = model.split()[0]
    meta = Metadata(make=make, model=model[len(make):].strip() or model, cfa_pattern="RGGB")
    meta.black_level = np.full((2, 2), float(BLACK))
    meta.white_level = float(WHITE)
    meta.color_matrix1, meta.illuminant1 = p.color_matrix1, p.illuminant1
    if p.color_matrix2 is not None:
        meta.color_matrix2, meta.illuminant2 = p.color_matrix2, p.illuminant2
    meta.as_shot_neutral = neutral
    return write_dng(out, dn, meta), pp


def patch_means(rgb: np.ndarray, frac: float = 0.5) -> np.ndarray:
    m = int(CELL * (1 - frac) / 2)
    out = []
    for k in range(COLS * ROWS):
        r, c = divmod(k, COLS)
        y, x = GAP + r * (CELL + GAP), GAP + c * (CELL + GAP)
        out.append(rgb[y + m:y + CELL - m, x + m:x + CELL - m].reshape(-1, 3).mean(0))
    return np.array(out)


def lab_of_rec2020(lin: np.ndarray) -> np.ndarray:
    from rawlux.colour import spaces
    from rawlux.colour.calibrate import xyz_to_lab

    m = spaces.adaptation(spaces.D65_XY, spaces.D50_XY) @ spaces.rgb_to_xyz("rec2020")
    return xyz_to_lab(np.asarray(lin, np.float64) @ m.T)


def rawlux_patches(dng: Path, dcp_path: Path, table: bool = True) -> np.ndarray:
    import rawlux
    from rawlux.colour.profile import CameraProfile

    prof = CameraProfile.from_file(dcp_path)
    if not table:
        prof._hsm_pair = (None, None)          # type: ignore[attr-defined]
    f = rawlux.develop(str(dng), look="reference", profile=prof, linear=True, sidecar=False,
                       output={"space": "rec2020"}, lens={"profile": "off"},
                       # flat synthetic patches at the data's maximum look like clipped highlights to the
                       # per-channel clip finder; nothing here is clipped, so no reconstruction (RT: none either)
                       highlights={"method": "none"})
    return patch_means(f.pixels)


PP3 = """[Version]
AppVersion=5.9
Version=349

[Exposure]
Auto=false
Clip=0.02
Compensation=0
Brightness=0
Contrast=0
Saturation=0
Black=0
HighlightCompr=0
ShadowCompr=0
CurveMode=Standard
Curve=0;
Curve2=0;

[White Balance]
Enabled=true
Setting=Camera

[Color Management]
InputProfile=file:{dcp}
ToneCurve=false
ApplyLookTable=false
ApplyBaselineExposureOffset=false
ApplyHueSatMap={hsm}
DCPIlluminant=0
WorkingProfile=ProPhoto
WorkingTRC=none
OutputProfile=RTv4_Rec2020
OutputProfileIntent=Relative
OutputBPC=false

[RAW]
CA=false
HotPixelFilter=false
DeadPixelFilter=false

[RAW Bayer]
Method=amaze
"""


def _icc_trc(path: Path):  # type: ignore[no-untyped-def]
    """The inverse of an ICC 'para' type-4 TRC (RT's v4 output profiles)."""
    import struct

    b = path.read_bytes()
    n = struct.unpack(">I", b[128:132])[0]
    tags = {}
    for i in range(n):
        sig, off, size = struct.unpack(">4sII", b[132 + 12 * i:144 + 12 * i])
        tags[sig] = (off, size)
    off, _ = tags[b"rTRC"]
    d = b[off:]
    assert d[:4] == b"para" and struct.unpack(">H", d[8:10])[0] == 4, "expected a parametric type-4 TRC"
    g, a, bb, c, dd = (struct.unpack(">i", d[12 + 4 * k:16 + 4 * k])[0] / 65536 for k in range(5))

    def decode(v: np.ndarray) -> np.ndarray:
        # Y = (a·X + b)^g for X ≥ d, else c·X: the ICC curve maps encoded X to linear Y
        v = np.asarray(v, np.float64)
        return np.where(v >= dd, np.power(np.maximum(a * v + bb, 0), g), c * v)
    return decode


def rt_patches(dng: Path, dcp_path: Path, work: Path, table: bool = True) -> np.ndarray:
    import tifffile

    pp3 = work / f"neutral-{'hsm' if table else 'nohsm'}.pp3"
    pp3.write_text(PP3.format(dcp=dcp_path, hsm="true" if table else "false"))
    out = work / f"rt-{dng.stem}-{int(table)}.tif"
    cmd = ["rawtherapee-cli", "-q", "-Y", "-o", str(out), "-p", str(pp3), "-t", "-b32", "-c", str(dng)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not out.exists():
        raise RuntimeError(f"rawtherapee-cli failed: {r.stdout[-500:]} {r.stderr[-500:]}")
    v = tifffile.imread(str(out)).astype(np.float64)
    if v.max() > 2.0:                     # integer output: normalise
        v = v / 65535.0
    lin = _icc_trc(Path("/usr/share/rawtherapee/iccprofiles/output/RTv4_Rec2020.icc"))(v[..., :3])
    return patch_means(lin)


def calibrated_dcp(work: Path, camera: str = "Canon EOS 100D") -> Path:
    """A DCP written the way `rawlux calibrate -o cam.dcp` writes one (matrix + hue/sat table fitted to a
    ColorChecker seen through a camera that is not a 3×3 away from XYZ), named for ``camera``."""
    from rawlux.colour import calibrate as cal
    from rawlux.colour import dcpfile, spaces

    rng = np.random.default_rng(5)
    true = np.array([[0.62, 0.28, 0.06], [0.27, 0.78, -0.05], [0.03, -0.15, 0.95]])
    ref, _ = cal.reference_lab()
    cam = ref @ np.linalg.inv(true).T
    cam = np.clip(cam * (1 + rng.normal(0, 0.05, cam.shape)), 1e-3, None) * np.array([0.55, 1.0, 0.7])
    c = cal.fit_profile(cam, xy=spaces.D65_XY)
    return dcpfile.write_dcp(work / "rawlux-calibrated.dcp", dcpfile.from_calibration(c, "rawlux calibrated", camera))


def compare(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ΔE00 between patch sets ``a`` (reference) and ``b``, ``b`` scaled once on middle grey."""
    from rawlux.colour.calibrate import delta_e00

    b = b * (a[GREY_INDEX, 1] / b[GREY_INDEX, 1])
    return delta_e00(lab_of_rec2020(a), lab_of_rec2020(b))


def speed(mp: float = 12.0, repeats: int = 3) -> list[tuple[str, float]]:
    """Seconds for the profile-table kernels on an ``mp``-megapixel frame (best of ``repeats``)."""
    from rawlux.colour import dcp, dcpfile

    p = dcpfile.read_dcp(DCP_DIR / "Canon EOS 1300D.dcp")
    n = int(mp * 1e6)
    rng = np.random.default_rng(0)
    img = rng.uniform(0.0, 1.0, (n // 4000, 4000, 3)).astype(np.float32)
    out = np.empty_like(img)
    rows = []
    for label, fn in (
            ("HueSatMap 90×30 (2.5D)", lambda: dcp.apply_dng_table(img, p.hue_sat_map1, out=out)),
            ("ramp + LookTable 90×30×30 (3D, sRGB encoding) + 8192-point tone curve",
             lambda: dcp.camera_render(img, look_table=p.look_table, tone_curve=p.tone_curve, black=dcp.AUTO_BLACK,
                                       out=out)),
            ("ramp + tone curve only", lambda: dcp.camera_render(img, tone_curve=p.tone_curve, out=out))):
        fn()
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        rows.append((label, best))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dcp", nargs="*", default=list(DEFAULT_DCPS), help="camera names (files in " + str(DCP_DIR) + ")")
    ap.add_argument("--keep", default=None, help="keep the DNGs and TIFFs in this folder")
    ap.add_argument("--speed", action="store_true", help="also time the table kernels on 12 MP")
    args = ap.parse_args(argv)
    if shutil.which("rawtherapee-cli") is None or not DCP_DIR.is_dir():
        print("rawtherapee-cli or rawtherapee-data is not installed (apt-get install rawtherapee rawtherapee-data)")
        return 1
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_dcp_"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.dcp + ["rawlux calibrate"]:
        dcp_path = DCP_DIR / f"{name}.dcp" if name != "rawlux calibrate" else calibrated_dcp(work)
        if not dcp_path.exists():
            print(f"skipping {name}: no {dcp_path}")
            continue
        from rawlux.colour import dcpfile
        p = dcpfile.read_dcp(dcp_path)
        t = p.hue_sat_map1
        dims = "none" if t is None else f"{t.hue_divisions}×{t.sat_divisions}×{t.val_divisions}" + \
            (" ×2" if p.hue_sat_map2 is not None else "")
        dng, _ = write_dng_for(dcp_path, work / f"{name.replace(' ', '_')}.dng")
        if name == "rawlux calibrate":
            name = "written by `rawlux calibrate -o cam.dcp`"
        t0 = time.perf_counter()
        rt = rt_patches(dng, dcp_path, work, table=True)
        t_rt = time.perf_counter() - t0
        rt_plain = rt_patches(dng, dcp_path, work, table=False)
        t0 = time.perf_counter()
        rl = rawlux_patches(dng, dcp_path, table=True)
        t_rl = time.perf_counter() - t0
        rl_plain = rawlux_patches(dng, dcp_path, table=False)
        d = compare(rt, rl)
        d_plain = compare(rt_plain, rl_plain)
        d_off = compare(rt, rl_plain)
        rows.append((name, dims, d.mean(), d.max(), d_plain.mean(), d_off.mean(), t_rl, t_rt))
    print("\nrawlux vs rawtherapee-cli 5.9, same DNG and DCP, HueSatMap on, no LookTable / tone curve; ΔE00 over "
          f"{COLS * ROWS} patches after one exposure scale on middle grey\n")
    print("| DCP | HueSatMap | mean ΔE00 | max | matrix only (both without table) | rawlux without table vs RT with |")
    print("|---|---|---:|---:|---:|---:|")
    for name, dims, m, mx, mp, moff, *_ in rows:
        print(f"| {name} | {dims} | **{m:.2f}** | {mx:.2f} | {mp:.2f} | {moff:.2f} |")
    if rows:
        print(f"\nall: mean {np.mean([r[2] for r in rows]):.2f} (target ≤ 1.5); "
              f"time per tiny DNG: rawlux {np.mean([r[6] for r in rows]):.2f} s in process, "
              f"rawtherapee-cli {np.mean([r[7] for r in rows]):.2f} s per call (process start included; noisy)")
    if args.speed:
        print("\n| 12 MP, numba threads as set | s (best of 3) |\n|---|---:|")
        for label, t in speed():
            print(f"| {label} | {t:.3f} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
