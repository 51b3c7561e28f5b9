"""The DNG camera model of rawlux.colour.profile: dual-illuminant weight, neutral ↔ xy, profile files."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.colour import spaces as S
from rawlux.colour import temperature as T
from rawlux.colour.profile import CameraProfile
from rawlux.errors import InputError, ParameterError
from rawlux.frame import Metadata

CM_A = np.array([[0.90, -0.30, -0.05], [-0.40, 1.20, 0.20], [-0.05, 0.15, 0.60]])     # XYZ → camera under A
CM_D65 = np.array([[0.75, -0.20, -0.10], [-0.45, 1.30, 0.15], [-0.10, 0.25, 0.75]])   # under D65


def dual_profile(forward: bool = False) -> CameraProfile:
    m = Metadata(source="synthetic.dng")
    m.color_matrix1, m.illuminant1 = CM_D65, 21      # deliberately listed in the "wrong" order
    m.color_matrix2, m.illuminant2 = CM_A, 17
    if forward:
        fm = np.array([[0.6, 0.25, 0.1], [0.25, 0.7, 0.05], [0.02, 0.1, 0.7]])
        fm = np.diag(S.xy_to_XYZ(S.D50_XY) / (fm @ np.ones(3))) @ fm   # DNG: FM maps (1,1,1) to D50
        m.forward_matrix1 = m.forward_matrix2 = fm
    return CameraProfile.from_metadata(m)


def test_calibrations_sorted_by_temperature():
    p = dual_profile()
    assert abs(p.calibrations[0].cct - 2856) < 2 and abs(p.calibrations[1].cct - 6504) < 3
    assert np.allclose(p.calibrations[0].color_matrix, CM_A)


@pytest.mark.parametrize("temp", [2000.0, 2856.0, 3500.0, 4500.0, 5500.0, 6504.0, 9000.0])
def test_weight_is_linear_in_inverse_cct(temp):
    p = dual_profile()
    xy = T.temp_tint_to_xy(temp)
    t_a, t_d = p.calibrations[0].cct, p.calibrations[1].cct
    t = T.xy_to_temp_tint(xy)[0]
    expect = float(np.clip((1 / t - 1 / t_d) / (1 / t_a - 1 / t_d), 0, 1))
    assert abs(p._weight(xy) - expect) < 1e-9
    # the blended ColorMatrix is that weight of CM_A plus the rest of CM_D65
    assert np.allclose(p.xyz_to_camera(xy), expect * CM_A + (1 - expect) * CM_D65, atol=1e-12)


def test_weight_midpoint_in_mired():
    p = dual_profile()
    t_a, t_d = p.calibrations[0].cct, p.calibrations[1].cct
    mid = 2.0 / (1 / t_a + 1 / t_d)                   # halfway in mired, ≈ 3970 K
    assert abs(p._weight(T.temp_tint_to_xy(mid)) - 0.5) < 2e-3


@pytest.mark.parametrize("temp,tint", [(2856.0, 0.0), (3300.0, 5.0), (4300.0, -8.0), (5200.0, 0.0),
                                       (6504.0, 10.0), (8000.0, 0.0)])
@pytest.mark.parametrize("forward", [False, True])
def test_neutral_xy_round_trip(temp, tint, forward):
    p = dual_profile(forward)
    xy = T.temp_tint_to_xy(temp, tint)
    n = p.xy_to_neutral(xy)
    assert n[1] == pytest.approx(1.0)
    xy2 = p.neutral_to_xy(n)
    assert abs(xy2[0] - xy[0]) < 2e-5 and abs(xy2[1] - xy[1]) < 2e-5, (xy, xy2)
    # white-balanced camera white (1, 1, 1) → working-space white (1, 1, 1), D65
    m = p.camera_to_working(xy, n)
    w = m @ np.ones(3)
    assert np.allclose(w / w[1], 1.0, atol=2e-4)


def test_camera_to_xyz_without_forward_matrix_is_inverse_colormatrix_adapted():
    p = dual_profile()
    xy = T.temp_tint_to_xy(4500.0)
    n = p.xy_to_neutral(xy)
    m = p.camera_to_xyz_d50(xy, n)
    expect = S.adaptation(xy, S.D50_XY) @ np.linalg.inv(p.xyz_to_camera(xy)) @ np.diag(n)
    expect /= (expect @ np.ones(3))[1]
    assert np.allclose(m, expect, atol=1e-10)
    assert np.allclose(m @ np.ones(3), S.xy_to_XYZ(S.D50_XY), atol=1e-6)   # white → D50, Y = 1


def test_profile_without_matrices_assumes_srgb():
    p = CameraProfile.from_metadata(Metadata(source="x"))
    assert p.assumed
    n = p.xy_to_neutral(S.D65_XY)
    assert np.allclose(n, 1.0, atol=1e-6)


def test_singular_matrix_in_file_is_an_input_error():
    m = Metadata(source="bad.dng")
    m.color_matrix1, m.illuminant1 = np.zeros((3, 3)), 21
    with pytest.raises(InputError, match="bad.dng"):
        CameraProfile.from_metadata(m)


def test_profile_file(tmp_path):
    good = tmp_path / "cam.toml"
    good.write_text("schema_version = 1\nname = 'test'\n[[calibration]]\nilluminant = 'A'\n"
                    f"color_matrix = {CM_A.tolist()}\n[[calibration]]\ncct = 6504\n"
                    f"color_matrix = {CM_D65.tolist()}\n")
    p = CameraProfile.from_file(good)
    assert len(p.calibrations) == 2 and np.allclose(p.calibrations[0].color_matrix, CM_A)
    for text, what in [("[[calibration]]\ncct = 5000\n", "color_matrix"),
                       ("x = 1\n", "calibration"),
                       ("[[calibration]]\ncct = 5000\ncolor_matrix = [[1, 0], [0, 1]]\n", "3×3"),
                       ("[[calibration]]\nilluminant = 'moonlight'\ncolor_matrix = [[1,0,0],[0,1,0],[0,0,1]]\n", "moonlight"),
                       ("[[calibration]\n", "TOML")]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ParameterError, match=what):
            CameraProfile.from_file(bad)
    with pytest.raises(ParameterError, match="does not exist"):
        CameraProfile.from_file(tmp_path / "missing.toml")
