"""DNG opcode lists: parsing real files, applying synthetic lists with known answers, bad lists."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from rawlux.errors import InputError
from rawlux.frame import Frame, Metadata, State
from rawlux.optics import opcodes as oc
from rawlux.optics.stages import Lens, LensParams, Opcodes2, OpcodesParams
from rawlux.pipeline.stage import validate

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RAW = DATA / "raw"


def _op(oid: int, body: bytes, flags: int = 0) -> bytes:
    return struct.pack(">4I", oid, 0x01030000, flags, len(body)) + body


def _list(*ops: bytes) -> bytes:
    return struct.pack(">I", len(ops)) + b"".join(ops)


def _gain_map(h, w, gains: np.ndarray, plane=0, planes=1, pitch=1, top=0, left=0) -> bytes:
    pv, ph, mp = gains.shape
    body = struct.pack(">8I", top, left, h, w, plane, planes, pitch, pitch)
    body += struct.pack(">2I", pv, ph)
    body += struct.pack(">4d", 1.0 / max(pv - 1, 1), 1.0 / max(ph - 1, 1), 0.0, 0.0)
    body += struct.pack(">I", mp) + gains.astype(">f4").tobytes()
    return _op(9, body, flags=1)


def test_gain_map_is_applied_with_bilinear_interpolation():
    h, w = 101, 201
    gains = np.array([[[1.0], [2.0]], [[3.0], [4.0]]], np.float32)   # 2×2 map, corners
    frame = Frame(np.ones((h, w), np.float32), State.CFA,
                  Metadata(cfa_pattern="RGGB", opcodes={"OpcodeList2": _list(_gain_map(h, w, gains))}))
    out = Opcodes2().run(frame, OpcodesParams()).pixels
    yy, xx = np.mgrid[0:h, 0:w]
    u, v = (xx + 0.5) / w, (yy + 0.5) / h
    expect = 1 + 1 * u + 2 * v                                       # bilinear through the corners
    assert np.max(np.abs(out - expect)) < 1e-3


def test_gain_map_per_bayer_phase_and_polynomial_and_vignette():
    h, w = 40, 60
    g = np.full((2, 2, 1), 2.0, np.float32)
    ops = [_gain_map(h, w, g, pitch=2, top=1, left=0)]              # only rows 1, 3, ... cols 0, 2, ...
    poly = struct.pack(">8I", 0, 0, h, w, 0, 1, 1, 1) + struct.pack(">I", 2) + struct.pack(">3d", 0.1, 0.5, 0.25)
    ops.append(_op(8, poly))
    k = [0.2, 0.0, 0.0, 0.0, 0.0]
    ops.append(_op(3, struct.pack(">7d", *k, 0.5, 0.5)))
    frame = Frame(np.full((h, w), 0.5, np.float32), State.CFA,
                  Metadata(cfa_pattern="RGGB", opcodes={"OpcodeList2": _list(*ops)}))
    out = Opcodes2().run(frame, OpcodesParams()).pixels
    x = np.full((h, w), 0.5)
    x[1::2, 0::2] *= 2
    x = 0.1 + 0.5 * x + 0.25 * x * x
    x0, y0 = 0.5 * (w - 1), 0.5 * (h - 1)
    m = np.hypot(x0, y0)
    yy, xx = np.mgrid[0:h, 0:w]
    x = x * (1 + 0.2 * ((xx - x0) ** 2 + (yy - y0) ** 2) / m ** 2)
    assert np.max(np.abs(out - x)) < 1e-5


def test_unknown_opcodes_optional_skipped_required_refused():
    lst = _list(_op(99, b"\x00" * 8, flags=1))
    frame = Frame(np.ones((8, 8), np.float32), State.CFA, Metadata(cfa_pattern="RGGB", opcodes={"OpcodeList2": lst}))
    out = Opcodes2().run(frame, OpcodesParams())
    assert np.array_equal(out.pixels, frame.pixels)
    assert any("opcode 99" in n and "skipped" in n for n in out.meta.facts.notes)
    frame2 = Frame(np.ones((8, 8), np.float32), State.CFA,
                   Metadata(source="x.dng", cfa_pattern="RGGB", opcodes={"OpcodeList2": _list(_op(99, b"", flags=0))}))
    with pytest.raises(InputError, match="optional=false"):
        Opcodes2().run(frame2, OpcodesParams())
    with pytest.raises(InputError, match="truncated|needs"):
        oc.parse_opcode_list(_list(_op(9, b"\x00" * 20))[:-4], "OpcodeList2", "x.dng")
    with pytest.raises(InputError, match="cannot decode GainMap"):
        oc.parse_opcode_list(_list(_op(9, b"\x00" * 20)), "OpcodeList2", "x.dng")


def test_warp_rectilinear_moves_points_as_the_model_says():
    """A radial kr1 term: a dot at normalised radius r is read from r·(kr0 + kr1 r²)."""
    h, w = 201, 301
    kr = (1.0, 0.08, 0.0, 0.0)
    body = struct.pack(">I", 1) + struct.pack(">6d", *kr, 0.0, 0.0) + struct.pack(">2d", 0.5, 0.5)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    m = np.hypot(cx, cy)
    img = np.zeros((h, w, 3), np.float32)
    # place a dot in the *source* where output (cx + 100, cy) must read from
    r = 100 / m
    xs = cx + 100 * (kr[0] + kr[1] * r * r)
    img[int(cy), int(round(xs))] = 1.0
    meta = Metadata(source="w.dng", opcodes={"OpcodeList3": _list(_op(1, body))})
    out = Lens().run(Frame(img, State.CAMERA_RGB, meta),
                     validate("lens", LensParams, {"profile": "off", "interpolation": "linear"})).pixels[..., 0]
    yx = np.unravel_index(np.argmax(out), out.shape)
    assert yx[0] == int(cy) and abs(yx[1] - (cx + 100)) <= 1.0


needs_data = pytest.mark.skipif(not RAW.is_dir(), reason="../shared/data not present")


@needs_data
def test_real_files_parse():
    from rawlux.io.dng import read_dng_tags

    t = read_dng_tags(str(RAW / "gopro-hero6-12mp.dng"))
    ops = oc.parse_opcode_list(t.opcodes["OpcodeList2"], "OpcodeList2")
    assert [o.name for o in ops] == ["GainMap"] * 4 and all(o.optional for o in ops)
    assert {(o.args["top"], o.args["left"]) for o in ops} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert ops[0].args["gains"].shape == (23, 23, 1) and ops[0].args["row_pitch"] == 2
    g = ops[0].args["gains"][..., 0]
    assert g[11, 11] == pytest.approx(1.0, abs=0.02) and g[0, 0] > 1.5      # lens shading: corners lifted
    t = read_dng_tags(str(RAW / "gopro-fusion-front-fisheye.dng"))
    ops = oc.parse_opcode_list(t.opcodes["OpcodeList3"], "OpcodeList3")
    assert [o.name for o in ops] == ["WarpRectilinear"] and ops[0].args["kr"].shape == (3, 4)
    assert ops[0].args["kr"][1, 0] == 1.0 and ops[0].args["kr"][0, 0] > 1.0   # lateral CA: R, B scaled
    t = read_dng_tags(str(RAW / "lg-g4-linear-raw.dng"))
    ops = oc.parse_opcode_list(t.opcodes["OpcodeList2"], "OpcodeList2")
    assert [o.name for o in ops] == ["MapPolynomial"] * 3 and not ops[0].optional


@needs_data
def test_hero6_gain_map_flattens_shading():
    """The file's own lens-shading map, applied at the right point, evens out the frame's corners."""
    from rawlux.io.decode import open_image

    fr = open_image(str(RAW / "gopro-hero6-12mp.dng"))
    black = float(np.max(fr.meta.black_level))
    x = (fr.pixels.astype(np.float32) - black) / (float(np.max(fr.meta.white_level)) - black)
    frame = Frame(x, State.CFA, fr.meta)
    out = Opcodes2().run(frame, OpcodesParams())
    assert out.meta.extra["OpcodeList2_applied"] == ["GainMap"] * 4
    ratio = out.pixels[:40, :40].mean() / max(frame.pixels[:40, :40].mean(), 1e-9)
    centre = out.pixels[1480:1520, 1980:2020].mean() / frame.pixels[1480:1520, 1980:2020].mean()
    assert ratio > 1.5 and abs(centre - 1) < 0.05


@needs_data
def test_lossy_dng_polynomial_not_applied_twice():
    """LibRaw maps lossy-DNG samples through OpcodeList2's MapPolynomial while decoding: the stage
    must not square the curve (doing so turns the LG frame green: R/G of the means drops to ~0.1)."""
    from rawlux.io.decode import open_image

    fr = open_image(str(RAW / "lg-g4-linear-raw.dng"))
    x = fr.pixels.astype(np.float32) / float(np.max(fr.meta.white_level))
    out = Opcodes2().run(Frame(x, State.CAMERA_RGB, fr.meta), OpcodesParams())
    assert np.array_equal(out.pixels, x)
    assert any("already applied" in n for n in out.meta.facts.notes)
    wb = x.reshape(-1, 3).mean(0) / fr.meta.as_shot_neutral
    assert 0.7 < wb[0] / wb[1] < 1.3 and 0.7 < wb[2] / wb[1] < 1.3       # balanced, not green


def test_opcode_list1_fixes_bad_pixels_on_the_stored_mosaic():
    from rawlux.optics.stages import Opcodes1

    rng = np.random.default_rng(3)
    mosaic = (1000 + 10 * rng.random((16, 16))).astype(np.uint16)
    mosaic[5, 6] = 0                                     # a dead pixel, flagged by value
    mosaic[9, 9] = 4000                                  # a hot pixel, listed
    const = _op(4, struct.pack(">2I", 0, 0))
    listed = _op(5, struct.pack(">3I", 0, 1, 0) + struct.pack(">2I", 9, 9))
    frame = Frame(mosaic, State.RAW, Metadata(cfa_pattern="RGGB", opcodes={"OpcodeList1": _list(const, listed)}))
    assert Opcodes1().applies(frame, OpcodesParams())
    out = Opcodes1().run(frame, OpcodesParams()).pixels
    for y, x in ((5, 6), (9, 9)):
        same = [mosaic[y + dy, x + dx] for dy in (-2, 0, 2) for dx in (-2, 0, 2) if (dy, dx) != (0, 0)]
        assert abs(out[y, x] - np.mean(same)) < 1e-3
    untouched = np.ones_like(mosaic, bool)
    untouched[5, 6] = untouched[9, 9] = False
    assert np.array_equal(out[untouched], mosaic[untouched].astype(np.float32))
