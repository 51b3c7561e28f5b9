"""A deterministic corpus of hostile inputs, generated at test time from the real files in ../shared/data.

``build(dest)`` writes every case under ``dest`` and returns a list of :class:`Case`. Nothing large is committed:
the cases are made from the real raws (truncations, bit flips), from a small synthetic DNG written here with
arbitrary (also invalid) tags, and from hand-made headers (decompression bombs).
"""
from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RAW = DATA / "raw"


@dataclass
class Case:
    name: str
    category: str
    args: list[str]                 # arguments after `rawlux`
    expect: str = "error"           # "error" (clean non-zero exit), "ok" (valid output), "either"
    output: str | None = None       # the output path the case writes, when it may succeed
    code: int | None = None         # the exact exit code expected on error, when it is known
    files: list[str] = field(default_factory=list)
    progress: str | None = None     # a regex of progress lines the command may print on stderr before an error
    needs: list[str] = field(default_factory=list)  # words the error line must contain (the tag or value at fault)


# ----------------------------------------------------------------------------- synthetic DNG

def _rat(vals, signed=True, den=10000):
    out = []
    for v in np.ravel(vals):
        if not np.isfinite(v):
            out += [0, 0]           # 0/0: a NaN rational, on purpose
        else:
            out += [int(round(float(v) * den)), den]
    return tuple(out)


def dng_bytes(path: Path, *, w: int = 64, h: int = 48, bits: int = 12, tags: dict | None = None,
              drop: tuple[int, ...] = (), seed: int = 0) -> None:
    """A small CFA DNG (RGGB) with a smooth scene; ``tags`` replace/add (code → (dtype, count, value))."""
    import tifffile

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = (200 + 3000 * (xx / w) + 500 * np.sin(yy / 5) + rng.normal(0, 20, (h, w))).clip(0, 2 ** bits - 1).astype(np.uint16)
    base = {
        33421: (3, 2, (2, 2)),                          # CFARepeatPatternDim
        33422: (1, 4, b"\x00\x01\x01\x02"),             # CFAPattern RGGB
        50706: (1, 4, b"\x01\x04\x00\x00"),             # DNGVersion
        50708: (2, 0, "Synthetic test camera"),          # UniqueCameraModel
        50714: (3, 1, 200),                              # BlackLevel
        50717: (3, 1, 2 ** bits - 1),                    # WhiteLevel
        50721: (10, 9, _rat([1.2, -0.3, -0.1, -0.4, 1.3, 0.1, -0.05, 0.2, 0.8])),  # ColorMatrix1
        50778: (3, 1, 21),                               # CalibrationIlluminant1 = D65
        50728: (5, 3, _rat([0.5, 1.0, 0.6], signed=False)),  # AsShotNeutral
        271: (2, 0, "Test"), 272: (2, 0, "Synthetic"),
    }
    if tags:
        base.update(tags)
    for k in drop:
        base.pop(k, None)
    extratags = [(code, dt, cnt, val, True) for code, (dt, cnt, val) in base.items()]
    tifffile.imwrite(path, img, photometric=32803, extratags=extratags, metadata=None, software=False)


def _patch(src: Path, dst: Path, edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(src.read_bytes())
    for off, b in edits:
        if off < len(data):
            data[off:off + len(b)] = b[: max(0, len(data) - off)]
    dst.write_bytes(bytes(data))


def _ifd_entries(path: Path) -> dict[int, tuple[int, int, int, int]]:
    """code → (entry offset, type, count, value/offset) of IFD0 in a little-endian classic TIFF."""
    data = path.read_bytes()
    assert data[:4] == b"II*\x00"
    off = struct.unpack_from("<I", data, 4)[0]
    n = struct.unpack_from("<H", data, off)[0]
    out = {}
    for i in range(n):
        e = off + 2 + 12 * i
        code, typ, cnt, val = struct.unpack_from("<HHII", data, e)
        out[code] = (e, typ, cnt, val)
    out[-1] = (off, n, 0, off + 2 + 12 * n)  # the IFD itself and where its next-IFD pointer sits
    return out


# ----------------------------------------------------------------------------- bombs

def png_bomb(path: Path, w: int, h: int, depth: int = 8, color: int = 2) -> None:
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def jpeg_bomb(path: Path, w: int, h: int) -> None:
    from PIL import Image
    import io
    b = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 200)).save(b, "JPEG")
    data = bytearray(b.getvalue())
    i = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, h, w)
    path.write_bytes(bytes(data))


def tiff_bomb(path: Path, w: int, h: int) -> None:
    import tifffile
    tifffile.imwrite(path, np.zeros((8, 8, 3), np.uint8), photometric="rgb")
    ent = _ifd_entries(path)
    data = bytearray(path.read_bytes())
    for code, v in ((256, w), (257, h)):
        e, typ, cnt, _ = ent[code]
        struct.pack_into("<HHII", data, e, code, 4, 1, v)
    path.write_bytes(bytes(data))


# ----------------------------------------------------------------------------- the corpus

def build(dest: Path) -> list[Case]:
    dest.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    rng = np.random.default_rng(20261129)

    def out(name: str, ext: str = ".jpg") -> str:
        return str(dest / "out" / (name + ext))

    (dest / "out").mkdir(exist_ok=True)

    def dev(name: str, cat: str, path: Path | str, *extra: str, expect: str = "error", code: int | None = None) -> None:
        o = out(name)
        cases.append(Case(name, cat, ["develop", str(path), "-o", o, *extra], expect, o, code))

    exts = [".dng", ".jpg", ".png", ".tif", ".heic", ".cr2", ".nef", ".raw"]
    # 1. empty and 1-byte files
    for ext in exts:
        for n, content in (("empty", b""), ("onebyte", b"\x00")):
            p = dest / f"{n}{ext}"
            p.write_bytes(content)
            dev(f"{n}{ext}", "empty/tiny", p, code=3)
    # 2. random bytes with image extensions
    for ext in exts:
        for k in range(3):
            p = dest / f"random{k}{ext}"
            p.write_bytes(rng.integers(0, 256, int(rng.integers(100, 200_000)), dtype=np.uint8).tobytes())
            dev(p.name, "random bytes", p, code=3)
    # random bytes behind a valid magic number
    for magic, ext in ((b"II*\x00", ".dng"), (b"MM\x00*", ".tif"), (b"\xff\xd8\xff\xe0", ".jpg"),
                       (b"\x89PNG\r\n\x1a\n", ".png"), (b"\x00\x00\x00\x18ftypheic", ".heic")):
        for k in range(2):
            p = dest / f"magic{k}{ext}"
            p.write_bytes(magic + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
            dev(p.name, "random bytes", p, code=3)
    # 3. text named as images
    for ext in (".dng", ".jpg", ".png", ".tif", ".heic"):
        p = dest / f"text{ext}"
        p.write_text("this is not an image, just some text\n" * 20)
        dev(p.name, "text as image", p, code=3)
    # 4. truncations of every real raw (and of a JPEG/PNG made from one)
    originals = [RAW / n for n in ("lg-g4-linear-raw.dng", "kodak-dc50.kdc", "iphone12pro-proraw-stripped.dng",
                                   "nokia-n900-bayer-grbg-10bit.png", "gopro-hero6-12mp.dng",
                                   "gopro-fusion-front-fisheye.dng")]
    for src in originals:
        data = src.read_bytes()
        fracs = (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.999) if len(data) < 1_000_000 else (0.0005, 0.3, 0.9)
        for f in fracs:
            p = dest / f"trunc-{f}-{src.name}"
            p.write_bytes(data[: max(1, int(len(data) * f))])
            dev(p.name, "truncated", p, *(["--cfa", "GRBG,50,1023"] if src.suffix == ".png" else []), expect="either")
    # truncations of display-referred files (JPEG, PNG, TIFF, HEIF) made here
    from PIL import Image
    import pillow_heif
    pillow_heif.register_heif_opener()
    pic = Image.fromarray((np.random.default_rng(2).random((96, 128, 3)) * 255).astype(np.uint8))
    for ext, fmt in ((".jpg", "JPEG"), (".png", "PNG"), (".tif", "TIFF"), (".heic", "HEIF")):
        full = dest / f"whole{ext}"
        pic.save(full, fmt)
        data = full.read_bytes()
        for f in (0.05, 0.5, 0.9):
            p = dest / f"trunc-{f}-whole{ext}"
            p.write_bytes(data[: max(1, int(len(data) * f))])
            dev(p.name, "truncated", p, expect="either")
    # 5. bit flips in headers and pixel data (small files fully; the big DNG in its header)
    for src in originals[:4]:
        data = bytearray(src.read_bytes())
        for k in range(6):
            d = bytearray(data)
            region = 512 if k < 3 else len(d)
            for _ in range(8 if k % 2 else 64):
                i = int(rng.integers(0, min(region, len(d))))
                d[i] ^= 1 << int(rng.integers(0, 8))
            p = dest / f"flip{k}-{src.name}"
            p.write_bytes(bytes(d))
            dev(p.name, "bit flips", p, *(["--cfa", "GRBG,50,1023"] if src.suffix == ".png" else []), expect="either")
    # 6. TIFF/DNG structure attacks on a small synthetic DNG
    good = dest / "synthetic-good.dng"
    dng_bytes(good)
    dev("synthetic-good", "dng structure", good, expect="ok")
    ent = _ifd_entries(good)
    ifd_off, n_ent, _, next_ptr = ent[-1]
    size = good.stat().st_size
    attacks: list[tuple[str, list[tuple[int, bytes]]]] = [
        ("ifd-offset-past-end", [(4, struct.pack("<I", size + 10_000))]),
        ("ifd-offset-huge", [(4, struct.pack("<I", 0xFFFFFFF0))]),
        ("ifd-loop", [(next_ptr, struct.pack("<I", ifd_off))]),
        ("ifd-count-huge", [(ifd_off, struct.pack("<H", 0xFFFF))]),
        ("strip-offset-past-end", [(ent[273][0] + 8, struct.pack("<I", size + 99_999))]),
        ("strip-bytes-huge", [(ent[279][0] + 8, struct.pack("<I", 0x7FFFFFFF))]),
        ("width-huge", [(ent[256][0], struct.pack("<HHII", 256, 4, 1, 4_000_000))]),
        ("height-huge", [(ent[257][0], struct.pack("<HHII", 257, 4, 1, 4_000_000))]),
        ("width-zero", [(ent[256][0], struct.pack("<HHII", 256, 4, 1, 0))]),
        ("bps-zero", [(ent[258][0], struct.pack("<HHII", 258, 3, 1, 0))]),
        ("bps-64", [(ent[258][0], struct.pack("<HHII", 258, 3, 1, 64))]),
        ("bps-7", [(ent[258][0], struct.pack("<HHII", 258, 3, 1, 7))]),
        ("tag-type-bogus", [(ent[50717][0], struct.pack("<HHII", 50717, 99, 1, 4095))]),
        ("tag-count-huge", [(ent[50714][0], struct.pack("<HHII", 50714, 3, 0x3FFFFFFF, 200))]),
    ]
    for name, edits in attacks:
        p = dest / f"attack-{name}.dng"
        _patch(good, p, edits)
        dev(p.stem, "dng structure", p, expect="either")
    tag_attacks = {
        "cfa-dim-zero": {33421: (3, 2, (0, 0))},
        "cfa-dim-huge": {33421: (3, 2, (60000, 60000))},
        "cfa-pattern-bogus": {33422: (1, 4, b"\x07\x07\x09\x09")},
        "white-below-black": {50714: (3, 1, 3000), 50717: (3, 1, 1000)},
        "white-equals-black": {50714: (3, 1, 500), 50717: (3, 1, 500)},
        "white-zero": {50717: (3, 1, 0)},
        "black-huge": {50714: (4, 1, 4_000_000_000)},
        "nan-matrix": {50721: (10, 9, _rat([np.nan] * 9))},
        "zero-matrix": {50721: (10, 9, _rat([0] * 9))},
        "singular-matrix": {50721: (10, 9, _rat([1, 2, 3, 2, 4, 6, 1, 1, 1]))},
        "matrix-short": {50721: (10, 4, _rat([1, 0, 0, 1]))},
        "zero-neutral": {50728: (5, 3, _rat([0, 0, 0], signed=False))},
        "nan-neutral": {50728: (5, 3, _rat([np.nan, 1, np.nan], signed=False))},
        "negative-neutral": {50728: (10, 3, _rat([-1, 1, -1]))},
        "neutral-short": {50728: (5, 1, _rat([1], signed=False))},
        "illuminant-bogus": {50778: (3, 1, 999)},
        "baseline-exposure-huge": {50730: (10, 1, _rat([1e6], den=1))},
        "linearization-empty": {50712: (3, 1, (0,))},
        "linearization-bogus": {50712: (3, 4, (65535, 0, 65535, 0))},
        "default-crop-outside": {50719: (5, 2, _rat([1e6, 1e6], signed=False, den=1)), 50720: (5, 2, _rat([1e6, 1e6], signed=False, den=1))},
        "active-area-bogus": {50829: (4, 4, (40, 60, 10, 5))},
        "orientation-bogus": {274: (3, 1, 77)},
        "opcodes-garbage": {51009: (7, 40, bytes(range(40)))},
        "opcodes-count-huge": {51009: (7, 8, b"\xff\xff\xff\xff\x00\x00\x00\x01")},
        "blacklevel-repeat-huge": {50713: (3, 2, (1000, 1000))},
        "no-dngversion-but-cfa": {},
    }
    for name, tags in tag_attacks.items():
        p = dest / f"tags-{name}.dng"
        dng_bytes(p, tags=tags, drop=(50706,) if name == "no-dngversion-but-cfa" else ())
        dev(p.stem, "dng values", p, expect="either")
    for name, drop in (("no-colormatrix", (50721, 50778)), ("no-neutral", (50728,)), ("no-cfa-pattern", (33422,)),
                       ("no-whitelevel", (50717,)), ("no-blacklevel", (50714,))):
        p = dest / f"missing-{name}.dng"
        dng_bytes(p, drop=drop)
        dev(p.stem, "dng values", p, expect="either")
    # 7. decompression bombs (refused before allocating)
    for w, h in ((100_000, 100_000), (65_000, 65_000), (30_000, 30_000), (1, 2_000_000_000)):
        for kind, fn, ext in (("png", png_bomb, ".png"), ("tiff", tiff_bomb, ".tif")):
            p = dest / f"bomb-{kind}-{w}x{h}{ext}"
            fn(p, w, h)
            dev(p.stem, "decompression bomb", p, code=3)
    for w, h in ((65_000, 65_000), (60_000, 20_000), (30_000, 30_000)):
        p = dest / f"bomb-jpeg-{w}x{h}.jpg"
        jpeg_bomb(p, w, h)
        dev(p.stem, "decompression bomb", p, code=3)
    p = dest / "bomb-png-16bit-grey.png"
    png_bomb(p, 80_000, 80_000, depth=16, color=0)
    dev(p.stem, "decompression bomb", p, "--cfa", "RGGB", code=3)
    # sensor dumps: sizes that do not match, absurd dimensions
    dump = dest / "dump.raw"
    dump.write_bytes(rng.integers(0, 1024, 64 * 48, dtype=np.uint16).astype("<u2").tobytes())
    for spec, exp, code in (("64x48,10,RGGB", "ok", None), ("64x47,10,RGGB", "error", 3), ("100000x100000,16,RGGB", "error", 3),
                            ("64x48,8,RGGB", "error", 3), ("64x48,10,XYZW", "error", 2), ("0x48,10,RGGB", "error", 2),
                            ("64x48,0,RGGB", "error", 2), ("64x48,17,RGGB", "error", 2), ("64x48,10,RGGB,5000", "error", 2),
                            ("64x48,10,RGGB,64,middle", "error", 2), ("garbage", "error", 2), ("64x48,9,RGGB", "error", 3)):
        dev(f"dump-{spec}", "sensor dump", dump, "--raw", spec, expect=exp, code=code)
    # 8. bad looks and recipes (LookError/ParameterError = exit 2)
    tiny = dest / "tiny-good.png"
    from PIL import Image
    Image.fromarray((np.random.default_rng(1).random((32, 48, 3)) * 255).astype(np.uint8)).save(tiny)
    looks = {
        "invalid-toml": "schema_version = 1\n[tone\ncontrast = 1",
        "wrong-type": "schema_version = 1\n[tone]\ncontrast = \"high\"",
        "nan": "schema_version = 1\n[tone]\ncontrast = nan",
        "inf": "schema_version = 1\n[tone]\ncontrast = inf",
        "out-of-range": "schema_version = 1\n[tone]\ncontrast = 99",
        "unknown-stage": "schema_version = 1\n[warp_drive]\nspeed = 9",
        "unknown-key": "schema_version = 1\n[tone]\nwobble = 1",
        "bad-schema": "schema_version = 99",
        "schema-string": "schema_version = \"one\"",
        "not-a-table": "schema_version = 1\ntone = 3",
        "self-inherit": "schema_version = 1\ninherits = \"self-inherit.toml\"",
        "inherit-missing": "schema_version = 1\ninherits = \"no-such-look\"",
        "binary": "\x00\x01\x02\xff",
        "huge-number": "schema_version = 1\n[exposure]\nev = 1e308",
        "bool-for-number": "schema_version = 1\n[exposure]\nev = true",
        "method-unknown": "schema_version = 1\n[tone]\nmethod = \"magic\"",
        "empty": "",
    }
    for name, text in looks.items():
        p = dest / f"{name}.toml"
        if name == "binary":
            p.write_bytes(text.encode("latin-1"))
        else:
            p.write_text(text)
        dev(f"look-{name}", "bad look", tiny, "--look", str(p), expect="ok" if name == "empty" else "error",
            code=None if name == "empty" else 2)
    for name in ("nope", "../../etc/passwd", "natural.toml.missing", ""):
        dev(f"lookname-{name or 'blank'}", "bad look", tiny, "--look", name, code=2)
    for expr in ("tone.contrast=abc", "tone.contrast", "tone=1", "a.b.c=1", "tone.contrast=1e999", "exposure.ev=nan",
                 "whitebalance.mode=sunset", "output.space=cmyk", "demosaic.method=guess", "tone.contrast=[1,2]",
                 ".=1", "tone.=1", "exposure.ev=-11", "highlights.threshold=2"):
        dev(f"set-{expr}", "bad --set", tiny, "--set", expr, code=2)
    for opt, val in (("--wb", "sunset"), ("--wb", "99999999K"), ("--wb", "5000K,999"), ("--cfa", "XXXX"),
                     ("--cfa", "RGGB,100,50"), ("--quality", "0"), ("--quality", "101"), ("--bits", "12"),
                     ("--format", "bmp"), ("--space", "cmyk"), ("--max-pixels", "-5")):
        dev(f"opt{opt}={val}", "bad option", tiny, opt, val, code=2)
    # 9. paths with spaces and unicode (must succeed)
    for name in ("with space.png", "ünïcödé.png", "日本語の写真.png", "emoji 📷.png", "-dash-first.png"):
        p = dest / name
        p.write_bytes(tiny.read_bytes())
        o = str(dest / "out" / (Path(name).stem + " out.jpg"))
        cases.append(Case(f"path-{name}", "paths", ["develop", "--", str(p)] if name.startswith("-") else ["develop", str(p), "-o", o],
                          "ok", None if name.startswith("-") else o))
    # 10. a directory where a file is expected, missing files, outputs that cannot be written
    d = dest / "a-folder.dng"
    d.mkdir(exist_ok=True)
    dev("directory", "not a file", d, code=3)
    dev("missing", "not a file", dest / "does-not-exist.dng", code=3)
    cases.append(Case("out-into-missing-folder", "output", ["develop", str(tiny), "-o", str(dest / "nope" / "x.jpg")], "error", None, 4))
    cases.append(Case("out-is-a-folder", "output", ["develop", str(tiny), "-o", str(dest / "out")], "error", None, None))
    cases.append(Case("out-equals-input", "output", ["develop", str(tiny), "-o", str(tiny), "--overwrite"], "error", None, 4))
    exists = dest / "out" / "exists.jpg"
    exists.write_bytes(b"keep me")
    cases.append(Case("out-exists", "output", ["develop", str(tiny), "-o", str(exists)], "error", None, 4))
    cases.append(Case("out-bad-extension", "output", ["develop", str(tiny), "-o", str(dest / "out" / "x.bmp")], "error", None, 2))
    cases.append(Case("bits16-jpeg", "output", ["develop", str(tiny), "-o", out("b16"), "--bits", "16"], "error", None, 2))
    return cases
