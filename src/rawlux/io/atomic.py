"""Atomic file output: every file rawlux writes goes to a temporary file beside its target, which is then
renamed into place, so a reader never sees half a file and a failure leaves nothing behind.

    with atomic_path(out, overwrite=False) as tmp:   # a closed, empty file in out's folder
        encoder.write(tmp)                            # any writer that wants a path (OpenCV, Pillow, tifffile)
    write_bytes(out, data)                            # the same for bytes ...
    write_text(out, text)                             # ... and for text (UTF-8)

On success the file gets the usual permissions (``0o666 & ~umask``, not the ``0600`` of ``mkstemp``) and
replaces ``out`` atomically; with ``overwrite=False`` it is hard-linked to ``out`` instead, which fails on an
existing name, so a file that appeared while this one was being written is never clobbered (on file systems
without hard links: check, then rename). On any error the temporary file is removed; an ``OSError`` becomes one
:class:`~rawlux.errors.OutputError` naming the target and saying why (disk full, read-only, not writable).

Only the standard library and :mod:`rawlux.errors` are imported here: this sits on the path of every CLI command
that writes.
"""
from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OutputError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: the message when ``overwrite=False`` and the target exists (the CLI's wording)
EXISTS = "exists (use --overwrite to replace it)"

# errors of os.link that mean "this file system has no hard links here", not "cannot write"
_NO_LINKS = frozenset(getattr(errno, n) for n in ("EPERM", "ENOTSUP", "EOPNOTSUPP", "EXDEV", "EMLINK", "ENOSYS")
                      if hasattr(errno, n))


def _read_umask() -> int:
    m = os.umask(0o022)
    os.umask(m)
    return m


_UMASK = _read_umask()   # read once, at import: flipping it per write would race with other threads


def file_mode() -> int:
    """The permissions a new output file gets: ``0o666`` less the process umask (read at import)."""
    return 0o666 & ~_UMASK


def why(e: OSError, folder: str | os.PathLike[str]) -> str:
    """A one-line reason for ``e``, hit while writing into ``folder``."""
    what = str(e.strerror or e)
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{what} (the disk of {folder} is full; nothing was written)"
    if e.errno == errno.EROFS:
        return f"{what} (folder {folder} is on a read-only file system)"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"{what} (folder {folder} is not writable)"
    return what


def _unlink(p: str) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def _publish(tmp: str, out: Path, overwrite: bool, exists: str) -> None:
    """Move the finished temporary file to ``out``: atomically replacing it, or (``overwrite=False``) only if
    nothing is there at that moment (a hard link fails on an existing name)."""
    if overwrite:
        os.replace(tmp, out)
        return
    try:
        os.link(tmp, out)
    except FileExistsError:
        raise OutputError(exists, path=out) from None
    except OSError as e:
        if e.errno not in _NO_LINKS:
            raise
        if os.path.lexists(out):    # a file system without hard links: check, then rename
            raise OutputError(exists, path=out) from None
        os.replace(tmp, out)
        return
    _unlink(tmp)


@contextmanager
def atomic_path(out: str | os.PathLike[str], *, overwrite: bool = True, suffix: str = ".part",
                exists: str = EXISTS) -> Iterator[str]:
    """Yield the path of a new, empty, closed temporary file in ``out``'s folder; when the ``with`` block ends
    normally, give it the usual permissions and publish it as ``out``.

    ``overwrite=False`` refuses (``OutputError(exists)``) a target that exists when the file is published, also
    one that appeared while it was being written. ``suffix`` ends the temporary name (some writers pick the
    format from it). Any exception removes the temporary file; an ``OSError`` (from creating, writing,
    publishing) is raised as ``OutputError("cannot write: <why>", path=out)``.
    """
    target = Path(out)
    folder = target.parent          # Path("x.jpg").parent is Path(".")
    tmp = ""
    try:
        # the name is cut so that ".<name>.<random><suffix>" stays within NAME_MAX (255 bytes)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:180]}.", suffix=suffix, dir=str(folder))
        os.close(fd)
        yield tmp
        os.chmod(tmp, file_mode())
        _publish(tmp, target, overwrite, exists)
    except OSError as e:
        if tmp:
            _unlink(tmp)
        raise OutputError(f"cannot write: {why(e, folder)}", path=target) from None
    except BaseException:
        if tmp:
            _unlink(tmp)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True,
                exists: str = EXISTS) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`) and return the path."""
    out = Path(path)
    with atomic_path(out, overwrite=overwrite, exists=exists) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return out


def write_text(path: str | os.PathLike[str], text: str, *, overwrite: bool = True, encoding: str = "utf-8",
               exists: str = EXISTS) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`) and return the path."""
    return write_bytes(path, text.encode(encoding), overwrite=overwrite, exists=exists)


__all__ = ["EXISTS", "atomic_path", "check_output_target", "file_mode", "why", "write_bytes", "write_text"]


def check_output_target(out: Path, quality: int, overwrite: bool, inputs: tuple[str | None, ...] = ()) -> None:
    """The checks before writing ``out``: ``quality`` in 1..100, not one of ``inputs`` (the originals are
    never written), not an existing file unless ``overwrite``, an existing folder; one clear error each."""
    if not 1 <= int(quality) <= 100:
        raise ParameterError(f"--quality {quality}: must be between 1 and 100")
    for src in inputs:
        if src and os.path.exists(src) and out.exists() and os.path.samefile(src, out):
            raise OutputError(f"refusing to overwrite the input {src}", path=out)
    if out.exists() and not overwrite:
        raise OutputError(EXISTS, path=out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"folder {folder} does not exist", path=out)
