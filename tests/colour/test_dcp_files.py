"""DCP camera profiles: every DCP of Debian's rawtherapee-data parses and agrees with exiftool; writing a DCP
reads back the same; hostile DCPs are refused cleanly; `rawlux profile show`."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rawlux.colour import dcpfile
from rawlux.colour.profile import CameraProfile
from rawlux.errors import InputError, ParameterError

DCP_DIR = Path("/usr/share/rawtherapee/dcpprofiles")
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "raw"
IPHONE = DATA / "iphone12pro-proraw-stripped.dng"
needs_rt = pytest.mark.skipif(not DCP_DIR.is_dir() or not list(DCP_DIR.glob("*.dcp")),
                              reason="Debian rawtherapee-data is not installed (apt-get install rawtherapee-data)")
needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")


def _nums(s) -> np.ndarray:
    return np.array([float(x) for x in str(s).split()])


@needs_rt
@needs_exiftool
def test_every_rawtherapee_dcp_parses_and_matches_exiftool():
    files = sorted(DCP_DIR.glob("*.dcp"))
    assert len(files) >= 100
    tags = ["ColorMatrix1", "ColorMatrix2", "ForwardMatrix1", "ForwardMatrix2", "ProfileHueSatMapDims",
            "ProfileLookTableDims", "CalibrationIlluminant1", "CalibrationIlluminant2", "UniqueCameraModel",
            "ProfileToneCurve", "BaselineExposureOffset", "DefaultBlackRender", "ProfileHueSatMapEncoding",
            "ProfileLookTableEncoding"]
    out = subprocess.run(["exiftool", "-m", "-j", "-n", *(f"-{t}" for t in tags), *map(str, files)],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    ref = {Path(d["SourceFile"]).name: d for d in json.loads(out)}
    seen_3d = seen_two = seen_curve = 0
    for f in files:
        p = dcpfile.read_dcp(f)
        e = ref[f.name]
        assert p.unique_camera_model == str(e["UniqueCameraModel"]).strip(), f.name
        for name, attr in (("ColorMatrix", "color_matrix"), ("ForwardMatrix", "forward_matrix")):
            for i in (1, 2):
                m = getattr(p, f"{attr}{i}")
                if f"{name}{i}" in e:
                    np.testing.assert_allclose(m.ravel(), _nums(e[f"{name}{i}"]), atol=5e-5, err_msg=f.name)
                else:
                    assert m is None, f.name
        for i in (1, 2):
            assert getattr(p, f"illuminant{i}") == e.get(f"CalibrationIlluminant{i}"), f.name
        for tag, t, enc in (("ProfileHueSatMapDims", p.hue_sat_map1, "ProfileHueSatMapEncoding"),
                            ("ProfileLookTableDims", p.look_table, "ProfileLookTableEncoding")):
            if tag in e:
                hd, sd, vd = (int(x) for x in _nums(e[tag]))
                assert t.dims == (hd, sd, max(vd, 1)), f.name
                assert t.srgb_gamma == (e.get(enc, 0) == 1), f.name
                seen_3d += t.val_divisions > 1
            else:
                assert t is None, f.name
        seen_two += p.hue_sat_map2 is not None
        if "ProfileToneCurve" in e:
            v = str(e["ProfileToneCurve"])
            if "array" in v:
                assert p.tone_curve.size == int(re.search(r"(\d+)", v).group(1)), f.name
            elif "Binary" not in v:
                np.testing.assert_allclose(p.tone_curve.ravel(), _nums(v), atol=1e-6, err_msg=f.name)
            assert p.tone_curve[0, 0] == 0 and p.tone_curve[-1, 0] == pytest.approx(1.0), f.name
            seen_curve += 1
        if "DefaultBlackRender" in e:
            assert p.default_black_render == e["DefaultBlackRender"], f.name
        prof = CameraProfile.from_dng_profile(p, explicit=True)   # every one makes a usable profile
        assert np.all(np.isfinite(prof.camera_to_working(prof.calibrations[0].xy, np.ones(3))))
    assert seen_3d and seen_two and seen_curve


@needs_rt
@needs_exiftool
def test_table_values_match_exiftool():
    for f in sorted(DCP_DIR.glob("*.dcp"))[::40]:
        p = dcpfile.read_dcp(f)
        for tag, t in (("ProfileHueSatMapData1", p.hue_sat_map1), ("ProfileLookTableData", p.look_table)):
            if t is None:
                continue
            raw = subprocess.run(["exiftool", "-m", "-b", f"-{tag}", str(f)], capture_output=True, text=True,
                                 timeout=30, check=True).stdout
            np.testing.assert_allclose(t.data.ravel(), _nums(raw), rtol=1e-5, atol=1e-6, err_msg=f"{f.name} {tag}")


def test_dcp_write_read_roundtrip(tmp_path):
    rng = np.random.default_rng(3)
    hsm = lambda: dcpfile.HsvTable(12, 4, 1, np.stack([rng.normal(0, 3, (1, 12, 4)), rng.uniform(0.9, 1.1, (1, 12, 4)),
                                                       rng.uniform(0.9, 1.1, (1, 12, 4))], -1))
    p = dcpfile.DngProfile(unique_camera_model="Test Cam", profile_name="unit", illuminant1=17, illuminant2=21,
                           color_matrix1=np.array([[0.9, -0.3, -0.1], [-0.4, 1.3, 0.1], [-0.1, 0.2, 0.6]]),
                           color_matrix2=np.array([[0.8, -0.2, -0.1], [-0.4, 1.2, 0.2], [-0.1, 0.2, 0.7]]),
                           forward_matrix1=np.array([[0.6, 0.2, 0.15], [0.25, 0.7, 0.05], [0.0, 0.05, 0.78]]),
                           hue_sat_map1=hsm(), hue_sat_map2=hsm(),
                           look_table=dcpfile.HsvTable(6, 3, 4, np.ones((4, 6, 3, 3)), srgb_gamma=True),
                           tone_curve=np.array([[0, 0], [0.25, 0.4], [1, 1.0]]), baseline_exposure_offset=0.25,
                           default_black_render=1)
    out = dcpfile.write_dcp(tmp_path / "t.dcp", p)
    assert out.read_bytes()[:4] == b"IIRC"
    q = dcpfile.read_dcp(out)
    assert q.unique_camera_model == "Test Cam" and q.profile_name == "unit"
    np.testing.assert_allclose(q.color_matrix1, p.color_matrix1, atol=1e-4)
    np.testing.assert_allclose(q.forward_matrix1, p.forward_matrix1, atol=1e-4)
    np.testing.assert_allclose(q.hue_sat_map2.data, p.hue_sat_map2.data, atol=1e-6)
    assert q.look_table.dims == (6, 3, 4) and q.look_table.srgb_gamma
    np.testing.assert_allclose(q.tone_curve, p.tone_curve, atol=1e-7)
    assert q.baseline_exposure_offset == pytest.approx(0.25) and q.default_black_render == 1
    if shutil.which("exiftool"):
        e = json.loads(subprocess.run(["exiftool", "-j", "-n", str(out)], capture_output=True, text=True,
                                      timeout=30).stdout)[0]
        assert e["FileType"] == "DCP" and e["UniqueCameraModel"] == "Test Cam"
        np.testing.assert_allclose(_nums(e["ColorMatrix2"]), p.color_matrix2.ravel(), atol=1e-4)


@pytest.mark.parametrize("mutate, msg", [
    (lambda b: b[:6], "too short"),
    (lambda b: b"II*\x00" + b[4:], "magic"),
    (lambda b: b"IIRC" + (10 ** 9).to_bytes(4, "little") + b[8:], "outside"),
    (lambda b: b[:8] + (60000).to_bytes(2, "little") + b[10:], "entries"),
    (lambda b: b[:len(b) // 2], None),
    (lambda b: b"", "empty"),
])
def test_hostile_dcp_refused(tmp_path, mutate, msg):
    p = dcpfile.DngProfile(unique_camera_model="X", color_matrix1=np.eye(3) * 0.8, illuminant1=21,
                           hue_sat_map1=dcpfile.HsvTable(90, 30, 1, np.ones((1, 90, 30, 3))))
    good = dcpfile.dcp_bytes(p)
    f = tmp_path / "bad.dcp"
    f.write_bytes(mutate(good))
    with pytest.raises((InputError, ParameterError), match=msg) as ei:
        dcpfile.read_dcp(f)
    assert "bad.dcp" in str(ei.value)


def test_huge_table_dims_refused(tmp_path):
    p = dcpfile.DngProfile(unique_camera_model="X", color_matrix1=np.eye(3) * 0.8, illuminant1=21,
                           hue_sat_map1=dcpfile.HsvTable(4, 2, 1, np.ones((1, 4, 2, 3))))
    b = bytearray(dcpfile.dcp_bytes(p))
    i = b.index((4).to_bytes(4, "little") + (2).to_bytes(4, "little") + (1).to_bytes(4, "little"))
    b[i:i + 12] = (100000).to_bytes(4, "little") + (2).to_bytes(4, "little") + (1).to_bytes(4, "little")
    f = tmp_path / "huge.dcp"
    f.write_bytes(bytes(b))
    with pytest.raises(InputError, match="out of range"):
        dcpfile.read_dcp(f)


@pytest.mark.skipif(not IPHONE.exists(), reason="shared data not present")
def test_dng_embedded_profile_read():
    p = dcpfile.read_dng_profile(IPHONE)
    assert p.kind == "dng" and p.tone_curve is not None and len(p.tone_curve) == 257
    assert p.default_black_render == 1          # "None", stored in the raw IFD by this writer
    assert p.illuminant1 == 17 and p.illuminant2 == 21
    assert "ProfileGainTableMap" in p.unused


@needs_rt
def test_profile_show_cli_and_camera_check(tmp_path):
    from click.testing import CliRunner

    from rawlux.colour.profile_cli import profile

    f = DCP_DIR / "Canon EOS 5D Mark III.dcp"
    r = CliRunner().invoke(profile, ["show", str(f)])
    assert r.exit_code == 0, r.output
    assert "Canon EOS 5D Mark III" in r.output and "HueSatMap: 6 hue × 6 sat × 3 value (3D)" in r.output
    prof = CameraProfile.from_file(f)
    from rawlux.frame import Metadata
    meta = Metadata(make="GoPro", model="HERO6 Black")
    with pytest.raises(ParameterError, match="--profile-any-camera"):
        prof.check_camera(meta)
    assert "another camera" in prof.check_camera(meta, allow_any=True)
    assert prof.check_camera(Metadata(make="Canon", model="Canon EOS 5D Mark III")) is None


@pytest.mark.skipif(shutil.which("rawtherapee-cli") is None or not DCP_DIR.is_dir(),
                    reason="rawtherapee-cli / rawtherapee-data not installed")
def test_rawtherapee_accepts_rawlux_dcp_and_agrees(tmp_path):
    """A DCP written by `rawlux calibrate` is read by RawTherapee, whose render with it matches rawlux's
    (the full comparison over several DCPs is benchmarks/bench_dcp.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_dcp", Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dcp.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    dcp_path = bench.calibrated_dcp(tmp_path)
    dng, _ = bench.write_dng_for(dcp_path, tmp_path / "cal.dng")
    rt = bench.rt_patches(dng, dcp_path, tmp_path, table=True)
    rl = bench.rawlux_patches(dng, dcp_path, table=True)
    rl_plain = bench.rawlux_patches(dng, dcp_path, table=False)
    assert bench.compare(rt, rl).mean() < 0.5
    assert bench.compare(rt, rl_plain).mean() > 0.5          # RawTherapee did apply the table


def test_fuzzed_dcps_give_rawlux_errors_only(tmp_path):
    """Random byte changes to a valid DCP: it parses or raises InputError/ParameterError, nothing else."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    p = dcpfile.DngProfile(unique_camera_model="Fuzz", color_matrix1=np.eye(3) * 0.8, illuminant1=21,
                           color_matrix2=np.eye(3) * 0.7, illuminant2=17,
                           hue_sat_map1=dcpfile.HsvTable(6, 3, 2, np.ones((2, 6, 3, 3))),
                           look_table=dcpfile.HsvTable(4, 2, 1, np.ones((1, 4, 2, 3))),
                           tone_curve=np.array([[0, 0], [1, 1.0]]))
    good = dcpfile.dcp_bytes(p)
    f = tmp_path / "f.dcp"

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)), min_size=1, max_size=8),
           st.integers(8, len(good)))
    def run(edits, cut):
        b = bytearray(good[:cut])
        for i, v in edits:
            if i < len(b):
                b[i] = v
        f.write_bytes(bytes(b))
        try:
            q = dcpfile.read_dcp(f)
            CameraProfile.from_dng_profile(q)
        except (InputError, ParameterError):
            pass

    run()


@needs_rt
def test_develop_refuses_dcp_of_another_camera_unless_asked(tmp_path):
    import importlib.util

    from click.testing import CliRunner

    from rawlux.cli import cli

    spec = importlib.util.spec_from_file_location("bench_dcp", Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dcp.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    dng, _ = bench.write_dng_for(DCP_DIR / "Canon EOS 100D.dcp", tmp_path / "c100d.dng")
    other = str(DCP_DIR / "NIKON D750.dcp")
    r = CliRunner().invoke(cli, ["develop", str(dng), "--profile", other, "-o", str(tmp_path / "a.jpg")])
    assert r.exit_code == 2 and "NIKON D750" in r.output and "--profile-any-camera" in r.output, r.output
    r = CliRunner().invoke(cli, ["develop", str(dng), "--profile", other, "--profile-any-camera",
                                 "-o", str(tmp_path / "b.jpg")])
    assert r.exit_code == 0, r.output
    own = str(DCP_DIR / "Canon EOS 100D.dcp")
    r = CliRunner().invoke(cli, ["develop", str(dng), "--profile", own, "--look", "camera", "-o", str(tmp_path / "c.jpg")])
    assert r.exit_code == 0 and (tmp_path / "c.jpg").stat().st_size > 1000, r.output
