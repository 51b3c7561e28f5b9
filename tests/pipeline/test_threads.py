"""BLAS runs on one thread while a develop runs, and the caller's thread counts come back after it."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

threadpoolctl = pytest.importorskip("threadpoolctl")

import rawlux
from rawlux import _threads


def _blas_threads() -> list[int]:
    return [m["num_threads"] for m in threadpoolctl.threadpool_info() if m["user_api"] == "blas"]


def test_develop_runs_blas_on_one_thread_and_puts_the_callers_counts_back(tmp_path):
    import cv2  # noqa: F401 - loads OpenCV's own BLAS, as a develop does
    src = tmp_path / "in.png"
    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((64, 96, 3)) * 255).astype(np.uint8)).save(src)
    seen: list[list[int]] = []
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        assert _blas_threads() and set(_blas_threads()) == {2}
        frame = rawlux.develop(src, on_stage=lambda name, f: seen.append(_blas_threads()))
        assert set(_blas_threads()) == {2}                      # put back
    assert frame.pixels.shape == (64, 96, 3)
    assert seen and all(set(s) == {1} for s in seen), seen      # one thread in every stage


def test_nested_and_a_library_loaded_inside_the_block():
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        with _threads.blas_single():
            with _threads.blas_single():
                assert set(_blas_threads()) == {1}
            assert set(_blas_threads()) == {1}                  # the outer block still holds
            _threads.refresh()                                  # nothing new loaded: a no-op
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {2}
    _threads.refresh()                                          # outside any block: does nothing
