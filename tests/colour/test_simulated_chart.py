"""The simulated ColorChecker (spectral rendering through real camera sensitivities): measured ΔE00 targets."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data"
pytestmark = pytest.mark.skipif(not (DATA / "colour").is_dir(), reason="shared data not present")


def _bench():
    spec = importlib.util.spec_from_file_location("bench_colour", ROOT / "benchmarks" / "bench_colour.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_colour"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


@pytest.fixture(scope="module")
def bench():
    return _bench()


@pytest.fixture(scope="module")
def matrices(bench):
    return bench.dng_matrices()


@pytest.mark.parametrize("illuminant,target", [("D65", 1.0), ("A", 1.2)])
def test_builtin_dng_profile_path(bench, matrices, tmp_path, illuminant, target):
    dng = bench.write_chart_dng(tmp_path / f"c-{illuminant}.dng", illuminant, matrices)
    ref = bench.reference_d50(bench.spectral_chart(illuminant))
    de = bench.delta_e_of_xyz_d50(bench.tiff_to_xyz_d50(bench.develop_chart(dng, tmp_path / "c.tif")), ref)
    assert de.mean() <= target, f"{illuminant}: mean ΔE00 {de.mean():.2f} > {target}"
    assert de.max() < 4.0


def test_calibrate_beats_dual_illuminant_profile_under_A(bench, matrices, tmp_path):
    from rawlux.colour.cli import run_calibration
    from rawlux.colour.profile import CameraProfile

    dng = bench.write_chart_dng(tmp_path / "a.dng", "A", matrices)
    ref = bench.reference_d50(bench.spectral_chart("A"))
    prof = tmp_path / "a.toml"
    res = run_calibration(str(dng), out=str(prof), corners=bench.chart_corners(), illuminant="A")
    assert res.delta_e("after").mean() < res.delta_e("matrix").mean() < res.delta_e("before").mean()
    CameraProfile.from_file(prof)          # the profile loads through the spine
    base = bench.delta_e_of_xyz_d50(bench.tiff_to_xyz_d50(bench.develop_chart(dng, tmp_path / "b.tif")), ref)
    de = bench.delta_e_of_xyz_d50(
        bench.tiff_to_xyz_d50(bench.develop_chart(dng, tmp_path / "t.tif", profile=prof, table=True)), ref)
    assert de.mean() <= 0.8, f"calibrated mean ΔE00 {de.mean():.2f} > 0.8"
    assert de.mean() < base.mean() - 0.2
    # detection finds the same chart without --corners
    auto = run_calibration(str(dng), table=False, illuminant="A")
    assert np.allclose(auto.corners, res.corners, atol=3.0)
