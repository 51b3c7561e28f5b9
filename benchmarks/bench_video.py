"""Looks on video: the grade alone, and the whole transcode against ffmpeg's lut3d pipeline.

    NUMBA_NUM_THREADS=2 python benchmarks/bench_video.py [--seconds 4] [--look vivid] [--preset medium] [--repeat 2]

1. Makes its own clip with PyAV (no ffmpeg binary): FFmpeg's ``testsrc2`` pattern (moving) at 1920×1080, 30 fps,
   BT.709 tags, H.264 crf 16, plus a 440 Hz sine as AAC.
2. Grade alone: every frame decoded into memory first, then graded (8-bit: one table lookup per pixel, with the
   vignette/grain of looks that have them computed around it). Frames per second by the wall clock and by CPU
   time (CPU seconds spread over 2 cores: what an unshared 2-core machine would give; the wall figure suffers
   whatever else runs).
3. Whole transcode, same encoder settings (libx264, crf 18, ``--preset``, audio copied), in the same run,
   alternated ``--repeat`` times (best of each): ``rawlux.video.grade`` against
   ``ffmpeg -i clip -vf lut3d=<the look's cube, exported with --source image> -c:v libx264 -crf 18 -preset P
   -c:a copy``.
   Also the mean ΔE00 between the two outputs' middle frames (how closely ffmpeg's cube render matches), and the
   issue's acceptance checks (streams, frame count, duration, audio packets, graded frame vs still render).
The ffmpeg binary is only used here, as the reference; rawlux itself never runs it.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]


def make_clip(path: Path, seconds: float, w: int = 1920, h: int = 1080, fps: int = 30) -> None:
    import av
    src = av.open(f"testsrc2=size={w}x{h}:rate={fps}:duration={seconds}", format="lavfi")
    out = av.open(str(path), "w")
    v = out.add_stream("libx264", rate=fps)
    v.width, v.height, v.pix_fmt = w, h, "yuv420p"
    cc = v.codec_context
    cc.color_primaries = cc.color_trc = cc.colorspace = 1
    cc.color_range = 1
    v.options = {"crf": "16", "preset": "veryfast"}
    a = out.add_stream("aac", rate=48000)
    a.layout = "stereo"
    for fr in src.decode(video=0):
        fr = fr.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
        for p in v.encode(fr):
            out.mux(p)
    for p in v.encode():
        out.mux(p)
    sr = 48000
    t = np.arange(int(sr * seconds)) / sr
    s = (0.25 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    for k in range(0, len(s), 1024):
        ch = s[k:k + 1024]
        af = av.AudioFrame.from_ndarray(np.stack([ch, ch]), format="fltp", layout="stereo")
        af.sample_rate, af.pts = sr, k
        for p in a.encode(af):
            out.mux(p)
    for p in a.encode():
        out.mux(p)
    out.close()
    src.close()


def grade_alone(clip: Path, look: str, bits: int = 8, limit: int = 0) -> tuple[int, float, float, str]:
    import av

    from rawlux.video.grading import FrameGrader, build_look, conversion
    from rawlux.video.transcode import _planes, canonical, probe

    info = probe(clip)
    c = av.open(str(clip))
    frames = [canonical(f, info) for f in c.decode(video=0)]
    c.close()
    if limit:
        frames = frames[:limit]
    fmt, dt = "yuv420p", np.uint8
    if bits == 10:                     # the same pictures as 10-bit frames (swscale), graded to 10-bit
        fmt, dt = "yuv420p10le", np.uint16
        frames = [f.reformat(format=fmt, src_colorspace="ITU709", dst_colorspace="ITU709") for f in frames]
    vl = build_look(look)
    conv = conversion(bits, info.full_range, bits, info.full_range, info.matrix)
    g = FrameGrader(vl, info.width, info.height, conv, bits)
    outs = [av.VideoFrame(info.width, info.height, fmt) for _ in range(2)]
    g(_planes(frames[0], dt), _planes(outs[0], dt), 0)          # compile + table, not timed
    t0, c0 = time.perf_counter(), time.process_time()
    for i, f in enumerate(frames):
        g(_planes(f, dt), _planes(outs[i % 2], dt), i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    spatial = ", ".join(k for k in ("vignette", "grain") if getattr(vl, k) is not None)
    path = ("table" if g.table is not None else "tetrahedral LUT per pixel") + (f" + {spatial}" if spatial else "")
    return len(frames), wall, cpu, path


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_ffmpeg(ff: str, clip: Path, cube: Path | None, out: Path, preset: str) -> tuple[float, float]:
    vf = ["-vf", f"lut3d=file={cube}:interp=tetrahedral"] if cube is not None else []
    cmd = [ff, "-v", "error", "-y", "-i", str(clip), *vf,
           "-c:v", "libx264", "-crf", "18", "-preset", preset, "-pix_fmt", "yuv420p", "-c:a", "copy", str(out)]
    c0, t0 = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0, children_cpu() - c0


def run_rawlux(clip: Path, look: str, out: Path, preset: str) -> tuple[float, float]:
    import rawlux.video as rv
    c0, t0 = time.process_time(), time.perf_counter()
    rv.grade(clip, out, look=look, crf=18, preset=preset, overwrite=True)
    return time.perf_counter() - t0, time.process_time() - c0


def mid_frame_de(a: Path, b: Path) -> float:
    import av
    import colour

    def mid(p: Path) -> np.ndarray:
        c = av.open(str(p))
        fs = [f for f in c.decode(video=0)]
        c.close()
        f = fs[len(fs) // 2]
        return f.to_ndarray(format="rgb24", dst_colorspace="ITU709").astype(np.float64) / 255.0

    la, lb = (colour.XYZ_to_Lab(colour.sRGB_to_XYZ(mid(p))) for p in (a, b))
    return float(colour.delta_E(la, lb, method="CIE 2000").mean())


def acceptance(clip: Path, out: Path, look: str) -> None:
    """The issue's acceptance checks on the 1080p clip: streams, frame count, duration, audio packets, and the
    middle frame of the graded clip (crf 18) against rawlux's still render of the decoded source frame."""
    import av
    import colour

    import rawlux.video as rv
    from rawlux.video.transcode import canonical

    si, oi = rv.probe(clip), rv.probe(out)

    def kinds(p: Path) -> list[str]:
        with av.open(str(p)) as c:
            return [f"{s.type}/{s.codec_context.name}" for s in c.streams]

    def audio(p: Path) -> list[bytes]:
        with av.open(str(p)) as c:
            return [bytes(k) for k in c.demux(c.streams.audio[0]) if k.size]

    def frames(p: Path, info) -> list:
        with av.open(str(p)) as c:
            return [canonical(f, info) for f in c.decode(video=0)]

    fs, fo = frames(clip, si), frames(out, oi)
    k = len(fs) // 2
    ref = rv.render_still(rv.frame_rgb(fs[k], si), look, index=k).pixels
    got = rv.frame_rgb(fo[k], oi)
    lab = [colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.clip(x, 0, 1))) for x in (got, ref)]
    de = float(colour.delta_E(lab[0], lab[1], method="CIE 2000").mean())
    print(f"acceptance: streams {kinds(clip)} -> {kinds(out)}; frames {len(fs)} -> {len(fo)}; "
          f"duration {si.duration:.3f} -> {oi.duration:.3f} s; audio packets identical: {audio(clip) == audio(out)}; "
          f"middle frame vs still render (after x264 crf 18): mean ΔE00 {de:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--look", default="vivid", help="colour-only look for the transcode comparison")
    ap.add_argument("--spatial", default="authentic,chrome", help="looks with vignette/grain (grade alone)")
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    ff = shutil.which("ffmpeg")
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        clip = d / "clip.mp4"
        t0 = time.perf_counter()
        make_clip(clip, a.seconds)
        print(f"clip: 1920x1080 30 fps {a.seconds:g} s testsrc2 + sine AAC, made in {time.perf_counter() - t0:.1f} s")

        print("\n| grade alone (1080p) | path | frames | fps (wall) | fps (CPU, 2 cores) |")
        print("|---|---|---:|---:|---:|")
        for look in [a.look, *[s for s in a.spatial.split(",") if s]]:
            n, wall, cpu, path = grade_alone(clip, look)
            print(f"| {look}, 8-bit | {path} | {n} | {n / wall:.0f} | {n / (cpu / 2):.0f} |")
        n, wall, cpu, path = grade_alone(clip, a.look, bits=10, limit=30)
        print(f"| {a.look}, 10-bit | {path} | {n} | {n / wall:.0f} | {n / (cpu / 2):.0f} |")

        if ff is None:
            print("\n(no ffmpeg binary on PATH: transcode comparison skipped)")
            return 0
        from rawlux.looks.bake import export_cube
        cube = d / f"{a.look}.cube"
        export_cube(a.look, cube, 33, "srgb", "image")
        rawlux_out, ff_out = d / "rawlux.mp4", d / "ffmpeg.mp4"
        run_rawlux(clip, a.look, rawlux_out, "ultrafast")                      # warm: numba, table
        best = {"ffmpeg": (1e9, 0.0), "rawlux": (1e9, 0.0), "plain": (1e9, 0.0)}
        for _ in range(max(1, a.repeat)):
            best["ffmpeg"] = min(best["ffmpeg"], run_ffmpeg(ff, clip, cube, ff_out, a.preset))
            best["rawlux"] = min(best["rawlux"], run_rawlux(clip, a.look, rawlux_out, a.preset))
            best["plain"] = min(best["plain"], run_ffmpeg(ff, clip, None, d / "plain.mp4", a.preset))
        n = int(round(a.seconds * 30))
        ver = subprocess.run([ff, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
        print(f"\n| whole transcode ({a.look}, libx264 crf 18 preset {a.preset}, audio copied) | wall s | "
              f"fps | CPU s | × ffmpeg (wall) | × ffmpeg (CPU) |")
        print("|---|---:|---:|---:|---:|---:|")
        fw, fc = best["ffmpeg"]
        for k, label in (("ffmpeg", f"ffmpeg -vf lut3d ({ver.split(' Copyright')[0]})"),
                         ("rawlux", "rawlux video"),
                         ("plain", "(ffmpeg re-encode without the filter, for scale)")):
            w, c = best[k]
            print(f"| {label} | {w:.2f} | {n / w:.1f} | {c:.2f} | {w / fw:.2f} | {c / fc:.2f} |")
        print(f"\nmean ΔE00 between the two outputs' middle frames: {mid_frame_de(rawlux_out, ff_out):.2f}")
        acceptance(clip, rawlux_out, a.look)
    return 0


if __name__ == "__main__":
    sys.exit(main())
