"""io.dngwrite: CFA DNGs that LibRaw re-opens, with every colour tag of the source."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.errors import OutputError, ParameterError
from rawlux.io.dngwrite import write_dng


def _same_colour_tags(a, b, tol=2e-4):
    for name in ("color_matrix1", "color_matrix2", "forward_matrix1", "forward_matrix2",
                 "camera_calibration1", "camera_calibration2", "analog_balance"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            np.testing.assert_allclose(np.asarray(x, float), np.asarray(y, float), atol=tol, err_msg=name)
    assert (a.illuminant1, a.illuminant2) == (b.illuminant1, b.illuminant2)
    np.testing.assert_allclose(a.as_shot_neutral, b.as_shot_neutral, atol=1e-5)
    assert a.baseline_exposure == pytest.approx(b.baseline_exposure, abs=1e-4)
    assert a.orientation == b.orientation and a.cfa_pattern == b.cfa_pattern


def test_real_dng_round_trip(tmp_path, hero6):
    import rawpy

    import rawlux
    src = rawlux.open_image(hero6)
    out = write_dng(tmp_path / "copy.dng", src)
    back = rawlux.open_image(out)
    np.testing.assert_array_equal(back.pixels, src.pixels)
    _same_colour_tags(src.meta, back.meta)
    np.testing.assert_array_equal(back.meta.black_level, src.meta.black_level)
    assert float(back.meta.white_level) == float(src.meta.white_level)
    if src.meta.noise_profile is not None:
        np.testing.assert_allclose(back.meta.noise_profile, src.meta.noise_profile, rtol=1e-9)
    for key in ("ExposureTime", "FNumber", "ISO", "DateTimeOriginal", "Make", "Model"):
        assert back.meta.exif.get(key) == src.meta.exif.get(key), key
    assert back.meta.exif["GPSLatitude"] == pytest.approx(src.meta.exif["GPSLatitude"], abs=1e-6)
    with rawpy.imread(str(out)) as rp:        # LibRaw itself re-opens and develops it
        assert rp.raw_image.shape == src.pixels.shape
        assert int(rp.white_level) == int(src.meta.white_level)
        rgb = rp.postprocess(half_size=True, use_camera_wb=True)
        assert rgb.shape[2] == 3 and 20 < rgb.mean() < 235


def test_merged_burst_dng_keeps_the_reference_tags(tmp_path, moving_burst):
    import rawpy

    import rawlux
    from rawlux.burst.api import PEDESTAL, WHITE, merge_burst

    res = merge_burst(moving_burst.frames[:3], ref=1)
    out = res.write_dng(tmp_path / "merged.dng")
    back = rawlux.open_image(out)
    _same_colour_tags(moving_burst.frames[1].meta, back.meta)
    np.testing.assert_array_equal(back.pixels, res.frame.pixels)
    np.testing.assert_array_equal(back.meta.black_level, np.full((2, 2), PEDESTAL))
    assert back.meta.white_level == WHITE
    with rawpy.imread(str(out)) as rp:
        assert list(rp.black_level_per_channel) == [int(PEDESTAL)] * 4
        assert rp.white_level == int(WHITE)
        assert "".join("RGBG"[i] for i in rp.raw_pattern.ravel()) in ("RGGB", "RGBG")


def test_writer_refuses_what_a_dng_cannot_hold(tmp_path, moving_burst):
    f = moving_burst.frames[0]
    bad = f.with_pixels(f.pixels, cfa_pattern=None)
    with pytest.raises(ParameterError, match="Bayer pattern"):
        write_dng(tmp_path / "x.dng", bad)
    nocm = f.with_pixels(f.pixels, color_matrix1=None)
    with pytest.raises(ParameterError, match="ColorMatrix1"):
        write_dng(tmp_path / "x.dng", nocm)
    with pytest.raises(ParameterError, match="even-sized"):
        write_dng(tmp_path / "x.dng", f.pixels[:63, :64], f.meta)
    with pytest.raises(OutputError, match="does not exist"):
        write_dng(tmp_path / "no" / "x.dng", f)
    write_dng(tmp_path / "x.dng", f)
    with pytest.raises(OutputError, match="exists"):
        write_dng(tmp_path / "x.dng", f, overwrite=False)
    assert [p.name for p in tmp_path.iterdir()] == ["x.dng"]     # no temporary left behind
