"""Lens correction: a grid distorted with a lensfun profile's own model is straightened; matching."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rawlux.errors import ParameterError
from rawlux.frame import Frame, Metadata, State
from rawlux.optics.stages import Lens, LensParams
from rawlux.pipeline.stage import validate

PITCH = 40.0


def _grid(x: np.ndarray, y: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """An ideal grid of thin bright lines every PITCH px, evaluated analytically at (x, y)."""
    dx = np.abs((x + PITCH / 2) % PITCH - PITCH / 2)
    dy = np.abs((y + PITCH / 2) % PITCH - PITCH / 2)
    return np.maximum(np.exp(-dx * dx / (2 * sigma ** 2)), np.exp(-dy * dy / (2 * sigma ** 2)))


def _ptlens(terms, r):
    a, b, c = terms
    return r * (a * r ** 3 + b * r ** 2 + c * r + 1 - a - b - c)


def _distorted_grid(h: int, w: int, terms) -> np.ndarray:
    """What the lens records: the ideal grid seen through ptlens distortion (lensfun's convention:
    radius normalised by half the shorter side, distorted radius = model(undistorted radius))."""
    cx, cy, norm = (w - 1) / 2, (h - 1) / 2, min(w, h) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rd = np.hypot(xx - cx, yy - cy) / norm
    ru_tab = np.linspace(0, 2.0, 20001)
    rd_tab = _ptlens(terms, ru_tab)
    assert np.all(np.diff(rd_tab) > 0)
    ru = np.interp(rd, rd_tab, ru_tab)                     # invert the model numerically
    s = np.where(rd > 1e-12, ru / np.maximum(rd, 1e-12), 1.0)
    xu, yu = cx + (xx - cx) * s, cy + (yy - cy) * s
    return _grid(xu, yu).astype(np.float32)


def _line_residuals(img: np.ndarray, valid: np.ndarray) -> tuple[float, int]:
    """Largest RMS deviation from a fitted straight line over the vertical and horizontal grid lines."""
    worst, n = 0.0, 0
    for axis in (0, 1):
        im = img if axis == 0 else img.T
        ok = valid if axis == 0 else valid.T
        h, w = im.shape
        for k in range(1, int(w / PITCH)):
            x0 = int(round(k * PITCH))
            lo, hi = x0 - 8, x0 + 9
            if lo < 0 or hi > w:
                continue
            ys, xs = [], []
            for yrow in range(0, h, 3):
                if not ok[yrow, lo:hi].all():
                    continue
                # skip rows where a crossing line brightens the whole window
                prof = im[yrow, lo:hi].astype(np.float64)
                if prof.min() > 0.2:
                    continue
                wgt = np.clip(prof - 0.1, 0, None)
                if wgt.sum() < 0.5:
                    continue
                xs.append(float((wgt * np.arange(lo, hi)).sum() / wgt.sum()))
                ys.append(yrow)
            if len(xs) < 20:
                continue
            fit = np.polyfit(ys, xs, 1)
            res = np.asarray(xs) - np.polyval(fit, ys)
            worst = max(worst, float(np.sqrt(np.mean(res ** 2))))
            n += 1
    return worst, n


def test_grid_distorted_by_a_profile_is_straightened():
    import lensfunpy

    from rawlux.optics.lensfun import database

    db = database()
    cam = db.find_cameras("GoPro", "Hero3+ black")[0]
    lens = db.find_lenses(cam)[0]
    cal = lens.interpolate_distortion(15.0)
    assert cal.model == lensfunpy.DistortionModel.PTLENS
    h, w = 480, 640
    distorted = _distorted_grid(h, w, cal.terms)
    img = np.repeat(distorted[..., None], 3, axis=2)
    frame = Frame(img, State.CAMERA_RGB, Metadata(source="grid.dng", make="", model=""))
    p = validate("lens", LensParams, {"camera": "GoPro Hero3+ black", "scale": 1.0, "vignetting": False})
    out = Lens().run(frame, p)
    assert any("lensfun" in s for s in out.meta.extra["lens_applied"])
    valid = out.pixels[..., 1] > -1                          # the whole frame maps inside the source
    res_after, n_after = _line_residuals(out.pixels[..., 1], valid)
    res_before, n_before = _line_residuals(distorted, np.ones_like(valid))
    assert n_after >= 10
    assert res_after <= 0.5, res_after
    assert res_before > 5 * res_after and res_before > 2.0     # the distortion was real
    # and the lines are back where the ideal grid has them (the model, not just "some" straightening)
    ideal = _grid(*np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)))
    core = (slice(h // 4, 3 * h // 4), slice(w // 4, 3 * w // 4))
    assert np.corrcoef(out.pixels[..., 1][core].ravel(), ideal[core].ravel())[0, 1] > 0.97


def test_exif_matching_fixed_lens_phone_and_notices():
    img = np.full((300, 400, 3), 0.5, np.float32)
    meta = Metadata(source="phone.dng", make="LG Mobile", model="LG-H815",
                    exif={"Make": "LG Mobile", "Model": "LG-H815", "FocalLength": 4.42, "FNumber": 1.8})
    out = Lens().run(Frame(img, State.CAMERA_RGB, meta), LensParams())
    assert out.meta.extra["lens_profile"].startswith("LG Mobile LG-H815")
    # no profile: a notice, the pixels untouched
    meta2 = Metadata(source="cam.dng", exif={"Make": "Nobody", "Model": "Camera 1"})
    out2 = Lens().run(Frame(img, State.CAMERA_RGB, meta2), LensParams())
    assert any("no lensfun profile" in n for n in out2.meta.facts.notes)
    assert np.array_equal(out2.pixels, img)
    with pytest.raises(ParameterError, match="lens.profile=on"):
        Lens().run(Frame(img, State.CAMERA_RGB, meta2), validate("lens", LensParams, {"profile": "on"}))
    with pytest.raises(ParameterError, match="not in the lensfun database"):
        Lens().run(Frame(img, State.CAMERA_RGB, meta2), validate("lens", LensParams, {"camera": "Zzyzx 9000"}))


def test_fisheye_to_rectilinear_straightens_lines():
    """An equidistant fisheye view of a straight-line grid becomes a rectilinear one."""
    from rawlux.optics.warp import project, unproject

    h, w = 400, 400
    f = 150.0                                              # px, equidistant
    c = (w - 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rho = np.hypot(xx - c, yy - c)
    theta = unproject("equidistant", rho / f)
    rr = f * project("rectilinear", np.clip(theta, 0, 1.3))   # where a rectilinear lens would put it
    s = np.where(rho > 1e-9, rr / np.maximum(rho, 1e-9), 1.0)
    fish = _grid(c + (xx - c) * s, c + (yy - c) * s).astype(np.float32)
    frame = Frame(np.repeat(fish[..., None], 3, axis=2), State.CAMERA_RGB, Metadata(source="fish.dng"))
    p = validate("lens", LensParams, {"projection": "rectilinear", "fisheye": "equidistant",
                                      "fov": math.degrees(2 * (math.hypot(w, h) / 2) / f), "profile": "off"})
    out = Lens().run(frame, p)
    valid = np.ones((h, w), bool)
    res_after, n = _line_residuals(out.pixels[..., 1], valid)
    res_before, _ = _line_residuals(fish, valid)
    assert n >= 6 and res_after <= 0.5 and res_before > 2.0, (res_after, res_before)
