"""EXIF → text fields: formatting, fallbacks, and missing fields left out."""
from __future__ import annotations

import math
from datetime import datetime

import pytest

from rawlux.errors import ParameterError
from rawlux.borders.fields import (clean_make, compute_fields, crop_factor, device_name, format_dms, format_shutter,
                                  render_text)


@pytest.mark.parametrize("t, want", [(1 / 8000, "1/8000s"), (1 / 120, "1/120s"), (1 / 3, "1/3s"), (0.5, "1/2s"),
                                     (0.4, "0.4s"), (1.0, "1s"), (1.5, "1.5s"), (30.0, "30s"), (1 / 59.94, "1/60s")])
def test_shutter_as_fraction(t: float, want: str) -> None:
    assert format_shutter(t) == want


def test_gps_dms_with_hemispheres_and_carry() -> None:
    assert format_dms(40.446111, "N", "S") == "40°26′46″N"
    assert format_dms(-79.982222, "E", "W") == "79°58′56″W"
    assert format_dms(10.999999, "N", "S") == "11°00′00″N"   # 59.9996″ carries into the minutes and degrees


def test_maker_names_cleaned_and_written_once() -> None:
    assert clean_make("ACME IMAGING CORP.") == "ACME"
    assert clean_make("Lumora Optical Co., Ltd.") == "Lumora"
    assert device_name("ACME IMAGING CORP.", "ACME X-100 II") == "ACME X-100 II"
    assert device_name("Lumora Corporation", "LUMORA Z5") == "LUMORA Z5"
    assert device_name("Lumora", "Z5") == "Lumora Z5"
    assert device_name("", "Z5") == "Z5"


def test_35mm_equivalent_from_crop_factor() -> None:
    # a 6.17 × 4.63 mm sensor, 4000 × 3000 px: resolution in px per inch of the focal plane
    xres = 4000 / (6.17 / 25.4)
    ex = dict(FocalLength=4.3, FocalPlaneXResolution=xres, FocalPlaneYResolution=3000 / (4.63 / 25.4),
              FocalPlaneResolutionUnit=2)
    cf = crop_factor(ex, (4000, 3000))
    assert cf == pytest.approx(43.27 / math.hypot(6.17, 4.63), rel=1e-3)
    assert compute_fields(ex, (4000, 3000))["focal35"] == f"{round(4.3 * cf)}mm" == "24mm"
    # the tag wins when present; implausible sensor sizes give nothing rather than a wrong number
    assert compute_fields({**ex, "FocalLengthIn35mmFormat": 26}, (4000, 3000))["focal35"] == "26mm"
    assert "focal35" not in compute_fields({**ex, "FocalPlaneXResolution": 1.0}, (4000, 3000))


def test_missing_fields_are_left_out_with_their_separator() -> None:
    f = compute_fields(dict(FocalLength=26.0, FNumber=1.8, ExposureTime=1 / 120))
    assert render_text("{focal35|focal} {aperture} {shutter} {iso}", f) == "26mm f/1.8 1/120s"
    assert render_text("{date} · {gps}", f) == ""
    f2 = compute_fields(dict(DateTimeOriginal="2024:05:01 14:03:22", GPSLatitude=1.5, GPSLongitude=2.25,
                             LensModel="L 35"))
    assert render_text("{lens} · {artist} · {date:%Y-%m-%d}", f2) == "L 35 · 2024-05-01"
    assert render_text("{artist} · {lens}", f2) == "L 35"
    assert render_text("{lens} · {artist}", f2) == "L 35"
    for s in (render_text("{iso} {aperture}", {}), render_text("{lens} / {gps}", {})):
        assert "None" not in s and s == ""


def test_date_strftime_and_bad_placeholders() -> None:
    f = compute_fields(dict(DateTimeOriginal="2024:05:01 14:03:22"))
    assert f["date"] == datetime(2024, 5, 1, 14, 3, 22)
    assert render_text("{date:%d/%m/%Y %H:%M}", f) == "01/05/2024 14:03"
    assert render_text("{date}", f) == "2024.05.01 14:03"
    assert "date" not in compute_fields(dict(DateTimeOriginal="0000:00:00 00:00:00"))
    with pytest.raises(ParameterError, match="unknown field"):
        render_text("{shutterspeed}", f)
