"""The shared chart protocol (../shared/tools/colour): make_chart_dng.py --seed 7 → reference look → 16-bit
sRGB TIFF → measure_chart.py --reference lab_adapted; then calibrate + --profile under A.

The CLI run of the same protocol is ``python benchmarks/bench_colour.py --protocol``; here the develop and the
calibration run in-process (same code path as the CLI) to keep the test short.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from rawlux.errors import InputError
from testdata import DATA, need

TOOLS = DATA / ".." / "tools" / "colour"


@pytest.fixture(scope="module")
def tools():
    need(TOOLS / "make_chart_dng.py")
    spec = importlib.util.spec_from_file_location("measure_chart", TOOLS / "measure_chart.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["measure_chart"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    d = tmp_path_factory.mktemp("charts")
    for ill in ("D65", "A"):
        subprocess.run([sys.executable, str(TOOLS / "make_chart_dng.py"), "--illuminant", ill,
                        "--out", str(d / f"chart_{ill}.dng"), "--seed", "7"], check=True, capture_output=True)
    return d


def _develop_measure(meter, d, ill, profile=None, **extra):
    import rawlux

    f = rawlux.develop(str(d / f"chart_{ill}.dng"), look="reference", profile=profile, **extra) \
        if profile else rawlux.develop(str(d / f"chart_{ill}.dng"), look="reference", **extra)
    tif = d / f"dev_{ill}{'_p' if profile else ''}.tif"
    rawlux.save(f, tif, bits=16, overwrite=True)
    return meter.measure(str(tif), str(d / f"chart_{ill}.json"), reference="lab_adapted", quiet=True)["summary"]["dE00"]


def test_reference_look_meets_the_protocol_targets(tools, charts):
    """Chart ΔE00 through a 16-bit sRGB TIFF: D65 mean ≤ 0.95, A mean ≤ 1.10 (the 3×3-matrix and
    dual-illuminant limits are 0.91 and 1.03): in-gamut colours are not compressed by the output stage."""
    d65 = _develop_measure(tools, charts, "D65")
    a = _develop_measure(tools, charts, "A")
    assert d65["mean"] <= 0.95, d65
    assert a["mean"] <= 1.10, a


def test_calibrate_accepts_the_correct_chart_and_improves_it(tools, charts):
    from rawlux.colour.cli import run_calibration

    prof = charts / "cam.toml"
    run_calibration(str(charts / "chart_A.dng"), out=str(prof))        # no "saturated" refusal
    cal = _develop_measure(tools, charts, "A", profile=str(prof))
    assert cal["mean"] <= 0.70, cal


def test_calibrate_refuses_really_clipped_patches_and_names_them(charts):
    """The same chart exposed 1.6× on a sensor that clips at 0.9 of its range: refused, the clipped patches
    named (white and yellow clip; the dark patches do not)."""
    import rawlux
    from rawlux.colour.cli import run_calibration
    from rawlux.io.dngwrite import write_dng

    f = rawlux.open_image(str(charts / "chart_A.dng"))
    m = f.meta
    bl, w = float(np.mean(m.black_level)), float(m.white_level)
    x = (f.pixels.astype(np.float64) - bl) * 1.6
    mos = np.clip(np.rint(np.minimum(x, 0.9 * (w - bl)) + bl), 0, w).astype(np.uint16)
    over = write_dng(charts / "over.dng", mos, m)
    assert np.isclose(rawlux.open_image(str(over)).meta.saturation.min(), 0.9, atol=0.002)
    with pytest.raises(InputError, match="saturated") as e:
        run_calibration(str(over))
    msg = str(e.value)
    assert "19 (white" in msg and "16 (yellow" in msg
    assert "24 (black" not in msg and "13 (blue" not in msg
