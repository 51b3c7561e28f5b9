"""Property fuzzing (hypothesis) of the parsers rawlux writes itself.

The property is the same everywhere: any input ends in success or in a rawlux error (a ``RawluxError``
subclass, which the CLI turns into one clean line), never in another exception. Where a parser succeeds, what
it returns is checked too (ranges, finite values, a LUT that applies to finite colours). The longer runs of the
same targets are in ``scripts/fuzz.py`` (atheris).
"""
from __future__ import annotations

import math
import string
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawlux.errors import ParameterError, RawluxError

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.function_scoped_fixture])

# pieces real inputs are made of, mixed with arbitrary text: the grammar finds deep paths, the noise finds the rest
NUMS = st.sampled_from(["0", "1", "-1", "2", "10", "16", "17", "64", "1023", "65535", "1e3", "1e999", "-1e999", "nan",
                        "inf", "-inf", "0.5", "1.5", "-0", "007", "1_0", "0x10", "１２", "", " ", "9" * 40])
WORDS = st.sampled_from(["RGGB", "bggr", "GRBG", "gbrg", "XYZW", "le", "be", "LE", "middle", "k", "K", "x", "×", ",",
                         "=", ".", "as-shot", "auto", "daylight", "kelvin", "tungsten", "true", "[", "]", "{", "}",
                         '"', "'", "\\", "\n", "\x00", "#", "😀"])
TOKENS = st.lists(st.one_of(NUMS, WORDS, st.text(max_size=6)), max_size=10).map("".join)
TEXT = st.one_of(TOKENS, st.text(max_size=40))


def only_rawlux_errors(fn, *a, **kw):
    """Call ``fn``; a RawluxError is an acceptable outcome (returned as None), anything else fails the test."""
    try:
        return fn(*a, **kw)
    except RawluxError:
        return None


# ----------------------------------------------------------------------------- --raw, --cfa, --wb, --set

@FAST
@given(st.one_of(TEXT, st.builds(lambda w, h, b, p, x: f"{w}x{h},{b},{p}{x}", NUMS, NUMS, NUMS, WORDS,
                                 st.sampled_from(["", ",64", ",be", ",64,le", ",nan", ",1e999", ",-1", ",le,le,7"]))))
def test_raw_spec(spec):
    from rawlux.io.decode import BAYER_PATTERNS, RawSpec

    r = only_rawlux_errors(RawSpec.parse, spec)
    if r is not None:
        assert 1 <= r.width <= 100_000 and 1 <= r.height <= 100_000
        assert 1 <= r.bits <= 16 and r.pattern in BAYER_PATTERNS and r.endian in ("le", "be")
        assert math.isfinite(r.black) and 0 <= r.black < 2 ** r.bits - 1


@FAST
@given(st.one_of(TEXT, st.builds(lambda p, b, w: f"{p},{b},{w}", WORDS, NUMS, NUMS),
                 st.builds(lambda p, b: f"{p},{b}", WORDS, NUMS)))
def test_cfa_spec(spec):
    from rawlux.io.decode import BAYER_PATTERNS, CfaSpec

    c = only_rawlux_errors(CfaSpec.parse, spec)
    if c is not None:
        assert c.pattern in BAYER_PATTERNS
        for v in (c.black, c.white):
            assert v is None or math.isfinite(v), c
        if c.black is not None:
            assert c.black >= 0
            if c.white is not None:
                assert c.white > c.black


@FAST
@given(st.one_of(TEXT, st.builds(lambda k, t: f"{k}K,{t}", NUMS, NUMS), st.builds(lambda k: f"{k}k", NUMS)))
def test_wb_then_recipe(value):
    """--wb goes through parse_wb and then the recipe's range checks: only rawlux errors, finite kelvin."""
    from rawlux.cli import parse_wb
    from rawlux.pipeline.recipe import Recipe

    wb = only_rawlux_errors(parse_wb, value)
    if wb is not None:
        rec = only_rawlux_errors(Recipe.build, "natural", overrides={"whitebalance": wb})
        if rec is not None:
            p = rec["whitebalance"]
            assert math.isfinite(p.kelvin) and math.isfinite(p.tint)


def _stage_fields():
    from rawlux.pipeline.order import get_stage, stage_names
    import dataclasses

    return {s: [f.name for f in dataclasses.fields(get_stage(s).Params)] for s in stage_names()}


STAGES = _stage_fields()
STAGE_NAMES = sorted(STAGES)
ALL_FIELDS = sorted({f for fs in STAGES.values() for f in fs})
KEYS = st.one_of(st.sampled_from(STAGE_NAMES), st.text(string.ascii_lowercase + "._- ", max_size=8))
FIELDS = st.one_of(st.sampled_from(ALL_FIELDS), st.text(string.ascii_lowercase + "._", max_size=8))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12), st.sampled_from(["srgb", "kelvin", "natural", "", "1e999", "nan", "true"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=8)


@FAST
@given(st.one_of(TEXT, st.builds(lambda s, f, v: f"{s}.{f}={v}", KEYS, FIELDS,
                                 st.one_of(NUMS, WORDS, st.text(max_size=10), st.just("[1, 2]"),
                                           st.just("{a = 1}"), st.just('"srgb"'), st.just("1979-05-27")))))
def test_set_then_recipe(expr):
    from rawlux.pipeline.recipe import Recipe, parse_set

    r = only_rawlux_errors(parse_set, expr)
    if r is not None:
        assert len(r) == 3 and r[0] and r[1]
        only_rawlux_errors(Recipe.build, "natural", sets=[expr])


@FAST
@given(st.dictionaries(st.one_of(KEYS, st.builds(lambda s, f: f"{s}__{f}", KEYS, FIELDS),
                                 st.builds(lambda s, f: f"{s}.{f}", KEYS, FIELDS)),
                       st.one_of(VALUES, st.dictionaries(FIELDS, VALUES, max_size=3)), max_size=4))
def test_recipe_merge(overrides):
    """Random keyword overrides over a look: a Recipe whose numbers are finite, or a rawlux error."""
    from rawlux.pipeline.recipe import Recipe

    rec = only_rawlux_errors(Recipe.build, "natural", overrides=overrides)
    if rec is not None:
        rec.to_toml()
        rec.digest()
        for p in rec.params.values():
            for v in vars(p).values():
                if isinstance(v, float):
                    assert math.isfinite(v), (p, v)


# ----------------------------------------------------------------------------- look TOML

def _toml_value(v) -> str:
    import json

    if v is None:
        return '""'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"


LOOK_META = st.fixed_dictionaries({}, optional={
    "schema_version": st.one_of(st.integers(-2, 3), st.floats(), st.text(max_size=3)),
    "name": st.one_of(st.text(max_size=8), st.integers()),
    "description": st.one_of(st.text(max_size=8), st.booleans()),
    "inherits": st.one_of(st.sampled_from(["natural", "vivid", "look.toml", "../x.toml", "", "nope", "vivid@0.5"]),
                          st.integers()),
    "strength": st.one_of(st.floats(-1, 2), st.floats(), st.text(max_size=3)),
    "tags": st.one_of(st.lists(st.text(max_size=4), max_size=3), st.text(max_size=4)),
})
LOOK_TABLES = st.dictionaries(KEYS, st.dictionaries(FIELDS, VALUES, max_size=4), max_size=4)


def _look_text(meta: dict, tables: dict) -> str:
    import json

    lines = [f"{k} = {_toml_value(v)}" for k, v in meta.items()]
    for t, vals in tables.items():
        lines.append(f"[{json.dumps(t)}]")
        lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in vals.items()]
    return "\n".join(lines) + "\n"


@SLOW
@given(LOOK_META, LOOK_TABLES, st.sampled_from(["", "[lut]\npath = \"lut.cube\"\n", "[lut]\npath = \"../lut.cube\"\n",
                                                "[lut]\npath = \"lut.cube\\u0000\"\n", "x = [1,\n", "\x00",
                                                "[tone]\n[tone]\n"]))
def test_look_toml(meta, tables, tail):
    from rawlux.looks import load_look
    from rawlux.pipeline.recipe import Recipe

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "lut.cube").write_text("LUT_3D_SIZE 2\n" + "\n".join(f"{r} {g} {b}" for b in (0, 1) for g in (0, 1)
                                                                  for r in (0, 1)) + "\n")
        p = d / "look.toml"
        p.write_bytes((_look_text(meta, tables) + tail).encode("utf-8", "surrogatepass"))
        lf = only_rawlux_errors(load_look, str(p))
        if lf is not None:
            only_rawlux_errors(Recipe.build, str(p))


# ----------------------------------------------------------------------------- .cube

def _cube_lines(n=2):
    return [f"{r} {g} {b}" for b in range(n) for g in range(n) for r in range(n)]


CUBE_LINE = st.one_of(
    st.sampled_from(["LUT_3D_SIZE 2", "LUT_3D_SIZE 3", "LUT_1D_SIZE 2", "LUT_1D_SIZE 8", "LUT_3D_SIZE 1",
                     "LUT_3D_SIZE 66", "DOMAIN_MIN 0 0 0", "DOMAIN_MAX 1 1 1", "DOMAIN_MAX 0 0 0",
                     "DOMAIN_MIN -1e39 0 0", "DOMAIN_MAX 1e38 1e38 1e38", "LUT_3D_INPUT_RANGE 0 1",
                     "LUT_1D_INPUT_RANGE 1 0", 'TITLE "x"', "TITLE", "# c", "", "0 0 0", "1 1 1", "0.5 nan 1",
                     "1e39 0 0", "1 2", "a b c", "\ufeff", "\r"]),
    st.builds(lambda a, b, c: f"{a} {b} {c}", NUMS, NUMS, NUMS), st.text(max_size=12))


@FAST
@given(st.one_of(
    st.lists(CUBE_LINE, max_size=40).map("\n".join),
    st.builds(lambda head, body, extra: "\n".join(head + body + extra),
              st.lists(CUBE_LINE, max_size=4), st.sampled_from([_cube_lines(2), _cube_lines(3), _cube_lines(2)[:7]]),
              st.lists(CUBE_LINE, max_size=3)),
    st.text(max_size=200)))
def test_cube(text):
    from rawlux.looks.lutfiles import parse_cube

    lut = only_rawlux_errors(parse_cube, text, "fuzz.cube")
    if lut is not None:
        assert np.isfinite(lut.table).all()
        assert np.isfinite(lut.domain_min).all() and np.isfinite(lut.domain_max).all(), lut
        assert (lut.domain_max > lut.domain_min).all()
        x = np.random.default_rng(0).uniform(-0.5, 1.5, (64, 3)).astype(np.float32)
        x[0] = np.nan
        y = lut.apply(x)
        assert y.shape == x.shape and np.isfinite(y[1:]).all()


@SLOW
@given(st.binary(max_size=300), st.sampled_from([".cube", ".png", ".tif"]))
def test_lut_file_bytes(data, ext):
    from rawlux.looks.lutfiles import read_lut

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"x{ext}"
        p.write_bytes(data if ext == ".cube" else (b"\x89PNG\r\n\x1a\n" if ext == ".png" else b"II*\x00") + data)
        only_rawlux_errors(read_lut, p)


# ----------------------------------------------------------------------------- DNG tags

@pytest.fixture(scope="module")
def small_dng(tmp_path_factory) -> bytes:
    from corpus import dng_bytes

    p = tmp_path_factory.mktemp("dng") / "s.dng"
    dng_bytes(p, w=16, h=12)
    return p.read_bytes()


MUTATION = st.tuples(st.sampled_from(["flip", "set", "ff", "zero", "cut", "u32"]), st.integers(0, 10_000),
                     st.integers(0, 255))


def _mutate(data: bytes, muts) -> bytes:
    import struct

    d = bytearray(data)
    for kind, pos, v in muts:
        i = pos % len(d)
        if kind == "flip":
            d[i] ^= 1 << (v % 8)
        elif kind == "set":
            d[i] = v
        elif kind == "ff":
            d[i:i + 4] = b"\xff\xff\xff\xff"[: len(d) - i]
        elif kind == "zero":
            d[i:i + 4] = bytes(min(4, len(d) - i))
        elif kind == "u32" and i + 4 <= len(d):
            struct.pack_into("<I", d, i, (v * 0x01010101) ^ len(d))
        elif kind == "cut":
            del d[max(8, i):]
    return bytes(d)


@SLOW
@given(st.lists(MUTATION, min_size=1, max_size=6))
def test_dng_tags(small_dng, muts):
    """Mutated small DNGs: read_dng_tags gives tags or None, or a rawlux error; tags it gives are checked by the
    level/matrix sanity that decoding runs (also rawlux errors only)."""
    from rawlux.io.dng import read_dng_tags

    # mutations mostly in the header and IFD (the first ~400 bytes of the tiny file are pixels, the IFD follows)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.dng"
        p.write_bytes(_mutate(small_dng, muts))
        only_rawlux_errors(read_dng_tags, str(p))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_dng_open_image(small_dng, muts):
    """The same mutations through the whole decoder (open_image): a Frame with finite pixels, or a rawlux error."""
    from rawlux.io.decode import open_image

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.dng"
        p.write_bytes(_mutate(small_dng, muts))
        f = only_rawlux_errors(open_image, str(p))
        if f is not None:
            assert f.pixels.size > 0 and np.isfinite(f.pixels).all()


@pytest.fixture(scope="module")
def small_jpeg_png() -> tuple[bytes, bytes]:
    import io

    from PIL import Image
    im = Image.fromarray((np.random.default_rng(4).random((24, 40, 3)) * 255).astype(np.uint8))
    j, p = io.BytesIO(), io.BytesIO()
    im.save(j, "JPEG", quality=80)
    im.save(p, "PNG")
    return j.getvalue(), p.getvalue()


class _HangGuard:
    """Raise TimeoutError in this thread after ``seconds`` (a hang guard for in-process parsers, not a timing)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self):
        import signal

        def boom(*_):
            raise TimeoutError(f"still running after {self.seconds} s")
        self.old = signal.signal(signal.SIGALRM, boom)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        import signal
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)


@SLOW
@given(st.sampled_from(["dng", "jpeg", "png"]), st.lists(MUTATION, min_size=1, max_size=6))
def test_preflight(small_dng, small_jpeg_png, kind, muts):
    """Mutated DNG/JPEG/PNG through the pre-flight check: a report or a rawlux error, and never a hang."""
    from rawlux.io.preflight import check

    src = {"dng": small_dng, "jpeg": small_jpeg_png[0], "png": small_jpeg_png[1]}[kind]
    data = _mutate(src, muts)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"m.{kind}"
        p.write_bytes(data)
        with _HangGuard(10.0):
            rep = only_rawlux_errors(check, str(p), data[:64], len(data), limit=50_000_000)
        if rep is not None:
            assert 0 <= rep.missing_bytes and rep.missing_bytes == 0      # refused unless allow_truncated


def test_the_properties_can_fail():
    """The helper lets a rawlux error through as an outcome and fails on any other exception."""
    assert only_rawlux_errors(lambda: (_ for _ in ()).throw(ParameterError("x"))) is None
    with pytest.raises(ValueError):
        only_rawlux_errors(int, "not a number")
