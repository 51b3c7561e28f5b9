"""`rawlux video` (the click command in rawlux.video.cli): outputs, one-line errors, exit codes."""
from __future__ import annotations

import os

from click.testing import CliRunner

from rawlux.video.cli import video


def run(*args):
    r = CliRunner().invoke(video, [str(a) for a in args])
    return r.exit_code, r.output


def test_cli_grade_still_and_exit_codes(clip, tmp_path):
    src = clip("in.mp4", n=10)
    code, out = run(src, "-o", tmp_path / "o.mp4", "--look", "vivid@0.5", "--crf", "20", "--preset", "ultrafast")
    assert code == 0, out
    assert (tmp_path / "o.mp4").is_file() and "10 frames" in out and "audio aac" in out
    code, out = run(src, "--look", "cinema", "--start", "0.2", "--duration", "0.2")
    assert code == 0, out
    assert (tmp_path / "in-cinema.mp4").is_file()                    # default name beside the input
    code, out = run(src, "-o", tmp_path / "s.jpg", "--look", "chrome", "--still", "0.2")
    assert code == 0 and (tmp_path / "s.jpg").stat().st_size > 1000, out
    code, out = run(src, "-o", tmp_path / "o.mp4")                   # exists
    assert code == 4 and "exists" in out
    junk = tmp_path / "junk.mov"
    junk.write_bytes(os.urandom(5000))
    code, out = run(junk, "-o", tmp_path / "j.mp4")
    assert code == 3 and len(out.strip().splitlines()) == 1 and "junk.mov" in out
    code, out = run(src, "-o", tmp_path / "b.mp4", "--look", "no-such-look")
    assert code == 2 and "unknown look" in out
    code, out = run(src, "-o", tmp_path / "b.mp4", "--set", "curve.contrast=99")
    assert code == 2 and "curve.contrast" in out
    code, out = run(src, "-o", tmp_path / "b.jpg", "--still", "0.1", "--crf", "3")
    assert code == 2
    assert not (tmp_path / "b.mp4").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_registered_in_rawlux_cli(clip, tmp_path):
    from rawlux.cli import main
    src = clip("in.mp4", n=5, audio=False)
    assert main(["video", str(src), "-o", str(tmp_path / "o.mkv"), "--look", "fade", "--preset", "ultrafast"]) == 0
    assert (tmp_path / "o.mkv").is_file()
    assert main(["video", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "x.mp4")]) == 3
