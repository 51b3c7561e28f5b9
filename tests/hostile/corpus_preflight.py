"""Hostile inputs that LibRaw, libjpeg or zlib would let through (issue 20), generated at test time.

Each case names what the one-line refusal must mention (``needs``): the tag, marker or file kind at fault. Made
from the real files in ../shared/data (patched copies in ``dest``, never in the repository) and from the small
synthetic DNG of :mod:`corpus`. ``fuzzed(...)`` adds deterministic random tag/structure mutations of the same
kinds; those only have to end cleanly (an output or one clear error line) within the time limit.
"""
from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

from corpus import RAW, Case, dng_bytes

SENSOR = RAW.parent / "sensor-dumps"

_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}


# ----------------------------------------------------------------------------- a tiny TIFF walker (test side)

def tiff_entries(data: bytes) -> list[dict]:
    """Every entry of IFD0, its chain and SubIFDs of a classic TIFF: code, type, count, entry and value offsets."""
    e = "<" if data[:2] == b"II" else ">"
    out, todo, seen = [], [(struct.unpack_from(e + "I", data, 4)[0], "ifd0")], set()
    while todo:
        off, where = todo.pop(0)
        if off == 0 or off in seen or off + 2 > len(data):
            continue
        seen.add(off)
        n = struct.unpack_from(e + "H", data, off)[0]
        for i in range(min(n, (len(data) - off - 2) // 12)):
            eo = off + 2 + 12 * i
            code, typ, cnt = struct.unpack_from(e + "HHI", data, eo)
            size = _SIZES.get(typ, 1) * cnt
            vo = eo + 8 if size <= 4 else struct.unpack_from(e + "I", data, eo + 8)[0]
            out.append(dict(code=code, type=typ, count=cnt, entry=eo, value=vo, ifd=off, where=where))
            if code == 330:
                for k in range(cnt):
                    todo.append((struct.unpack_from(e + "I", data, vo + 4 * k)[0], f"sub{k}"))
        nxt = off + 2 + 12 * n
        if nxt + 4 <= len(data):
            todo.append((struct.unpack_from(e + "I", data, nxt)[0], "chain"))
    return out


def _entry(data: bytes, code: int, pick=None) -> dict:
    hits = [x for x in tiff_entries(data) if x["code"] == code]
    if pick is not None:
        hits = [x for x in hits if pick(x)]
    return hits[-1]


def _set(data: bytearray, ent: dict, typ: int, count: int, value: int) -> None:
    """Rewrite an entry in place with one inline value."""
    e = "<" if data[:2] == b"II" else ">"
    struct.pack_into(e + "HHI", data, ent["entry"], ent["code"], typ, count)
    if typ == 3 and count <= 2:
        struct.pack_into(e + "HH", data, ent["entry"] + 8, value & 0xFFFF, 0)
    else:
        struct.pack_into(e + "I", data, ent["entry"] + 8, value & 0xFFFFFFFF)


def _opcode_list(*ops: tuple[int, bytes], count: int | None = None) -> bytes:
    body = b"".join(struct.pack(">4I", oid, 0x01030000, 0, len(p)) + p for oid, p in ops)
    return struct.pack(">I", len(ops) if count is None else count) + body


def _gain_map(planes: int = 1, map_planes: int = 1, pv: int = 2, ph: int = 2, values: int = 4) -> bytes:
    area = struct.pack(">8I", 0, 0, 48, 64, 0, planes, 1, 1)
    return (area + struct.pack(">2I", pv, ph) + struct.pack(">4d", 1.0, 1.0, 0.0, 0.0) + struct.pack(">I", map_planes)
            + np.full(values, 1.0, ">f4").tobytes())


def ifd_chain(src: Path, dst: Path, n: int) -> None:
    """``src`` with ``n`` extra one-entry IFDs chained after IFD0."""
    data = bytearray(src.read_bytes())
    e = "<" if data[:2] == b"II" else ">"
    ifd0 = struct.unpack_from(e + "I", data, 4)[0]
    cnt = struct.unpack_from(e + "H", data, ifd0)[0]
    nxt_ptr = ifd0 + 2 + 12 * cnt
    base = len(data) + (len(data) & 1)
    data += b"\0" * (base - len(data))
    struct.pack_into(e + "I", data, nxt_ptr, base)
    chain = bytearray()
    for i in range(n):
        off = base + 18 * i
        nxt = off + 18 if i < n - 1 else 0
        chain += struct.pack(e + "H", 1) + struct.pack(e + "HHII", 254, 4, 1, 1) + struct.pack(e + "I", nxt)
    dst.write_bytes(bytes(data + chain))


def ifd_many_entries(src: Path, dst: Path, n: int) -> None:
    """``src`` (little-endian) with IFD0 rewritten at the end holding its own entries plus ``n`` private ones."""
    data = bytearray(src.read_bytes())
    ifd0 = struct.unpack_from("<I", data, 4)[0]
    cnt = struct.unpack_from("<H", data, ifd0)[0]
    own = [bytes(data[ifd0 + 2 + 12 * i: ifd0 + 14 + 12 * i]) for i in range(cnt)]
    extra = [struct.pack("<HHII", 0xC000 + (i % 0x3000), 3, 1, i & 0xFFFF) for i in range(n)]
    entries = sorted(own + extra, key=lambda b: struct.unpack_from("<H", b)[0])
    base = len(data) + (len(data) & 1)
    data += b"\0" * (base - len(data))
    struct.pack_into("<I", data, 4, base)
    dst.write_bytes(bytes(data) + struct.pack("<H", len(entries) & 0xFFFF) + b"".join(entries) + b"\0\0\0\0")


def jpeg_sof_lie(dst: Path, w: int, h: int, size: int = 96) -> None:
    """A real JPEG of ``size``² noise (a few KB of scan data) whose SOF claims ``w``×``h``."""
    import io

    from PIL import Image
    b = io.BytesIO()
    Image.fromarray((np.random.default_rng(5).random((size, size, 3)) * 255).astype(np.uint8)).save(b, "JPEG", quality=90)
    data = bytearray(b.getvalue())
    i = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, h, w)
    dst.write_bytes(bytes(data))


def png_lie(dst: Path, w: int, h: int) -> None:
    """A PNG whose IHDR claims w×h RGB but whose IDAT holds the deflate of a few KB."""
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(np.random.default_rng(3).integers(0, 255, 4000, dtype=np.uint8).tobytes())
    dst.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def tiff_lie(dst: Path, w: int, h: int) -> None:
    """An uncompressed RGB TIFF whose ImageWidth/ImageLength claim w×h over 8×8 pixels of data."""
    import tifffile
    tifffile.imwrite(dst, np.full((8, 8, 3), 128, np.uint8), photometric="rgb")
    data = bytearray(dst.read_bytes())
    for code, v in ((256, w), (257, h)):
        _set(data, _entry(data, code), 4, 1, v)
    _set(data, _entry(data, 278), 4, 1, h)   # one strip
    dst.write_bytes(bytes(data))


#: impossible DNG tags on the synthetic DNG: name → (tags, words the refusal must contain)
BAD_TAGS: dict[str, tuple[dict, list[str]]] = {
    "white-zero": ({50717: (3, 1, 0)}, ["WhiteLevel"]),
    "black-max": ({50714: (4, 1, 2 ** 32 - 1)}, ["BlackLevel"]),
    "white-below-black": ({50714: (3, 1, 3000), 50717: (3, 1, 1000)}, ["WhiteLevel"]),
    "white-above-range": ({50717: (4, 1, 70000)}, ["WhiteLevel"]),
    "black-repeat-1000": ({50713: (3, 2, (1000, 1000))}, ["BlackLevelRepeatDim"]),
    "black-count-short": ({50713: (3, 2, (2, 2)), 50714: (3, 2, (200, 200))}, ["BlackLevel"]),
    "cfa-dim-1x1": ({33421: (3, 2, (1, 1))}, ["CFARepeatPatternDim"]),
    "cfa-dim-100x100": ({33421: (3, 2, (100, 100))}, ["CFARepeatPatternDim"]),
    "cfa-dim-65535": ({33421: (3, 2, (65535, 65535))}, ["CFARepeatPatternDim"]),
    "cfa-colour-9": ({33422: (1, 4, b"\x00\x01\x09\x02")}, ["CFAPattern"]),
    "cfa-one-entry": ({33422: (1, 1, b"\x00")}, ["CFAPattern"]),
    "cfa-one-colour": ({33421: (3, 2, (1, 1)), 33422: (1, 1, b"\x01")}, ["CFARepeatPatternDim"]),
    "linearization-huge": ({50712: (3, 70000, tuple(i & 0xFFFF for i in range(70000)))}, ["LinearizationTable"]),
    "opcodes2-count-huge": ({51009: (7, 8, struct.pack(">2I", 0x7FFFFFFF, 0))}, ["OpcodeList2"]),
    "opcodes2-count-1e6": ({51009: (7, 20, _opcode_list((9, b"\0" * 4), count=1_000_000))}, ["OpcodeList2"]),
    "gainmap-planes-huge": ({51009: (7, 0, _opcode_list((9, _gain_map(planes=0xFFFFFFFF))))}, ["GainMap"]),
    "gainmap-mapplanes-huge": ({51009: (7, 0, _opcode_list((9, _gain_map(map_planes=0x7FFFFFFF))))}, ["GainMap"]),
    "gainmap-points-huge": ({51008: (7, 0, _opcode_list((9, _gain_map(pv=0xFFFFFF, ph=0xFFFFFF))))}, ["GainMap"]),
    "active-area-outside": ({50829: (4, 4, (0, 0, 4800, 6400))}, ["ActiveArea"]),
}


def fixed_tags(tags: dict) -> dict:
    """Counts of 0 in BAD_TAGS mean "the length of the value"."""
    return {k: (t, len(v) if c == 0 else c, v) for k, (t, c, v) in tags.items()}


# ----------------------------------------------------------------------------- the cases

def cli_has(command: str, option: str) -> bool:
    """Whether ``rawlux COMMAND --help`` lists ``option``."""
    import subprocess
    import sys
    try:
        r = subprocess.run([sys.executable, "-c", "import sys; from rawlux.cli import main; sys.exit(main())",
                            command, "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return option in r.stdout


def build_preflight(dest: Path) -> list[Case]:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "out").mkdir(exist_ok=True)
    cases: list[Case] = []

    def dev(name: str, path: Path | str, needs: list[str], *extra: str, expect: str = "error",
            code: int | None = 3) -> None:
        o = str(dest / "out" / (name + ".jpg"))
        cases.append(Case(name, "preflight", ["develop", str(path), "-o", o, *extra], expect, o,
                          code if expect == "error" else None, needs=needs))

    # 1. not regular files
    fifo = dest / "x.dng"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
        dev("fifo-x.dng", fifo, ["FIFO"])
    if os.path.exists("/dev/zero"):
        dev("device-zero", "/dev/zero", ["device"])
    d = dest / "folder.kdc"
    d.mkdir(exist_ok=True)
    dev("directory-kdc", d, ["directory"])

    # 2. DNG tags that cannot be right (the synthetic 64×48 RGGB DNG, 12-bit)
    for name, (tags, needs) in BAD_TAGS.items():
        p = dest / f"tag-{name}.dng"
        dng_bytes(p, tags=fixed_tags(tags))
        dev(p.stem, p, needs)
    # tags whose count runs past the end of the file (patched after writing)
    good = dest / "pf-good.dng"
    dng_bytes(good)
    dev("pf-good", good, [], expect="ok")
    size = good.stat().st_size
    for code, name in ((33422, "CFAPattern"), (50712, "LinearizationTable"), (50714, "BlackLevel"),
                       (273, "StripOffsets")):
        data = bytearray(good.read_bytes())
        if code == 50712:
            dng_bytes(good.with_name("pf-lin.dng"), tags={50712: (3, 8, tuple(range(0, 4096, 512)))})
            data = bytearray(good.with_name("pf-lin.dng").read_bytes())
        ent = _entry(data, code)
        e = "<"
        struct.pack_into(e + "HHII", data, ent["entry"], code, 4, 0x3FFFFFF0, 16)
        p = dest / f"count-huge-{name}.dng"
        p.write_bytes(bytes(data))
        dev(p.stem, p, [name])
    # compression and tiles
    data = bytearray(good.read_bytes())
    _set(data, _entry(data, 259), 3, 1, 7)
    (dest / "compression7-raw-bytes.dng").write_bytes(bytes(data))
    dev("compression7-raw-bytes", dest / "compression7-raw-bytes.dng", ["Compression"])
    data = bytearray(good.read_bytes())
    _set(data, _entry(data, 259), 3, 1, 12345)
    (dest / "compression-unknown.dng").write_bytes(bytes(data))
    dev("compression-unknown", dest / "compression-unknown.dng", ["Compression"])
    # 3. structure: IFD chains
    ifd_chain(good, dest / "ifd-chain-100000.dng", 100_000)
    dev("ifd-chain-100000", dest / "ifd-chain-100000.dng", ["IFD"])
    ifd_many_entries(good, dest / "ifd-60000-entries.dng", 60_000)
    dev("ifd-60000-entries", dest / "ifd-60000-entries.dng", ["IFD0", "entries"])
    tif = dest / "plain.tif"
    import tifffile
    tifffile.imwrite(tif, np.full((16, 16, 3), 90, np.uint8), photometric="rgb")
    ifd_chain(tif, dest / "ifd-chain-100000.tif", 100_000)
    dev("ifd-chain-100000-tif", dest / "ifd-chain-100000.tif", ["IFD"])

    # 4. the real files: truncations, patched tags
    kdc, lin, hero = RAW / "kodak-dc50.kdc", RAW / "lg-g4-linear-raw.dng", RAW / "gopro-hero6-12mp.dng"
    if kdc.exists():
        kd = kdc.read_bytes()
        for f in (0.5, 0.9, 0.999):
            p = dest / f"cut-{f}-{kdc.name}"
            p.write_bytes(kd[: int(len(kd) * f)])
            dev(p.stem, p, ["missing", "StripOffsets"])
        cfa = lambda x: x["where"] == "sub0"      # noqa: E731 - the CFA IFD of the KDC
        for code, val, name, needs in ((256, 65535, "width-65535", ["ImageWidth"]),
                                       (273, len(kd) + 5000, "strip-past-eof", ["StripOffsets"]),
                                       (279, 0x7FFFFFF, "strip-bytes-huge", ["StripByteCounts"])):
            data = bytearray(kd)
            ent = _entry(data, code, cfa)
            _set(data, ent, 4 if code != 256 else 3, 1, val)
            p = dest / f"kdc-{name}.kdc"
            p.write_bytes(bytes(data))
            dev(p.stem, p, needs)
        if cli_has("develop", "--allow-truncated"):   # the library keyword is tested in test_preflight.py
            p = dest / "kdc-allow-truncated.kdc"
            p.write_bytes(kd[: int(len(kd) * 0.9)])
            dev("kdc-allow-truncated", p, [], "--allow-truncated", expect="ok")
    if lin.exists():
        ld = lin.read_bytes()
        for f in (0.9, 0.999):
            p = dest / f"cut-{f}-{lin.name}"
            p.write_bytes(ld[: int(len(ld) * f)])
            dev(p.stem, p, ["missing"])
        data = bytearray(ld)
        _set(data, _entry(data, 322, lambda x: x["where"] == "sub0"), 3, 1, 0)
        p = dest / "linear-tilewidth-0.dng"
        p.write_bytes(bytes(data))
        dev(p.stem, p, ["TileWidth"])
        data = bytearray(ld)
        _set(data, _entry(data, 50717, lambda x: x["where"] == "sub0"), 3, 1, 0)
        p = dest / "linear-white-0.dng"
        p.write_bytes(bytes(data))
        dev(p.stem, p, ["WhiteLevel"])
    if hero.exists():
        hd = bytearray(hero.read_bytes())
        ent = _entry(hd, 51009)
        struct.pack_into(">I", hd, ent["value"], 0xFFFFFFF0)
        p = dest / "hero6-opcodes2-count.dng"
        p.write_bytes(bytes(hd))
        dev(p.stem, p, ["OpcodeList2"])
    # 5. display-referred files whose declared size is far beyond their data
    for w, h in ((65000, 1), (12000, 12000)):
        p = dest / f"jpeg-sof-{w}x{h}.jpg"
        jpeg_sof_lie(p, w, h)
        dev(p.stem, p, ["SOF"])
    for w, h in ((12000, 12000),):
        p = dest / f"png-ihdr-{w}x{h}.png"
        png_lie(p, w, h)
        dev(p.stem, p, ["IHDR"])
        p = dest / f"tiff-dims-{w}x{h}.tif"
        tiff_lie(p, w, h)
        dev(p.stem, p, ["StripByteCounts"])
    return cases


# ----------------------------------------------------------------------------- fuzzed variants

_FUZZ_TAGS = (256, 257, 258, 259, 273, 277, 278, 279, 33421, 33422, 50713, 50714, 50717, 50712, 50829, 51009)


def fuzzed(dest: Path, n: int = 16, seed: int = 2026_12_04) -> list[Case]:
    """``n`` deterministic mutations of the synthetic DNG: one structural or tag field set to an edge value."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "out").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    base = dest / "fz-base.dng"
    ops = _opcode_list((9, _gain_map()))
    dng_bytes(base, tags={51009: (7, len(ops), ops)})
    src = base.read_bytes()
    ents = [x for x in tiff_entries(src) if x["code"] in _FUZZ_TAGS]
    edge = [0, 1, 2, 3, 7, 255, 4096, 65535, 65536, 0x7FFFFFFF, 0xFFFFFFFF]
    cases = []
    for k in range(n):
        data = bytearray(src)
        for _ in range(int(rng.integers(1, 3))):
            ent = ents[int(rng.integers(0, len(ents)))]
            what = int(rng.integers(0, 3))
            v = edge[int(rng.integers(0, len(edge)))]
            if what == 0:      # the count
                struct.pack_into("<I", data, ent["entry"] + 4, v)
            elif what == 1:    # the inline value / offset
                struct.pack_into("<I", data, ent["entry"] + 8, v)
            else:              # a byte of the value data
                if ent["value"] < len(data):
                    data[ent["value"] + int(rng.integers(0, max(1, min(ent["count"], 64))))
                         if ent["value"] + min(ent["count"], 64) < len(data) else ent["value"]] = int(rng.integers(0, 256))
        p = dest / f"fuzz{k:02d}.dng"
        p.write_bytes(bytes(data))
        o = str(dest / "out" / f"fuzz{k:02d}.jpg")
        cases.append(Case(f"fuzz{k:02d}", "preflight fuzz", ["develop", str(p), "-o", o], "either", o))
    return cases
