"""Pre-flight checks of an input file, before any decoder (LibRaw, libjpeg, zlib, libtiff) sees it.

Decoders trust what a file says about itself: an IFD chain of 100 000 entries, a CFAPattern that does not fit
its CFARepeatPatternDim, a WhiteLevel of 0, a strip that ends past the end of the file, a JPEG whose SOF claims
a size its scan data cannot hold. LibRaw develops most of these silently into a wrong picture, and some hang.
Here the structure and the tags that decide how pixels are read are checked against the file itself, in a few
milliseconds, reading only the headers (the file is memory-mapped, never read whole):

- the file is a regular file (a FIFO or a device is refused from ``stat``, before it is opened);
- TIFF/DNG: IFD offsets inside the file, the chain bounded (``MAX_IFDS``) and loop-free, tag values inside the
  file, image sizes, sample sizes, tiles and strips consistent, strip/tile data inside the file (else the file
  is truncated: how much is missing is reported) and large enough for the pixels they claim;
- DNG raw IFDs: compression codes a DNG may use (and JPEG data where Compression says JPEG), CFA repeat
  dimensions and pattern consistent, colour indices in range, black/white levels inside the sample range with
  white above black, BlackLevel counts matching BlackLevelRepeatDim, LinearizationTable bounded, ActiveArea
  inside the image, opcode lists parsed with their counts and sizes bounded by their bytes;
- JPEG: the SOF size against the scan data (the fewest bits any Huffman encoding needs), then the scan is
  entropy-decoded at 1/8 scale to see whether it ends before the image does;
- PNG: the IHDR size against the IDAT bytes (deflate cannot compress beyond 1032:1).

Every refusal is an :class:`~rawlux.errors.InputError` (CLI exit 3) with one line naming the file and the tag.
Truncation is reported in :class:`Report` (``missing_bytes``); :func:`check` refuses it unless
``allow_truncated`` is given, then the caller develops what is there and blanks what is missing.
"""
from __future__ import annotations

import contextlib
import math
import mmap
import os
import stat
import struct
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..errors import ImageTooLarge, InputError

#: most IFDs (chain + SubIFDs) a file may hold; camera files have fewer than 10
MAX_IFDS = 1024
#: most tag entries in one IFD (the TIFF/DNG tags defined number a few hundred) and over all IFDs read
MAX_IFD_ENTRIES = 10_000
MAX_ENTRIES = 200_000
#: DNG: the compressions a raw IFD may use (1 none, 7 JPEG/lossless JPEG, 8 deflate, 9 VC-5, 34892 lossy JPEG,
#: 52546 JPEG XL)
DNG_COMPRESSIONS = {1: "uncompressed", 7: "JPEG", 8: "deflate", 9: "VC-5", 34892: "lossy JPEG", 52546: "JPEG XL"}
#: held while fd 2 is pointed elsewhere to read what a C library prints (fd 2 is shared by all threads)
NATIVE_STDERR_LOCK = threading.RLock()


@contextlib.contextmanager
def native_messages(out: list[str]) -> Iterator[bool]:
    """Collect what C libraries print on stderr (fd 2) meanwhile into ``out`` (non-blank lines, at most
    64 KiB), holding :data:`NATIVE_STDERR_LOCK`; yields False (and collects nothing) when there is no fd 2
    to redirect (a detached process). With RAWLUX_DEBUG set the text is echoed to stderr afterwards."""
    import sys
    import tempfile

    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    with tempfile.TemporaryFile() as tmp, NATIVE_STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:
            yield False
            return
        try:
            os.dup2(tmp.fileno(), 2)
            yield True
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read(1 << 16).decode("utf-8", "replace")
            out.extend(ln for ln in text.splitlines() if ln.strip())
            if text and os.environ.get("RAWLUX_DEBUG"):
                sys.stderr.write(text)
#: highest level LibRaw keeps for integer samples (16 bits)
LEVEL_MAX = 65535

TAG_NAMES = {254: "NewSubfileType", 256: "ImageWidth", 257: "ImageLength", 258: "BitsPerSample", 259: "Compression",
             262: "PhotometricInterpretation", 273: "StripOffsets", 277: "SamplesPerPixel", 278: "RowsPerStrip",
             279: "StripByteCounts", 284: "PlanarConfiguration", 322: "TileWidth", 323: "TileLength",
             324: "TileOffsets", 325: "TileByteCounts", 330: "SubIFDs", 339: "SampleFormat",
             513: "JPEGInterchangeFormat", 514: "JPEGInterchangeFormatLength", 33421: "CFARepeatPatternDim",
             33422: "CFAPattern", 34665: "ExifIFD", 50706: "DNGVersion", 50710: "CFAPlaneColor",
             50712: "LinearizationTable", 50713: "BlackLevelRepeatDim", 50714: "BlackLevel",
             50715: "BlackLevelDeltaH", 50716: "BlackLevelDeltaV", 50717: "WhiteLevel", 50719: "DefaultCropOrigin",
             50720: "DefaultCropSize", 50829: "ActiveArea", 51008: "OpcodeList1", 51009: "OpcodeList2",
             51022: "OpcodeList3"}
#: TIFF field type → (struct code, size)
_TYPES = {1: ("B", 1), 2: ("B", 1), 3: ("H", 2), 4: ("I", 4), 5: ("II", 8), 6: ("b", 1), 7: ("B", 1), 8: ("h", 2),
          9: ("i", 4), 10: ("ii", 8), 11: ("f", 4), 12: ("d", 8), 13: ("I", 4), 16: ("Q", 8), 17: ("q", 8), 18: ("Q", 8)}
#: tags whose values are checked strictly (type known, inside the file): baseline/extended TIFF and DNG
_STRICT = set(range(0, 32768)) | set(range(50706, 52600)) | {33421, 33422, 34665}


def tag_name(code: int) -> str:
    return f"{TAG_NAMES[code]} ({code})" if code in TAG_NAMES else f"tag {code}"


@dataclass
class Report:
    """What the pre-flight found: the container kind and how much of the pixel data is missing."""

    kind: str = "unknown"
    size: int = 0
    missing_bytes: int = 0          # pixel data bytes the file describes but does not hold
    needed_bytes: int = 0           # all the pixel data bytes it describes
    where: str = ""                 # which tags/segment describe the missing data
    detail: str = ""                # the whole truncation message, when bytes are not the right measure
    allowed: bool = False           # the caller develops truncated files (allow_truncated)
    raw_tiff: bool = False          # a TIFF holding CFA or LinearRaw data (a camera raw, not a picture)
    main_height: int = 0            # rows of the largest image in the file
    #: the first row (of the largest image) whose data are missing, estimated from the strips/tiles present
    first_missing_row: int | None = None
    _main_px: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.missing_bytes > 0

    def truncation_message(self) -> str:
        if self.detail:
            return self.detail
        pct = 100.0 * self.missing_bytes / max(self.needed_bytes, 1)
        what = f" ({self.where})" if self.where else ""
        return (f"truncated: {_bytes(self.missing_bytes)} of the {_bytes(self.needed_bytes)} of image data{what} "
                f"are missing ({pct:.1f} %); the file is {_bytes(self.size)}")


def _bytes(n: int) -> str:
    if n >= 10 * 1024 * 1024:
        return f"{n / 2 ** 20:.0f} MiB"
    if n >= 10 * 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"


# ----------------------------------------------------------------------------- regular files

_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def regular_file(path: str) -> int:
    """The size of ``path`` when it is a regular file (symlinks followed); InputError otherwise. Uses ``stat``
    only: a FIFO or a device is never opened (opening a FIFO blocks until someone writes to it)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except OSError as e:
        raise InputError(f"cannot be read: {e.strerror or e}", path=path) from None
    if not stat.S_ISREG(st.st_mode):
        for test, what in _KINDS:
            if test(st.st_mode):
                break
        else:
            what = "not a regular file"
        if what == "a directory":
            raise InputError("is a directory, not an image file", path=path)
        raise InputError(f"is {what}, not a regular image file", path=path)
    return int(st.st_size)


# ----------------------------------------------------------------------------- entry point

def check(path: str, head: bytes, size: int, *, limit: int, allow_truncated: bool = False) -> Report:
    """Check ``path`` (a regular file of ``size`` bytes starting with ``head``); InputError on anything wrong.

    A truncated file raises too unless ``allow_truncated``; the returned report says how much is missing."""
    rep = Report(size=size, allowed=allow_truncated)
    if size < 8:
        return rep
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        rep.kind, fn = "tiff", lambda mm: _Tiff(path, mm, limit, rep).check()
    elif head[:3] == b"\xff\xd8\xff":
        rep.kind, fn = "jpeg", lambda mm: _check_jpeg(path, mm, limit, rep)
    elif head[:8] == b"\x89PNG\r\n\x1a\n":
        rep.kind, fn = "png", lambda mm: _check_png(path, mm, limit, rep)
    else:
        return rep
    with _Map(path) as mm:
        try:
            fn(mm)
        except (struct.error, ValueError, OverflowError, IndexError, KeyError, TypeError) as e:
            raise InputError(f"corrupt {rep.kind.upper()} structure ({type(e).__name__}: {e})", path=path) from None
    if rep.truncated and not allow_truncated:
        raise InputError(rep.truncation_message() + "; develop what is there with --allow-truncated "
                         "(allow_truncated=True)", path=path)
    return rep


class _Map:
    def __init__(self, path: str):
        self.path = path

    def __enter__(self) -> mmap.mmap:
        try:
            self.fh = open(self.path, "rb")
            self.mm = mmap.mmap(self.fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot be read: {getattr(e, 'strerror', None) or e}", path=self.path) from None
        return self.mm

    def __exit__(self, *exc: Any) -> None:
        self.mm.close()
        self.fh.close()


# ----------------------------------------------------------------------------- TIFF / DNG

@dataclass
class _Entry:
    code: int
    type: int
    count: int
    pos: int            # where the values are (inline or at the offset)
    ifd: str


class _Tiff:
    def __init__(self, path: str, mm: mmap.mmap, limit: int, rep: Report):
        self.path, self.mm, self.limit, self.rep = path, mm, limit, rep
        self.size = len(mm)
        self.e = "<" if mm[:2] == b"II" else ">"
        self.big = mm[2:4] in (b"+\x00", b"\x00+")
        self.ifds: list[tuple[str, dict[int, _Entry]]] = []

    # -- low level
    def fail(self, msg: str) -> None:
        raise InputError(msg, path=self.path)

    def u(self, fmt: str, pos: int) -> tuple:
        n = struct.calcsize(self.e + fmt)
        if pos < 0 or pos + n > self.size:
            self.fail(f"TIFF structure: {n} bytes at offset {pos} lie past the end of the file ({self.size} bytes)")
        return struct.unpack_from(self.e + fmt, self.mm, pos)

    def values(self, ent: _Entry, cap: int = 1 << 20) -> list[float]:
        """The values of ``ent`` as numbers (rationals divided; 0 denominators give NaN)."""
        code, tsize = _TYPES[ent.type]
        n = min(ent.count, cap)
        if ent.type in (5, 10):
            raw = struct.unpack_from(f"{self.e}{2 * n}{code[0]}", self.mm, ent.pos)
            return [raw[2 * i] / raw[2 * i + 1] if raw[2 * i + 1] else math.nan for i in range(n)]
        return list(struct.unpack_from(f"{self.e}{n}{code}", self.mm, ent.pos))

    def ints(self, ifd: dict[int, _Entry], code: int, cap: int = 1 << 20) -> list[int] | None:
        ent = ifd.get(code)
        if ent is None:
            return None
        if ent.type not in (1, 3, 4, 7, 13, 16, 18, 8, 9, 17):
            self.fail(f"{tag_name(code)} has field type {ent.type}, not an integer type")
        return [int(v) for v in self.values(ent, cap)]

    def raw_bytes(self, ent: _Entry) -> bytes:
        _, tsize = _TYPES[ent.type]
        return bytes(self.mm[ent.pos:ent.pos + tsize * ent.count])

    # -- structure
    def walk(self) -> None:
        e = self.e
        if self.big:
            bs, zero, first = self.u("HHQ", 4)
            if bs != 8:
                self.fail(f"BigTIFF header: offset size {bs}, not 8")
        else:
            (first,) = self.u("I", 4)
        todo: list[tuple[int, str]] = [(first, "IFD0")]
        seen: dict[int, str] = {}
        entries = 0
        chain_no = 0
        while todo:
            off, name = todo.pop(0)
            if off in seen:
                self.fail(f"TIFF structure: {name} points back to {seen[off]} at offset {off} (an IFD loop)")
            if len(seen) >= MAX_IFDS:
                self.fail(f"TIFF structure: more than {MAX_IFDS} IFDs (IFD chain or SubIFDs); the file is "
                          f"corrupt or hostile")
            hdr, esz, cnt_fmt, nxt_fmt = (8, 20, "Q", "Q") if self.big else (2, 12, "H", "I")
            if off < 8 or off + hdr > self.size:
                self.fail(f"TIFF structure: {name} offset {off} lies outside the file ({self.size} bytes); "
                          f"the file is truncated or corrupt")
            seen[off] = name
            (n,) = self.u(cnt_fmt, off)
            if n == 0:
                self.fail(f"TIFF structure: {name} at offset {off} has no entries")
            if n > MAX_IFD_ENTRIES:
                self.fail(f"TIFF structure: {name} claims {n} entries (at most {MAX_IFD_ENTRIES}); the IFD is corrupt")
            end = off + hdr + esz * n
            if end + struct.calcsize(nxt_fmt) > self.size:
                self.fail(f"TIFF structure: {name} claims {n} entries, past the end of the file "
                          f"({self.size} bytes); the file is truncated or corrupt")
            entries += n
            if entries > MAX_ENTRIES:
                self.fail(f"TIFF structure: more than {MAX_ENTRIES} tag entries in its IFDs")
            ifd: dict[int, _Entry] = {}
            fmt = e + ("HHQ" if self.big else "HHI")
            inline = 8 if self.big else 4
            for i in range(n):
                p = off + hdr + esz * i
                code, typ, count = struct.unpack_from(fmt, self.mm, p)
                vpos = p + (12 if self.big else 8)
                t = _TYPES.get(typ)
                if t is None:
                    if code in _STRICT and code in TAG_NAMES:
                        self.fail(f"{tag_name(code)} in {name} has an unknown field type {typ}")
                    continue
                nbytes = t[1] * count
                if nbytes > inline:
                    (vpos,) = struct.unpack_from(e + ("Q" if self.big else "I"), self.mm, vpos)
                    if vpos + nbytes > self.size:
                        if code in _STRICT:
                            self.fail(f"{tag_name(code)} in {name} claims {count} values ({_bytes(nbytes)}) at "
                                      f"offset {vpos}, past the end of the file ({_bytes(self.size)})")
                        continue
                ifd[code] = _Entry(code, typ, count, vpos, name)
            self.ifds.append((name, ifd))
            (nxt,) = struct.unpack_from(e + nxt_fmt, self.mm, end)
            if nxt:
                chain_no += 1
                todo.append((nxt, f"IFD{chain_no}"))
            subs = self.ints(ifd, 330, cap=MAX_IFDS + 1) if 330 in ifd else None
            for k, s in enumerate(subs or []):
                todo.append((s, f"SubIFD{k} of {name}"))

    def check(self) -> None:
        self.walk()
        ifd0 = self.ifds[0][1]
        self.dng = 50706 in ifd0
        for name, ifd in self.ifds:
            if 256 in ifd or 257 in ifd or 273 in ifd or 324 in ifd:
                self.image(name, ifd)
            if 513 in ifd and 514 in ifd:           # an embedded JPEG thumbnail
                (o,), (n,) = self.ints(ifd, 513, 1), self.ints(ifd, 514, 1)
                self.chunks(name, [o], [n], "JPEGInterchangeFormat")
        if self.dng:
            raws = [(n, d) for n, d in self.ifds if self.photometric(d) in (32803, 34892)
                    and not (self.ints(d, 254, 1) or [0])[0] & 1]
            if not raws:
                raws = [(n, d) for n, d in self.ifds if self.photometric(d) in (32803, 34892)]
            for name, ifd in raws:
                self.dng_raw(name, ifd, ifd0)

    def photometric(self, ifd: dict[int, _Entry]) -> int | None:
        v = self.ints(ifd, 262, 1) if 262 in ifd else None
        return v[0] if v else None

    def chunks(self, name: str, offs: list[int], counts: list[int], what: str,
               rows: list[tuple[int, int]] | None = None, main: bool = False, step: int = 1) -> None:
        """Strip/tile/thumbnail data inside the file; what lies past the end counts as missing. ``rows``: the
        (first row, row count) of each chunk, to find the first row whose data are missing (``main``: of the
        largest image)."""
        miss = 0
        need = 0
        for i, (o, n) in enumerate(zip(offs, counts)):
            need += n
            if n and o + n > self.size:
                miss += min(n, o + n - max(o, self.size)) if o < self.size else n
                if main and rows is not None and i < len(rows):
                    r0, nr = rows[i]
                    frac = max(0, self.size - o) / n
                    first = r0 + (int(nr * frac) // step) * step     # whole rows (of JPEG MCUs when compressed)
                    cur = self.rep.first_missing_row
                    self.rep.first_missing_row = first if cur is None else min(cur, first)
        self.rep.needed_bytes += need
        if miss:
            self.rep.missing_bytes += miss
            self.rep.where = (self.rep.where + ", " if self.rep.where else "") + f"{what} of {name}"

    def image(self, name: str, ifd: dict[int, _Entry]) -> None:
        one = lambda code, default=None: (self.ints(ifd, code, 1) or [default])[0]  # noqa: E731
        w, h = one(256), one(257)
        if w is None or h is None:
            self.fail(f"{name} has image data but no {'ImageWidth (256)' if w is None else 'ImageLength (257)'}")
        if w < 1 or h < 1:
            self.fail(f"{name}: {'ImageWidth (256)' if w < 1 else 'ImageLength (257)'} is 0")
        if w * h > self.limit:
            raise ImageTooLarge(f"{name}: ImageWidth×ImageLength {w}×{h} = {w * h / 1e6:.1f} MP, above the limit of "
                                f"{self.limit / 1e6:.1f} MP (raise it with --max-pixels or RAWLUX_MAX_PIXELS)",
                                path=self.path)
        spp = one(277, 1)
        if not 1 <= spp <= 16:
            self.fail(f"{name}: SamplesPerPixel (277) is {spp}")
        bps = self.ints(ifd, 258, 64) or [1]
        if any(not 1 <= b <= 64 for b in bps):
            self.fail(f"{name}: BitsPerSample (258) {bps[0] if len(bps) == 1 else bps} is outside 1..64")
        comp = one(259, 1)
        planar = one(284, 1)
        planes = spp if planar == 2 else 1
        bits_px = (bps[0] if planar == 2 else (sum(bps[:spp]) if len(bps) >= spp else bps[0] * spp))
        main = w * h > self.rep._main_px
        if main:
            self.rep._main_px, self.rep.main_height, self.rep.first_missing_row = w * h, h, None
        if self.photometric(ifd) in (32803, 34892):
            self.rep.raw_tiff = True
        if 322 in ifd or 323 in ifd or 324 in ifd:
            tw, th = one(322), one(323)
            if not tw or not th:
                self.fail(f"{name}: {'TileWidth (322)' if not tw else 'TileLength (323)'} is "
                          f"{'missing' if (tw if not tw else th) is None else 0}")
            n = -(-w // tw) * -(-h // th) * planes
            offs, cnts = self.ints(ifd, 324), self.ints(ifd, 325)
            if offs is None or cnts is None:
                self.fail(f"{name}: tiled but {'TileOffsets (324)' if offs is None else 'TileByteCounts (325)'} is missing")
            if len(offs) != n or len(cnts) != n:
                self.fail(f"{name}: TileOffsets/TileByteCounts hold {len(offs)}/{len(cnts)} entries but "
                          f"{w}×{h} in {tw}×{th} tiles needs {n}")
            chunk_need = [th * -(-tw * bits_px // 8)] * n
            across, down = -(-w // tw), -(-h // th)
            geo = [(((i // across) % down) * th, th) for i in range(n)]
            self.chunks(name, offs, cnts, "TileOffsets + TileByteCounts", geo, main, 1 if comp == 1 else 16)
            tag = "TileByteCounts (325)"
        else:
            offs, cnts = self.ints(ifd, 273), self.ints(ifd, 279)
            if offs is None:
                return
            if cnts is None:
                if comp != 1:
                    self.fail(f"{name}: StripOffsets without StripByteCounts (279)")
                return
            if len(offs) != len(cnts):
                self.fail(f"{name}: StripOffsets (273) has {len(offs)} entries, StripByteCounts (279) {len(cnts)}")
            rps = one(278, h) or h
            if rps < 1:
                self.fail(f"{name}: RowsPerStrip (278) is 0")
            per_plane = -(-h // min(rps, h))
            if len(offs) < per_plane * planes and comp == 1:
                self.fail(f"{name}: StripOffsets (273) has {len(offs)} strips; {h} rows at {min(rps, h)} per strip "
                          f"need {per_plane * planes}")
            rows = [min(rps, h - (i % per_plane) * rps) for i in range(len(offs))]
            chunk_need = [max(r, 0) * -(-w * bits_px // 8) for r in rows]
            geo = [((i % per_plane) * rps, max(r, 0)) for i, r in enumerate(rows)]
            self.chunks(name, offs, cnts, "StripOffsets + StripByteCounts", geo, main, 1 if comp == 1 else 16)
            tag = "StripByteCounts (279)"
        have = sum(cnts)
        raw = sum(chunk_need)
        if comp == 1:
            short = [(i, c, nd) for i, (c, nd) in enumerate(zip(cnts, chunk_need)) if c < nd]
            if short:
                i, c, nd = short[0]
                self.fail(f"{name}: {tag} gives chunk {i} {c} bytes but ImageWidth×rows×BitsPerSample "
                          f"({w}×{h}, {bits_px} bits/pixel) need {nd}: the sizes in the file are wrong")
        else:
            ratio = self.max_ratio(comp, bps[0])
            if have * ratio < raw:
                self.fail(f"{name}: ImageWidth×ImageLength {w}×{h} ({_bytes(raw)} of samples) cannot come from the "
                          f"{_bytes(have)} that {tag} give (Compression {comp} does not compress {raw // max(have, 1)}:1): "
                          f"the size tags are wrong")

    def max_ratio(self, comp: int, bps: int) -> float:
        """The largest compression ratio a codec can reach on any data (a generous bound)."""
        if comp in (7, 6, 34892, 99):       # JPEG: ≥ 2 bits per 8×8 block per sample
            return 32.0 * bps
        if comp in (8, 32946, 50013):      # deflate
            return 1032.0
        if comp == 32773:                   # PackBits
            return 64.0
        if comp == 5:                       # LZW (12-bit codes)
            return 2048.0
        if self.dng:                        # VC-5, JPEG XL, ...
            return 4096.0
        return 64.0                         # camera vendors' Huffman/predictive codecs

    # -- DNG raw IFDs
    def dng_raw(self, name: str, ifd: dict[int, _Entry], ifd0: dict[int, _Entry]) -> None:
        one = lambda code, default=None: (self.ints(ifd, code, 1) or [default])[0]  # noqa: E731
        w, h = one(256), one(257)
        ph = self.photometric(ifd)
        spp = one(277, 1)
        bps = (self.ints(ifd, 258, 16) or [1])[0]
        fmt = one(339, 1)
        comp = one(259, 1)
        if comp not in DNG_COMPRESSIONS:
            self.fail(f"{name}: Compression (259) {comp} is not a DNG compression "
                      f"({', '.join(f'{k} {v}' for k, v in DNG_COMPRESSIONS.items())})")
        if fmt != 3 and not 1 <= bps <= 32:
            self.fail(f"{name}: BitsPerSample (258) {bps} is outside 1..32 for raw data")
        if comp in (7, 34892):
            offs = self.ints(ifd, 324) or self.ints(ifd, 273) or []
            cnts = self.ints(ifd, 325) or self.ints(ifd, 279) or []
            tag = "TileOffsets" if 324 in ifd else "StripOffsets"
            for i, (o, n) in enumerate(zip(offs, cnts)):
                if n >= 2 and o + 2 <= self.size and self.mm[o:o + 2] != b"\xff\xd8":
                    self.fail(f"{name}: Compression (259) is {comp} ({DNG_COMPRESSIONS[comp]}) but the data of "
                              f"{tag} entry {i} (offset {o}) is not JPEG (no SOI marker)")
        # CFA layout
        nplanes = 3
        if ph == 32803:
            if spp != 1:
                self.fail(f"{name}: a CFA image with SamplesPerPixel (277) {spp}, not 1")
            get = lambda code: ifd.get(code) or ifd0.get(code)  # noqa: E731
            pc = get(50710)
            if pc is not None:
                nplanes = pc.count
                if not 1 <= nplanes <= 4:
                    self.fail(f"{name}: CFAPlaneColor (50710) has {nplanes} planes")
            dim_e, pat_e = get(33421), get(33422)
            if dim_e is not None:
                dim = [int(v) for v in self.values(dim_e, 3)]
                if len(dim) != 2 or not all(1 <= d <= 16 for d in dim):
                    self.fail(f"{name}: CFARepeatPatternDim (33421) {'x'.join(map(str, dim))} is outside 1..16")
                if dim[0] * dim[1] < 2:
                    self.fail(f"{name}: CFARepeatPatternDim (33421) {dim[0]}x{dim[1]} is not a colour mosaic")
                if pat_e is not None and pat_e.count != dim[0] * dim[1]:
                    self.fail(f"{name}: CFARepeatPatternDim (33421) {dim[0]}x{dim[1]} needs {dim[0] * dim[1]} "
                              f"CFAPattern (33422) entries, the file has {pat_e.count}")
            if pat_e is not None:
                if pat_e.count > 256:
                    self.fail(f"{name}: CFAPattern (33422) has {pat_e.count} entries")
                pat = [int(v) for v in self.values(pat_e, 256)]
                bad = [c for c in pat if not 0 <= c < nplanes]
                if bad:
                    self.fail(f"{name}: CFAPattern (33422) colour index {bad[0]} is outside 0..{nplanes - 1}")
                if len(set(pat)) < min(nplanes, 3):
                    self.fail(f"{name}: CFAPattern (33422) {pat} does not hold all {nplanes} colours")
        elif ph == 34892 and not 1 <= spp <= 4:
            self.fail(f"{name}: a LinearRaw image with SamplesPerPixel (277) {spp}")
        # levels
        lin = ifd.get(50712)
        if lin is not None and not 1 <= lin.count <= 65536:
            self.fail(f"{name}: LinearizationTable (50712) has {lin.count} entries (at most 65536)")
        if lin is not None and lin.count < 2:
            self.fail(f"{name}: LinearizationTable (50712) has a single entry")
        top = float(LEVEL_MAX) if (fmt != 3 and (bps <= 16 or lin is not None)) else float(2 ** 32 - 1)
        if fmt == 3:
            top = math.inf
        rr, rc = 1, 1
        bd = ifd.get(50713)
        if bd is not None:
            d = [int(v) for v in self.values(bd, 3)]
            if len(d) != 2 or d[0] < 1 or d[1] < 1 or d[0] * d[1] > 4096 or d[0] > h or d[1] > w:
                self.fail(f"{name}: BlackLevelRepeatDim (50713) {'x'.join(map(str, d))} is outside 1..{min(h, 64)} "
                          f"× 1..{min(w, 64)} (at most 4096 cells)")
            rr, rc = d
        planes_lvl = spp if ph == 34892 else 1
        black = [0.0]
        be = ifd.get(50714)
        if be is not None:
            if be.count not in (1, rr * rc * planes_lvl):
                self.fail(f"{name}: BlackLevel (50714) has {be.count} values; BlackLevelRepeatDim {rr}x{rc} × "
                          f"{planes_lvl} sample(s) needs {rr * rc * planes_lvl}")
            black = self.values(be, 4096)
            bad = [v for v in black if not (math.isfinite(v) and -1.0 < v < top)]
            if bad:
                self.fail(f"{name}: BlackLevel (50714) {bad[0]:g} is outside the sample range 0..{top:g}")
        dmax = 0.0
        for code in (50715, 50716):
            de = ifd.get(code)
            if de is not None:
                vals = self.values(de, 1 << 16)
                if any(not math.isfinite(v) for v in vals):
                    self.fail(f"{name}: {tag_name(code)} holds a non-finite value")
                dmax += max(vals, default=0.0)
        we = ifd.get(50717)
        if we is not None:
            if we.count not in (1, planes_lvl):
                self.fail(f"{name}: WhiteLevel (50717) has {we.count} values for {planes_lvl} sample(s)")
            whites = self.values(we, 16)
            for v in whites:
                if not (math.isfinite(v) and 1 <= v <= top):
                    self.fail(f"{name}: WhiteLevel (50717) {v:g} is outside the sample range 1..{top:g}")
            if min(whites) <= max(black) + dmax:
                self.fail(f"{name}: WhiteLevel (50717) {min(whites):g} is not above BlackLevel (50714) "
                          f"{max(black) + dmax:g}")
        aa = ifd.get(50829)
        if aa is not None:
            v = [int(x) for x in self.values(aa, 5)]
            if len(v) != 4 or not (0 <= v[0] < v[2] <= h and 0 <= v[1] < v[3] <= w):
                self.fail(f"{name}: ActiveArea (50829) {v} is not inside the {w}×{h} image")
        # opcode lists: counts and sizes bounded by their bytes
        from ..optics.opcodes import parse_opcode_list
        for code in (51008, 51009, 51022):
            oe = ifd.get(code) or ifd0.get(code)
            if oe is not None:
                parse_opcode_list(self.raw_bytes(oe), TAG_NAMES[code], self.path)


# ----------------------------------------------------------------------------- JPEG

_SOF = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive", 0xC3: "lossless"}


def _check_jpeg(path: str, mm: mmap.mmap, limit: int, rep: Report) -> None:
    size = len(mm)
    pos, sof, scan_bytes, eoi = 2, None, 0, False
    while pos + 4 <= size:
        if mm[pos] != 0xFF:
            break
        marker = mm[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            eoi = True
            break
        (length,) = struct.unpack_from(">H", mm, pos + 2)
        if length < 2:
            raise InputError(f"JPEG segment 0x{marker:02X} at offset {pos} has length {length}", path=path)
        seg = pos + 4
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if seg + 6 > size:
                break
            p_, hh, ww, nc = struct.unpack_from(">BHHB", mm, seg)
            comps = []
            for i in range(nc):
                if seg + 6 + 3 * i + 3 > size:
                    break
                hv = mm[seg + 6 + 3 * i + 1]
                comps.append((hv >> 4, hv & 15))
            sof = (marker, ww, hh, comps)
            if ww == 0:
                raise InputError("JPEG SOF declares a width of 0", path=path)
            if ww * max(hh, 1) > limit:
                raise ImageTooLarge(f"JPEG SOF declares {ww}×{hh} = {ww * hh / 1e6:.1f} MP, above the limit of "
                                    f"{limit / 1e6:.1f} MP (raise it with --max-pixels or RAWLUX_MAX_PIXELS)", path=path)
        pos = seg + length - 2
        if marker == 0xDA:                       # entropy-coded data up to the next non-RST marker
            i = pos
            while True:
                j = mm.find(b"\xff", i)
                if j < 0 or j + 1 >= size:
                    scan_bytes += size - pos
                    pos = size
                    break
                nb = mm[j + 1]
                if nb == 0x00 or 0xD0 <= nb <= 0xD7:
                    i = j + 2
                    continue
                scan_bytes += j - pos
                pos = j
                break
    if sof is None or sof[2] == 0:
        return
    marker, w, h, comps = sof
    if marker in _SOF and comps and all(hv[0] and hv[1] for hv in comps):
        hmax, vmax = max(c[0] for c in comps), max(c[1] for c in comps)
        if marker == 0xC3:                       # lossless: ≥ 1 bit per sample
            need_bits = w * h * len(comps)
        else:
            mcus = -(-w // (8 * hmax)) * -(-h // (8 * vmax))
            blocks = mcus * sum(a * b for a, b in comps) if len(comps) > 1 else -(-w // 8) * -(-h // 8)
            need_bits = blocks * (2 if marker in (0xC0, 0xC1) else 1)
        if scan_bytes * 8 < need_bits:
            raise InputError(f"JPEG SOF declares {w}×{h} but its scan data hold {_bytes(scan_bytes)}, fewer than the "
                             f"{_bytes(need_bits // 8)} any encoding of that size needs: the file is truncated or "
                             f"its SOF is wrong", path=path)
    # The decode check costs a Huffman pass (about 35 ms per MB of scan): run it where a cut or a lying SOF is
    # plausible, i.e. the scan never reaches an EOI, or it is sparse (under 2 bits a pixel: photographs at
    # ordinary qualities carry 2-8) so that a short scan could pass the bound above
    if eoi and scan_bytes * 8 >= 2 * w * h:
        return
    ok = _jpeg_scan_complete(path)
    if ok is False:
        rep.needed_bytes = max(size, 1)
        rep.missing_bytes = 1
        rep.detail = (f"truncated: the JPEG scan data ({_bytes(scan_bytes)}) end before the {w}×{h} image its SOF "
                      f"declares is complete (the decoder would fill the rest with grey)")


def _jpeg_scan_complete(path: str) -> bool | None:
    """Whether libjpeg decodes the whole scan without running out of data (decoded at 1/8 scale, which skips
    the inverse DCT); None when that cannot be told. libjpeg reports a scan that ends early as a warning
    ("premature end of data segment" / "Premature end of JPEG file") and fills the rest with grey."""
    try:
        import cv2
        import numpy as np
    except ImportError:  # pragma: no cover - a dependency
        return None
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    said: list[str] = []
    with native_messages(said) as capturing:
        if not capturing:
            return None
        img = cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if any("premature end" in ln.lower() for ln in said):
        return False
    return True if img is not None else None


# ----------------------------------------------------------------------------- PNG

def _check_png(path: str, mm: mmap.mmap, limit: int, rep: Report) -> None:
    size = len(mm)
    pos, ihdr, idat = 8, None, 0
    while pos + 8 <= size:
        length, typ = struct.unpack_from(">I4s", mm, pos)
        if typ == b"IHDR" and pos + 8 + 13 <= size:
            ihdr = struct.unpack_from(">IIBBBBB", mm, pos + 8)
        elif typ == b"IDAT":
            idat += min(length, max(size - pos - 8, 0))
        elif typ == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        return
    w, h, depth, colour = ihdr[:4]
    if w == 0 or h == 0:
        raise InputError(f"PNG IHDR declares {w}×{h}", path=path)
    if w * h > limit:
        raise ImageTooLarge(f"PNG IHDR declares {w}×{h} = {w * h / 1e6:.1f} MP, above the limit of "
                            f"{limit / 1e6:.1f} MP (raise it with --max-pixels or RAWLUX_MAX_PIXELS)", path=path)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 4)
    raw = h * (1 + -(-w * channels * max(depth, 1) // 8))
    if idat * 1032 < raw:
        raise InputError(f"PNG IHDR declares {w}×{h} ({_bytes(raw)} of samples) but the IDAT chunks hold "
                         f"{_bytes(idat)}, less than deflate can compress that to: the file is truncated or its "
                         f"IHDR is wrong", path=path)
