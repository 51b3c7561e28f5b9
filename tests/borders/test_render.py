"""Frames on real photos: proportions, photo pixels untouched, text drawn where the layout says, all kinds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rawlux.errors import InputError, ParameterError
from rawlux.borders import apply_frame, frame_pixels
from rawlux.borders.fonts import fallback_paths, measure, resolve_font, split_runs
from rawlux.borders.template import builtin_names, load_template

from framedata import FULL_EXIF, mosaic


def expected_text_region(bg: tuple[float, float, float], text: str, size: int, bold: bool,
                         colour: tuple[float, float, float], font: str = "sans") -> np.ndarray:
    """What a line of text over a flat background must look like, rendered independently."""
    tb = measure(text, resolve_font(font + ("-bold" if bold else ""), bold), size, bold)
    a = tb.mask()[..., None]
    out = np.asarray(bg, np.float32) * (1 - a) + np.asarray(colour, np.float32) * a
    return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)


def check_bar(out: np.ndarray, layout, photo: np.ndarray, tpl_name: str = "bar") -> None:
    """Photo bit-exact; every text box matches an independent rendering; the rest of the bar is flat."""
    t = load_template(tpl_name)
    H, W = photo.shape[:2]
    assert np.array_equal(out[:H, :W], photo)
    bar = out[H:]
    bg = np.asarray(t.colour("background"))
    drawn = np.zeros(bar.shape[:2], bool)
    styles = {"left": (True, "primary_color"), "right": (True, "primary_color"),
              "left2": (False, "secondary_color"), "right2": (False, "secondary_color")}
    for slot, (x, y, w, h) in layout.boxes.items():
        if slot == "bar":
            continue
        y -= H
        drawn[y:y + h, x:x + w] = True
        if slot in styles:
            bold, col = styles[slot]
            want = expected_text_region(tuple(bg), layout.text[slot], layout.font_px[slot], bold, t.colour(col))
            got = bar[y:y + h, x:x + w]
            assert got.shape == want.shape
            assert np.abs(got.astype(int) - want.astype(int)).max() <= 1, slot
            ink = np.abs(got.astype(int) - np.rint(bg * 255).astype(int)).max(axis=2) > 32
            assert ink.mean() > (0.04 if layout.font_px[slot] >= 12 else 0.01), \
                f"{slot}: too little ink for {layout.text[slot]!r}"
    # nothing outside the boxes: the bar is its background colour exactly
    flat = np.rint(bg * 255).astype(np.uint8)
    assert np.all(bar[~drawn] == flat)


def test_bar_height_ratio_one_and_two_lines() -> None:
    photo = mosaic(1200, 1800)
    out1, lay1 = frame_pixels(photo, {k: FULL_EXIF[k] for k in ("Make", "Model", "FNumber", "ISO")}, "bar")
    assert (out1.shape[0] - 1200) / 1200 == pytest.approx(0.095, abs=1e-3)
    assert set(lay1.text) == {"left", "right"}
    out2, lay2 = frame_pixels(photo, FULL_EXIF, "bar")
    assert (out2.shape[0] - 1200) / 1200 == pytest.approx(0.115, abs=1e-3)
    assert lay2.text == {"left": "ACME X-100 II", "left2": "2024.05.01 14:03",
                         "right": "24mm f/1.8 1/120s ISO100", "right2": "40°26′46″N 79°58′56″W"}
    check_bar(out1, lay1, photo)
    check_bar(out2, lay2, photo)
    # the device name is left, the exposure right, both inside the bar's padding
    x, _, w, _ = lay2.boxes["right"]
    assert lay2.boxes["left"][0] == round(0.045 * 1200) and x + w <= 1800 - round(0.045 * 1200) + 1


def test_missing_exif_fields_are_omitted() -> None:
    photo = mosaic(400, 600)
    out, lay = frame_pixels(photo, dict(Make="ACME", Model="Z5", FocalLength=26.0, ExposureTime=1 / 250), "bar")
    assert lay.text == {"left": "ACME Z5", "right": "26mm 1/250s"}
    out, lay = frame_pixels(photo, {}, "bar")
    assert lay.text == {} and np.all(out[400:] == 255)   # nothing known: an empty white bar, no "None"
    check_bar(out, lay, photo)


def test_portrait_and_landscape_get_the_same_bar() -> None:
    land, port = mosaic(600, 900), mosaic(900, 600)
    o1, l1 = frame_pixels(land, FULL_EXIF, "bar")
    o2, l2 = frame_pixels(port, FULL_EXIF, "bar")
    assert o1.shape[0] - 600 == o2.shape[0] - 900 == round(0.115 * 600)
    assert l1.font_px == l2.font_px
    check_bar(o2, l2, port)


def test_tiny_photo_text_fits() -> None:
    photo = mosaic(150, 200)
    out, lay = frame_pixels(photo, FULL_EXIF, "bar")
    assert out.shape[:2] == (150 + round(0.115 * 150), 200)
    for slot, (x, y, w, h) in lay.boxes.items():
        assert x >= 0 and y >= 0 and x + w <= 200 and y + h <= out.shape[0], slot
    left, right = lay.boxes["left"], lay.boxes["right"]
    assert left[0] + left[2] < right[0]            # shrunk to fit: the columns do not overlap
    check_bar(out, lay, photo)


def test_huge_50mp_geometry() -> None:
    h, w = 5792, 8688                                # 50.3 MP, 3:2
    row = mosaic(500, 2000)
    photo = np.ascontiguousarray(np.tile(row, (12, 5, 1))[:h, :w])
    out, lay = frame_pixels(photo, FULL_EXIF, "bar")
    assert out.shape == (h + round(0.115 * h), w, 3)
    assert np.array_equal(out[::97, ::89][: -(-h // 97)], photo[::97, ::89])
    assert np.array_equal(out[h - 1], photo[h - 1]) and np.array_equal(out[:, w - 1][:h], photo[:, w - 1])
    assert lay.font_px["left"] == pytest.approx(0.30 * 0.9 * round(0.115 * h), abs=2)


@pytest.mark.parametrize("name", builtin_names())
def test_every_template_keeps_the_photo(name: str) -> None:
    photo = mosaic(300, 450)
    out, lay = frame_pixels(photo, FULL_EXIF, name)
    x, y, w, h = lay.photo
    region = out[y:y + h, x:x + w]
    assert (w, h) == (450, 300) and out.shape[1::-1] == lay.size
    if name == "overlay":
        # text inside the photo: pixels outside the text boxes (and their halo) are unchanged
        mask = np.ones((h, w), bool)
        for bx, by, bw, bh in lay.boxes.values():
            pad = 12
            mask[max(0, by - pad):by + bh + pad, max(0, bx - pad):bx + bw + pad] = False
        assert np.array_equal(region[mask], photo[mask]) and not mask.all()
    elif name == "blur":
        r = lay.corner_radius
        assert r > 0
        mask = np.ones((h, w), bool)
        for yy in (slice(0, r), slice(h - r, h)):
            for xx in (slice(0, r), slice(w - r, w)):
                mask[yy, xx] = False
        assert np.array_equal(region[mask], photo[mask])
        assert not np.array_equal(region[:r, :r], photo[:r, :r])   # the corners are rounded
    else:
        assert np.array_equal(region, photo)
    assert lay.text.get("line1", lay.text.get("left")) == "ACME X-100 II"


def test_square_is_square_and_border_is_even() -> None:
    for shape in ((300, 450), (450, 300), (400, 400)):
        photo = mosaic(*shape)
        out, lay = frame_pixels(photo, FULL_EXIF, "square")
        assert out.shape[0] == out.shape[1]
        x, y, w, h = lay.photo
        assert y + h <= lay.boxes["line1"][1]          # the text is below the photo
    out, lay = frame_pixels(mosaic(300, 450), FULL_EXIF, "border")
    x, y, w, h = lay.photo
    assert x == y == out.shape[1] - (x + w)           # left = top = right border
    assert out.shape[0] - (y + h) > y                 # and more room below, for the text


def test_overlay_adapts_its_contrast() -> None:
    for level, dark_text in ((235, True), (20, False)):
        photo = np.full((400, 600, 3), level, np.uint8)
        out, lay = frame_pixels(photo, FULL_EXIF, "overlay")
        x, y, w, h = lay.boxes["line1"]
        box = out[y:y + h, x:x + w].astype(int)
        extreme = box.min() if dark_text else box.max()
        assert (extreme < 60) if dark_text else (extreme > 200)


def test_cjk_text_renders_with_the_fallback_font() -> None:
    if not fallback_paths(True):
        pytest.skip("no CJK-capable font installed (pip install noto-cjk-sans-jp-bold)")
    text = "東京 한국어 你好 ACME"
    runs = split_runs(text, resolve_font("sans-bold", True), True)
    assert {r.text.strip() for r in runs if r.path != str(resolve_font("sans-bold", True))} >= {"東京 한국어 你好"}
    photo = mosaic(400, 600)
    out, lay = frame_pixels(photo, FULL_EXIF, "bar", overrides={"text.left": text})
    x, y, w, h = lay.boxes["left"]
    assert lay.text["left"] == text
    ink = (out[y:y + h, x:x + w] < 128).any(axis=2)
    # the CJK part is drawn (not blank, not a row of empty boxes): every glyph cell has ink in its middle
    size = lay.font_px["left"]
    cells = [ink[:, int(i * size):int((i + 1) * size)] for i in (0, 1)]   # 東 京 are one em wide each
    for c in cells:
        assert c.mean() > 0.15
        assert c[h // 4: 3 * h // 4, size // 4: 3 * size // 4].any()


def test_logo_png_svg_and_broken(tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "logo.png"
    a = np.zeros((60, 120, 4), np.uint8)
    a[10:50, 10:110] = (200, 30, 30, 255)
    Image.fromarray(a, "RGBA").save(png)
    photo = mosaic(400, 600)
    out, lay = frame_pixels(photo, FULL_EXIF, "bar", logo=png)
    lx, ly, lw, lh = lay.boxes["logo"]
    dx = lay.boxes["divider"][0]
    assert lx + lw < dx < lay.boxes["right"][0]          # logo | divider | exposure, left to right
    assert lw == pytest.approx(2 * lh, abs=1)
    red = out[ly:ly + lh, lx:lx + lw]
    assert ((red[..., 0] > 150) & (red[..., 1] < 90)).mean() > 0.4
    check_bar(out, lay, photo)

    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
                   '<rect width="100" height="50" fill="#1030c0"/></svg>')
    try:
        import resvg_py  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="resvg"):
            frame_pixels(photo, FULL_EXIF, "bar", logo=svg)
    else:
        out, lay = frame_pixels(photo, FULL_EXIF, "bar", logo=svg)
        lx, ly, lw, lh = lay.boxes["logo"]
        blue = out[ly + 2:ly + lh - 2, lx + 2:lx + lw - 2]
        assert blue[..., 2].min() > 150 and blue[..., 0].max() < 60

    broken = tmp_path / "broken.png"
    broken.write_bytes(png.read_bytes()[:60])
    with pytest.raises(InputError, match="broken.png"):
        frame_pixels(photo, FULL_EXIF, "bar", logo=broken)
    bad_svg = tmp_path / "bad.svg"
    bad_svg.write_text("<svg this is not xml")
    with pytest.raises(InputError, match="bad.svg"):
        frame_pixels(photo, FULL_EXIF, "bar", logo=bad_svg)


def test_apply_frame_on_a_display_frame_and_16_bit() -> None:
    from rawlux.frame import Frame, Metadata, State

    photo = mosaic(300, 450).astype(np.float32) / 255.0
    fr = Frame(photo, State.DISPLAY, Metadata(exif=dict(FULL_EXIF), output_space="srgb"))
    out = apply_frame(fr, "bar-dark", overrides={"field.device": "My Camera"})
    assert out.state is State.DISPLAY and out.pixels.dtype == np.float32
    assert np.array_equal(out.pixels[:300], photo)
    assert out.meta.extra["frame_layout"]["text"]["left"] == "My Camera"
    assert out.pixels[300:].max() <= 1.0 and out.meta.history[-1] == "frame"
    with pytest.raises(ParameterError, match="DISPLAY"):
        apply_frame(Frame(photo, State.SCENE_LINEAR, Metadata()), "bar")
    p16 = (mosaic(300, 450).astype(np.uint16) * 257)
    o16, _ = frame_pixels(p16, FULL_EXIF, "border")
    assert o16.dtype == np.uint16 and o16.max() == 65535


def test_templates_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="unknown template 'nope'.*bar"):
        load_template("nope")
    with pytest.raises(ParameterError, match="bar_hieght"):
        load_template("bar", {"layout.bar_hieght": 0.1})
    with pytest.raises(ParameterError, match="out of range"):
        load_template("bar", {"layout.bar_height": 3})
    with pytest.raises(ParameterError, match="unknown field"):
        load_template("bar", {"text.left": "{camera}"})
    with pytest.raises(ParameterError, match="line1"):
        load_template("border", {"text.left": "x"})
    mine = tmp_path / "mine.toml"
    mine.write_text('schema_version = 1\nname = "mine"\nkind = "bar"\ninherits = "bar-dark"\n'
                    '[layout]\nbar_height = 0.2\n[text]\nright = "{iso}"\nleft2 = ""\nright2 = ""\n')
    t = load_template(mine)
    assert t.layout["bar_height"] == 0.2 and t.style["background"] == "#0e0e0e" and t.text["right"] == "{iso}"
    out, lay = frame_pixels(mosaic(200, 300), FULL_EXIF, mine)
    assert out.shape[0] == 200 + round(0.2 * 200) and lay.text == {"left": "ACME X-100 II", "right": "ISO100"}
