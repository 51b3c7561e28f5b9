"""Helpers of the rawlux.video tests: clips made at test time with PyAV (small: 320×240, about 1 s), ΔE00."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

SRT = """1
00:00:00,100 --> 00:00:00,500
first line

2
00:00:00,600 --> 00:00:00,900
second line
"""


def photo_frames(w: int, h: int, n: int, still: bool = False) -> list[np.ndarray]:
    """A real photograph (scikit-image's astronaut) panned across the frame: natural colour and detail."""
    from skimage import data
    img = data.astronaut()
    out = []
    for i in range(n):
        x0, y0 = (0, 0) if still else ((i * 7) % (512 - w), (i * 3) % (512 - h))
        out.append(np.ascontiguousarray(img[y0:y0 + h, x0:x0 + w]))
    return out


def make_clip(path: Path, *, w: int = 320, h: int = 240, n: int = 25, fps: int = 25, bits: int = 8,
              codec: str = "libx264", crf: int = 12, audio: bool = True, rotation: int = 0, trc: int = 1,
              primaries: int = 1, space: int = 1, subtitles: bool = False, still: bool = False,
              video: bool = True, faststart: bool = False) -> Path:
    """Write a test clip: a panned photo (or the same frame ``still``), a 440 Hz sine in AAC, optional SRT
    subtitles copied in from a .srt file, the given colour tags and display rotation."""
    opts = {"movflags": "+faststart"} if faststart else {}
    c = av.open(str(path), "w", options=opts)
    v = None
    if video:
        v = c.add_stream(codec, rate=fps)
        v.width, v.height = w, h
        v.pix_fmt = "yuv420p" if bits == 8 else "yuv420p10le"
        cc = v.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = primaries, trc, space, 1
        v.options = {"crf": str(crf), "preset": "ultrafast"} | ({"x265-params": "log-level=error"}
                                                               if codec == "libx265" else {})
        if rotation:
            v.set_display_rotation(rotation)
    a = None
    if audio:
        a = c.add_stream("aac", rate=48000)
        a.layout = "stereo"
    sub_in = sub_st = None
    if subtitles:
        srt = path.with_suffix(".srt")
        srt.write_text(SRT)
        sub_in = av.open(str(srt))
        sub_st = c.add_stream_from_template(sub_in.streams[0])
    if v is not None:
        for i, img in enumerate(photo_frames(w, h, n, still)):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            f = f.reformat(format=v.pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG")
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
    if a is not None:
        sr = 48000
        t = np.arange(int(sr * n / fps)) / sr
        s = (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
        for k in range(0, len(s), 1024):
            ch = s[k:k + 1024]
            af = av.AudioFrame.from_ndarray(np.stack([ch, ch]), format="fltp", layout="stereo")
            af.sample_rate, af.pts = sr, k
            for p in a.encode(af):
                c.mux(p)
        for p in a.encode():
            c.mux(p)
    if sub_in is not None:
        for p in sub_in.demux():
            if p.size:
                p.stream = sub_st
                c.mux(p)
        sub_in.close()
    c.close()
    return path


def packets(path: Path, kind: str) -> list[tuple[int | None, bytes]]:
    """(pts, payload) of every packet of the streams of ``kind``, in order."""
    c = av.open(str(path))
    try:
        return [(p.pts, bytes(p)) for p in c.demux(*[s for s in c.streams if s.type == kind]) if p.size]
    finally:
        c.close()


def decoded(path: Path) -> list:
    from rawlux.video.transcode import canonical, probe
    info = probe(path)
    c = av.open(str(path))
    try:
        return [canonical(f, info) for f in c.decode(video=0)], info
    finally:
        c.close()


def lab(enc: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
        return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.clip(enc, 0, 1)))


def de00(a: np.ndarray, b: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
        return float(colour.delta_E(lab(a), lab(b), method="CIE 2000").mean())


def stream_summary(path: Path) -> list[tuple]:
    c = av.open(str(path))
    try:
        out = []
        for s in c.streams:
            dur = float(s.duration * s.time_base) if s.duration is not None else None
            out.append((s.type, s.codec_context.name, dur))
        return out
    finally:
        c.close()

