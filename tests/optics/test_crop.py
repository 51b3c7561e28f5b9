"""Focal-length and aspect crops."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rawlux.errors import ParameterError
from rawlux.frame import Frame, Metadata, State
from rawlux.optics.stages import Crop, CropParams
from rawlux.pipeline.stage import validate


def _frame(h=3000, w=4000, **exif):
    return Frame(np.zeros((h, w, 3), np.float32), State.SCENE_LINEAR, Metadata(source="x.dng", exif=dict(exif)))


def test_focal_crops_narrow_the_view_by_the_focal_ratio():
    for target in (28, 35, 50, 75, 90):
        fr = _frame(FocalLengthIn35mmFormat=26, FocalLength=4.25)
        out = Crop().run(fr, validate("crop", CropParams, {"focal": target}))
        k = target / 26
        assert out.width == round(4000 / k) and out.height == round(3000 / k)
        # the diagonal field of view is that of the target focal length
        fov_new = 2 * math.atan(math.hypot(36, 24) / 2 / target)
        fov_old = 2 * math.atan(math.hypot(36, 24) / 2 / 26)
        half_new = math.atan(math.tan(fov_old / 2) * math.hypot(out.width, out.height) / 5000)
        assert abs(2 * half_new - fov_new) < 1e-3
        assert out.meta.exif["FocalLengthIn35mmFormat"] == target
        assert out.meta.exif["FocalLength"] == pytest.approx(4.25 * k)


def test_crop_factor_fallback_and_refusals():
    fr = _frame(FocalLength=5.0)
    out = Crop().run(fr, validate("crop", CropParams, {"focal": 50, "crop_factor": 5.0}))
    assert out.width == 2000
    with pytest.raises(ParameterError, match="wider than the frame"):
        Crop().run(_frame(FocalLengthIn35mmFormat=26), validate("crop", CropParams, {"focal": 23}))
    with pytest.raises(ParameterError, match="source_focal"):
        Crop().run(_frame(), validate("crop", CropParams, {"focal": 35}))
    out = Crop().run(_frame(), validate("crop", CropParams, {"focal": 52, "source_focal": 26}))
    assert out.width == 2000 and out.meta.exif["FocalLengthIn35mmFormat"] == 52
    with pytest.raises(ParameterError):
        validate("crop", CropParams, {"aspect": "5:4"})


@pytest.mark.parametrize("aspect,ratio", [("3:2", 1.5), ("4:3", 4 / 3), ("16:9", 16 / 9), ("1:1", 1.0),
                                          ("65:24", 65 / 24), ("2.39:1", 2.39)])
def test_aspects_landscape_and_portrait(aspect, ratio):
    out = Crop().run(_frame(), validate("crop", CropParams, {"aspect": aspect}))
    assert abs(out.width / out.height - ratio) < 0.01 and (out.width == 4000 or out.height == 3000)
    tall = Crop().run(_frame(4000, 3000), validate("crop", CropParams, {"aspect": aspect}))
    assert abs(tall.height / tall.width - ratio) < 0.01
    # a landscape frame displayed rotated (orientation 6) gets a portrait crop in display terms
    fr = _frame()
    fr.meta.orientation = 6
    rot = Crop().run(fr, validate("crop", CropParams, {"aspect": aspect}))
    assert abs(rot.width / rot.height - ratio) < 0.01


def test_crop_keeps_the_centre_pixels():
    img = np.random.default_rng(1).random((300, 400, 3)).astype(np.float32)
    fr = Frame(img, State.SCENE_LINEAR, Metadata(exif={"FocalLengthIn35mmFormat": 25}))
    out = Crop().run(fr, validate("crop", CropParams, {"focal": 50, "aspect": "1:1"}))
    t, l, h, w = out.meta.extra["crop_box"]
    assert (h, w) == (150, 150) and np.array_equal(out.pixels, img[t:t + h, l:l + w])
    assert abs((t + h / 2) - 150) <= 1 and abs((l + w / 2) - 200) <= 1
