#!/usr/bin/env python
"""Coverage-guided fuzzing (atheris / libFuzzer) of the parsers rawlux writes itself.

    python scripts/fuzz.py TARGET --seconds N [--corpus DIR] [--jobs J] [libFuzzer flags ...]
    python scripts/fuzz.py all --seconds N          # every target in turn, N seconds each
    python scripts/fuzz.py --list

Targets: raw (``RawSpec.parse``), cfa (``CfaSpec.parse``), wb (``cli.parse_wb`` + recipe), set
(``parse_set`` + ``Recipe.build``), recipe (``Recipe.build`` with overrides decoded from JSON), look
(``load_look`` on TOML text, with a LUT beside it), cube (``parse_cube`` + applying the LUT), lutfile
(``read_lut`` on .cube/.png/.tif bytes), dng (``read_dng_tags`` on mutated small DNGs), preflight
(``io.preflight.check`` on mutated small DNG/JPEG/PNG files: the structure checks that run before any decoder).

The property is the one of ``tests/fuzz``: success or a ``RawluxError``; any other exception, or a result
that breaks an invariant (a LUT with an infinite domain, a non-finite parameter), is a finding: libFuzzer
stops and writes the input to ``crash-*`` (reproduce with ``python scripts/fuzz.py TARGET crash-...``).
Seeds are written to a fresh corpus folder unless ``--corpus`` names one (then new inputs are kept there).
Needs ``pip install atheris`` (a wheel for CPython 3.11 on x86-64 Linux exists).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SEEDS: dict[str, list[bytes]] = {
    "raw": [b"1920x1080,10,RGGB,64,le", b"64x48,12,bggr", b"4x4,16,GRBG,0,be", b"10x10,8,GBRG,nan"],
    "cfa": [b"RGGB", b"GRBG,50,1023", b"bggr,0", b"RGGB,100,50"],
    "wb": [b"as-shot", b"5500K,+5", b"3200k", b"daylight", b"99999999K"],
    "set": [b"tone.contrast=1.2", b"whitebalance.mode=\"kelvin\"", b"exposure.ev=-11", b"lut.path=x.cube",
            b"tone.contrast=[1,2]"],
    "recipe": [b'{"tone": {"contrast": 1.2}}', b'{"exposure__ev": 1e308}', b'{"whitebalance.kelvin": "5000"}',
               b'{"grain": {"strength": null}}'],
    "look": [b'schema_version = 1\ninherits = "vivid"\nstrength = 0.5\n[tone]\ncontrast = 0.2\n',
             b'schema_version = 1\n[lut]\npath = "lut.cube"\nspace = "srgb"\n',
             b'schema_version = 1\n[lut]\npath = "../lut.cube"\n', b'[curve]\ncontrast = nan\n'],
    "cube": [b"LUT_3D_SIZE 2\n" + b"\n".join(f"{r} {g} {b}".encode() for b in (0, 1) for g in (0, 1) for r in (0, 1)),
             b"LUT_1D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n0 0 0\n1 1 1\n",
             b"\xef\xbb\xbfTITLE \"x\"\r\nLUT_3D_SIZE 2\r\nLUT_3D_INPUT_RANGE 0 1\r\n" + b"0 0 0\r\n" * 8],
    "preflight": [b"\x00", b"\x01", b"\x02", b"\x00\x04\x00\xff", b"\x01\x02\x00\x00"],
}


def _identity_cube() -> str:
    return "LUT_3D_SIZE 2\n" + "\n".join(f"{r} {g} {b}" for b in (0, 1) for g in (0, 1) for r in (0, 1)) + "\n"


def _expect(fn, *a, **kw):
    from rawlux.errors import RawluxError

    try:
        return fn(*a, **kw)
    except RawluxError:
        return None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


# ----------------------------------------------------------------------------- targets

def t_raw(data: bytes) -> None:
    from rawlux.io.decode import RawSpec

    r = _expect(RawSpec.parse, _text(data))
    if r is not None:
        assert 1 <= r.width <= 100_000 and 1 <= r.height <= 100_000 and 1 <= r.bits <= 16, r
        assert math.isfinite(r.black) and 0 <= r.black < 2 ** r.bits - 1, r


def t_cfa(data: bytes) -> None:
    from rawlux.io.decode import CfaSpec

    c = _expect(CfaSpec.parse, _text(data))
    if c is not None:
        assert all(v is None or math.isfinite(v) for v in (c.black, c.white)), c
        assert c.black is None or c.white is None or c.white > c.black >= 0, c


def t_wb(data: bytes) -> None:
    from rawlux.cli import parse_wb
    from rawlux.pipeline.recipe import Recipe

    wb = _expect(parse_wb, _text(data))
    if wb is not None:
        rec = _expect(Recipe.build, "natural", overrides={"whitebalance": wb})
        if rec is not None:
            assert math.isfinite(rec["whitebalance"].kelvin), rec["whitebalance"]


def _finite_params(rec) -> None:
    for p in rec.params.values():
        for k, v in vars(p).items():
            assert not isinstance(v, float) or math.isfinite(v), (p, k, v)
    rec.to_toml()
    rec.digest()


def t_set(data: bytes) -> None:
    from rawlux.pipeline.recipe import Recipe, parse_set

    exprs = _text(data).split("\n")[:4]
    for e in exprs:
        _expect(parse_set, e)
    rec = _expect(Recipe.build, "natural", sets=exprs)
    if rec is not None:
        _finite_params(rec)


def t_recipe(data: bytes) -> None:
    from rawlux.pipeline.recipe import Recipe

    try:
        ov = json.loads(_text(data))
    except (ValueError, RecursionError):
        return
    if not isinstance(ov, dict):
        return
    rec = _expect(Recipe.build, "natural", overrides=ov)
    if rec is not None:
        _finite_params(rec)


_LOOK_DIR: Path | None = None


def t_look(data: bytes) -> None:
    from rawlux.looks import load_look
    from rawlux.pipeline.recipe import Recipe

    global _LOOK_DIR
    if _LOOK_DIR is None:
        _LOOK_DIR = Path(tempfile.mkdtemp(prefix="rawlux-fuzz-look-")) / "looks"
        _LOOK_DIR.mkdir()
        (_LOOK_DIR / "lut.cube").write_text(_identity_cube())
        (_LOOK_DIR.parent / "lut.cube").write_text(_identity_cube())
    p = _LOOK_DIR / "fuzz.toml"
    p.write_bytes(data)
    if _expect(load_look, str(p)) is not None:
        rec = _expect(Recipe.build, str(p))
        if rec is not None:
            _finite_params(rec)
            lut = rec["lut"].path
            assert not lut or Path(lut).resolve().is_relative_to(_LOOK_DIR.resolve()), lut


def t_cube(data: bytes) -> None:
    import numpy as np

    from rawlux.looks.lutfiles import parse_cube

    lut = _expect(parse_cube, _text(data), "fuzz.cube")
    if lut is not None:
        assert np.isfinite(lut.table).all()
        assert np.isfinite(lut.domain_min).all() and np.isfinite(lut.domain_max).all(), lut
        assert (lut.domain_max > lut.domain_min).all(), lut
        x = np.linspace(-0.5, 1.5, 30, dtype=np.float32)[:, None].repeat(3, 1)
        y = lut.apply(x)
        assert np.isfinite(y).all(), (lut, y)


def t_lutfile(data: bytes) -> None:
    from rawlux.looks.lutfiles import read_lut

    ext = (".cube", ".png", ".tif")[data[0] % 3] if data else ".cube"
    magic = {".cube": b"", ".png": b"\x89PNG\r\n\x1a\n", ".tif": b"II*\x00"}[ext]
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"x{ext}"
        p.write_bytes(magic + data[1:])
        _expect(read_lut, p)


_DNG: bytes | None = None


def t_dng(data: bytes) -> None:
    """``data`` drives edits of a small valid DNG: (offset u16, byte) pairs, so most inputs stay TIFF-shaped."""
    from rawlux.io.dng import read_dng_tags

    global _DNG
    if _DNG is None:
        sys.path.insert(0, str(ROOT / "tests" / "hostile"))
        from corpus import dng_bytes

        with tempfile.TemporaryDirectory() as d:
            dng_bytes(Path(d) / "s.dng", w=16, h=12)
            _DNG = (Path(d) / "s.dng").read_bytes()
    d = bytearray(_DNG)
    for i in range(0, len(data) - 2, 3):
        off = int.from_bytes(data[i:i + 2], "little") % len(d)
        d[off] = data[i + 2]
    if len(data) % 7 == 3:
        del d[max(8, len(d) * data[-1] // 256):]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "m.dng"
        p.write_bytes(bytes(d))
        _expect(read_dng_tags, str(p))


_SMALL: dict[str, bytes] = {}


def _small(kind: str) -> bytes:
    if not _SMALL:
        import io

        import numpy as np
        from PIL import Image
        sys.path.insert(0, str(ROOT / "tests" / "hostile"))
        from corpus import dng_bytes

        with tempfile.TemporaryDirectory() as d:
            dng_bytes(Path(d) / "s.dng", w=16, h=12)
            _SMALL["dng"] = (Path(d) / "s.dng").read_bytes()
        im = Image.fromarray((np.random.default_rng(4).random((24, 40, 3)) * 255).astype(np.uint8))
        for fmt in ("JPEG", "PNG"):
            b = io.BytesIO()
            im.save(b, fmt)
            _SMALL[fmt.lower()] = b.getvalue()
    return _SMALL[kind]


def t_preflight(data: bytes) -> None:
    """``data[0]`` picks a small DNG, JPEG or PNG; the rest drives byte edits (offset u16, byte) and a cut."""
    from rawlux.io.preflight import check

    if not data:
        return
    d = bytearray(_small(("dng", "jpeg", "png")[data[0] % 3]))
    body = data[1:]
    for i in range(0, len(body) - 2, 3):
        d[int.from_bytes(body[i:i + 2], "little") % len(d)] = body[i + 2]
    if len(body) % 7 == 3:
        del d[max(8, len(d) * body[-1] // 256):]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "m.bin"
        p.write_bytes(bytes(d))
        rep = _expect(check, str(p), bytes(d[:64]), len(d), limit=50_000_000)
        assert rep is None or rep.missing_bytes == 0, rep      # truncation is refused unless allowed


TARGETS = {"raw": t_raw, "cfa": t_cfa, "wb": t_wb, "set": t_set, "recipe": t_recipe, "look": t_look,
           "cube": t_cube, "lutfile": t_lutfile, "dng": t_dng,
           "preflight": t_preflight}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("target", nargs="?", help=f"one of {', '.join(TARGETS)}, or all")
    ap.add_argument("--seconds", type=int, default=60, help="how long to fuzz (per target with 'all')")
    ap.add_argument("--corpus", type=Path, default=None, help="corpus folder to read and grow (default: a fresh one)")
    ap.add_argument("--list", action="store_true", help="list the targets")
    args, rest = ap.parse_known_args()
    if args.list or not args.target:
        print("\n".join(f"{k:8s} {v.__doc__ or ''}" for k, v in TARGETS.items()))
        return 0
    if args.target == "all":
        import subprocess
        worst = 0
        for t in TARGETS:
            print(f"== {t} ({args.seconds} s)", flush=True)
            r = subprocess.run([sys.executable, __file__, t, "--seconds", str(args.seconds), *rest])
            worst = worst or r.returncode
        return worst
    if args.target not in TARGETS:
        ap.error(f"unknown target {args.target!r}; use one of {', '.join(TARGETS)} or all")
    try:
        import atheris
    except ImportError:
        print("scripts/fuzz.py needs atheris: pip install atheris (the hypothesis runs in tests/fuzz need nothing)",
              file=sys.stderr)
        return 2
    import logging
    logging.getLogger("rawlux").addHandler(logging.NullHandler())
    logging.getLogger("rawlux").propagate = False
    import warnings
    warnings.simplefilter("ignore")             # numpy/tifffile warnings are not findings; exceptions are

    with atheris.instrument_imports(include=["rawlux"]):
        import rawlux.cli  # noqa: F401
        import rawlux.io.decode  # noqa: F401
        import rawlux.io.dng  # noqa: F401
        import rawlux.io.preflight  # noqa: F401
        import rawlux.optics.opcodes  # noqa: F401
        import rawlux.looks  # noqa: F401
        import rawlux.looks.lutfiles  # noqa: F401
        import rawlux.looks.schema  # noqa: F401
        import rawlux.pipeline.recipe  # noqa: F401
        import rawlux.pipeline.stage  # noqa: F401

    corpus = args.corpus
    if corpus is None:
        corpus = Path(tempfile.mkdtemp(prefix=f"rawlux-fuzz-{args.target}-"))
    corpus.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(SEEDS.get(args.target, [])):
        (corpus / f"seed{i}").write_bytes(s)
    if not any(corpus.iterdir()):
        (corpus / "seed0").write_bytes(b"\x00" * 16)
    fn = TARGETS[args.target]
    files = [a for a in rest if os.path.isfile(a)]
    argv = [sys.argv[0], *rest]
    if not files:                 # fuzzing (not reproducing a crash file)
        argv += [f"-max_total_time={args.seconds}", "-timeout=20", "-rss_limit_mb=2048", str(corpus)]
    atheris.Setup(argv, fn)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
