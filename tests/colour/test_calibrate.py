"""Calibration pieces: ΔE00, matrix fit, hue/sat table, chart reading on the real dump, bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rawlux.colour import calibrate as cal
from rawlux.colour import dcp
from rawlux.errors import InputError, ParameterError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data"
DUMP = DATA / "sensor-dumps" / "infinite-isp" / "ColorCheckerRAW_1920x1080_12bit_BGGR.raw"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not present")


def test_delta_e00_matches_colour_science():
    import colour

    rng = np.random.default_rng(3)
    a = rng.uniform([0, -80, -80], [100, 80, 80], (500, 3))
    b = a + rng.normal(0, 6, a.shape)
    assert np.allclose(cal.delta_e00(a, b), colour.delta_E(a, b, method="CIE 2000"), atol=1e-6)


def test_white_preserving_fit_recovers_a_matrix():
    rng = np.random.default_rng(0)
    true = np.array([[0.6, 0.3, 0.06], [0.25, 0.8, -0.05], [0.02, -0.2, 1.0]])
    true = true / (true @ np.ones(3))[:, None] * cal.D50_XYZ[:, None]       # rows sum to the D50 white
    cam = rng.uniform(0.03, 0.9, (24, 3))
    m, scale = cal.fit_forward_matrix(cam, cam @ true.T * 0.7)
    assert np.allclose(m @ np.ones(3), cal.D50_XYZ, atol=1e-9)
    assert np.allclose(m, true, atol=1e-4) and abs(scale - 0.7) < 1e-4


def test_hue_sat_table_kernel_matches_numpy_twin_and_keeps_neutrals():
    ref, _ = cal.reference_lab()
    rng = np.random.default_rng(1)
    t = dcp.HueSatMap.identity(12, 4)
    t.data[:, 1:, 0] = rng.normal(0, 5, (12, 3))
    t.data[:, 1:, 1:] = rng.uniform(0.9, 1.1, (12, 3, 2))
    out = dcp.apply_hue_sat_map_xyz(ref, t)
    greys = np.outer([0.05, 0.2, 0.9], cal.D50_XYZ)
    assert np.allclose(dcp.apply_hue_sat_map_xyz(greys, t), greys, rtol=1e-9)   # neutrals untouched
    assert cal.delta_e00(cal.xyz_to_lab(out[:18]), cal.xyz_to_lab(ref[:18])).mean() > 0.5
    wk = ref @ np.linalg.inv(dcp.spaces.adaptation(dcp.spaces.D65_XY, dcp.spaces.D50_XY)
                             @ dcp.spaces.rgb_to_xyz("rec2020")).T
    img = dcp.apply_hue_sat_map(wk.astype(np.float32).reshape(4, 6, 3), t).reshape(-1, 3)
    back = img @ (dcp.spaces.adaptation(dcp.spaces.D65_XY, dcp.spaces.D50_XY) @ dcp.spaces.rgb_to_xyz("rec2020")).T
    assert cal.delta_e00(cal.xyz_to_lab(back), cal.xyz_to_lab(out)).max() < 0.05


def test_table_round_trips_through_toml_and_rejects_nan():
    import tomllib

    t = dcp.HueSatMap.identity(12, 4)
    t.data[3, 2] = (4.0, 1.05, 0.98)
    back = dcp.HueSatMap.from_dict(tomllib.loads(t.to_toml())["hue_sat_map"])
    assert np.allclose(back.data, t.data, atol=1e-4)
    bad = tomllib.loads(t.to_toml())["hue_sat_map"]
    bad["data"][5][1] = float("nan")
    with pytest.raises(ParameterError, match="NaN"):
        dcp.HueSatMap.from_dict(bad)


def test_profile_with_nan_or_singular_matrix_is_refused(tmp_path):
    from rawlux.colour.profile import CameraProfile

    p = tmp_path / "bad.toml"
    p.write_text('schema_version = 1\n[[calibration]]\nilluminant = "D65"\n'
                 'color_matrix = [[1, 0, 0], [0, nan, 0], [0, 0, 1]]\n')
    with pytest.raises(ParameterError, match="NaN"):
        CameraProfile.from_file(p)
    p.write_text('schema_version = 1\n[[calibration]]\nilluminant = "D65"\n'
                 'color_matrix = [[1, 2, 3], [2, 4, 6], [0, 0, 1]]\n')
    with pytest.raises(ParameterError, match="singular"):
        CameraProfile.from_file(p)


def test_unknown_illuminant_and_bad_corners():
    from rawlux.colour.chart import parse_corners
    from rawlux.colour.cli import parse_illuminant

    assert parse_illuminant("A") == pytest.approx((0.44757, 0.40745))
    assert parse_illuminant("3200K")[0] > 0.4
    with pytest.raises(ParameterError, match="unknown illuminant"):
        parse_illuminant("candlelight")
    with pytest.raises(ParameterError, match="8 numbers"):
        parse_corners("1,2,3")
    with pytest.raises(ParameterError, match="degenerate"):
        parse_corners("0,0,1,0,1,1,0,1")


@needs_data
def test_real_chart_dump_calibrates(tmp_path):
    from rawlux.colour.cli import run_calibration
    from rawlux.colour.profile import CameraProfile

    res = run_calibration(str(DUMP), out=str(tmp_path / "c.toml"), raw="1920x1080,12,BGGR,16",
                          picture=str(tmp_path / "s.png"), illuminant="D50")
    # the patch grid as found: inside the card, the dark-skin corner top-left
    c = res.corners
    assert 900 < c[:, 0].mean() < 1000 and 600 < c[:, 1].mean() < 700 and c[0, 0] < c[1, 0]
    before, after = res.delta_e("before").mean(), res.delta_e("after").mean()
    assert after < 3.0 and after < before / 2
    prof = CameraProfile.from_file(tmp_path / "c.toml")
    assert np.allclose(prof.calibrations[0].forward_matrix @ np.ones(3), cal.D50_XYZ, atol=1e-4)
    assert (tmp_path / "s.png").stat().st_size > 1000


@needs_data
def test_bad_charts_give_clear_errors(tmp_path):
    import importlib.util
    import sys

    from rawlux.colour.cli import run_calibration

    spec = importlib.util.spec_from_file_location("bench_colour", ROOT / "benchmarks" / "bench_colour.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_colour"] = bench
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    mats = {"A": np.eye(3), "D65": np.eye(3)}
    over = bench.write_chart_dng(tmp_path / "over.dng", "D65", mats, exposure=2.5)
    with pytest.raises(InputError, match="saturated"):
        run_calibration(str(over), corners=bench.chart_corners(), table=False, illuminant="D65")
    under = bench.write_chart_dng(tmp_path / "under.dng", "D65", mats, exposure=0.01)
    with pytest.raises(InputError, match="underexposed"):
        run_calibration(str(under), corners=bench.chart_corners(), table=False, illuminant="D65")
    # a raw with no chart in it
    from rawlux.frame import Metadata
    from rawlux.io.dngwrite import write_dng
    rng = np.random.default_rng(0)
    meta = Metadata(make="Test", model="Flat", cfa_pattern="RGGB", color_matrix1=np.eye(3))
    meta.black_level, meta.white_level = np.zeros((2, 2)), 4095.0
    flat = rng.normal(1500, 20, (240, 360)).clip(0, 4095)
    p = write_dng(tmp_path / "flat.dng", flat, meta)
    with pytest.raises(InputError, match="no ColorChecker 24 found|do not read as a ColorChecker"):
        run_calibration(str(p), table=False, illuminant="D65")


@needs_data
def test_cli_prints_table_and_writes_profile(tmp_path):
    from click.testing import CliRunner

    from rawlux.colour.cli import calibrate

    out = tmp_path / "cam.toml"
    r = CliRunner().invoke(calibrate, [str(DUMP), "--raw", "1920x1080,12,BGGR,16", "-o", str(out), "--no-table",
                                       "--illuminant", "D50"])
    assert r.exit_code == 0, r.output
    assert "neutral 5" in r.output and "mean" in r.output and out.exists()
    r = CliRunner().invoke(calibrate, [str(DUMP), "--raw", "1920x1080,12,BGGR", "-o", str(out),
                                       "--illuminant", "nowhere"])
    assert r.exit_code == 2 and "unknown illuminant" in r.output


def test_gamut_compression_keeps_hue_better_than_clipping():
    from rawlux.colour import calibrate as cal
    from rawlux.colour import gamut, spaces

    # saturated Rec.2020 colours (laser-like lights) at several hues and levels
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 1, (2000, 3)).astype(np.float32)
    rgb[np.arange(2000), rng.integers(0, 3, 2000)] = 0.0
    rgb *= 0.8 / rgb.max(1, keepdims=True)
    srgb = rgb @ np.asarray(spaces.rgb_to_rgb("rec2020", "srgb"), np.float32).T
    comp = gamut.to_output(rgb, "srgb")
    clip = np.clip(srgb, 0, 1)
    assert comp.min() >= -1e-5                                           # nothing left outside the gamut
    lum = np.asarray(spaces.rgb_to_xyz("srgb")[1], np.float32)
    assert np.allclose(comp @ lum, srgb @ lum, rtol=1e-4, atol=1e-6)   # luminance kept
    y = srgb @ lum
    inside = (y - srgb.min(1)) / y < 0.79
    assert np.allclose(comp[inside], srgb[inside], atol=1e-6)            # in-gamut colours untouched
    to_xyz = (spaces.adaptation(spaces.D65_XY, spaces.D50_XY) @ spaces.rgb_to_xyz("srgb")).T
    ref = cal.xyz_to_lab(srgb @ to_xyz)

    def hue_err(x):
        lab = cal.xyz_to_lab(x @ to_xyz)
        d = np.degrees(np.arctan2(lab[:, 2], lab[:, 1]) - np.arctan2(ref[:, 2], ref[:, 1]))
        return np.abs((d + 180) % 360 - 180)[~inside]
    assert np.mean(hue_err(comp)) < 0.8 * np.mean(hue_err(clip))
