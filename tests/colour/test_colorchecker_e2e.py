"""End to end: a synthetic raw of the 24 ColorChecker patches, lit by a CIE illuminant and seen through a
known camera matrix (with shot and read noise), developed with the ``reference`` look, reproduces the
patches: mean CIEDE2000 after one exposure scale fitted on the grey patches."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from testdata import COLOUR, need

warnings.filterwarnings("ignore", message=".*Matplotlib.*")
colour = pytest.importorskip("colour")


def patch_errors(illuminant: str, pattern: str, via_dng: bool, tmp_path) -> np.ndarray:
    import rawlux
    import synth
    from rawlux.colour import spaces as S

    xyz, white, _ = synth.checker_xyz(illuminant)
    img, boxes = synth.chart_image(xyz, patch=32, gap=8)
    s = synth.synth_raw(img, white, illuminant=illuminant, pattern=pattern, seed=7)
    src = synth.write_dng(tmp_path / "chart.dng", s) if via_dng else s.frame
    out = rawlux.develop(src, look="reference", output={"space": "rec2020", "gamut": "clip"})
    assert out.state is rawlux.State.DISPLAY and out.shape == img.shape
    lin = S.decode(out.pixels, "rec709").astype(np.float64)
    assert lin.max() < 0.99, "reference render clipped: the test's exposure is wrong"
    got = np.array([lin[y + 8:y + h - 8, x + 8:x + w - 8].reshape(-1, 3).mean(0) for y, x, h, w in boxes])
    got = got @ S.rgb_to_xyz("rec2020").T
    d65 = colour.xy_to_XYZ(np.array(S.D65_XY))
    ref = xyz
    if illuminant != "D65":   # the rendering is adapted to D65 (Bradford) like any raw developer
        ref = xyz @ colour.adaptation.matrix_chromatic_adaptation_VonKries(white / white[1], d65, "Bradford").T
    grey = slice(18, 24)
    k = np.sum(ref[grey, 1] * got[grey, 1]) / np.sum(got[grey, 1] ** 2)
    wxy = np.array(S.D65_XY)
    return colour.delta_E(colour.XYZ_to_Lab(ref, wxy), colour.XYZ_to_Lab(got * k, wxy), method="CIE 2000")


@pytest.mark.parametrize("illuminant,pattern,via_dng", [("D65", "RGGB", False), ("A", "GRBG", True),
                                                        ("D50", "BGGR", False)])
def test_colorchecker_reproduced(illuminant, pattern, via_dng, tmp_path):
    need(COLOUR / "BabelColor_Average_spectral_reflectance.csv")
    de = patch_errors(illuminant, pattern, via_dng, tmp_path)
    assert de.mean() < 1.0, f"mean ΔE00 {de.mean():.2f} under {illuminant}"
    assert de.max() < 3.0, f"max ΔE00 {de.max():.2f} (patch {int(np.argmax(de)) + 1}) under {illuminant}"


def test_wrong_white_balance_is_detected(tmp_path):
    """The metric is able to fail: the same chart developed with a 3000 K white instead of as-shot D65."""
    import rawlux
    import synth
    from rawlux.colour import spaces as S

    need(COLOUR / "BabelColor_Average_spectral_reflectance.csv")
    xyz, white, _ = synth.checker_xyz("D65")
    img, boxes = synth.chart_image(xyz, patch=32, gap=8)
    s = synth.synth_raw(img, white, seed=3)
    out = rawlux.develop(s.frame, look="reference", whitebalance={"mode": "kelvin", "kelvin": 3000.0},
                         output={"space": "rec2020", "gamut": "clip"})
    lin = S.decode(out.pixels, "rec709").astype(np.float64)
    y, x, h, w = boxes[19]             # neutral 8
    rgb = lin[y + 8:y + h - 8, x + 8:x + w - 8].reshape(-1, 3).mean(0)
    assert rgb[2] > 1.3 * rgb[0]       # a tungsten white on a daylight scene renders it blue
