"""rawlux.colour.temperature and rawlux.colour.spaces against colour-science (the reference implementation)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from rawlux.colour import spaces as S
from rawlux.colour import temperature as T
from rawlux.errors import ParameterError

warnings.filterwarnings("ignore", message=".*Matplotlib.*")
colour = pytest.importorskip("colour")


def test_named_illuminants_cct():
    t65, tint65 = T.xy_to_temp_tint(S.D65_XY)
    assert abs(t65 - 6504) < 3, t65
    ta, tinta = T.xy_to_temp_tint(T.illuminant_xy(17))  # CIE A
    assert abs(ta - 2856) < 2, ta
    assert abs(tinta) < 0.5                               # A lies on the Planckian locus
    assert abs(T.illuminant_cct(23) - 5003) < 5           # D50


@pytest.mark.parametrize("xy", [(0.3127, 0.3290), (0.44757, 0.40745), (0.35, 0.37), (0.30, 0.30),
                                (0.40, 0.38), (0.2806, 0.2883), (0.5, 0.41)])
def test_cct_and_tint_match_colour_science(xy):
    t, tint = T.xy_to_temp_tint(xy)
    cct, duv = colour.temperature.uv_to_CCT_Robertson1968(colour.xy_to_UCS_uv(np.array(xy)))
    assert abs(t - cct) / cct < 1e-3, (t, cct)
    assert abs(tint - 3000.0 * duv) < 0.3, (tint, duv)    # DNG tint = 3000 × Duv (+ = green light)


@pytest.mark.parametrize("temp", [1800.0, 2500.0, 2856.0, 4000.0, 5500.0, 6504.0, 9000.0, 15000.0, 40000.0])
@pytest.mark.parametrize("tint", [-40.0, 0.0, 25.0])
def test_temp_tint_round_trip(temp, tint):
    xy = T.temp_tint_to_xy(temp, tint)
    t2, tint2 = T.xy_to_temp_tint(xy)
    assert abs(t2 - temp) / temp < 2e-3, (temp, t2)
    assert abs(tint2 - tint) < 0.2, (tint, tint2)
    if tint == 0.0:   # on the locus: the Planckian chromaticity of colour-science
        uv = colour.temperature.CCT_to_uv_Robertson1968(np.array([temp, 0.0]))
        ref = colour.UCS_uv_to_xy(uv)
        assert np.abs(np.array(xy) - ref).max() < 2e-4


def test_out_of_range_temperature_is_a_parameter_error():
    with pytest.raises(ParameterError, match="out of range"):
        T.temp_tint_to_xy(500.0)
    with pytest.raises(ParameterError, match="tint"):
        T.temp_tint_to_xy(5000.0, 400.0)
    with pytest.raises(ParameterError):
        T.illuminant_xy(99)


def test_daylight_locus_matches_colour_science():
    for t in (4000.0, 5003.0, 6504.0, 7500.0, 12000.0):
        ref = colour.temperature.CCT_to_xy_CIE_D(t)
        assert np.abs(np.array(T.daylight_xy(t)) - ref).max() < 1e-6


@pytest.mark.parametrize("name,cs_name,tol", [("srgb", "sRGB", 1e-4), ("rec2020", "ITU-R BT.2020", 1e-6),
                                              ("display-p3", "Display P3", 1e-6),
                                              ("adobe-rgb", "Adobe RGB (1998)", 1e-4),
                                              ("prophoto", "ProPhoto RGB", 5e-4)])
def test_rgb_xyz_matrices(name, cs_name, tol):
    cs = colour.RGB_COLOURSPACES[cs_name]
    assert np.abs(S.rgb_to_xyz(name) - cs.matrix_RGB_to_XYZ).max() < tol
    assert np.abs(S.xyz_to_rgb(name) @ S.rgb_to_xyz(name) - np.eye(3)).max() < 1e-12
    white = S.rgb_to_xyz(name) @ np.ones(3)
    assert abs(white[1] - 1.0) < 1e-12


def test_bradford_adaptation_and_rgb_to_rgb():
    for src, dst in ((S.D65_XY, S.D50_XY), (T.illuminant_xy(17), S.D65_XY)):
        ref = colour.adaptation.matrix_chromatic_adaptation_VonKries(
            colour.xy_to_XYZ(np.array(src)), colour.xy_to_XYZ(np.array(dst)), "Bradford")
        assert np.abs(S.adaptation(src, dst) - ref).max() < 1e-4
    ref = colour.matrix_RGB_to_RGB(colour.RGB_COLOURSPACES["ITU-R BT.2020"], colour.RGB_COLOURSPACES["sRGB"])
    assert np.abs(S.rgb_to_rgb("rec2020", "srgb") - ref).max() < 2e-4
    # different whites: white maps to white after Bradford
    assert np.abs(S.rgb_to_rgb("prophoto", "rec2020") @ np.ones(3) - 1).max() < 1e-9


def test_transfer_functions():
    x = np.linspace(0, 1, 1001)
    assert np.abs(S.encode(x, "srgb") - colour.cctf_encoding(x, "sRGB")).max() < 1e-6
    # colour-science uses BT.709's rounded constants (1.099, 0.018); rawlux the exact ones
    assert np.abs(S.encode(x, "rec709") - colour.models.oetf_BT709(x)).max() < 5e-4
    for tf in ("srgb", "rec709", "gamma2.2", "gamma1.8", "linear"):
        assert np.abs(S.decode(S.encode(x, tf), tf) - x).max() < 1e-5, tf
    lut = S.encode_lut("srgb", 4096)
    assert lut.shape == (4096,) and abs(float(lut[-1]) - 1.0) < 1e-6 and np.all(np.diff(lut) >= 0)
    with pytest.raises(ParameterError):
        S.encode(x, "nope")
    with pytest.raises(ParameterError):
        S.rgb_to_xyz("nope")
