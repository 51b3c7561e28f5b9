"""Output safety: a user's files are never clobbered or damaged.

* an existing target is never replaced without ``--overwrite`` (also when it appears while the photo is being
  encoded: the final step is a hard link, which fails on an existing name);
* an output path equal to an input (the same path, a symlink, a hard link, ``dir/../name``) is refused;
* a folder that cannot be written (EACCES, EROFS) or a full disk (ENOSPC) at any step of the write ends in one
  clear OutputError (CLI exit 4) and leaves no partial or temporary file, and a file being replaced survives
  intact. Simulated by raising the real errno at each step, and (where this process may mount) on a real
  read-only and a real full tmpfs.
"""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import rawlux
from rawlux.cli import main
from rawlux.errors import OutputError


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    from PIL import Image

    p = tmp_path_factory.mktemp("src") / "photo.png"
    rng = np.random.default_rng(5)
    Image.fromarray((rng.random((96, 128, 3)) * 255).astype(np.uint8)).save(p)
    return p


@pytest.fixture(scope="module")
def developed(photo):
    return rawlux.develop(photo)


def cli(capsys, *args) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    return code, err


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# ----------------------------------------------------------------------------- no clobbering

def test_existing_target_kept_without_overwrite(photo, tmp_path, capsys):
    out = tmp_path / "photo.jpg"
    out.write_bytes(b"a precious file")
    code, err = cli(capsys, "develop", photo, "-o", out)
    assert code == 4 and len(err) == 1 and "exists" in err[0] and str(out) in err[0], err
    code, err = cli(capsys, "develop", photo, "--out-dir", tmp_path)
    assert code == 4 and "exists" in err[0], err
    assert out.read_bytes() == b"a precious file" and listing(tmp_path) == ["photo.jpg"]
    code, err = cli(capsys, "develop", photo, "-o", out, "--overwrite", "-q")
    assert code == 0 and out.read_bytes()[:3] == b"\xff\xd8\xff"


def test_target_appearing_during_encoding_is_not_clobbered(developed, tmp_path, monkeypatch):
    """overwrite=False is atomic: a file created between the existence check and the final rename survives."""
    import rawlux.io.encode as enc

    out = tmp_path / "x.png"
    real = enc._write

    def racing(*a, **k):
        real(*a, **k)
        out.write_bytes(b"written by someone else meanwhile")
    monkeypatch.setattr(enc, "_write", racing)
    with pytest.raises(OutputError, match="exists"):
        rawlux.save(developed, out, overwrite=False)
    assert out.read_bytes() == b"written by someone else meanwhile" and listing(tmp_path) == ["x.png"]


def test_no_clobber_without_hard_links(developed, tmp_path, monkeypatch):
    """On a file system without hard links the check-then-rename path still writes, and still refuses."""
    import rawlux.io.atomic as atomic

    def nolink(*a, **k):
        raise OSError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(atomic.os, "link", nolink)
    out = tmp_path / "x.jpg"
    rawlux.save(developed, out, overwrite=False)
    assert out.read_bytes()[:3] == b"\xff\xd8\xff" and listing(tmp_path) == ["x.jpg"]
    with pytest.raises(OutputError, match="exists"):
        rawlux.save(developed, out, overwrite=False)
    assert listing(tmp_path) == ["x.jpg"]


# ----------------------------------------------------------------------------- output = input

@pytest.mark.parametrize("how", ["same", "dotdot", "symlink", "hardlink"])
def test_output_equal_to_input_refused(photo, tmp_path, capsys, how):
    src = tmp_path / "in" / "photo.png"
    src.parent.mkdir()
    src.write_bytes(photo.read_bytes())
    before = src.read_bytes()
    if how == "same":
        out = src
    elif how == "dotdot":
        (tmp_path / "other").mkdir()
        out = tmp_path / "other" / ".." / "in" / "photo.png"
    elif how == "symlink":
        out = tmp_path / "link.png"
        out.symlink_to(src)
    else:
        out = tmp_path / "hard.png"
        os.link(src, out)
    code, err = cli(capsys, "develop", src, "-o", out, "--overwrite")
    assert code == 4 and len(err) == 1 and "input" in err[0], err
    assert src.read_bytes() == before
    assert not [n for n in os.listdir(src.parent) if n.endswith(".part")]


def test_output_equal_to_another_input_refused(photo, tmp_path, capsys):
    a_png = tmp_path / "a.png"
    a_png.write_bytes(photo.read_bytes())
    a_jpg = tmp_path / "a.jpg"
    rawlux.save(rawlux.develop(photo), a_jpg)
    before = a_jpg.read_bytes()
    cli(capsys, "develop", a_png, a_jpg, "--overwrite", "-q")
    assert a_jpg.read_bytes() == before, "the input a.jpg was replaced by a.png's output"


# ----------------------------------------------------------------------------- unwritable folders, full disks

def _partial_then(errno_: int):
    """An encoder that writes half a file into its temporary path, then fails like the OS would."""
    def write(fmt, px, tmp, **k):
        with open(tmp, "wb") as fh:
            fh.write(b"\xff\xd8\xff" + bytes(5000))
        raise OSError(errno_, os.strerror(errno_), tmp)
    return write


STEPS = ["mkstemp", "write", "chmod", "publish"]
ERRNOS = {"EACCES": errno.EACCES, "EROFS": errno.EROFS, "ENOSPC": errno.ENOSPC, "EDQUOT": errno.EDQUOT}


@pytest.mark.parametrize("overwrite", [False, True], ids=["new", "replace"])
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("err", list(ERRNOS))
def test_write_failure_leaves_nothing(developed, tmp_path, monkeypatch, step, err, overwrite):
    import rawlux.io.atomic as atomic
    import rawlux.io.encode as enc

    code = ERRNOS[err]

    def fail(*a, **k):
        raise OSError(code, os.strerror(code))
    if step == "mkstemp":
        monkeypatch.setattr(atomic.tempfile, "mkstemp", fail)
    elif step == "write":
        monkeypatch.setattr(enc, "_write", _partial_then(code))
    elif step == "chmod":
        monkeypatch.setattr(atomic.os, "chmod", fail)
    else:
        monkeypatch.setattr(atomic.os, "replace", fail)
        monkeypatch.setattr(atomic.os, "link", fail)
    out = tmp_path / "x.jpg"
    if overwrite:
        out.write_bytes(b"the previous version")
    with pytest.raises(OutputError) as ei:
        rawlux.save(developed, out, overwrite=overwrite)
    msg = str(ei.value)
    assert str(out) in msg and os.strerror(code) in msg and "\n" not in msg, msg
    assert listing(tmp_path) == (["x.jpg"] if overwrite else []), listing(tmp_path)
    if overwrite:
        assert out.read_bytes() == b"the previous version"


@pytest.mark.parametrize("err", ["EACCES", "ENOSPC"])
def test_cli_write_failure_is_one_line_exit_4(photo, tmp_path, monkeypatch, capsys, err):
    import rawlux.io.encode as enc

    monkeypatch.setattr(enc, "_write", _partial_then(ERRNOS[err]))
    out = tmp_path / "o.jpg"
    code, lines = cli(capsys, "develop", photo, "-o", out)
    assert code == 4 and len(lines) == 1 and lines[0].startswith("rawlux: error: ") and str(out) in lines[0], lines
    assert os.strerror(ERRNOS[err]) in lines[0] and "Traceback" not in lines[0]
    assert listing(tmp_path) == []


# real file systems: a read-only and a tiny (soon full) tmpfs; needs the right to mount (root in a VM/container)

@pytest.fixture
def mount(tmp_path):
    mounted = []

    def do(opts: str) -> Path:
        d = tmp_path / f"mnt{len(mounted)}"
        d.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(d)], capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode(errors='replace').strip()}")
        mounted.append(d)
        return d
    yield do
    for d in mounted:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_real_read_only_folder(photo, mount, capsys):
    d = mount("ro,size=1m")
    code, err = cli(capsys, "develop", photo, "-o", d / "o.jpg")
    assert code == 4 and len(err) == 1 and "read-only" in err[0] and str(d / "o.jpg") in err[0], err
    assert os.listdir(d) == []


def test_real_full_disk(photo, mount, capsys, tmp_path):
    d = mount("size=24k")
    big = tmp_path / "big.png"
    from PIL import Image
    Image.fromarray((np.random.default_rng(9).random((300, 400, 3)) * 255).astype(np.uint8)).save(big)
    keep = d / "big.png"
    keep.write_bytes(b"x" * 4096)
    code, err = cli(capsys, "develop", big, "-o", keep, "--format", "png", "--overwrite")
    assert code == 4 and len(err) == 1 and os.strerror(errno.ENOSPC) in err[0], err
    assert keep.read_bytes() == b"x" * 4096 and listing(d) == ["big.png"]
    code, err = cli(capsys, "develop", big, "-o", d / "new.tif", "--bits", "16")
    assert code == 4 and len(err) == 1 and os.strerror(errno.ENOSPC) in err[0], err
    assert listing(d) == ["big.png"]
