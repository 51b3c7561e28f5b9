"""Synthetic scenes with known depth: in-focus plane kept, thin-lens blur sizes, no bleeding, no halo."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rawlux.errors import InputError, ParameterError
from rawlux.frame import Frame, Metadata, State
from rawlux.optics.bokeh import RenderOptions, coc_radius, render
from rawlux.optics.bokeh_stage import PRESETS, Bokeh, params_for, resolved
from rawlux.optics.depth import to_inverse_depth
from rawlux.optics.kernels import KernelSpec, kernel, second_moment_radius
from rawlux.pipeline.stage import validate


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(peak * peak / mse)


def _textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    img = rng.random((h, w, 3), dtype=np.float32)
    return cv2.GaussianBlur(img, (0, 0), 1.0) * 0.8 + 0.05


def test_in_focus_plane_unchanged():
    h, w = 360, 480
    img = _textured(h, w)
    z = np.full((h, w), 12.0, np.float32)
    z[100:260, 140:340] = 2.0                       # the subject, in focus
    z[:40, :] = 0.7                                 # a near foreground strip, far from the subject
    coc = coc_radius(1 / z, focus_m=2.0, focal_mm=85, f_number=1.8, diag_px=math.hypot(h, w),
                     max_radius_px=40)
    assert coc.max() > 8 and coc.min() < -8         # the scene really is defocused elsewhere
    out = render(img, coc, RenderOptions(spec=KernelSpec("polygon", blades=7)))
    sub = (slice(103, 257), slice(143, 337))
    assert psnr(out[sub], img[sub]) >= 40.0
    assert psnr(out[200:, :100], img[200:, :100]) < 30      # the background did change


@pytest.mark.parametrize("shape", ["round", "polygon"])
def test_blur_radius_follows_thin_lens(shape):
    h, w = 200, 1400
    img = np.zeros((h, w, 3), np.float32)
    depths = [2.6, 3.5, 6.0, 30.0]                  # stripes, one bright point in each
    z = np.empty((h, w), np.float32)
    sw = w // len(depths)
    for i, d in enumerate(depths):
        z[:, i * sw:(i + 1) * sw] = d
        img[h // 2, i * sw + sw // 2] = 1.0
    focus, f, n = 2.0, 85.0, 1.4
    diag = math.hypot(h, w)
    coc = coc_radius(1 / z, focus_m=focus, focal_mm=f, f_number=n, diag_px=diag, max_radius_px=200)
    out = render(img, coc, RenderOptions(spec=KernelSpec(shape, blades=6), highlight_boost=0.0))
    for i, d in enumerate(depths):
        # thin lens: blur diameter f²/(N(zf − f)) · |z − zf| / z on the 43.27 mm diagonal
        c_mm = f * f / (n * (focus * 1000 - f)) * abs(d - focus) / d
        predicted = 0.5 * c_mm * diag / math.hypot(36, 24)
        cx = i * sw + sw // 2
        win = out[:, cx - sw // 2 + 2:cx + sw // 2 - 2, 1]
        measured = second_moment_radius(win)
        assert abs(measured / predicted - 1) <= 0.10, (d, predicted, measured)
    radii = [second_moment_radius(out[:, i * sw + 2:(i + 1) * sw - 2, 1]) for i in range(len(depths))]
    assert radii == sorted(radii)                   # more defocus, more blur


def test_no_colour_bleeding_or_halo_at_depth_edge():
    h, w = 240, 400
    img = np.zeros((h, w, 3), np.float32)
    img[:, :200, 0] = 0.9                           # red subject, in focus, left
    img[:, 200:, 1] = 0.5                           # green background, far, right
    z = np.where(np.arange(w)[None, :] < 200, 1.5, 25.0).astype(np.float32) * np.ones((h, 1), np.float32)
    coc = coc_radius(1 / z, focus_m=1.5, focal_mm=90, f_number=1.4, diag_px=math.hypot(h, w), max_radius_px=60)
    assert coc[:, 300].min() > 15
    out = render(img, coc, RenderOptions(spec=KernelSpec("round")))
    bg = out[:, 202:]
    assert bg[..., 0].max() <= 0.01 * 0.9           # no red beyond 2 px into the background
    assert np.all(np.abs(bg[..., 1] - 0.5) <= 0.01)  # and no dark or bright halo there
    fg = out[:, :198]
    assert fg[..., 1].max() <= 0.01 * 0.5 and np.allclose(fg[..., 0], 0.9, atol=1e-3)


def test_foreground_blur_spreads_over_sharp_background():
    h, w = 200, 400
    img = np.zeros((h, w, 3), np.float32)
    img[:, :200, 0] = 1.0                           # near red object, out of focus
    img[:, 200:, 2] = 1.0                           # in-focus blue wall behind
    z = np.where(np.arange(w)[None, :] < 200, 0.6, 2.0).astype(np.float32) * np.ones((h, 1), np.float32)
    coc = coc_radius(1 / z, focus_m=2.0, focal_mm=50, f_number=1.4, diag_px=math.hypot(h, w), max_radius_px=40)
    out = render(img, coc, RenderOptions(spec=KernelSpec("round"), highlight_boost=0.0))
    r = abs(float(coc[0, 0]))
    row = out[h // 2, :, 0]
    # the blurred edge of the near object has no hard step: red fades over roughly its blur radius
    assert row[200 + int(r * 0.3)] > 0.05 and row[200 + int(1.3 * r) + 2] < 0.02
    assert np.max(np.abs(np.diff(row[180:240]))) < 0.2


def test_highlights_bloom_into_bright_discs():
    h, w = 160, 160
    img = np.full((h, w, 3), 0.05, np.float32)
    img[80, 80] = 40.0                              # a point light, scene-linear, far behind focus
    z = np.full((h, w), 50.0, np.float32)
    coc = coc_radius(1 / z, focus_m=1.0, focal_mm=50, f_number=1.4, diag_px=math.hypot(h, w), max_radius_px=20)
    out = render(img, coc, RenderOptions(spec=KernelSpec("round"), highlight_boost=2.0))
    r = float(coc[0, 0])
    yy, xx = np.mgrid[0:h, 0:w]
    rho = np.hypot(yy - 80, xx - 80)
    excess = out[..., 0] - 0.05
    inner = excess[rho <= 0.5 * r]
    # a bright disc: the energy sits within the thin-lens radius, the inside is filled (not a peak)
    assert excess[rho <= 1.15 * r].sum() >= 0.85 * excess.sum()
    assert inner.min() >= 0.5 * inner.max()
    assert inner.mean() >= 0.5 * excess.sum() / (math.pi * r * r)
    assert excess.sum() > 40 * 1.5                  # highlight energy boosted (scene-linear bloom)


def test_kernel_shapes():
    r = 10.0
    for spec in [KernelSpec("round"), KernelSpec("polygon", blades=5), KernelSpec("polygon", blades=9,
                                                                                 curvature=0.5)]:
        k = kernel(spec, r)
        assert abs(k.sum() - 1) < 1e-5
        assert 0.85 * r < second_moment_radius(k) < 1.05 * r
    centre = kernel(KernelSpec("cat-eye", cat_eye=0.8), r, (0.0, 0.0))
    corner = kernel(KernelSpec("cat-eye", cat_eye=0.8), r, (0.7, 0.7))
    # a cat's eye: the corner kernel is narrower along the radial (diagonal) direction
    def extent(k, d):
        hk = k.shape[0] // 2
        yy, xx = np.mgrid[-hk:hk + 1, -hk:hk + 1]
        proj = (xx * d[0] + yy * d[1]) / math.hypot(*d)
        return float(np.sqrt((k * proj ** 2).sum()))
    assert extent(corner, (1, 1)) < 0.8 * extent(corner, (1, -1))
    assert abs(extent(centre, (1, 1)) / extent(centre, (1, -1)) - 1) < 0.05
    sw = kernel(KernelSpec("swirly", cat_eye=0.5, swirl=1.0), r, (0.7, 0.0))
    assert extent(sw, (0, 1)) > 1.2 * extent(sw, (1, 0))     # stretched tangentially


def test_depth_encodings():
    v = np.array([[0.0, 1.0]], np.float32)
    near, far = 0.5, 10.0
    assert np.allclose(to_inverse_depth(v, "inverse-near-high", near, far, True), [[1 / far, 1 / near]])
    assert np.allclose(to_inverse_depth(v, "inverse-near-low", near, far, True), [[1 / near, 1 / far]])
    assert np.allclose(to_inverse_depth(v, "linear-near-high", near, far, True), [[1 / far, 1 / near]])
    mid = to_inverse_depth(np.array([[0.5]], np.float32), "linear-near-low", near, far, True)
    assert np.allclose(1 / mid, (near + far) / 2)
    assert np.allclose(to_inverse_depth(np.array([[2.0, 4.0]], np.float32), "metres", near, far, False), [[0.5, 0.25]])
    with pytest.raises(ParameterError):
        to_inverse_depth(v, "metres", near, far, True)
    with pytest.raises(ParameterError):
        to_inverse_depth(v, "inverse-near-high", 5.0, 1.0, True)


def test_stage_with_depth_file(tmp_path):
    import cv2

    h, w = 120, 160
    img = _textured(h, w, 3)
    disp = np.zeros((h, w), np.uint16)
    disp[30:90, 40:120] = 65535                      # near subject (white = near)
    path = tmp_path / "d.png"
    cv2.imwrite(str(path), disp)
    frame = Frame(img, State.SCENE_LINEAR, Metadata(source=str(tmp_path / "x.jpg")))
    stage = Bokeh()
    p = params_for("portrait-90", depth=str(path), depth_near=1.0, depth_far=10.0, focus_point=[0.5, 0.5])
    assert stage.applies(frame, p)
    out = stage.run(frame, p)
    assert out.meta.extra["bokeh"]["focus_distance"] == pytest.approx(1.0, rel=1e-3)
    assert psnr(out.pixels[33:87, 43:117], img[33:87, 43:117]) >= 40
    assert psnr(out.pixels[:20], img[:20]) < 35
    # wrong aspect ratio / missing file / no depth at all: clear errors
    cv2.imwrite(str(tmp_path / "bad.png"), disp.T.copy())
    with pytest.raises(InputError, match="rotated"):
        stage.run(frame, params_for("portrait-50", depth=str(tmp_path / "bad.png")))
    with pytest.raises(InputError, match="not found"):
        stage.run(frame, params_for("portrait-50", depth=str(tmp_path / "none.png")))
    with pytest.raises(ParameterError, match="depth map"):
        stage.run(frame, params_for("portrait-50"))


def test_presets_and_params():
    assert set(PRESETS) == {"portrait-50", "portrait-75", "portrait-90", "swirly-50", "soft-90", "documentary-35"}
    from rawlux.optics.bokeh_stage import BokehParams

    p = validate("bokeh", BokehParams, {"preset": "portrait-90", "f_number": "2.8"})
    v = resolved(p)
    assert v["focal_length"] == 90 and v["f_number"] == 2.8
    with pytest.raises(ParameterError, match="portrait-50"):
        validate("bokeh", BokehParams, {"preset": "portrait-51"})
    with pytest.raises(ParameterError):
        validate("bokeh", BokehParams, {"f_number": 0.1})
    # every preset renders and the soft one glows
    img = _textured(64, 96, 5)
    inv = np.full((64, 96), 1 / 1.0, np.float32)
    frame = Frame(img, State.SCENE_LINEAR, Metadata())
    frame.meta.extra["depth"] = inv
    for name in PRESETS:
        out = Bokeh().run(frame, params_for(name, depth="", focus_distance=1.0))
        assert np.all(np.isfinite(out.pixels))
        same = psnr(out.pixels, img)
        assert (same < 40) if name == "soft-90" else (same >= 40), name


def _jpeg_with_gdepth(path, img8: np.ndarray, depth8: np.ndarray, near: float, far: float) -> None:
    import base64
    import io

    import cv2
    from PIL import Image

    ok, png = cv2.imencode(".png", depth8)
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:GDepth="http://ns.google.com/photos/1.0/depthmap/" GDepth:Format="RangeInverse" '
           f'GDepth:Near="{near}" GDepth:Far="{far}" GDepth:Mime="image/png" '
           f'GDepth:Data="{base64.b64encode(png.tobytes()).decode()}"/></rdf:RDF></x:xmpmeta>').encode()
    seg = b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    buf = io.BytesIO()
    Image.fromarray(img8).save(buf, "JPEG", quality=95)
    data = buf.getvalue()
    app1 = b"\xff\xe1" + (len(seg) + 2).to_bytes(2, "big") + seg
    path.write_bytes(data[:2] + app1 + data[2:])


def test_embedded_gdepth_and_crop_follow(tmp_path):
    from rawlux.optics.depth import embedded_depth
    from rawlux.optics.stages import Crop, CropParams

    h, w = 120, 160
    depth8 = np.full((h, w), 255, np.uint8)          # RangeInverse: 255 = far
    depth8[40:80, 60:100] = 0                        # 0 = near: the subject at 1 m
    path = tmp_path / "portrait.jpg"
    _jpeg_with_gdepth(path, np.zeros((h, w, 3), np.uint8), depth8, 1.0, 8.0)
    v, enc, near, far = embedded_depth(str(path))
    assert enc == "inverse-near-low" and (near, far) == (1.0, 8.0) and v.shape == (h, w)
    img = _textured(h, w, 9)
    frame = Frame(img, State.SCENE_LINEAR, Metadata(source=str(path), exif={"FocalLengthIn35mmFormat": 26}))
    # crop first (as the pipeline does), then bokeh with the full-frame embedded map
    cropped = Crop().run(frame, validate("crop", CropParams, {"focal": 35}))
    out = Bokeh().run(cropped, params_for("portrait-75", depth="embedded", focus_point=[0.5, 0.5]))
    assert out.meta.extra["bokeh"]["focus_distance"] == pytest.approx(1.0, rel=1e-3)
    t, l, ch, cw = cropped.meta.extra["crop_box"]
    inside = (slice(40 - t + 2, 80 - t - 2), slice(60 - l + 2, 100 - l - 2))
    assert psnr(out.pixels[inside], cropped.pixels[inside]) >= 40
    assert psnr(out.pixels[:8], cropped.pixels[:8]) < 35
