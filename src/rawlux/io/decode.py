"""Decode any input rawlux reads into a Frame.

- camera raws and DNG: LibRaw via rawpy for the pixels, the DNG tags read here for colour;
- headerless sensor dumps (``raw="WxH,bits,PATTERN[,black][,le|be]"``);
- mosaics stored as 16-bit greyscale PNG/TIFF (``cfa="GRBG[,black[,white]]"``);
- JPEG, PNG, TIFF (8/16-bit, float), HEIF: display-referred, decoded to linear Rec.2020.

Pixel counts are checked against ``max_pixels`` before any pixel buffer is allocated.
"""
from __future__ import annotations

import contextlib
import logging
import os
import math
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ..errors import ImageTooLarge, InputError, ParameterError
from ..frame import BAYER_PATTERNS, Frame, Metadata, State

from .formats import max_pixels_default  # noqa: E402 - the one pixel limit (io/formats.py)
from .preflight import native_messages  # noqa: E402 - fd 2 capture under the one lock


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence what C libraries (LibRaw, libjpeg, libtiff) print on stderr while decoding: rawlux reports
    problems itself, in one line. Kept when RAWLUX_DEBUG is set."""
    if os.environ.get("RAWLUX_DEBUG"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


logging.getLogger("tifffile").setLevel(logging.CRITICAL + 1 if not os.environ.get("RAWLUX_DEBUG") else logging.WARNING)


def _check_size(path: str, w: int, h: int, limit: int, what: str = "image") -> None:
    if w <= 0 or h <= 0:
        raise InputError(f"{what} has invalid dimensions {w}×{h}", path=path)
    if w * h > limit:
        raise ImageTooLarge(f"{what} is {w}×{h} = {w * h / 1e6:.1f} MP, above the limit of "
                            f"{limit / 1e6:.1f} MP (raise it with --max-pixels or RAWLUX_MAX_PIXELS)", path=path)


# ----------------------------------------------------------------------------- specs

@dataclass(frozen=True)
class RawSpec:
    """Layout of a headerless sensor dump."""

    width: int
    height: int
    bits: int
    pattern: str
    black: float = 0.0
    endian: str = "le"

    @classmethod
    def parse(cls, spec: str) -> "RawSpec":
        parts = [p.strip() for p in str(spec).split(",")]
        usage = "expected WxH,bits,PATTERN[,black][,le|be], e.g. 1920x1080,10,RGGB,64,le"
        if len(parts) < 3:
            raise ParameterError(f"--raw {spec!r}: {usage}")
        m = re.fullmatch(r"(\d+)[xX×](\d+)", parts[0])
        if not m:
            raise ParameterError(f"--raw {spec!r}: size {parts[0]!r} is not WxH; {usage}")
        w, h = int(m.group(1)), int(m.group(2))
        if not (1 <= w <= 100_000 and 1 <= h <= 100_000):
            raise ParameterError(f"--raw {spec!r}: size {w}x{h} is out of range")
        try:
            bits = int(parts[1])
        except ValueError:
            raise ParameterError(f"--raw {spec!r}: bits {parts[1]!r} is not a number; {usage}") from None
        if not 1 <= bits <= 16:
            raise ParameterError(f"--raw {spec!r}: bits={bits} is out of range [1, 16]")
        pat = parts[2].upper()
        if pat not in BAYER_PATTERNS:
            raise ParameterError(f"--raw {spec!r}: pattern {parts[2]!r} is not one of {', '.join(BAYER_PATTERNS)}")
        black, endian = 0.0, "le"
        for extra in parts[3:]:
            if extra.lower() in ("le", "be"):
                endian = extra.lower()
                continue
            try:
                black = float(extra)
            except ValueError:
                raise ParameterError(f"--raw {spec!r}: {extra!r} is neither a black level nor le/be") from None
            if not 0 <= black < 2 ** bits - 1:
                raise ParameterError(f"--raw {spec!r}: black level {extra} is out of range [0, {2 ** bits - 1})")
        return cls(w, h, bits, pat, black, endian)


@dataclass(frozen=True)
class CfaSpec:
    """A mosaic stored as a greyscale image: pattern, black and white level."""

    pattern: str
    black: float | None = None
    white: float | None = None

    @classmethod
    def parse(cls, spec: str) -> "CfaSpec":
        parts = [p.strip() for p in str(spec).split(",")]
        pat = parts[0].upper()
        if pat not in BAYER_PATTERNS:
            raise ParameterError(f"--cfa {spec!r}: pattern {parts[0]!r} is not one of {', '.join(BAYER_PATTERNS)}")
        nums = []
        for p in parts[1:3]:
            try:
                nums.append(float(p))
            except ValueError:
                raise ParameterError(f"--cfa {spec!r}: {p!r} is not a number (PATTERN[,black[,white]])") from None
            if not math.isfinite(nums[-1]):
                raise ParameterError(f"--cfa {spec!r}: {p!r} must be a finite number (PATTERN[,black[,white]])")
        if len(parts) > 3:
            raise ParameterError(f"--cfa {spec!r}: expected PATTERN[,black[,white]]")
        black = nums[0] if nums else None
        white = nums[1] if len(nums) > 1 else None
        if black is not None and black < 0:
            raise ParameterError(f"--cfa {spec!r}: black level must be ≥ 0")
        if white is not None and black is not None and white <= black:
            raise ParameterError(f"--cfa {spec!r}: white level {white:g} must be above black level {black:g}")
        return cls(pat, black, white)


# ----------------------------------------------------------------------------- entry point

_MAGIC = [
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"II+\x00", "tiff"), (b"MM\x00+", "tiff"),
]


def sniff(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif"):
            return "heif"
        if brand == b"crx ":
            return "raw"
    return "unknown"


def open_image(path: str | os.PathLike[str], *, raw: str | RawSpec | None = None,
               cfa: str | CfaSpec | None = None, profile: Any = None,
               max_pixels: int | None = None, hdr: bool = False, allow_truncated: bool = False) -> Frame:
    """Decode ``path`` into a Frame (RAW state for sensor data, SCENE_LINEAR for images).

    Before any decoder sees the file, :mod:`rawlux.io.preflight` checks it (a regular file; TIFF/DNG structure
    and tags; JPEG/PNG sizes against their data). A file whose pixel data are not all there is refused unless
    ``allow_truncated=True``: then what is there is developed, the missing rows black, with a notice.

    ``hdr=True``: an Ultra HDR (gain-map) JPEG with its gain map applied, scene-referred (see
    :func:`rawlux.io.ultrahdr.open_hdr`); an InputError for any file without HDR data."""
    from . import preflight

    p = str(path)
    limit = max_pixels or max_pixels_default()
    size = preflight.regular_file(p)         # stat only: a FIFO or a device is refused before it is opened
    try:
        with open(p, "rb") as fh:
            head = fh.read(64)
    except OSError as e:
        raise InputError(f"cannot be read: {e.strerror or e}", path=p) from None
    if size == 0:
        raise InputError("is empty (0 bytes)", path=p)
    report = preflight.check(p, head, size, limit=limit, allow_truncated=allow_truncated) if raw is None else None
    if hdr:
        from .ultrahdr import open_hdr
        return open_hdr(p, limit)
    with quiet_native_stderr():
        frame = _dispatch(p, head, size, limit, raw, cfa, report)
    if report is not None and report.truncated:
        if "truncated" not in frame.meta.extra:
            _truncation_notice(frame, report.truncation_message() + "; developed what is there")
    if profile is not None:            # a profile file, or one already loaded (a CLI loads it once for all files)
        from ..colour.profile import CameraProfile
        prof = profile if isinstance(profile, CameraProfile) else CameraProfile.from_file(profile)
        frame.meta.extra["profile"] = prof
    return frame


def _truncation_notice(frame: Frame, text: str) -> None:
    from ..optics.opcodes import notice
    frame.meta.extra["truncated"] = text
    notice(frame.meta, text)


def _dispatch(p: str, head: bytes, size: int, limit: int, raw: Any, cfa: Any, report: Any = None) -> Frame:
    if raw is not None:
        spec = raw if isinstance(raw, RawSpec) else RawSpec.parse(raw)
        frame = _read_dump(p, spec, size, limit)
    elif cfa is not None:
        spec_c = cfa if isinstance(cfa, CfaSpec) else CfaSpec.parse(cfa)
        frame = _read_mosaic_image(p, spec_c, limit)
    else:
        kind = sniff(head)
        allow = bool(report is not None and report.allowed)
        if kind in ("jpeg", "png", "heif"):
            from .images import read_display_image
            frame = read_display_image(p, kind, limit, allow_truncated=allow)
        elif kind == "tiff":
            from .dng import read_dng_tags
            tags = read_dng_tags(p)
            if tags is not None:
                frame = _read_libraw(p, limit, tags, report)
            else:
                try:
                    frame = _read_libraw(p, limit, None, report)
                except InputError:
                    if report is not None and report.raw_tiff:   # a camera raw LibRaw cannot read: never
                        raise                                     # develop its thumbnail instead
                    from .images import read_display_image
                    frame = read_display_image(p, "tiff", limit, allow_truncated=allow)
        else:
            frame = _read_libraw(p, limit, None, report)
    return frame


# ----------------------------------------------------------------------------- LibRaw

def _libraw_orientation(flip: int) -> int:
    return {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}.get(int(flip), 1)


#: clips are only looked for above this fraction of the black→white range
_CLIP_FLOOR = 0.25
#: half-width of the window a clip may spread over (a gain table applied after the clip, e.g. in-camera lens
#: shading, spreads one ceiling over a few % of the range), as a fraction of the range
_CLIP_SPREAD = 0.01


def _noise_sigma_dn(noise_profile: Any, colour: int, level: float, black: float, white: float) -> float | None:
    """Noise std (DN) at ``level`` from the DNG NoiseProfile (S, O per normalised unit), or None."""
    if not noise_profile:
        return None
    vals = [float(v) for v in noise_profile]
    if len(vals) >= 6 and len(vals) % 2 == 0:
        s, o = vals[2 * colour], vals[2 * colour + 1]
    elif len(vals) == 2:
        s, o = vals
    else:
        return None
    if not (math.isfinite(s) and math.isfinite(o)) or s < 0:
        return None
    span = max(white - black, 1.0)
    x = max((level - black) / span, 0.0)
    return math.sqrt(max(s * x + max(o, 0.0), 0.0)) * span


def _box(v: np.ndarray, r: int) -> np.ndarray:
    """Sum of ``v`` over [i - r, i + r] for every i (zero outside)."""
    cs = np.concatenate([[0.0], np.cumsum(v, dtype=np.float64)])
    i = np.arange(v.size)
    return cs[np.minimum(i + r + 1, v.size)] - cs[np.maximum(i - r, 0)]


def _clip_level(ch: np.ndarray, white: float, black: float = 0.0, sigma: Any = None) -> float | None:
    """The DN where a CFA plane clips (the lower edge of its ceiling), or None when it does not clip.

    A clip is a ceiling: the pixels that reached it pile up on one value, or a few values where the camera
    applied a gain after the clip, *and* they lie in flat plateaus, each within one quantisation step of its
    same-colour neighbours, where noise would spread them; almost nothing lies above it. A bright flat area (a sky, a wall, the white
    of a chart) is a bump as wide as the noise with tails on both sides and its pixels differ from their
    neighbours, so it is never taken for a clip, however large. Evidence, all required:

    1. plateau pixels (within one quantisation step of their right and lower same-colour neighbours) pile up
       in one window of ±``_CLIP_SPREAD`` of the range, above ``_CLIP_FLOOR`` of the range;
    2. flat beyond noise: the share of the window's pixels that are plateau pixels is high (≥ 0.2) and ≥ 4× the
       share noise gives, both as measured just below the window (the data's own noise) and, when ``sigma``
       (the noise model's std in DN at the level, a number or a function of the level) is known, as predicted
       for that noise at the data's quantisation step;
    3. a ceiling: fewer pixels above the window than in it.
    Where the data are too clean for flatness to tell (the band below is itself flat, e.g. noiseless synthetic
    data), a pile-up of ≥ 8× the mean count of the band below, with nothing above, is taken as the clip."""
    if ch.size < 64:
        return None
    vals = ch if ch.dtype.kind == "u" else np.clip(np.rint(ch), 0, 65535).astype(np.uint16)
    span = max(white - black, 1.0)
    lo = int(black + _CLIP_FLOOR * span)
    top = int(vals.max(initial=0))
    if top < lo:
        return None
    from ._decode_kernels import histogram, plateau_histogram

    n = top + 1
    counts = histogram(vals, n)
    tol = _plateau_tol(counts, lo, span)
    plate = plateau_histogram(vals, lo, tol, n)
    return _clip_from_histograms(counts, plate, lo, tol, span, vals.size, sigma)


def _plateau_tol(counts: np.ndarray, lo: int, span: float) -> int:
    """How far a plateau pixel may differ from its neighbours (see :func:`_clip_level`), from the plane's
    histogram ``counts`` (values 0 .. its maximum)."""
    # the data's quantisation step at the top of the range: companded files (a tone curve undone by the
    # decoder) only use every q-th value there; read on well-populated values only (≥ 16 pixels), so that a
    # sparse tail of a few bright pixels is not taken for a comb
    pop = np.flatnonzero(counts[lo:] >= 16) + lo
    pop = pop[pop >= pop[-1] - 0.1 * span] if pop.size else pop
    q = int(max(1.0, np.median(np.diff(pop)))) if pop.size >= 3 else 1
    # plateau pixels among the bright ones only: within one quantisation step of the right and the lower
    # same-colour neighbour (a gain applied after the clip moves neighbours of a plateau by a step at most)
    tol = q if q > 1 else 0
    return tol


def _clip_from_histograms(counts: np.ndarray, plate: np.ndarray, lo: int, tol: int, span: float, size: int,
                          sigma: Any) -> float | None:
    """The rest of :func:`_clip_level`, from a plane's histogram and plateau histogram (values 0 .. its
    maximum) and its pixel count ``size``."""
    n = counts.size
    s = max(2, int(round(_CLIP_SPREAD * span)))
    min_total = max(64.0, 2e-5 * size)
    above_all = np.concatenate([np.cumsum(counts[::-1])[::-1], [0.0]])         # pixels ≥ v
    Hc = _box(counts, s)
    Hp = _box(plate, s)
    # (1) the densest window of plateau pixels above the floor
    if Hp[lo:].max(initial=0.0) >= min_total:
        p0 = lo + int(np.argmax(Hp[lo:]))                                     # a window holding the pile-up
        a0 = max(p0 - s, lo)
        peak = a0 + int(np.argmax(plate[a0:min(p0 + s + 1, n)]))              # its most populated value
        r_peak = Hp[peak] / max(Hc[peak], 1.0)
        b0, b1 = max(lo - s, peak - 10 * s), peak - 2 * s                       # the band below the window
        below_n = float(counts[max(b0, 0):max(b1, 0)].sum()) if b1 > 0 else 0.0
        r_below = float(plate[max(b0, 0):max(b1, 0)].sum()) / below_n if below_n >= 64 else 0.0
        if r_below < 0.25:
            r_ref = r_below
            sg = sigma(float(peak)) if callable(sigma) else sigma
            if sg is not None and sg > 0:
                p_eq = math.erf((tol + 0.5) / (2.0 * sg))                   # P(|neighbour − pixel| ≤ tol)
                r_ref = max(r_ref, p_eq * p_eq)
            in_win = Hc[peak]
            above = above_all[min(peak + s + 1, n)]
            if r_peak >= max(0.2, 4.0 * r_ref) and above < in_win:
                # lower edge: go down from the peak while the populated values are mostly plateau pixels
                level, misses = peak, 0
                for v in range(peak - 1, max(lo, peak - 3 * s) - 1, -1):
                    if counts[v] == 0:
                        continue
                    if plate[v] >= 0.5 * r_peak * counts[v]:
                        level, misses = v, 0
                    elif counts[v] >= 16:
                        misses += 1
                        if misses >= 3:
                            break
                return float(level)
            return None
    # too clean to tell by flatness: a pile-up right at the top of the data
    vmax = int(np.nonzero(counts)[0][-1])
    if vmax < lo:
        return None
    win = max(1, int(round(0.002 * span)))
    in_top = float(counts[max(vmax - win, 0):vmax + 1].sum())
    band = counts[max(vmax - 12 * win, 0):max(vmax - win, 0)]
    if in_top < min_total or band.size == 0 or in_top < 8.0 * max(float(band.mean()) * (win + 1), 1.0):
        return None
    nzi = np.nonzero(counts[max(vmax - win, 0):vmax + 1] >= 0.1 * counts[vmax])[0]
    return float(max(vmax - win, 0) + int(nzi[0]))


def _detect_saturation(mosaic: np.ndarray, colors: np.ndarray, black: np.ndarray, white: float,
                       noise_profile: Any = None) -> np.ndarray:
    """Per-colour clip level (normalised to the white level) found from the data; 1 where nothing clips.

    Every CFA plane is tested on its own (:func:`_clip_level`); a colour with two planes (green) needs evidence
    in both: a ceiling found in one plane counts only if the other holds at least a quarter as many pixels at
    or above it, so a defect confined to one plane is not a clip. The noise model is the file's NoiseProfile
    when it has one; the data's own noise (measured just below each candidate) is always used."""
    sat = np.ones(3, dtype=np.float32)
    planes = _PlaneStats.of(mosaic, colors, black, white)   # all four planes in two passes, when it can
    for c in range(3):
        ys, xs = np.nonzero(colors[:2, :2] == c)
        bl = float(black[c]) if black.size > c else float(black[0])
        sigma = lambda lvl, c=c, bl=bl: _noise_sigma_dn(noise_profile, c, lvl, bl, white)  # noqa: E731
        levels: list[float] = []
        if planes is not None:
            ks = [2 * int(y0) + int(x0) for y0, x0 in zip(ys, xs)]
            for k in ks:
                lv = planes.clip_level(k, sigma)
                if lv is None:
                    continue
                mine = planes.at_or_above(k, lv)
                if any(planes.at_or_above(j, lv - _CLIP_SPREAD * (white - bl)) < 0.25 * mine for j in ks if j != k):
                    continue
                levels.append(lv)
        else:
            pls = [mosaic[y0::2, x0::2] for y0, x0 in zip(ys, xs)]
            for k, pl in enumerate(pls):
                lv = _clip_level(pl, white, bl, sigma)
                if lv is None:
                    continue
                mine = int(np.count_nonzero(pl >= lv))
                if any(int(np.count_nonzero(q >= lv - _CLIP_SPREAD * (white - bl))) < 0.25 * mine
                       for j, q in enumerate(pls) if j != k):
                    continue
                levels.append(lv)
        if levels:
            sat[c] = float(np.clip((min(levels) - bl) / max(white - bl, 1.0), 0.05, 1.0))
    return sat


class _PlaneStats:
    """What :func:`_clip_level` reads from each of the four CFA planes of an unsigned-integer mosaic (plane k:
    rows k >> 1, columns k & 1, modulo 2), found for all four at once: the histograms in one parallel pass over
    the mosaic, the plateau histograms in a second (their tolerance depends on the histograms). The same numbers
    :func:`_clip_level` finds on each plane, and pixel counts at or above a level read from the histograms.
    None (the caller goes plane by plane) for any other mosaic."""

    def __init__(self, counts: np.ndarray, sizes: list[int], lo: list[int], span: list[float],
                 tol: list[int], top: list[int], plate: np.ndarray | None, cand: list[bool]):
        self.counts, self.sizes, self.lo, self.span, self.tol, self.top = counts, sizes, lo, span, tol, top
        self.plate, self.cand = plate, cand

    @classmethod
    def of(cls, mosaic: np.ndarray, colors: np.ndarray, black: np.ndarray, white: float) -> "_PlaneStats | None":
        if (mosaic.ndim != 2 or mosaic.dtype.kind != "u" or mosaic.dtype.itemsize > 2 or min(mosaic.shape) < 1
                or not math.isfinite(white)):
            return None
        import numba

        from ._decode_kernels import cfa_histograms, cfa_plateau_histograms

        h, w = mosaic.shape
        nbins = 1 << (8 * mosaic.dtype.itemsize)
        nbands = max(1, min(numba.get_num_threads(), 8, h // 64))
        sizes, los, spans, cands = [], [], [], []
        for k in range(4):
            y0, x0 = k >> 1, k & 1
            sizes.append(((h - y0 + 1) // 2) * ((w - x0 + 1) // 2))
            c = int(colors[y0, x0])
            bl = (float(black[c]) if black.size > c else float(black[0])) if 0 <= c < 3 else 0.0
            spans.append(max(white - bl, 1.0))
            los.append(int(bl + _CLIP_FLOOR * spans[k]))
            cands.append(0 <= c < 3 and sizes[k] >= 64)
        # histograms as long as the white level needs (their size is most of the cost on small images); the full
        # range when a value lies beyond it
        nb = min(nbins, 1 << max(8, int(max(white, 1.0)).bit_length()))
        counts, top_a, ok = cfa_histograms(mosaic, nb, nbands)
        if not ok:
            nb = nbins
            counts, top_a, ok = cfa_histograms(mosaic, nb, nbands)
        tops, tols = [int(t) for t in top_a], []
        for k in range(4):
            cands[k] = cands[k] and tops[k] >= los[k]
            tols.append(_plateau_tol(counts[k, :tops[k] + 1], los[k], spans[k]) if cands[k] else 0)
        # planes without a candidate: no plateau pixels (a floor above every value)
        lo_a = np.array([min(max(lo, -1), nb) if ok_k else nb for lo, ok_k in zip(los, cands)], np.int64)
        plate = cfa_plateau_histograms(mosaic, lo_a, np.array(tols, np.int64), nb, nbands) if any(cands) else None
        return cls(counts, sizes, los, spans, tols, tops, plate, cands)

    def clip_level(self, k: int, sigma: Any) -> float | None:
        """:func:`_clip_level` of plane k (the white level and black level given to :meth:`of`)."""
        if not self.cand[k] or self.plate is None:          # too small, or nothing above the floor
            return None
        n = self.top[k] + 1
        return _clip_from_histograms(self.counts[k, :n], self.plate[k, :n], self.lo[k], self.tol[k],
                                     self.span[k], self.sizes[k], sigma)

    def at_or_above(self, k: int, level: float) -> int:
        """The pixels of plane k ≥ ``level`` (np.count_nonzero(plane >= level))."""
        return int(self.counts[k, max(math.ceil(level), 0):].sum())     # integer counts: exact


def _read_libraw(path: str, limit: int, tags: Any, report: Any = None) -> Frame:
    import rawpy

    pad = 0
    if report is not None and report.truncated:      # allowed: decode the file followed by zeros, blank what
        pad = report.missing_bytes + max(1 << 20, report.size)   # depends on them (_blank_missing)
        if report.missing_bytes > 1 << 30:
            raise InputError(report.truncation_message() + "; too much is missing to develop", path=path)
    rp = rawpy.RawPy()
    try:
        if pad:         # 0xFF after the end: what a decoder reading past the end of a file mostly sees
            import io
            rp.open_buffer(io.BytesIO(_padded(path, pad, 0xFF)))
        else:
            rp.open_file(path)
    except rawpy.LibRawFileUnsupportedError:
        rp.close()
        hint = ""
        if tags is not None:
            hint = " (a DNG whose compression LibRaw cannot decode, e.g. GoPro VC-5 .gpr)"
        raise InputError(f"unsupported format or codec{hint}; rawlux reads camera raws/DNG that LibRaw "
                         f"decodes, JPEG, PNG, TIFF and HEIF", path=path) from None
    except (rawpy.LibRawIOError, rawpy.LibRawDataError, rawpy.LibRawError) as e:
        rp.close()
        raise InputError(f"corrupt or truncated raw file ({type(e).__name__}: {e})", path=path) from None
    try:
        s = rp.sizes
        _check_size(path, int(s.raw_width), int(s.raw_height), limit, "raw image")
        said: list[str] = []
        try:
            with native_messages(said):
                rp.unpack()
        except rawpy.LibRawFileUnsupportedError:
            what = "a DNG compressed with a codec LibRaw cannot decode (e.g. GoPro VC-5 .gpr)" if tags is not None else "a raw variant LibRaw cannot decode"
            raise InputError(f"unsupported format or codec: {what}; convert it to an uncompressed or "
                             f"lossless-JPEG DNG first", path=path) from None
        except rawpy.LibRawError as e:
            raise InputError(f"corrupt or truncated raw data ({type(e).__name__}: {e})", path=path) from None
        except MemoryError:
            raise InputError("raw data too large to decode", path=path) from None
        bad = [m for m in said if any(k in m.lower() for k in _DECODER_TROUBLE)]
        eof = any("end of" in m.lower() for m in bad)
        if bad and not pad:     # decoders that ran out of data or met corrupt data and carried on
            if not (eof and report is not None and report.allowed):
                raise InputError(f"{'truncated' if eof else 'corrupt'} raw data: the decoder reports "
                                 f"{bad[0].replace(path, '').strip(': ')!r}"
                                 + ("; develop what is there with --allow-truncated" if eof else ""), path=path)
        frame = _frame_from_rawpy(path, rp, tags)
        if bad and not pad:
            _truncation_notice(frame, f"truncated raw data: the decoder reports {bad[0].replace(path, '').strip(': ')!r}"
                               f"; developed what it filled in")
        if pad:
            _blank_missing(path, frame, np.array(rp.raw_image_visible), pad, report)
        return frame
    finally:
        rp.close()


#: what LibRaw and libjpeg print when the data end early or are corrupt (they go on, filling in)
_DECODER_TROUBLE = ("premature end", "unexpected end of file", "data corrupted")


def _padded(path: str, pad: int, fill: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read() + bytes([fill]) * pad


def _blank_missing(path: str, frame: Frame, visible: np.ndarray, pad: int, report: Any) -> None:
    """A truncated raw was decoded with 0xFF after its end. Decode it again with other fillers (0x55, 0xAA): the
    first row where they differ is the first that depends on missing bytes. The pre-flight's estimate from the
    strips/tiles present (first_missing_row) bounds it too (decoders that stop at the end give no difference).
    From that row on the frame is set to black."""
    import io

    import rawpy

    h = visible.shape[0]
    r0 = h
    everything = report.first_missing_row == 0            # nothing to compare: all rows are missing
    for fill in () if everything else (0x55, 0xAA):
        rp2 = rawpy.RawPy()
        try:
            rp2.open_buffer(io.BytesIO(_padded(path, pad, fill)))
            rp2.unpack()
            other = np.array(rp2.raw_image_visible)
        except rawpy.LibRawError:
            continue
        finally:
            rp2.close()
        if other.shape == visible.shape:
            diff = np.any((visible != other).reshape(h, -1), axis=1)
            if diff.any():
                r0 = min(r0, int(np.argmax(diff)))
    if report.first_missing_row is not None and report.main_height > 0:
        r0 = min(r0, int(report.first_missing_row * h / report.main_height))
    px = frame.pixels
    if r0 < h and px.shape[0] == h:
        m = frame.meta
        if m.kind == "raw" and m.cfa_pattern and px.ndim == 2:
            b2 = np.asarray(m.black_level, dtype=np.float32).reshape(2, 2)
            rows = np.arange(r0, h) % 2
            px[r0:] = b2[rows][:, np.arange(px.shape[1]) % 2].astype(px.dtype)
        elif m.kind == "linear_raw" and px.ndim == 3:
            px[r0:] = np.asarray(m.black_level, dtype=np.float32).reshape(-1)[:px.shape[2]].astype(px.dtype)
        else:
            px[r0:] = 0
    _truncation_notice(frame, report.truncation_message() + f"; developed what is there: rows {r0}..{h - 1} "
                       f"({100.0 * (h - r0) / max(h, 1):.0f} % of the image) are black" if r0 < h else
                       report.truncation_message() + "; the decoded pixels do not depend on the missing bytes")


def _frame_from_rawpy(path: str, rp: Any, tags: Any) -> Frame:
    import rawpy

    meta = Metadata(source=path)
    s = rp.sizes
    try:
        raw_type = rp.raw_type
    except rawpy.LibRawError as e:
        raise InputError(f"corrupt raw data ({e})", path=path) from None
    white = float(rp.white_level) if rp.white_level else 65535.0
    blacks = np.asarray(rp.black_level_per_channel, dtype=np.float64)
    desc = rp.color_desc.decode("ascii", "replace") if isinstance(rp.color_desc, bytes) else str(rp.color_desc)
    meta.orientation = tags.orientation if tags is not None else _libraw_orientation(s.flip)

    # colour
    if tags is not None:
        meta.color_matrix1, meta.color_matrix2 = tags.color_matrix1, tags.color_matrix2
        meta.forward_matrix1, meta.forward_matrix2 = tags.forward_matrix1, tags.forward_matrix2
        meta.camera_calibration1, meta.camera_calibration2 = tags.camera_calibration1, tags.camera_calibration2
        meta.illuminant1, meta.illuminant2 = tags.illuminant1, tags.illuminant2
        meta.analog_balance = tags.analog_balance
        meta.baseline_exposure = tags.baseline_exposure
        meta.noise_profile = tags.noise_profile
        meta.opcodes = dict(tags.opcodes)
        meta.xmp = tags.xmp
        if tags.as_shot_neutral is not None and tags.as_shot_neutral.size >= 3:
            n = tags.as_shot_neutral[:3]
            if np.all(np.isfinite(n)) and np.all(n > 0):
                meta.as_shot_neutral = n / n[1]
        if meta.as_shot_neutral is None and tags.as_shot_white_xy is not None:
            meta.white_xy = tags.as_shot_white_xy
        from .metadata import normalise
        meta.exif = normalise(tags.ifd0, tags.exif, tags.gps)
    if meta.color_matrix1 is None:
        m = np.asarray(rp.rgb_xyz_matrix, dtype=np.float64)[:3]
        if np.all(np.isfinite(m)) and np.any(m):
            meta.color_matrix1, meta.illuminant1 = m, 21  # LibRaw's matrices are for D65
    if meta.as_shot_neutral is None and meta.white_xy is None:
        wb = np.asarray(rp.camera_whitebalance, dtype=np.float64)[:3]
        if np.all(np.isfinite(wb)) and np.all(wb > 0):
            n = 1.0 / wb
            meta.as_shot_neutral = n / n[1]
    if not meta.exif:
        meta.exif = _exif_from_tiff(path)
    meta.make = meta.exif.get("Make", "") or (tags.ifd0.get("Make", "") if tags is not None else "")
    meta.model = meta.exif.get("Model", "") or (tags.unique_model if tags is not None else "")

    if raw_type == rawpy.RawType.Stack:     # linear raw (already demosaiced)
        img = np.array(rp.raw_image_visible)
        if img.ndim != 3 or img.shape[2] < 3:
            raise InputError(f"unexpected linear raw layout {img.shape}", path=path)
        meta.kind = "linear_raw"
        meta.black_level = blacks[:3].astype(np.float32)
        meta.white_level = white
        meta.saturation = np.ones(3, dtype=np.float32)
        return Frame(np.ascontiguousarray(img[:, :, :3]), State.RAW, meta)

    pattern = rp.raw_pattern
    colors_in = desc
    bayer = pattern is not None and pattern.shape == (2, 2) and colors_in in ("RGBG", "RGGB") and rp.num_colors == 3
    if not bayer:
        # X-Trans, 4-colour and other sensors: LibRaw demosaics, rawlux takes over from camera RGB
        return _libraw_demosaic(path, rp, meta, white, blacks)
    cols = np.array([[0, 1, 2, 1][int(v)] for v in pattern.ravel()]).reshape(2, 2)
    name = "".join("RGB"[c] for c in cols.ravel())
    if name not in BAYER_PATTERNS:
        return _libraw_demosaic(path, rp, meta, white, blacks)
    if tags is not None and tags.cfa_pattern and tags.cfa_pattern != name and s.top_margin == 0 and s.left_margin == 0:
        name = tags.cfa_pattern
    mosaic = np.array(rp.raw_image_visible)
    if mosaic.ndim != 2 or mosaic.size == 0:
        raise InputError(f"unexpected raw layout {mosaic.shape}", path=path)
    # black per CFA position
    idx = np.asarray(pattern, dtype=np.int64)
    black2 = np.array([[blacks[idx[y, x]] for x in range(2)] for y in range(2)], dtype=np.float32)
    meta.kind = "raw"
    meta.cfa_pattern = name
    meta.black_level = black2
    meta.white_level = white
    if not (white > float(black2.max()) + 1):
        raise InputError(f"white level {white:g} is not above black level {float(black2.max()):g}", path=path)
    if tags is not None:
        if tags.black_delta_h is not None and tags.black_delta_h.size == mosaic.shape[1]:
            meta.extra["black_delta_h"] = (tags.black_delta_h - tags.black_delta_h.mean()).astype(np.float32)
        if tags.black_delta_v is not None and tags.black_delta_v.size == mosaic.shape[0]:
            meta.extra["black_delta_v"] = (tags.black_delta_v - tags.black_delta_v.mean()).astype(np.float32)
        if tags.default_crop is not None:
            x, y, w, h = tags.default_crop
            if w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= mosaic.shape[1] + 0.5 and y + h <= mosaic.shape[0] + 0.5:
                crop = (int(round(x)), int(round(y)), int(round(w)), int(round(h)))
                if crop != (0, 0, mosaic.shape[1], mosaic.shape[0]):
                    meta.default_crop = crop
    cols3 = cols
    meta.saturation = _detect_saturation(mosaic, cols3, np.array([black2[cols3 == c].mean() if np.any(cols3 == c) else 0 for c in range(3)]), white,
                                         noise_profile=meta.noise_profile)
    return Frame(mosaic, State.RAW, meta)


def _libraw_demosaic(path: str, rp: Any, meta: Metadata, white: float, blacks: np.ndarray) -> Frame:
    """Non-Bayer sensors: LibRaw's own demosaic to linear camera RGB (no WB, no colour, no gamma)."""
    import rawpy

    try:
        rgb = rp.postprocess(output_color=rawpy.ColorSpace.raw, gamma=(1, 1), no_auto_bright=True,
                             use_camera_wb=False, use_auto_wb=False, user_wb=[1.0, 1.0, 1.0, 1.0],
                             output_bps=16, user_flip=0, highlight_mode=rawpy.HighlightMode.Ignore)
    except rawpy.LibRawError as e:
        raise InputError(f"LibRaw could not demosaic this sensor ({e})", path=path) from None
    meta.kind = "raw"
    meta.cfa_pattern = None
    meta.extra["libraw_demosaic"] = True
    meta.black_level = np.zeros(3, dtype=np.float32)
    meta.white_level = 65535.0
    meta.saturation = np.ones(3, dtype=np.float32)
    return Frame(rgb, State.RAW, meta)


def _exif_from_tiff(path: str) -> dict[str, Any]:
    """Normalised EXIF of a TIFF-based raw (NEF, CR2, ARW, ...); empty for other containers."""
    try:
        with open(path, "rb") as fh:
            if sniff(fh.read(8)) != "tiff":
                return {}
        import tifffile

        from .metadata import normalise
        with tifffile.TiffFile(path) as tif:
            p0 = tif.pages[0]
            ifd0 = {t.name: t.value for t in p0.tags.values() if isinstance(t.value, (str, int, float, tuple))}
            exif = p0.tags[34665].value if 34665 in p0.tags and isinstance(p0.tags[34665].value, dict) else {}
            gps = p0.tags[34853].value if 34853 in p0.tags and isinstance(p0.tags[34853].value, dict) else {}
            return normalise(ifd0, exif, gps)
    except Exception:  # noqa: BLE001 - metadata is optional; the pixels decide success
        return {}


# ----------------------------------------------------------------------------- dumps, mosaics

def _read_dump(path: str, spec: RawSpec, size: int, limit: int) -> Frame:
    _check_size(path, spec.width, spec.height, limit, "sensor dump")
    bps = 1 if spec.bits <= 8 else 2
    expected = spec.width * spec.height * bps
    if size != expected:
        raise InputError(f"file is {size} bytes but {spec.width}x{spec.height} at {spec.bits} bits "
                         f"({bps} byte{'s' if bps > 1 else ''}/sample) needs {expected}", path=path)
    dtype = np.uint8 if bps == 1 else np.dtype("<u2" if spec.endian == "le" else ">u2")
    data = np.fromfile(path, dtype=dtype, count=spec.width * spec.height).reshape(spec.height, spec.width)
    data = data.astype(np.uint16)
    white = float(2 ** spec.bits - 1)
    if int(data.max()) > white:
        raise InputError(f"values up to {int(data.max())} do not fit {spec.bits} bits "
                         f"(wrong bit depth or endianness?)", path=path)
    return _mosaic_frame(path, data, spec.pattern, spec.black, white)


def _read_mosaic_image(path: str, spec: CfaSpec, limit: int) -> Frame:
    from PIL import Image

    try:
        with Image.open(path) as im:
            _check_size(path, im.width, im.height, limit, "mosaic image")
            if im.mode not in ("I;16", "I;16B", "I;16L", "I", "L", "I;16N"):
                raise InputError(f"--cfa needs a single-channel (greyscale) image, not mode {im.mode}", path=path)
            data = np.array(im)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow raises many types for bad files
        raise InputError(f"cannot decode as an image ({type(e).__name__}: {e})", path=path) from None
    data = data.astype(np.uint16)
    if spec.white is not None:
        white = spec.white
    else:
        mx = int(data.max())
        white = float(2 ** max(8, int(np.ceil(np.log2(mx + 1)))) - 1) if mx > 0 else 255.0
    black = spec.black or 0.0
    if white <= black:
        raise InputError(f"white level {white:g} is not above black level {black:g}", path=path)
    return _mosaic_frame(path, data, spec.pattern, black, white)


def _mosaic_frame(path: str, data: np.ndarray, pattern: str, black: float, white: float) -> Frame:
    meta = Metadata(source=path, kind="raw", cfa_pattern=pattern)
    meta.black_level = np.full((2, 2), black, dtype=np.float32)
    meta.white_level = white
    cols = np.array(BAYER_PATTERNS[pattern]).reshape(2, 2)
    meta.saturation = _detect_saturation(data, cols, np.full(3, black), white)
    return Frame(np.ascontiguousarray(data), State.RAW, meta)
