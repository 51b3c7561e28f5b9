"""Grade a video with a look: decode, grade, encode in three overlapped threads (PyAV / FFmpeg's libraries).

* Video: the first video stream is decoded (FFmpeg frame/slice threads), graded on its Y'CbCr planes by one
  numba kernel (``grading.FrameGrader``, GIL released) and encoded with libx264/libx265 (8 or 10 bit);
  frame timestamps, time base, frame rate, the display matrix (rotation) and the colour tags are the source's.
* Every other stream (audio, subtitles, data, cover art) is copied packet by packet, never re-encoded.
* SDR input (BT.709 / BT.601, 8 or 10 bit, limited or full range) is graded; HDR (PQ, HLG) and BT.2020 input
  are refused with one line (:class:`~rawlux.errors.InputError`).
* The output is written to a temporary file and renamed when complete (``rawlux.io.atomic``): an input that
  breaks half-way leaves nothing behind, and the input is never written.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import InputError, OutputError, ParameterError

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
CODECS = {"h264": "libx264", "libx264": "libx264", "avc": "libx264", "hevc": "libx265", "h265": "libx265",
          "libx265": "libx265"}
#: AVColorTransferCharacteristic / AVColorPrimaries / AVColorSpace values that are not SDR BT.709/601
TRC_HDR = {16: "PQ (SMPTE ST 2084)", 18: "HLG (ARIB STD-B67)"}
PRIMARIES_WIDE = {9: "BT.2020", 11: "DCI-P3", 12: "Display P3"}
SPACES_WIDE = {9: "BT.2020 non-constant", 10: "BT.2020 constant", 14: "ICtCp"}
SPACE_601 = {5, 6}          # bt470bg, smpte170m
QUEUE = 6
_END = object()


@dataclass
class VideoInfo:
    """What rawlux needs to know about the video stream of a file (``probe``)."""

    path: str
    width: int
    height: int
    bits: int
    pix_fmt: str
    full_range: bool
    matrix: str                       # bt709 | bt601
    rate: Fraction | None
    time_base: Fraction
    frames: int                       # from the container (0 when it does not say)
    duration: float | None            # seconds
    rotation: int = 0
    display_matrix: list[int] | None = None
    tags: dict[str, int] = field(default_factory=dict)   # color_primaries, color_trc, colorspace, color_range
    codec: str = ""
    streams: int = 1
    start: float = 0.0                # the video stream's start time (seconds)


def _av_error() -> tuple[type[BaseException], ...]:
    import av
    return (av.error.FFmpegError, EOFError, UnicodeDecodeError, ValueError, IndexError)


def _open(src: str) -> Any:
    import av
    p = Path(src)
    if not p.exists():
        raise InputError("no such file", path=src)
    if p.is_dir():
        raise InputError("is a folder, not a video file", path=src)
    try:
        c = av.open(str(p), "r", timeout=30.0)
    except _av_error() as e:
        raise InputError(f"cannot read as a video ({_why(e)})", path=src) from None
    fmt = (c.format.name or "").lower()
    if fmt in ("tty", "image2") or fmt.endswith("_pipe"):
        c.close()
        raise InputError(f"is not a video file (FFmpeg reads it as {fmt!r}; photos go to `rawlux develop`)",
                         path=src)
    return c


def _why(e: BaseException) -> str:
    s = " ".join(str(getattr(e, "strerror", None) or e).split())
    return f"{type(e).__name__}: {s}" if s else type(e).__name__


def _video_stream(c: Any, src: str) -> Any:
    for s in c.streams.video:
        if not s.disposition & 0x400:           # AV_DISPOSITION_ATTACHED_PIC (cover art)
            return s
    kinds = ", ".join(sorted({s.type for s in c.streams})) or "no streams"
    raise InputError(f"has no video stream ({kinds}); rawlux video grades video", path=src)


def _first_frame(c: Any, vs: Any, src: str) -> Any:
    deadline = time.monotonic() + 20.0
    try:
        for pkt in c.demux(vs):
            for fr in pkt.decode():
                return fr
            if time.monotonic() > deadline:
                break
    except _av_error() as e:
        raise InputError(f"corrupt video data ({_why(e)})", path=src) from None
    raise InputError("no decodable video frame (corrupt or truncated file)", path=src)


def probe(src: str | os.PathLike[str]) -> VideoInfo:
    """Open ``src``, check it is an SDR video rawlux can grade, and decode its first frame (so corrupt files
    fail here, in seconds, with one line)."""
    src = str(src)
    c = _open(src)
    try:
        vs = _video_stream(c, src)
        fr = _first_frame(c, vs, src)
        fmt = fr.format
        bits = max(comp.bits for comp in fmt.components) if fmt.components else 8
        name = fmt.name
        trc, prim, space, rng = (int(fr.color_trc or vs.codec_context.color_trc or 2),
                                 int(fr.color_primaries or vs.codec_context.color_primaries or 2),
                                 int(fr.colorspace or vs.codec_context.colorspace or 2),
                                 int(fr.color_range or vs.codec_context.color_range or 0))
        if trc in TRC_HDR:
            raise InputError(f"is HDR video ({TRC_HDR[trc]} transfer); rawlux video grades SDR BT.709 only "
                             f"(convert to SDR first)", path=src)
        if prim in PRIMARIES_WIDE or space in SPACES_WIDE:
            what = PRIMARIES_WIDE.get(prim) or SPACES_WIDE.get(space)
            raise InputError(f"is wide-gamut video ({what}); rawlux video grades SDR BT.709 only", path=src)
        if bits > 10:
            raise InputError(f"has {bits}-bit samples ({name}); rawlux video grades 8- and 10-bit video", path=src)
        if fmt.name.startswith(("gray", "pal", "monob", "monow")):
            raise InputError(f"pixel format {name} is not colour video", path=src)
        full = rng == 2 or name.startswith("yuvj") or (not name.startswith("yuv") and rng != 1)
        if space == 1:
            matrix = "bt709"
        elif space in SPACE_601:
            matrix = "bt601"
        else:                                   # unspecified: what players assume
            matrix = "bt709" if fr.height >= 720 or fr.width >= 1280 else "bt601"
        dm = None
        for sd in fr.side_data:
            if "DISPLAYMATRIX" in str(getattr(sd, "type", "")):
                dm = [int(v) for v in np.frombuffer(bytes(sd), "<i4")[:9]]
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        dur = None
        if vs.duration is not None and vs.time_base is not None:
            dur = float(vs.duration * vs.time_base)
        elif vs.metadata.get("DURATION"):                    # Matroska writes one per stream
            try:
                hh, mm, ss = vs.metadata["DURATION"].split(":")
                dur = int(hh) * 3600 + int(mm) * 60 + float(ss)
            except ValueError:
                dur = None
        if dur is None and c.duration is not None:
            dur = c.duration / 1_000_000
        return VideoInfo(src, fr.width, fr.height, 10 if bits > 8 else 8, name, full, matrix,
                         Fraction(rate) if rate else None, Fraction(vs.time_base), int(vs.frames or 0), dur,
                         int(fr.rotation or 0), dm,
                         {"color_primaries": prim, "color_trc": trc, "colorspace": space, "color_range": rng},
                         vs.codec_context.name, len(c.streams),
                         float(vs.start_time * vs.time_base) if vs.start_time is not None else 0.0)
    finally:
        c.close()


def _planes(fr: Any, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of a 4:2:0 frame's three planes (strides kept, padding cut)."""
    out = []
    item = np.dtype(dtype).itemsize
    for i, pl in enumerate(fr.planes[:3]):
        w = fr.width if i == 0 else (fr.width + 1) // 2
        h = fr.height if i == 0 else (fr.height + 1) // 2
        a = np.frombuffer(pl, dtype).reshape(-1, pl.line_size // item)
        out.append(a[:h, :w])
    return out[0], out[1], out[2]


def canonical(fr: Any, info: VideoInfo) -> Any:
    """The frame as yuv420p / yuv420p10le (other layouts converted by swscale with the stream's matrix)."""
    want = "yuv420p" if info.bits == 8 else "yuv420p10le"
    if fr.format.name == want:
        return fr
    if fr.format.name == "yuvj420p" and want == "yuv420p":
        return fr                                    # same layout, full range (handled by the conversion)
    space = "ITU709" if info.matrix == "bt709" else "ITU601"
    rng = "JPEG" if info.full_range else "MPEG"
    return fr.reformat(format=want, src_colorspace=space, dst_colorspace=space, src_color_range=rng,
                       dst_color_range=rng)


def _check_out(src: str, dst: str | os.PathLike[str]) -> tuple[Path, str]:
    out = Path(dst)
    fmt = CONTAINERS.get(out.suffix.lower())
    if fmt is None:
        raise ParameterError(f"-o {out}: write a {', '.join(CONTAINERS)} file (not {out.suffix or 'no extension'!r})")
    try:
        if out.exists() and os.path.samefile(src, out):
            raise OutputError(f"refusing to write over the input {src}", path=out)
    except OSError:
        pass
    if Path(src).resolve() == out.resolve():
        raise OutputError(f"refusing to write over the input {src}", path=out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"folder {folder} does not exist", path=out)
    return out, fmt


@dataclass
class GradeResult:
    path: Path
    frames: int
    seconds: float
    look: str
    codec: str
    bits: int
    copied: list[str]                  # the streams copied without re-encoding ("#1 audio aac", ...)
    skipped: tuple[str, ...]           # look ingredients not rendered on video

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _put(q: queue.Queue, item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, stop: threading.Event) -> Any:
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return _END


def _encoder_setup(oc: Any, info: VideoInfo, codec: str, bits: int, crf: float | None, bitrate: str | int | None,
                   preset: str | None, fmt: str) -> Any:
    rate = info.rate if info.rate else Fraction(25)
    st = oc.add_stream(codec, rate=rate)
    st.width, st.height = info.width, info.height
    st.pix_fmt = "yuv420p" if bits == 8 else "yuv420p10le"
    st.time_base = info.time_base
    cc = st.codec_context
    cc.time_base = info.time_base
    cc.framerate = rate
    cc.thread_count = 0
    for k, v in info.tags.items():
        if v not in (0, 2) or k == "color_range":
            try:
                setattr(cc, k, v)
            except (AttributeError, TypeError, ValueError):    # pragma: no cover - older PyAV
                pass
    opts: dict[str, str] = {"preset": preset or "medium"}
    if bitrate is not None:
        cc.bit_rate = _bitrate(bitrate)
    else:
        opts["crf"] = f"{18 if crf is None else crf:g}"
    if codec == "libx265":
        opts["x265-params"] = "log-level=error"
        if fmt in ("mp4", "mov"):
            cc.codec_tag = "hvc1"                          # plays in Apple's players
    st.options = opts
    if info.display_matrix is not None and any(info.display_matrix):
        st.set_display_matrix(info.display_matrix)
    return st


def _bitrate(v: str | int) -> int:
    s = str(v).strip().lower()
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(s[-1:], 1)
    try:
        n = float(s[:-1] if s[-1:] in "kmg" else s) * mult
    except ValueError:
        raise ParameterError(f"--bitrate {v!r}: give bits per second, e.g. 8M or 2500k") from None
    if not 10_000 <= n <= 2_000_000_000:
        raise ParameterError(f"--bitrate {v!r} is out of range [10k, 2G]")
    return int(n)


def _check_params(codec: str, bits: int | None, crf: float | None, preset: str | None,
                  start: float | None, duration: float | None) -> str:
    enc = CODECS.get(str(codec).lower())
    if enc is None:
        raise ParameterError(f"--codec {codec!r} is not one of: h264, hevc")
    if bits not in (None, 8, 10):
        raise ParameterError(f"--bits {bits}: must be 8 or 10")
    if crf is not None and not 0 <= float(crf) <= 51:
        raise ParameterError(f"--crf {crf:g} is out of range [0, 51]")
    presets = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
               "placebo")
    if preset is not None and preset not in presets:
        raise ParameterError(f"--preset {preset!r} is not one of: {', '.join(presets)}")
    if start is not None and not (start >= 0 and np.isfinite(start)):
        raise ParameterError(f"--start {start:g} must be a time in seconds >= 0")
    if duration is not None and not (duration > 0 and np.isfinite(duration)):
        raise ParameterError(f"--duration {duration:g} must be > 0 seconds")
    return enc


def grade(src: str | os.PathLike[str], dst: str | os.PathLike[str], look: str | os.PathLike[str] | None = None, *,
          strength: float | None = None, sets: tuple[str, ...] | list[str] = (),
          cube: str | os.PathLike[str] | None = None, codec: str = "h264", crf: float | None = None,
          bitrate: str | int | None = None, preset: str | None = None, bits: int | None = None,
          start: float | None = None, duration: float | None = None, overwrite: bool = False,
          progress: Callable[[int, int], None] | None = None, lut_size: int = 33) -> GradeResult:
    """Grade the video ``src`` with ``look`` (``NAME``, ``NAME@0.5``, ``FILE.toml``; ``strength`` and ``sets``
    as for ``rawlux.develop``; ``cube``: a ``.cube`` applied after the look) into ``dst`` (.mp4/.mov/.mkv).

    ``codec`` h264|hevc, ``crf`` (default 18) or ``bitrate`` ("8M"), ``preset`` (x264/x265), ``bits`` 8|10
    (default: the source's), ``start``/``duration`` in seconds cut the clip. ``progress(done, total)`` is called
    after every frame (``total`` 0 when unknown). Returns a :class:`GradeResult`.
    """
    from .grading import build_look

    t0 = time.perf_counter()
    src = str(src)
    enc = _check_params(codec, bits, crf, preset, start, duration)
    out, fmt = _check_out(src, dst)
    if out.exists() and not overwrite:
        from ..io.atomic import EXISTS
        raise OutputError(EXISTS, path=out)
    vlook = build_look(look, strength=strength, sets=sets, cube=cube, size=lut_size)
    info = probe(src)
    if info.width % 2 or info.height % 2:
        raise InputError(f"frame size {info.width}x{info.height} is odd; H.264/HEVC 4:2:0 needs even sizes",
                         path=src)
    if start is not None and info.duration and start >= info.start + info.duration:
        raise ParameterError(f"--start {start:g} s is past the end of {src} ({info.duration:.2f} s)")
    job = _Transcode(src, info, vlook, int(bits or info.bits), start, duration, progress)
    job.run(out, fmt, overwrite,
            lambda oc: _encoder_setup(oc, info, enc, job.bits_out, crf, bitrate, preset, fmt))
    return GradeResult(out, job.count, time.perf_counter() - t0, vlook.name, enc, job.bits_out, job.copied,
                       vlook.skipped)


def _expected_frames(info: VideoInfo, start: float | None, duration: float | None, t_start: float,
                     t_end: float | None, rate: float) -> int:
    """The number of frames the cut should give, for progress (0 when the file does not say)."""
    if info.frames and start is None and duration is None:
        return info.frames
    if info.duration:
        span = (min(info.duration, t_end) if t_end is not None else info.duration) - t_start
        return max(0, int(round(span * rate)))
    return 0


class _Transcode:
    """One ``grade`` run: decode (reader thread) → grade (worker thread) → encode and mux (calling thread), with
    the cut, the queues between the threads and what the run counted."""

    def __init__(self, src: str, info: VideoInfo, vlook: Any, bits_out: int, start: float | None,
                 duration: float | None, progress: Callable[[int, int], None] | None) -> None:
        from .grading import FrameGrader, conversion

        self.src, self.info, self.start, self.progress = src, info, start, progress
        self.bits_out = bits_out
        conv = conversion(info.bits, info.full_range, bits_out, info.full_range, info.matrix)
        self.grader = FrameGrader(vlook, info.width, info.height, conv, info.bits)
        self.in_dtype = np.uint8 if info.bits == 8 else np.uint16
        self.out_dtype = np.uint8 if bits_out == 8 else np.uint16
        self.out_fmt = "yuv420p" if bits_out == 8 else "yuv420p10le"
        self.t_start = float(start or 0.0)
        self.t_end = self.t_start + float(duration) if duration is not None else None
        self.rate = float(info.rate) if info.rate else 25.0
        self.total = _expected_frames(info, start, duration, self.t_start, self.t_end, self.rate)
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.q_in: queue.Queue = queue.Queue(QUEUE)
        self.q_out: queue.Queue = queue.Queue(QUEUE)
        self.copied: list[str] = []
        self.count = 0
        self.last_end = 0.0            # end time of the last video frame encoded (seconds, source clock)
        self.ic: Any = None
        self.vs: Any = None
        self.copy: list[Any] = []      # the streams copied packet by packet
        # reader state
        self._first: float | None = None        # time of the first frame kept
        self._pending: list[Any] = []           # copied packets demuxed before the first frame came out
        self._nvid = 0

    # ------------------------------------------------------------------ the calling thread

    def run(self, out: Path, fmt: str, overwrite: bool, encoder: Callable[[Any], Any]) -> None:
        """Open the input, start the threads, encode into ``out`` (atomically) and check the result is whole."""
        import av

        from ..io.atomic import atomic_path

        self.ic = ic = _open(self.src)
        vs = self.vs = _video_stream(ic, self.src)
        vs.thread_type = "AUTO"
        vs.codec_context.thread_count = 0
        self.copy = [s for s in ic.streams if s.index != vs.index and s.type in ("audio", "subtitle", "data", "video")]
        th = [threading.Thread(target=self._reader, name="rawlux-video-decode", daemon=True),
              threading.Thread(target=self._worker, name="rawlux-video-grade", daemon=True)]
        try:
            with atomic_path(out, overwrite=overwrite, suffix=out.suffix) as tmp:
                oc = av.open(tmp, "w", format=fmt)
                try:
                    ost = encoder(oc)
                    omap = self._copy_streams(oc, out)
                    for t in th:
                        t.start()
                    self._encode(oc, ost, omap, out)
                    self.stop.set()
                    for t in th:
                        t.join()
                    if self.errors:
                        raise self.errors[0]
                    self._check_whole()
                    _mux(oc, ost.encode(None), out)
                finally:
                    self.stop.set()
                    for t in th:
                        if t.is_alive():
                            t.join()
                    try:
                        oc.close()
                    except _av_error():
                        pass
        finally:
            ic.close()

    def _copy_streams(self, oc: Any, out: Path) -> dict[int, Any]:
        """An output stream for each stream copied (input index → output stream)."""
        omap = {}
        for s in self.copy:
            try:
                omap[s.index] = oc.add_stream_from_template(s)
            except _av_error() as e:
                raise OutputError(f"cannot copy stream #{s.index} ({s.type} {s.codec_context.name}) into "
                                  f"{out.suffix} ({_why(e)}); try .mkv", path=out) from None
            self.copied.append(f"#{s.index} {s.type} {s.codec_context.name}")
        return omap

    def _encode(self, oc: Any, ost: Any, omap: dict[int, Any], out: Path) -> None:
        """Encode the graded frames and mux them with the copied packets, all moved back by the cut's start."""
        off_s = 0.0 if self.start is None else None     # seconds subtracted from every timestamp
        while True:
            item = _get(self.q_out, self.stop)
            if item is _END:
                break
            kind, obj = item
            if kind == "first":
                off_s = obj if self.start is not None else 0.0
                continue
            if kind == "v":
                pkts = self._encode_frame(ost, obj, off_s)
            else:
                if off_s is None:          # a copied packet before the first cut frame: not kept
                    continue
                pkts = [_shift(obj, off_s)]
                obj.stream = omap[obj.stream.index]
            _mux(oc, pkts, out)
            if self.errors:
                break

    def _encode_frame(self, ost: Any, fr: Any, off_s: float | None) -> Any:
        ft = float(fr.pts * fr.time_base)
        self.last_end = ft + (float(fr.duration * fr.time_base) if fr.duration else 1.0 / self.rate)
        if off_s:
            fr.pts = fr.pts - int(round(off_s / float(fr.time_base)))
        pkts = ost.encode(fr)
        self.count += 1
        if self.progress is not None:
            self.progress(self.count, max(self.total, self.count))
        return pkts

    def _check_whole(self) -> None:
        """Refuse a cut without frames and an input that ends before its container says (truncated)."""
        info, src, rate = self.info, self.src, self.rate
        if self.count == 0:
            raise InputError(f"no video frames between {self.t_start:g} s and "
                             f"{'the end' if self.t_end is None else f'{self.t_end:g} s'}", path=src)
        whole = self.start is None and self.t_end is None
        if whole and info.frames and self.count < info.frames:
            raise InputError(f"truncated: decoded {self.count} of {info.frames} frames; nothing was written",
                             path=src)
        if whole and not info.frames and info.duration and \
                self.last_end < info.start + info.duration - max(3.0 / rate, 0.1):
            raise InputError(f"truncated: video ends at {self.last_end - info.start:.2f} s of "
                             f"{info.duration:.2f} s; nothing was written", path=src)

    # ------------------------------------------------------------------ the decode thread

    def _reader(self) -> None:
        ic, vs, stop = self.ic, self.vs, self.stop
        try:
            if self.t_start > 0:
                ic.seek(int(self.t_start / vs.time_base), stream=vs, backward=True, any_frame=False)
            video_done = False
            for pkt in ic.demux([vs, *self.copy]):
                if stop.is_set():
                    return
                if pkt.stream.index == vs.index:
                    if video_done:
                        if not self.copy:
                            break
                        continue
                    video_done = self._decode(pkt)
                elif not self._pass(pkt, video_done):
                    break
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            self.errors.append(InputError(f"video data broke during decoding ({_why(e)}); nothing was written",
                                          path=self.src) if isinstance(e, _av_error()) else e)
        finally:
            _put(self.q_in, _END, stop)

    def _decode(self, pkt: Any) -> bool:
        """Queue the frames of a video packet that fall in the cut; True once past its end."""
        vs, rate, stop = self.vs, self.rate, self.stop
        for fr in pkt.decode():
            if fr.time_base is None:
                fr.time_base = vs.time_base
            if fr.pts is None:             # raw streams without timestamps: frame n at n / rate
                fr.pts = int(round(self._nvid / rate / float(fr.time_base)))
            self._nvid += 1
            t = _time(fr, vs)
            if t is None or t < self.t_start - 0.5 / rate:
                continue
            if self.t_end is not None and t >= self.t_end - 0.5 / rate:
                return True
            if self._first is None:
                self._first = t
                _put(self.q_in, ("first", t), stop)
                for held in self._pending:     # copied packets demuxed before the first frame came out
                    if (_ptime(held) or 0.0) >= t - 1e-3:
                        _put(self.q_in, ("p", held), stop)
                self._pending.clear()
            _put(self.q_in, ("v", fr), stop)
        return False

    def _pass(self, pkt: Any, video_done: bool) -> bool:
        """Queue (or hold) a packet of a copied stream if it falls in the cut; False when reading can stop."""
        if pkt.size == 0 or pkt.dts is None and pkt.pts is None:
            return True
        tp = _ptime(pkt)
        if tp is not None and (tp < self.t_start - 1e-6 and (self.start is not None)):
            return True
        if self.t_end is not None and tp is not None and tp >= self.t_end:
            return not (video_done and tp > self.t_end + 1.0)
        if self.start is not None and self._first is None:
            self._pending.append(pkt)
            return True
        _put(self.q_in, ("p", pkt), self.stop)
        return True

    # ------------------------------------------------------------------ the grade thread

    def _worker(self) -> None:
        try:
            while True:
                item = _get(self.q_in, self.stop)
                if item is _END:
                    break
                if item[0] == "v":
                    item = ("v", self._grade(item[1]))
                if not _put(self.q_out, item, self.stop):
                    break
        except BaseException as e:  # noqa: BLE001
            self.errors.append(e)
        finally:
            _put(self.q_out, _END, self.stop)

    def _grade(self, src_fr: Any) -> Any:
        """The graded frame, with the decoded frame's timing."""
        import av

        info, vs = self.info, self.vs
        fr = canonical(src_fr, info)
        t = _time(src_fr, vs) or 0.0
        idx = int(round(t * self.rate))
        ofr = av.VideoFrame(info.width, info.height, self.out_fmt)
        self.grader(_planes(fr, self.in_dtype), _planes(ofr, self.out_dtype), idx)
        ofr.pts = src_fr.pts
        ofr.time_base = src_fr.time_base or vs.time_base
        try:
            ofr.duration = src_fr.duration
        except (AttributeError, TypeError):        # pragma: no cover - older PyAV
            pass
        return ofr


def _shift(pkt: Any, off_s: float) -> Any:
    """A copied packet with ``off_s`` seconds taken off its timestamps."""
    tb = pkt.time_base
    if off_s and tb:
        d = int(round(off_s / float(tb)))
        if pkt.pts is not None:
            pkt.pts -= d
        if pkt.dts is not None:
            pkt.dts -= d
    return pkt


def _mux(oc: Any, pkts: Any, out: Path) -> None:
    try:
        for p in pkts:
            oc.mux(p)
    except _av_error() as e:
        raise OutputError(f"cannot write ({_why(e)})", path=out) from None


def _time(fr: Any, vs: Any) -> float | None:
    if fr.pts is None:
        return None
    tb = fr.time_base or vs.time_base
    return float(fr.pts * tb)


def _ptime(pkt: Any) -> float | None:
    ts = pkt.pts if pkt.pts is not None else pkt.dts
    if ts is None or pkt.time_base is None:
        return None
    return float(ts * pkt.time_base)


def decode_frame(src: str | os.PathLike[str], t: float) -> tuple[Any, VideoInfo, int]:
    """The decoded frame shown at time ``t`` (seconds) as a canonical 4:2:0 PyAV frame, the stream's info and the
    frame's index (its time × frame rate, the grain seed of the graded video)."""
    src = str(src)
    if not (t >= 0 and np.isfinite(t)):
        raise ParameterError(f"--still {t!r} must be a time in seconds >= 0")
    info = probe(src)
    rate = float(info.rate) if info.rate else 25.0
    c = _open(src)
    try:
        vs = _video_stream(c, src)
        c.seek(int(t / vs.time_base), stream=vs, backward=True, any_frame=False)
        best = None
        try:
            for fr in c.decode(vs):
                ft = _time(fr, vs)
                if ft is None:
                    continue
                if ft <= t + 0.5 / rate:
                    best = fr
                else:
                    break
        except _av_error() as e:
            raise InputError(f"corrupt video data ({_why(e)})", path=src) from None
        if best is None:
            raise InputError(f"no video frame at {t:g} s", path=src)
        ft = _time(best, vs) or 0.0
        if info.duration and t > info.duration + 1.0 / rate:
            raise ParameterError(f"--still {t:g} s is past the end of the video ({info.duration:.3f} s)")
        return canonical(best, info), info, int(round(ft * rate))
    finally:
        c.close()


def frame_rgb(fr: Any, info: VideoInfo) -> np.ndarray:
    """R'G'B' float32 of a canonical decoded frame (the conversion the grade uses)."""
    from .grading import conversion, planes_rgb
    conv = conversion(info.bits, info.full_range, info.bits, info.full_range, info.matrix)
    return planes_rgb(_planes(fr, np.uint8 if info.bits == 8 else np.uint16), conv)


def render_still(rgb: np.ndarray, look: str | os.PathLike[str] | None = None, *, strength: float | None = None,
                 sets: tuple[str, ...] | list[str] = (), cube: str | os.PathLike[str] | None = None,
                 index: int = 0, detail: bool = False, source: str | None = None) -> Any:
    """``rawlux.develop`` of an R'G'B' frame (read as sRGB-encoded, like a PNG of it) with the look, the grain of
    frame ``index``; clarity/sharpening only with ``detail=True`` (video does not render them)."""
    from ..colour import spaces
    from ..frame import Frame, Metadata, State
    from ..pipeline.run import develop
    from .grading import build_look, grain_for_frame

    vlook = build_look(look, strength=strength, sets=sets, cube=cube)
    rec = vlook.recipe
    over: dict[str, Any] = {"output": {"space": "srgb"}}
    if not detail:
        over.update({"clarity": {"enabled": False}, "sharpen": {"enabled": False}})
    if vlook.grain is not None:
        over["grain"] = {"seed": grain_for_frame(vlook.grain, index).seed}
    rec = rec.with_overrides(over)
    lin = spaces.decode(rgb, spaces.transfer_of("srgb"))
    m = spaces.rgb_to_rgb("srgb", spaces.WORKING).astype(np.float32)
    h, w = rgb.shape[:2]
    work = (lin.reshape(-1, 3) @ m.T).reshape(h, w, 3)
    meta = Metadata(source=source, kind="image")
    meta.extra["input_space"] = "srgb"
    frame = develop(Frame(np.ascontiguousarray(work, np.float32), State.SCENE_LINEAR, meta), recipe=rec)
    if vlook.cube is not None:
        px = vlook.cube.apply(np.ascontiguousarray(frame.pixels.reshape(-1, 3)))
        frame = frame.with_pixels(np.clip(px, 0.0, 1.0).reshape(frame.pixels.shape).astype(np.float32))
    return frame


def still(src: str | os.PathLike[str], t: float, dst: str | os.PathLike[str],
          look: str | os.PathLike[str] | None = None, *, strength: float | None = None,
          sets: tuple[str, ...] | list[str] = (), cube: str | os.PathLike[str] | None = None, quality: int = 92,
          bits: int = 8, overwrite: bool = False, detail: bool = False) -> Path:
    """Write the frame shown at ``t`` seconds, graded with the look as in ``grade`` (same grain), as a photo
    (JPEG/PNG/TIFF/HEIF by ``dst``'s extension, through ``rawlux.save``), upright (the display rotation applied)."""
    from ..io.encode import save
    src = str(src)
    outp = Path(dst)
    if outp.exists() and Path(src).exists() and os.path.samefile(src, outp):
        raise OutputError(f"refusing to write over the input {src}", path=outp)
    if outp.exists() and not overwrite:
        from ..io.atomic import EXISTS
        raise OutputError(EXISTS, path=outp)
    from .grading import build_look
    build_look(look, strength=strength, sets=sets, cube=cube)          # look errors before decoding
    fr, info, idx = decode_frame(src, float(t))
    frame = render_still(frame_rgb(fr, info), look, strength=strength, sets=sets, cube=cube, index=idx,
                         detail=detail)
    rot = int(info.rotation or 0) % 360
    if rot:
        k = {90: 1, 180: 2, 270: 3}.get(rot, 0)              # counter-clockwise quarter turns
        frame = frame.with_pixels(np.ascontiguousarray(np.rot90(frame.pixels, k)))
    return save(frame, outp, quality=quality, bits=bits, overwrite=overwrite)
