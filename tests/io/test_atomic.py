"""rawlux.io.atomic: one temporary-file-then-rename writer for every output.

* a new file gets the usual permissions (0o666 less the umask), not mkstemp's 0600, also from the DNG writer
  and the calibration profile;
* overwrite=False refuses an existing target and leaves it byte-identical;
* an exception inside the ``with`` leaves neither a temporary file nor an output;
* a folder that cannot be written gives one OutputError naming the target.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from rawlux.errors import OutputError
from rawlux.io import atomic
from rawlux.io.atomic import EXISTS, atomic_path, file_mode, write_bytes, write_text


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.fixture
def umask_022():
    """Run with umask 022 (the module reads the umask once, at import: patch its copy too)."""
    old = os.umask(0o022)
    saved = atomic._UMASK
    atomic._UMASK = 0o022
    try:
        yield 0o644
    finally:
        atomic._UMASK = saved
        os.umask(old)


# ----------------------------------------------------------------------------- permissions

def test_write_bytes_and_text_follow_the_umask(tmp_path, umask_022):
    assert file_mode() == umask_022
    b = write_bytes(tmp_path / "a.bin", b"\x00\x01\x02")
    t = write_text(tmp_path / "a.txt", "grüße\n")
    assert b.read_bytes() == b"\x00\x01\x02" and t.read_text(encoding="utf-8") == "grüße\n"
    assert _mode(b) == _mode(t) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "a.txt"]


def test_atomic_path_follows_the_umask_and_replaces(tmp_path, umask_022):
    out = tmp_path / "x.dat"
    out.write_bytes(b"old")
    os.chmod(out, 0o600)
    with atomic_path(out) as tmp:
        assert Path(tmp).parent == tmp_path and Path(tmp).name.startswith(".x.dat.") and tmp.endswith(".part")
        assert out.read_bytes() == b"old"           # the target is untouched until the block ends
        Path(tmp).write_bytes(b"new")
    assert out.read_bytes() == b"new" and _mode(out) == 0o644
    assert os.listdir(tmp_path) == ["x.dat"]


def test_dng_writer_output_follows_the_umask(tmp_path, umask_022):
    from rawlux.frame import Metadata
    from rawlux.io.dngwrite import write_dng

    meta = Metadata(kind="raw", make="Test", model="Cam", cfa_pattern="RGGB",
                    black_level=np.full((2, 2), 64.0), white_level=4095.0,
                    as_shot_neutral=np.array([0.5, 1.0, 0.6]),
                    color_matrix1=np.array([[0.9, -0.3, -0.1], [-0.4, 1.2, 0.2], [-0.1, 0.2, 0.6]]),
                    illuminant1=21)
    mosaic = np.random.default_rng(1).integers(64, 4095, (16, 24)).astype(np.uint16)
    out = write_dng(tmp_path / "x.dng", mosaic, meta)
    assert out.read_bytes()[:4] in (b"II*\x00", b"MM\x00*") and _mode(out) == 0o644
    assert os.listdir(tmp_path) == ["x.dng"]
    with pytest.raises(OutputError, match="exists"):
        write_dng(out, mosaic, meta, overwrite=False)


def test_calibration_profile_follows_the_umask(tmp_path, umask_022):
    from rawlux.colour import calibrate as cal

    cam = np.random.default_rng(2).uniform(0.05, 0.9, (24, 3))
    res = cal.fit_profile(cam, table=False)
    out = res.write(tmp_path / "cam.toml", name="cam")
    assert "color_matrix" in out.read_text(encoding="utf-8") and _mode(out) == 0o644
    assert os.listdir(tmp_path) == ["cam.toml"]


# ----------------------------------------------------------------------------- no clobbering

def test_no_overwrite_refuses_and_keeps_the_file(tmp_path):
    out = tmp_path / "keep.txt"
    out.write_bytes(b"precious\x00bytes")
    with pytest.raises(OutputError, match="exists") as ei:
        write_bytes(out, b"other", overwrite=False)
    assert str(out) in str(ei.value) and EXISTS in str(ei.value)
    assert out.read_bytes() == b"precious\x00bytes" and os.listdir(tmp_path) == ["keep.txt"]


def test_no_overwrite_refuses_a_file_that_appears_meanwhile(tmp_path):
    out = tmp_path / "race.txt"
    with pytest.raises(OutputError, match="exists"):
        with atomic_path(out, overwrite=False) as tmp:
            Path(tmp).write_bytes(b"mine")
            out.write_bytes(b"someone else's")
    assert out.read_bytes() == b"someone else's" and os.listdir(tmp_path) == ["race.txt"]


def test_no_overwrite_writes_a_new_file(tmp_path):
    out = write_text(tmp_path / "new.txt", "hello", overwrite=False)
    assert out.read_text() == "hello" and os.listdir(tmp_path) == ["new.txt"]


def test_custom_exists_message(tmp_path):
    out = tmp_path / "k"
    out.write_bytes(b"k")
    with pytest.raises(OutputError, match="pass overwrite=True"):
        write_bytes(out, b"x", overwrite=False, exists="exists (pass overwrite=True to replace it)")


# ----------------------------------------------------------------------------- failures leave nothing

class Boom(Exception):
    pass


@pytest.mark.parametrize("overwrite", [True, False])
def test_exception_inside_leaves_no_temp_and_no_output(tmp_path, overwrite):
    out = tmp_path / "x.png"
    seen = []
    with pytest.raises(Boom):
        with atomic_path(out, overwrite=overwrite) as tmp:
            seen.append(tmp)
            Path(tmp).write_bytes(b"half a file")
            raise Boom()
    assert seen and not os.path.exists(seen[0])
    assert os.listdir(tmp_path) == []


def test_exception_inside_keeps_the_previous_version(tmp_path):
    out = tmp_path / "x.txt"
    out.write_bytes(b"previous")
    with pytest.raises(Boom):
        with atomic_path(out) as tmp:
            Path(tmp).write_bytes(b"half")
            raise Boom()
    assert out.read_bytes() == b"previous" and os.listdir(tmp_path) == ["x.txt"]


def test_oserror_inside_becomes_output_error(tmp_path):
    import errno

    out = tmp_path / "full.bin"
    with pytest.raises(OutputError) as ei:
        with atomic_path(out):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    msg = str(ei.value)
    assert str(out) in msg and "cannot write" in msg and "full" in msg and "\n" not in msg
    assert os.listdir(tmp_path) == []


def test_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("this process may write into a 0o555 folder (running as root)")
        out = ro / "x.txt"
        with pytest.raises(OutputError) as ei:
            write_text(out, "hello")
        msg = str(ei.value)
        assert str(out) in msg and "not writable" in msg, msg
        assert ei.value.path == str(out)
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)


def test_missing_folder(tmp_path):
    out = tmp_path / "nope" / "x.txt"
    with pytest.raises(OutputError) as ei:
        write_bytes(out, b"x")
    assert str(out) in str(ei.value)


def test_long_name_fits(tmp_path):
    out = tmp_path / ("n" * 250 + ".txt")
    write_text(out, "ok")
    assert out.read_text() == "ok" and os.listdir(tmp_path) == [out.name]


def test_unwritable_folder_simulated(tmp_path, monkeypatch):
    """The same, where the process may write anywhere (root): mkstemp fails like the OS would."""
    import errno
    import tempfile

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    out = tmp_path / "x.txt"
    with pytest.raises(OutputError) as ei:
        write_text(out, "hello")
    msg = str(ei.value)
    assert str(out) in msg and os.strerror(errno.EACCES) in msg and "not writable" in msg, msg
    assert os.listdir(tmp_path) == []
