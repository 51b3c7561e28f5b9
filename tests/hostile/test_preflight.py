"""The pre-flight checks (rawlux.io.preflight) in-process: exception class, one line naming the file and the tag,
truncation measured and developed on request (missing rows black), sizes refused before allocating.

The same kinds run through the CLI as subprocesses with a time limit in test_corpus.py (the hang guard); here a
SIGALRM guard turns a regression into a failure instead of a stuck test run.
"""
from __future__ import annotations

import os
import signal
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from corpus import DATA, RAW, dng_bytes
from corpus_preflight import (BAD_TAGS, _entry, _gain_map, _opcode_list, _set, fixed_tags, ifd_chain, jpeg_sof_lie,
                              png_lie, tiff_lie)

from rawlux.errors import ImageTooLarge, InputError

KDC, LIN = RAW / "kodak-dc50.kdc", RAW / "lg-g4-linear-raw.dng"


#: a whole develop may JIT-compile the demosaic kernels first (minutes on a loaded machine with a cold cache)
GUARD_S = {"test_develop_allow_truncated": 600.0}


@pytest.fixture(autouse=True)
def hang_guard(request):
    limit = GUARD_S.get(request.node.originalname, 20.0)

    def boom(*_):
        raise TimeoutError(f"still running after {limit:.0f} s: a hang")
    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, limit)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


def notes(frame) -> list[str]:
    """The user-facing notices of a frame (``meta.facts.notes``, or the older ``meta.extra['notices']``)."""
    facts = getattr(frame.meta, "facts", None)
    return [*getattr(facts, "notes", []), *frame.meta.extra.get("notices", [])]


def refused(path: Path | str, *words: str, cls: type = InputError, **kw) -> str:
    from rawlux.io.decode import open_image
    with pytest.raises(cls) as ei:
        open_image(str(path), **kw)
    msg = str(ei.value)
    assert "\n" not in msg, msg
    assert str(path) in msg or Path(path).name in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), (w, msg)
    return msg


# ----------------------------------------------------------------------------- not regular files

def test_fifo_device_directory_refused_without_opening(tmp_path):
    fifo = tmp_path / "x.dng"
    os.mkfifo(fifo)
    refused(fifo, "FIFO")                      # opening it would block: the guard would fire
    if os.path.exists("/dev/null"):
        refused("/dev/null", "device")
    d = tmp_path / "d.nef"
    d.mkdir()
    refused(d, "directory")
    refused(tmp_path / "missing.dng", "no such file")


# ----------------------------------------------------------------------------- DNG tags

@pytest.mark.parametrize("name", sorted(BAD_TAGS))
def test_impossible_dng_tags(tmp_path, name):
    tags, needs = BAD_TAGS[name]
    p = tmp_path / f"{name}.dng"
    dng_bytes(p, tags=fixed_tags(tags))
    refused(p, *needs)


def test_the_synthetic_dng_itself_passes(tmp_path):
    from rawlux.io.decode import open_image
    p = tmp_path / "good.dng"
    ops = _opcode_list((9, _gain_map()))
    dng_bytes(p, tags={51009: (7, len(ops), ops)})
    f = open_image(str(p))
    assert f.pixels.shape == (48, 64) and "truncated" not in f.meta.extra


@pytest.mark.parametrize("code,name", [(33422, "CFAPattern"), (50714, "BlackLevel"), (273, "StripOffsets")])
def test_counts_past_the_end(tmp_path, code, name):
    p = tmp_path / "c.dng"
    dng_bytes(p)
    data = bytearray(p.read_bytes())
    struct.pack_into("<HHII", data, _entry(data, code)["entry"], code, 4, 0x3FFFFFF0, 16)
    p.write_bytes(bytes(data))
    refused(p, name, "past the end")


def test_compression_and_tiles(tmp_path):
    p = tmp_path / "c7.dng"
    dng_bytes(p)
    data = bytearray(p.read_bytes())
    _set(data, _entry(data, 259), 3, 1, 7)
    p.write_bytes(bytes(data))
    refused(p, "Compression", "SOI")
    if LIN.exists():
        data = bytearray(LIN.read_bytes())
        _set(data, _entry(data, 322, lambda x: x["where"] == "sub0"), 3, 1, 0)
        q = tmp_path / "tw0.dng"
        q.write_bytes(bytes(data))
        refused(q, "TileWidth")


def test_ifd_chain_and_loop(tmp_path):
    p = tmp_path / "g.dng"
    dng_bytes(p)
    ifd_chain(p, tmp_path / "chain.dng", 100_000)
    refused(tmp_path / "chain.dng", "IFD")
    data = bytearray(p.read_bytes())
    ifd0 = struct.unpack_from("<I", data, 4)[0]
    n = struct.unpack_from("<H", data, ifd0)[0]
    struct.pack_into("<I", data, ifd0 + 2 + 12 * n, ifd0)      # IFD0 → IFD0
    (tmp_path / "loop.dng").write_bytes(bytes(data))
    refused(tmp_path / "loop.dng", "IFD", "loop")


def test_opcode_lists_bounded_by_their_bytes():
    from rawlux.optics.opcodes import parse_opcode_list
    with pytest.raises(InputError, match="OpcodeList2 claims 1000000 opcodes"):
        parse_opcode_list(_opcode_list((9, b"\0" * 4), count=1_000_000), "OpcodeList2", "x.dng")
    with pytest.raises(InputError, match="GainMap"):
        parse_opcode_list(_opcode_list((9, _gain_map(planes=0xFFFFFFFF))), "OpcodeList2", "x.dng")
    ops = parse_opcode_list(_opcode_list((9, _gain_map(planes=3))), "OpcodeList2", "x.dng")
    assert ops[0].args["planes"] == 3


# ----------------------------------------------------------------------------- truncation

@pytest.mark.skipif(not KDC.exists() or not LIN.exists(), reason="../shared/data is not beside the checkout")
@pytest.mark.parametrize("src,frac", [(KDC, 0.5), (KDC, 0.9), (KDC, 0.999), (LIN, 0.9), (LIN, 0.999)])
def test_truncated_refused_then_developed_on_request(tmp_path, src, frac):
    from rawlux.io.decode import open_image
    data = src.read_bytes()
    p = tmp_path / f"cut-{src.name}"
    p.write_bytes(data[: int(len(data) * frac)])
    msg = refused(p, "truncated", "missing", "allow-truncated")
    pct = float(msg.split("missing (")[1].split(" %")[0])
    assert 0 < pct <= 100
    full = open_image(str(src))
    f = open_image(str(p), allow_truncated=True)
    assert f.pixels.shape == full.pixels.shape
    note = f.meta.extra["truncated"]
    assert "black" in note and any("truncated" in n for n in notes(f))
    r0 = int(note.split("rows ")[1].split("..")[0])
    h = f.pixels.shape[0]
    assert 0 < r0 < h
    # rows before r0 are the full file's; from r0 on every pixel is at the black level
    np.testing.assert_array_equal(f.pixels[:r0], full.pixels[:r0])
    black = np.asarray(f.meta.black_level, dtype=np.float64)
    tail = f.pixels[r0:].astype(np.float64)
    assert tail.max() <= black.max() and tail.min() >= black.min()
    # and the kept part is most of what the file holds (within 10 % of the image of the byte fraction)
    if src == KDC:
        assert abs(r0 / h - frac) < 0.2, (r0, h, frac)


@pytest.mark.skipif(not KDC.exists(), reason="../shared/data is not beside the checkout")
def test_develop_allow_truncated(tmp_path):
    import rawlux
    data = KDC.read_bytes()
    p = tmp_path / "cut.kdc"
    p.write_bytes(data[: int(len(data) * 0.9)])
    with pytest.raises(InputError, match="truncated"):
        rawlux.develop(str(p))
    f = rawlux.develop(str(p), allow_truncated=True)
    assert f.state is rawlux.State.DISPLAY and np.isfinite(f.pixels).all()
    assert any("truncated" in n for n in notes(f))


@pytest.mark.skipif(not KDC.exists(), reason="../shared/data is not beside the checkout")
def test_kdc_size_tags_checked_against_the_file(tmp_path):
    kd = KDC.read_bytes()
    cfa = lambda x: x["where"] == "sub0"      # noqa: E731
    for code, val, word in ((256, 65535, "ImageWidth"), (273, len(kd) + 5000, "StripOffsets")):
        data = bytearray(kd)
        _set(data, _entry(data, code, cfa), 4 if code != 256 else 3, 1, val)
        p = tmp_path / f"k{code}.kdc"
        p.write_bytes(bytes(data))
        refused(p, word)


# ----------------------------------------------------------------------------- sizes beyond the data

@pytest.mark.parametrize("kind,w,h,word", [("jpeg", 65000, 1, "SOF"), ("jpeg", 12000, 12000, "SOF"),
                                           ("png", 12000, 12000, "IHDR"), ("tiff", 12000, 12000, "StripByteCounts")])
def test_declared_size_beyond_the_data_refused_before_allocating(tmp_path, kind, w, h, word):
    p = tmp_path / f"lie.{ {'jpeg': 'jpg', 'png': 'png', 'tiff': 'tif'}[kind] }"
    {"jpeg": jpeg_sof_lie, "png": png_lie, "tiff": tiff_lie}[kind](p, w, h)
    tracemalloc.start()
    try:
        refused(p, word)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2 ** 20, f"{peak / 2**20:.0f} MiB allocated before refusing"   # the image would be ≥ 190 KiB…432 MiB


def test_pixel_limit_from_the_header(tmp_path):
    p = tmp_path / "big.png"
    png_lie(p, 30000, 30000)
    refused(p, "IHDR", "limit", cls=ImageTooLarge)


# ----------------------------------------------------------------------------- real files pass

@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not beside the checkout")
def test_every_real_file_passes_preflight():
    from rawlux.io.preflight import check
    skimage = pytest.importorskip("skimage")
    files = [p for p in DATA.rglob("*") if p.is_file() and p.suffix.lower() in
             (".dng", ".kdc", ".gpr", ".png", ".tif", ".tiff", ".jpg", ".jpeg")]
    files += [p for p in (Path(skimage.__file__).parent / "data").glob("*")
              if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff")]
    assert len(files) >= 30
    for p in files:
        head = p.read_bytes()[:64]
        rep = check(str(p), head, p.stat().st_size, limit=250_000_000, allow_truncated=True)
        if p.name == "iphone12pro-proraw-stripped.dng":      # its pixel data were pruned: really truncated
            assert rep.truncated and rep.missing_bytes > 0.99 * rep.needed_bytes
        else:
            assert not rep.truncated, (p, rep.truncation_message())


def test_truncated_uncompressed_dng_keeps_every_complete_row(tmp_path):
    from rawlux.io.decode import open_image
    p = tmp_path / "s.dng"
    dng_bytes(p, w=256, h=192)
    data = p.read_bytes()
    start = struct.unpack_from("<I", data, _entry(data, 273)["entry"] + 8)[0]     # one strip: its offset inline
    cut = int(len(data) * 0.6)
    q = tmp_path / "cut.dng"
    q.write_bytes(data[:cut])
    refused(q, "truncated", "StripOffsets")
    f = open_image(str(q), allow_truncated=True)
    full = open_image(str(p))
    complete = (cut - start) // (256 * 2)           # 16-bit samples, 256 per row
    np.testing.assert_array_equal(f.pixels[:complete], full.pixels[:complete])
    assert np.all(f.pixels[complete:] == 200)       # the BlackLevel of the synthetic DNG
