"""The LUT encodings that must succeed also give the right answer: every line-end / BOM / comment / case / number
variant of one ``.cube`` reads back as the same table, and HaldCLUTs in 8/16 bit, RGBA and TIFF hold the table
they were written from (within their quantisation). A reader that silently drops or shifts rows fails here."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.looks.lutfiles import Lut, format_cube, parse_cube, read_hald, read_lut

N = 5


@pytest.fixture(scope="module")
def table() -> Lut:
    """A non-trivial table (a hue rotation with a curve), so a transposed or shifted read cannot pass."""
    g = np.linspace(0, 1, N, dtype=np.float32)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    t = np.stack([0.8 * gg + 0.2 * r ** 2, 0.7 * b + 0.3 * r, 0.9 * r + 0.1 * np.sqrt(gg)], -1)
    return Lut(t, title="variants")


def _variants(text: str) -> dict[str, str]:
    lines = text.strip("\n").split("\n")
    head = [ln for ln in lines if ln[:1].isalpha()]
    rows = [ln for ln in lines if not ln[:1].isalpha() and not ln.startswith("#")]
    sci = [" ".join(f"{float(v):.6e}" for v in r.split()) for r in rows]
    return {
        "lf": text,
        "crlf": text.replace("\n", "\r\n"),
        "cr": text.replace("\n", "\r"),
        "bom": "\ufeff" + text,
        "bom-crlf": "\ufeff" + text.replace("\n", "\r\n"),
        "no-final-newline": text.rstrip("\n"),
        "lowercase-keywords": "\n".join([h.split(None, 1)[0].lower() + " " + h.split(None, 1)[1] for h in head] + rows),
        "tabs-and-comments": "# made by hand\n\n" + "\n".join(head) + "\n# the table\n" + "\n".join(
            r.replace(" ", "\t") + "  # row" for r in rows) + "\n\n",
        "scientific": "\n".join(head + sci),
        "leading-spaces": "\n".join("   " + ln for ln in head + rows),
    }


def test_cube_variants_read_the_same_table(table):
    ref = parse_cube(format_cube(table), "ref")
    assert np.allclose(ref.table, table.table, atol=1e-6)
    x = np.random.default_rng(4).random((500, 3), dtype=np.float32)
    y_ref = ref.apply(x)
    for name, text in _variants(format_cube(table)).items():
        lut = parse_cube(text, name)
        assert lut.size == N and lut.is_3d, name
        assert np.allclose(lut.table, table.table, atol=1e-6), name
        assert np.allclose(lut.domain_min, 0) and np.allclose(lut.domain_max, 1), name
        assert np.abs(lut.apply(x) - y_ref).max() < 1e-6, name


def test_cube_bytes_with_bom_crlf_from_disk(table, tmp_path):
    p = tmp_path / "x.cube"
    p.write_bytes(b"\xef\xbb\xbf" + format_cube(table).replace("\n", "\r\n").encode())
    assert np.allclose(read_lut(p).table, table.table, atol=1e-6)


@pytest.mark.parametrize("bits,channels,ext", [(8, 3, ".png"), (16, 3, ".png"), (8, 4, ".png"), (16, 3, ".tif")])
def test_hald_variants_hold_the_table(tmp_path, bits, channels, ext):
    import cv2

    level = 3                                  # 9-point table, 27×27 image
    n = level * level
    g = np.linspace(0, 1, n, dtype=np.float32)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    t = np.stack([gg, b ** 2, 1 - r], -1)      # known, not the identity
    img = t.transpose(2, 1, 0, 3).reshape(level ** 3, level ** 3, 3)
    scale = 255 if bits == 8 else 65535
    px = np.rint(img[..., ::-1] * scale).astype(np.uint8 if bits == 8 else np.uint16)
    if channels == 4:
        px = np.concatenate([px, np.full(px.shape[:2] + (1,), scale, px.dtype)], -1)
    p = tmp_path / f"h{ext}"
    assert cv2.imwrite(str(p), px)
    lut = read_hald(p)
    assert lut.size == n
    assert np.abs(lut.table - t).max() <= 0.5 / scale + 1e-6, (bits, channels, ext)
