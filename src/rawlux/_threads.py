"""BLAS kept to one thread while the pipeline runs (:func:`blas_single`).

The pipeline's own parallel work runs on numba's threads (and OpenCV's). The BLAS calls it makes are all
small: 3×3 matrices applied to a probe of a few hundred thousand pixels, fits of a few coefficients. OpenBLAS
splits such a call over its own threads, and after the call those threads keep spinning for a while (about
0.1 s) before they sleep; on a machine with few cores they take that time from the numba kernel that runs
next (measured on 2 cores: the fused colour-to-output pass of a 12 MP develop took 0.095 s right after a
probe's matrix product, 0.071 s with BLAS on one thread). numpy, SciPy and OpenCV each load their own OpenBLAS,
so the limit is set through threadpoolctl on every one loaded, and put back as it was when the develop ends:
a library user's own matrix products keep their threads.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

#: modules whose import loads a BLAS library of its own (numpy's is loaded before any of rawlux runs)
_LOADERS = ("cv2", "scipy.linalg")

_controller = None
_key: tuple[bool, ...] | None = None
_active: list = []          # the limiters of the blas_single calls now running (innermost last)


def _current():
    """A threadpoolctl controller that knows every BLAS library loaded now (rescanned when one was added)."""
    global _controller, _key
    key = tuple(m in sys.modules for m in _LOADERS)
    if _controller is None or key != _key:
        try:
            from threadpoolctl import ThreadpoolController
            _controller = ThreadpoolController().select(user_api="blas")
        except Exception:          # pragma: no cover - threadpoolctl is a dependency; never fail a develop on it
            _controller = False
        _key = key
    return _controller


def refresh() -> None:
    """Inside :func:`blas_single`: limit a BLAS library loaded since it began (a first-use import mid-develop)."""
    if not _active:
        return
    before = _key
    ctl = _current()
    if ctl and _key != before:
        _active.append(ctl.limit(limits=1))


@contextmanager
def blas_single() -> Iterator[None]:
    """BLAS on one thread inside the block; the previous thread counts are put back when it ends."""
    ctl = _current()
    if not ctl:
        yield
        return
    depth = len(_active)
    _active.append(ctl.limit(limits=1))
    try:
        yield
    finally:
        while len(_active) > depth:
            _active.pop().restore_original_limits()
