""".cube / HaldCLUT io and tetrahedral application."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.errors import LookError
from rawlux.looks.lutfiles import Lut, apply_lut, format_cube, parse_cube, read_cube, read_hald, read_lut, write_cube, write_hald


def _smooth_fn(x):
    """A smooth non-linear colour transform (cross-channel)."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([np.sqrt(r + 0.1) * 0.8 + 0.2 * g, g ** 1.3, 0.5 * b + 0.3 * r * g + 0.1], axis=-1)


def _lut_of(fn, n):
    ident = Lut.identity(n)
    return Lut(fn(ident.table.astype(np.float64)))


def test_identity_is_exact_and_tetrahedral_close_to_function():
    rng = np.random.default_rng(0)
    x = rng.random((2000, 3), dtype=np.float32)
    assert np.abs(apply_lut(x, Lut.identity(17)) - x).max() < 1e-6
    y = apply_lut(x, _lut_of(_smooth_fn, 33))
    ok = x.min(axis=1) > 0.02                        # sqrt is steep at 0
    assert np.abs(y - _smooth_fn(x.astype(np.float64)))[ok].max() < 3e-3


def test_tetrahedral_matches_colour_science_including_ties_and_cell_edges():
    """The branch-free tetrahedron pick against colour-science's own tetrahedral interpolation, on a
    random (non-smooth) table, at random points, points with tied fractions and on grid nodes/faces."""
    colour = pytest.importorskip("colour")
    rng = np.random.default_rng(3)
    n = 9
    table = rng.random((n, n, n, 3))
    lut = Lut(table)
    x = rng.random((3000, 3))
    tied = rng.random((600, 1)).repeat(3, axis=1)                 # fx == fy == fz
    tied2 = x[:600].copy()
    tied2[:, 1] = tied2[:, 0]                                      # fx == fy
    nodes = rng.integers(0, n, (300, 3)) / (n - 1)                 # exactly on grid nodes (and the 1.0 face)
    face = x[:300].copy()
    face[:, 2] = 1.0
    pts = np.concatenate([x, tied, tied2, nodes, face]).astype(np.float32)
    ours = apply_lut(pts, lut)
    ref = colour.algebra.table_interpolation_tetrahedral(pts.astype(np.float64), table)
    assert np.abs(ours - ref).max() < 2e-5


def test_lut_application_is_safe_on_non_finite_and_out_of_domain_values():
    lut = _lut_of(_smooth_fn, 17)
    x = np.array([[np.nan, 0.5, 0.5], [np.inf, -np.inf, 0.2], [-5.0, 7.0, 0.5], [1e30, -1e30, np.nan]], np.float32)
    y = apply_lut(x, lut)
    assert np.isfinite(y).all()
    clamped = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0).clip(0, 1)
    assert np.abs(y - apply_lut(clamped, lut)).max() < 1e-6


def test_cube_roundtrip_3d_and_1d(tmp_path):
    lut = _lut_of(_smooth_fn, 9)
    lut.title = "test"
    p = write_cube(tmp_path / "a.cube", lut, ["made by a test"])
    back = read_cube(p)
    assert back.is_3d and back.size == 9 and back.title == "test"
    assert np.abs(back.table - lut.table).max() < 1e-5
    # red varies fastest: the second data line is the (r=1/8, g=0, b=0) node
    lines = [ln for ln in p.read_text().splitlines() if ln and ln[0].isdigit()]
    assert np.allclose([float(v) for v in lines[1].split()], lut.table[1, 0, 0], atol=1e-5)
    one = Lut(np.stack([np.linspace(0, 1, 5) ** 2] * 3, axis=1))
    back1 = parse_cube(format_cube(one))
    assert not back1.is_3d and np.allclose(back1.table, one.table, atol=1e-6)
    assert np.allclose(apply_lut(np.full((1, 3), 0.5, np.float32), back1), 0.25 + 0.0, atol=0.02)


def test_cube_tolerates_bom_crlf_comments_and_domain():
    text = ("\ufeff# a comment\r\nTITLE \"x # y\"\r\n\r\nLUT_3D_SIZE 2\r\nDOMAIN_MIN 0 0 0\r\nDOMAIN_MAX 2 2 2\r\n"
            + "".join(f"{r} {g} {b}  # node\r\n" for b in (0, 2) for g in (0, 2) for r in (0, 2)))
    lut = parse_cube(text)
    assert lut.title == "x # y" and lut.size == 2
    assert np.allclose(lut.domain_max, 2.0)
    assert np.allclose(apply_lut(np.array([[1.0, 0.5, 2.0]], np.float32), lut), [[1.0, 0.5, 2.0]], atol=1e-6)


@pytest.mark.parametrize("text,needle", [
    ("", "no LUT_3D_SIZE"),
    ("LUT_3D_SIZE 2\n0 0 0\n", "expected 2³ = 8 (3D) table lines, found 1"),
    ("LUT_3D_SIZE 66\n", "out of range [2, 65]"),
    ("LUT_3D_SIZE 1\n0 0 0\n", "out of range"),
    ("LUT_3D_SIZE two\n", "whole number"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7 + "0 0 nan\n", "NaN"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7 + "0 0\n", "needs 3 numbers"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7 + "0 0 x\n", "not a number"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7 + "1_0 0 0\n", "not a number"),       # float() would read 10
    ("LUT_3D_SIZE 2\nDOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0\n" + "0 0 0\n" * 8, "domain is empty"),
    ("LUT_3D_SIZE 2\nFOO 1\n" + "0 0 0\n" * 8, "unknown keyword"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 8 + "LUT_3D_SIZE 2\n", "after the table data"),
])
def test_malformed_cube_is_one_clear_error(text, needle):
    with pytest.raises(LookError) as e:
        parse_cube(text, "bad.cube")
    assert needle in str(e.value) and "bad.cube" in str(e.value)


def test_binary_and_missing_files(tmp_path):
    p = tmp_path / "bin.cube"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(LookError, match="not a text .cube"):
        read_cube(p)
    with pytest.raises(LookError, match="does not exist"):
        read_cube(tmp_path / "nope.cube")
    with pytest.raises(LookError, match="unsupported type"):
        read_lut(tmp_path / "x.3dl")


def test_hald_roundtrip_and_bad_hald(tmp_path):
    import cv2

    lut = _lut_of(_smooth_fn, 64)
    p = write_hald(tmp_path / "h.png", lut, level=8)
    back = read_hald(p)
    assert back.size == 64
    assert np.abs(back.table - np.clip(lut.table, 0, 1)).max() < 2e-4     # 16-bit quantisation
    cv2.imwrite(str(tmp_path / "bad.png"), np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(LookError, match="L³×L³"):
        read_hald(tmp_path / "bad.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(LookError, match="not a readable image"):
        read_hald(tmp_path / "junk.png")


def test_shaper_plus_3d_cube():
    text = "LUT_1D_SIZE 3\nLUT_3D_SIZE 2\n" + "0 0 0\n0.25 0.25 0.25\n1 1 1\n" + \
        "".join(f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1))
    lut = parse_cube(text)
    assert lut.shaper is not None
    out = apply_lut(np.array([[0.5, 0.5, 0.5]], np.float32), lut)
    assert np.allclose(out, 0.25, atol=1e-6)
