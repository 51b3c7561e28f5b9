"""rawlux.video: graded frames equal rawlux's still render, streams/timing/tags kept, bad input refused."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest
from _videoclips import av, de00, decoded, packets, stream_summary

import rawlux.video as rv
from rawlux.errors import InputError, OutputError, ParameterError


def _check_still_match(src, out, look, frames=(0, 12, 24), limit=1.5, sets=()):
    s, info = decoded(src)
    g, ginfo = decoded(out)
    assert len(g) == len(s)
    worst = 0.0
    for k in frames:
        ref = rv.render_still(rv.frame_rgb(s[k], info), look, sets=sets, index=k).pixels
        d = de00(rv.frame_rgb(g[k], ginfo), ref)
        worst = max(worst, d)
    assert worst <= limit, f"{look}: graded frame vs still render mean ΔE00 {worst:.2f}"
    return worst


@pytest.mark.parametrize("look", ["vivid", "cinema", "authentic", "chrome"])
def test_graded_frames_equal_still_render_and_streams_kept(clip, tmp_path, look):
    """vivid/cinema: colour only (table path); authentic: vignette; chrome: grain (per-pixel path)."""
    src = clip("src.mkv", subtitles=True)
    out = tmp_path / f"{look}.mkv"
    r = rv.grade(src, out, look=look, crf=0)            # lossless x264
    assert r.frames == 25
    d = _check_still_match(src, out, look)
    assert d > 0.0
    # every stream kept, audio and subtitles bit-identical, same duration
    assert [t[:1] for t in stream_summary(out)] == [t[:1] for t in stream_summary(src)]
    assert packets(out, "audio") == packets(src, "audio")
    assert packets(out, "subtitle") == packets(src, "subtitle")
    si, oi = rv.probe(src), rv.probe(out)
    assert oi.frames == si.frames or (oi.frames == 0 and len(decoded(out)[0]) == 25)
    assert abs(oi.duration - si.duration) < 1e-3
    assert oi.rate == si.rate


def test_metadata_kept_mp4(clip, tmp_path):
    src = clip("src.mp4", rotation=90)
    out = tmp_path / "out.mp4"
    rv.grade(src, out, look="vivid", crf=4)
    si, oi = rv.probe(src), rv.probe(out)
    assert oi.rotation == si.rotation == 90
    assert oi.display_matrix == si.display_matrix
    assert oi.tags == si.tags == {"color_primaries": 1, "color_trc": 1, "colorspace": 1, "color_range": 1}
    assert (oi.frames, oi.rate, oi.width, oi.height) == (si.frames, si.rate, si.width, si.height)
    assert abs(oi.duration - si.duration) < 1e-3
    ca, cb = av.open(str(src)), av.open(str(out))
    try:
        pa = [f.pts * f.time_base for f in ca.decode(video=0)]
        pb = [f.pts * f.time_base for f in cb.decode(video=0)]
        assert pa == pb                                   # the same presentation times, frame by frame
        assert cb.streams.audio[0].duration == ca.streams.audio[0].duration
    finally:
        ca.close()
        cb.close()
    assert packets(out, "audio") == packets(src, "audio")


def test_10bit_in_hevc_10bit_out(clip, tmp_path):
    src = clip("src10.mp4", bits=10, n=13)
    out = tmp_path / "out.mp4"
    r = rv.grade(src, out, look="vivid", codec="hevc", crf=6, preset="ultrafast")
    assert r.bits == 10
    info = rv.probe(out)
    assert info.codec == "hevc" and info.bits == 10 and info.pix_fmt == "yuv420p10le"
    _check_still_match(src, out, "vivid", frames=(0, 12))
    spatial = tmp_path / "spatial.mkv"                   # 10-bit per-pixel path with vignette and grain
    rv.grade(src, spatial, look="authentic", sets=["grain.amount=0.1"], crf=0)
    _check_still_match(src, spatial, "authentic", frames=(3,), sets=["grain.amount=0.1"])
    out8 = tmp_path / "out8.mp4"
    rv.grade(src, out8, look="fade", bits=8, crf=0)      # 10-bit source → 8-bit H.264
    assert rv.probe(out8).bits == 8
    _check_still_match(src, out8, "fade", frames=(6,))


def test_grain_changes_every_frame(clip, tmp_path):
    src = clip("static.mkv", still=True, n=6, audio=False)
    plain, grainy = tmp_path / "plain.mkv", tmp_path / "grain.mkv"
    rv.grade(src, plain, look="chrome", sets=["grain.amount=0"], crf=0)
    rv.grade(src, grainy, look="chrome", sets=["grain.amount=0.3", "grain.size=4"], crf=0)
    p = [np.asarray(f.planes[0], np.uint8).astype(np.float32) for f in decoded(plain)[0]]
    g = [np.asarray(f.planes[0], np.uint8).astype(np.float32) for f in decoded(grainy)[0]]
    assert max(float(np.abs(p[i] - p[i + 1]).mean()) for i in range(5)) < 0.5        # same input, same output
    diffs = [float(np.abs(g[i] - g[i + 1]).mean()) for i in range(5)]
    assert min(diffs) > 2.0, diffs                                                    # new grain every frame
    n = [x - x.mean() for x in (g[i] - p[i] for i in range(6))]
    corr = [float((n[i] * n[i + 1]).mean() / np.sqrt((n[i] ** 2).mean() * (n[i + 1] ** 2).mean())) for i in range(5)]
    assert max(corr) < 0.3, corr                                                      # and not the same pattern


def test_cut_start_duration(clip, tmp_path):
    src = clip("src.mp4", n=25)
    out = tmp_path / "cut.mp4"
    r = rv.grade(src, out, look="cinema", start=0.4, duration=0.4, crf=0)
    assert r.frames == 10
    g, ginfo = decoded(out)
    assert len(g) == 10
    assert abs(g[0].time) < 1e-6
    oi = rv.probe(out)
    assert abs(oi.duration - 0.4) < 0.045
    s, info = decoded(src)
    ref = rv.render_still(rv.frame_rgb(s[10], info), "cinema", index=10).pixels
    assert de00(rv.frame_rgb(g[0], ginfo), ref) <= 1.5          # the first kept frame is source frame 10
    c = av.open(str(out))
    try:
        a = c.streams.audio[0]
        adur = float(a.duration * a.time_base)
    finally:
        c.close()
    assert abs(adur - 0.4) < 0.05


def test_still_export_matches_video_frame(clip, tmp_path):
    src = clip("src.mp4", rotation=0)
    out = tmp_path / "v.mkv"
    rv.grade(src, out, look="authentic", crf=0)
    jpg = rv.still(src, 0.48, tmp_path / "s.png", look="authentic")
    import cv2
    im = cv2.imread(str(jpg), cv2.IMREAD_UNCHANGED)[..., ::-1].astype(np.float32) / 255.0
    g, ginfo = decoded(out)
    assert im.shape[:2] == (240, 320)
    assert de00(rv.frame_rgb(g[12], ginfo), im) <= 1.5
    with pytest.raises(OutputError):
        rv.still(src, 0.48, jpg, look="authentic")                         # exists, no overwrite


def test_still_is_upright(clip, tmp_path):
    src = clip("rot.mp4", rotation=90, n=5, audio=False)
    p = rv.still(src, 0.0, tmp_path / "r.png", look="natural")
    import cv2
    assert cv2.imread(str(p)).shape[:2] == (320, 240)


@pytest.mark.parametrize("trc,prim,space,what", [(16, 9, 9, "HDR"), (18, 9, 9, "HDR"), (1, 9, 9, "wide-gamut")])
def test_hdr_and_bt2020_refused(clip, tmp_path, trc, prim, space, what):
    src = clip("hdr.mp4", bits=10, n=3, audio=False, trc=trc, primaries=prim, space=space)
    t = time.perf_counter()
    with pytest.raises(InputError, match=what):
        rv.grade(src, tmp_path / "o.mp4", look="vivid")
    assert time.perf_counter() - t < 10
    assert not (tmp_path / "o.mp4").exists()


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_bad_inputs_one_line_fast(clip, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(40000))
    audio = clip("audio.m4a", video=False)
    good = clip("good.mp4", n=25, faststart=True)
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(good.read_bytes()[: int(good.stat().st_size * 0.6)])
    mkv = clip("good.mkv", n=25)
    trunc_mkv = tmp_path / "trunc.mkv"
    trunc_mkv.write_bytes(mkv.read_bytes()[: int(mkv.stat().st_size * 0.6)])
    text = tmp_path / "notes.mp4"
    text.write_text("hello, this is not a video\n" * 20)
    cases = [(junk, None), (audio, "no video stream"), (trunc, "truncated"), (trunc_mkv, "truncated"),
             (text, None), (tmp_path / "missing.mp4", "no such file"), (tmp_path, "folder")]
    for src, match in cases:
        out = tmp_path / "out.mp4"
        t = time.perf_counter()
        with pytest.raises(InputError) as ei:
            rv.grade(src, out, look="vivid")
        msg = str(ei.value)
        assert "\n" not in msg and str(src) in msg, msg
        if match:
            assert match in msg, msg
        assert time.perf_counter() - t < 10, src
        assert not out.exists()
        assert _leftovers(tmp_path) == [], _leftovers(tmp_path)


def test_outputs_refused(clip, tmp_path):
    src = clip("src.mp4", n=5, audio=False)
    with pytest.raises(OutputError, match="input"):
        rv.grade(src, src, look="vivid", overwrite=True)
    with pytest.raises(ParameterError):
        rv.grade(src, tmp_path / "o.avi", look="vivid")
    with pytest.raises(ParameterError):
        rv.grade(src, tmp_path / "o.mp4", look="vivid", codec="vp9")
    with pytest.raises(ParameterError):
        rv.grade(src, tmp_path / "o.mp4", look="vivid", bits=12)
    with pytest.raises(ParameterError):
        rv.grade(src, tmp_path / "o.mp4", look="vivid", sets=["curve.nope=1"])
    with pytest.raises(ParameterError, match="past the end"):
        rv.grade(src, tmp_path / "o.mp4", look="vivid", start=10)
    (tmp_path / "o.mp4").write_bytes(b"keep")
    with pytest.raises(OutputError, match="exists"):
        rv.grade(src, tmp_path / "o.mp4", look="vivid")
    assert (tmp_path / "o.mp4").read_bytes() == b"keep"


def test_cube_and_strength(clip, tmp_path):
    """A bare .cube (the look's own export, --source image) grades like the look; strength 0 is the identity."""
    from rawlux.looks.bake import export_cube
    src = clip("src.mp4", n=5, audio=False)
    cube = tmp_path / "v.cube"
    export_cube("vivid", cube, 33, "srgb", "image")
    a, b, z = tmp_path / "a.mkv", tmp_path / "b.mkv", tmp_path / "z.mkv"
    rv.grade(src, a, look="vivid", crf=0)
    rv.grade(src, b, cube=cube, crf=0)
    rv.grade(src, z, look="vivid", strength=0.0, crf=0)
    ga, info = decoded(a)
    gb, _ = decoded(b)
    gz, _ = decoded(z)
    s, _ = decoded(src)
    assert de00(rv.frame_rgb(ga[2], info), rv.frame_rgb(gb[2], info)) < 0.6
    assert de00(rv.frame_rgb(gz[2], info), rv.frame_rgb(s[2], info)) < 0.3


def test_conversion_matches_swscale(clip):
    """rawlux's Y'CbCr → R'G'B' (BT.709, limited range) agrees with FFmpeg's swscale."""
    src = clip("src.mp4", n=2, audio=False)
    frames, info = decoded(src)
    ours = rv.frame_rgb(frames[0], info)
    theirs = frames[0].to_ndarray(format="rgb24", src_colorspace="ITU709", dst_colorspace="ITU709")
    theirs = theirs.astype(np.float32) / 255
    assert de00(ours, theirs) < 1.0


def test_corruption_mid_file_leaves_no_output(clip, tmp_path):
    """Random bytes over the middle of the video data: one clear line and no output (or, where the decoder
    conceals the damage, a complete output); never a partial file, never a hang."""
    good = clip("good.mp4", n=25, faststart=True)
    data = bytearray(good.read_bytes())
    i = len(data) // 2
    data[i:i + 3000] = np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    t = time.perf_counter()
    try:
        r = rv.grade(bad, out, look="vivid")
    except InputError as e:
        assert "\n" not in str(e) and str(bad) in str(e)
        assert not out.exists()
    else:
        assert r.frames == 25 and out.exists()
    assert time.perf_counter() - t < 20
    assert _leftovers(tmp_path) == []
