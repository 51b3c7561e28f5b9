"""`rawlux frame` on files: EXIF and ICC kept, orientation, exact photo pixels, safe writes, list, preview sheet."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from framedata import DATA, FULL_EXIF, exif_bytes, mosaic

from rawlux.cli.frame import frame
from rawlux.borders.template import builtin_names


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(frame, list(args))
    return r.exit_code, r.output


def read(path: Path):
    from PIL import Image

    from rawlux.io.metadata import from_pillow
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")), from_pillow(im), im.info.get("icc_profile"), im.getexif().get(274)


def test_list_names_every_template() -> None:
    code, out = run("--list")
    assert code == 0
    names = [line.split()[0] for line in out.strip().splitlines()]
    assert names == builtin_names() == ["bar", "bar-dark", "blur", "border", "overlay", "square"]


def test_jpeg_in_png_out_exact_with_exif_and_icc(photo_jpeg: Path, tmp_path: Path) -> None:
    src_px, _, src_icc, _ = read(photo_jpeg)
    dst = tmp_path / "framed.png"
    code, out = run(str(photo_jpeg), "-o", str(dst), "--set", 'text.left="Hello world"')
    assert code == 0, out
    px, exif, icc, orient = read(dst)
    assert np.array_equal(px[:400], src_px)               # lossless output: the photo bit for bit
    assert px.shape == (400 + round(0.115 * 400), 600, 3)
    assert icc == src_icc and icc[36:40] == b"acsp"      # the input's ICC profile, byte for byte
    assert orient == 1
    assert exif["Model"] == "ACME X-100 II" and exif["ISO"] == 100 and exif["FocalLengthIn35mmFormat"] == 24
    assert abs(exif["GPSLatitude"] - FULL_EXIF["GPSLatitude"]) < 1e-3
    # JPEG out beside the input: default name, the photo region close to the decoded input
    code, out = run(str(photo_jpeg), "--quality", "97")
    assert code == 0, out
    jpx, jexif, _, _ = read(photo_jpeg.with_name("shot-framed.jpg"))
    err = jpx[:400].astype(float) - src_px
    assert 10 * np.log10(255 ** 2 / np.mean(err ** 2)) > 40
    assert jexif["Make"] == "ACME IMAGING CORP."


def test_orientation_is_applied_then_reset(tmp_path: Path) -> None:
    from PIL import Image

    stored = mosaic(300, 500)
    src = tmp_path / "rot.png"
    Image.fromarray(stored).save(src, exif=exif_bytes(FULL_EXIF, orientation=6))
    (tmp_path / "o").mkdir()
    code, out = run(str(src), "--out-dir", str(tmp_path / "o"))
    assert code == 0, out
    px, exif, _, orient = read(tmp_path / "o" / "rot-framed.png")
    upright = np.rot90(stored, -1)                         # orientation 6: rotate 90° clockwise
    assert px.shape[1] == 300 and np.array_equal(px[:500], upright)   # portrait now, bar below
    assert orient == 1 and exif["Model"] == "ACME X-100 II"


def test_16_bit_png_stays_exact(tmp_path: Path) -> None:
    import cv2

    px16 = mosaic(200, 300).astype(np.uint16) * 257 + 3
    src = tmp_path / "deep.png"
    cv2.imwrite(str(src), px16[..., ::-1])
    code, out = run(str(src), "-t", "border")
    assert code == 0, out
    got = cv2.imread(str(tmp_path / "deep-framed.png"), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert got.dtype == np.uint16
    m = round(0.035 * 200)
    assert np.array_equal(got[m:m + 200, m:m + 300], px16)


def test_safe_writes(photo_jpeg: Path, tmp_path: Path) -> None:
    before = photo_jpeg.read_bytes()
    code, out = run(str(photo_jpeg), "-o", str(photo_jpeg), "--overwrite")
    assert code == 4 and "input" in out
    dst = tmp_path / "x.jpg"
    dst.write_bytes(b"keep")
    code, out = run(str(photo_jpeg), "-o", str(dst))
    assert code == 4 and "--overwrite" in out and dst.read_bytes() == b"keep"
    assert photo_jpeg.read_bytes() == before
    assert not list(tmp_path.glob(".*.part"))              # no temporary file left behind
    code, out = run(str(photo_jpeg), "-o", str(dst), "--overwrite")
    assert code == 0 and dst.read_bytes()[:2] == b"\xff\xd8"


def test_bad_inputs_give_one_clear_line(photo_jpeg: Path, tmp_path: Path) -> None:
    broken = tmp_path / "logo.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    code, out = run(str(photo_jpeg), "--logo", str(broken))
    assert code == 3 and str(broken) in out and "PNG or SVG" in out and "Traceback" not in out
    code, out = run(str(photo_jpeg), "--set", "text.middle=x")
    assert code == 2 and "left, left2, right, right2" in out
    code, out = run(str(photo_jpeg), "-t", "nope")
    assert code == 2 and "bar-dark" in out
    trunc = tmp_path / "trunc.jpg"
    trunc.write_bytes(photo_jpeg.read_bytes()[:300])
    code, out = run(str(trunc), "--out-dir", str(tmp_path))
    assert code == 3 and "trunc.jpg" in out


def test_preview_sheet_of_all_templates(photo_jpeg: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.png"
    code, out = run(str(photo_jpeg), "--preview-sheet", str(sheet))
    assert code == 0, out
    px, _, _, _ = read(sheet)
    n = len(builtin_names())
    assert px.shape[1] == 3 * (640 + 24) + 24 and px.shape[0] == -(-n // 3) * (640 + 40 + 24) + 24
    # each tile holds a framed photo (not the flat sheet grey)
    for i in range(n):
        r, c = divmod(i, 3)
        tile = px[24 + r * 704: 24 + r * 704 + 640, 24 + c * 664: 24 + c * 664 + 640]
        assert (np.abs(tile.astype(int) - 237).max(axis=2) > 20).mean() > 0.3


def test_developed_raw_gets_a_frame(tmp_path: Path) -> None:
    raw = DATA / "raw" / "lg-g4-linear-raw.dng"
    if not raw.exists():
        pytest.skip(f"{raw} is absent")
    import rawlux
    from rawlux.borders import apply_frame

    fr = rawlux.develop(str(raw))
    out = apply_frame(fr, "bar")
    h, w = fr.height, fr.width
    lay = out.meta.extra["frame_layout"]
    assert np.array_equal(out.pixels[:h], fr.pixels)
    assert out.height == h + round(0.115 * min(h, w))
    assert lay["text"]["left"].endswith(fr.meta.exif["Model"])
    assert lay["text"]["right"] == "4.4mm f/1.8 1/2000s ISO50"   # no 35 mm tag in this file: actual focal length
    dst = tmp_path / "lg.png"
    code, msg = run(str(raw), "-o", str(dst), "-t", "square")
    assert code == 0, msg
    px, exif, _, _ = read(dst)
    assert px.shape[0] == px.shape[1] and exif["ISO"] == 50
