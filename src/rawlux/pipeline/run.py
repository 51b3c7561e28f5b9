"""Run a recipe over a frame: ``develop``.

``develop(path_or_frame, look="natural", **overrides)`` decodes (when given a path), validates the recipe
*before* decoding, then runs every stage of ``ORDER`` whose ``applies`` says so, and returns a DISPLAY frame.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from typing import Any, Callable, Mapping

from .._threads import blas_single, refresh as refresh_blas
from ..errors import ParameterError
from ..frame import Frame, State
from .order import get_stage, stage_names
from .stage import Stage
from .buffers import OWNED as _OWNED, output_buffer, owns  # noqa: F401 - owns/output_buffer: old home
from .recipe import Recipe, resolve_sidecar_look  # noqa: F401 - resolve_sidecar_look: old home


_MALLOC_TUNED = False


def _tune_malloc() -> None:
    """Keep large freed buffers in the heap (glibc): each stage allocates full-size images, and fresh pages
    from the kernel cost a page fault per 4 KiB (~15% of a develop). Process-wide, done once, Linux only."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    if os.environ.get("RAWLUX_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)        # M_MMAP_THRESHOLD: serve big buffers from the heap
        libc.mallopt(-1, 1 << 30)        # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap for reuse
    except (OSError, AttributeError):
        pass


def build_recipe(source: str | os.PathLike[str] | None, look: str | os.PathLike[str] | None = None, *,
                 sets: tuple[str, ...] | list[str] = (), overrides: Mapping[str, Any] | None = None,
                 sidecar: bool | str | os.PathLike[str] = True, recipe: Recipe | None = None) -> Recipe:
    """The recipe for one input (:meth:`Recipe.for_photo`); a given ``recipe`` gets ``overrides`` on top."""
    if recipe is not None:
        return recipe.with_overrides(overrides) if overrides else recipe
    return Recipe.for_photo(source, look, sidecar=sidecar, sets=sets, overrides=overrides)


from ..frame import SCENE_LINEAR_KEY  # noqa: E402,F401 - its home is frame.py (io reads it, never the runner)


def run_stages(frame: Frame, recipe: Recipe, *, start: str | None = None, stop: str | None = None,
               timings: dict[str, float] | None = None,
               on_stage: Callable[[str, Frame], None] | None = None,
               keep_scene_linear: bool = False) -> Frame:
    """Run the stages of ``recipe`` from ``start`` up to and including ``stop`` (names from ORDER).

    ``keep_scene_linear``: keep the frame as it enters ``tone`` (scene-linear working-space Rec.2020, after
    exposure, vignette, bokeh and local tone; unclipped, 1.0 = diffuse white) in
    ``meta.extra[SCENE_LINEAR_KEY]`` of the result, for HDR outputs (``rawlux.save(..., hdr=True)``). The kept
    buffer is never reused in place by later stages. Nothing is kept for display-referred inputs (JPEG, PNG...),
    which have no scene-linear data.
    """
    names = stage_names()
    if start is not None and start not in names:
        raise ParameterError(f"unknown stage {start!r}")
    if stop is not None and stop not in names:
        raise ParameterError(f"unknown stage {stop!r}")
    i0 = names.index(start) if start else 0
    i1 = names.index(stop) + 1 if stop else len(names)
    caller_pixels = frame.pixels
    token = _OWNED.set(None)
    try:
        with blas_single():
            return _run(frame, recipe, names[i0:i1], caller_pixels, timings, on_stage, keep_scene_linear)
    finally:
        _OWNED.reset(token)


def _run(frame: Frame, recipe: Recipe, names: list[str], caller_pixels: np.ndarray,
         timings: dict[str, float] | None, on_stage: Callable[[str, Frame], None] | None,
         keep_scene_linear: bool = False) -> Frame:
    kept = None
    fusing = on_stage is None and not keep_scene_linear    # both need the frame after every stage
    i = 0
    while i < len(names):
        name = names[i]
        i += 1
        if fusing and type(get_stage(name)).pointwise is not Stage.pointwise:
            done = _fused(frame, recipe, names, i - 1, caller_pixels, timings)
            if done is not None:
                frame, i = done
                continue
        if (keep_scene_linear and name == "tone" and frame.state is State.SCENE_LINEAR
                and frame.meta.kind != "image" and not frame.meta.facts.display_referred):
            kept = frame.pixels            # not copied: marked not-owned below, so no stage writes into it
        stage = get_stage(name)
        p = recipe.params[name]
        if not stage.applies(frame, p):
            continue
        # buffers made by this run's own stages may be reused in place; the caller's never (nor a kept one)
        owned = frame.pixels is not caller_pixels and on_stage is None and frame.pixels is not kept
        _OWNED.set(id(frame.pixels) if owned else None)
        t0 = time.perf_counter()
        frame = stage.run(frame, p)
        refresh_blas()                 # a first-use import in the stage may have loaded another BLAS
        if stage.gives is not None and frame.state is not stage.gives:
            frame.state = stage.gives
        frame.meta.history.append(name)
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
        if on_stage is not None:
            on_stage(name, frame)
    if kept is not None:
        frame.meta.extra[SCENE_LINEAR_KEY] = kept
    return frame


def _fused(frame: Frame, recipe: Recipe, names: list[str], i: int, caller_pixels: np.ndarray,
           timings: dict[str, float] | None) -> tuple[Frame, int] | None:
    """Run the point-wise stages from ``names[i]`` on as one pass (see :mod:`rawlux.pipeline.fuse`): each stage's
    ``pointwise`` on a probe of the frame gives its op, metadata and state; the composed ops then run over the
    whole frame once. Returns (frame, index of the next stage), or None when fewer than two stages in a row
    would fuse (the caller then runs them one by one)."""
    from .fuse import fits, probe, apply

    t0 = time.perf_counter()
    if frame.pixels.ndim != 3 or frame.pixels.shape[2] != 3 or frame.pixels.dtype != np.float32:
        return None
    pr = frame.with_pixels(probe(frame.pixels))
    ops: list = []
    ran: list[str] = []
    j = i
    while j < len(names):
        stage = get_stage(names[j])
        p = recipe.params[names[j]]
        if not stage.applies(pr, p):
            j += 1
            continue
        done = stage.pointwise(pr, p)
        if done is None or not fits([*ops, done[0]]):
            break
        ops.append(done[0])
        pr = done[1]
        if stage.gives is not None and pr.state is not stage.gives:
            pr.state = stage.gives
        pr.meta.history.append(names[j])
        ran.append(names[j])
        j += 1
    if len(ran) < 2:
        return None
    refresh_blas()
    owned = frame.pixels is not caller_pixels
    out = apply(ops, frame.pixels, frame.pixels if owned and frame.pixels.flags.c_contiguous else None)
    res = Frame(out, pr.state, pr.meta)
    if timings is not None:
        key = "+".join(ran)
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0
    return res, j


@blas_single()        # the whole develop, decode included (run_stages rescans for a BLAS the decode loaded)
def develop(source: str | os.PathLike[str] | Frame, look: str | os.PathLike[str] | None = None, *,
            recipe: Recipe | None = None, sets: tuple[str, ...] | list[str] = (),
            raw: str | None = None, cfa: str | None = None, profile: Any = None,
            max_pixels: int | None = None, sidecar: bool | str = True, linear: bool = False,
            timings: dict[str, float] | None = None, keep_scene_linear: bool = False,
            allow_truncated: bool = False, on_stage: Callable[[str, Frame], None] | None = None,
            **overrides: Any) -> Frame:
    """Develop a file (or a Frame) into a finished, display-encoded Frame.

    ``overrides`` are stage params: ``tone={"contrast": 1.2}``, ``tone__contrast=1.2`` or
    ``**{"tone.contrast": 1.2}``. The returned frame carries the recipe in ``meta.extra['recipe']``.
    ``linear=True`` stops before the output encoding: a SCENE_LINEAR frame in the output space's primaries,
    unclipped (for linear float TIFFs). ``keep_scene_linear=True`` also keeps the scene-linear frame as it
    enters ``tone`` in ``meta.extra["scene_linear"]`` (what ``rawlux.save(..., hdr=True)`` needs; costs one
    extra full-size float buffer). ``allow_truncated=True`` develops a file whose pixel data are not all there
    (missing rows black, with a notice) instead of refusing it.
    """
    _tune_malloc()
    is_frame = isinstance(source, Frame)
    path = None if is_frame else str(source)
    rec = build_recipe(path, look, sets=sets, overrides=overrides, sidecar=sidecar if not is_frame else False,
                       recipe=recipe)
    t0 = time.perf_counter()
    if is_frame:
        frame = source  # type: ignore[assignment]
        if frame.state is State.DISPLAY:
            raise ParameterError("this frame is already developed (DISPLAY)")
    else:
        from ..io.decode import open_image
        hdr_in = {}
        if keep_scene_linear and raw is None and cfa is None:
            from ..io.preflight import regular_file
            regular_file(path)                     # never read a FIFO or a device (is_ultrahdr reads the file)
            from ..io.ultrahdr import is_ultrahdr
            if is_ultrahdr(path):                  # a gain-map JPEG: develop its HDR rendition, not the SDR base
                hdr_in = {"hdr": True}
        frame = open_image(path, raw=raw, cfa=cfa, profile=profile, max_pixels=max_pixels,  # type: ignore[arg-type]
                           allow_truncated=allow_truncated, **hdr_in)
    if timings is not None:
        timings["decode"] = time.perf_counter() - t0
    if profile is not None and is_frame:
        from ..colour.profile import CameraProfile
        frame.meta.extra["profile"] = profile if isinstance(profile, CameraProfile) else CameraProfile.from_file(profile)
    if linear:
        names = stage_names()
        frame = run_stages(frame, rec, stop=names[names.index("output") - 1], timings=timings, on_stage=on_stage)
        t1 = time.perf_counter()
        from ..colour import spaces
        import numpy as np
        space = rec.params["output"].space  # type: ignore[attr-defined]
        m = spaces.rgb_to_rgb(spaces.WORKING, space).astype(np.float32)
        import cv2
        frame = frame.with_pixels(cv2.transform(frame.pixels, m), State.SCENE_LINEAR)
        frame.meta.output_space = space
        if timings is not None:
            timings["output (linear)"] = time.perf_counter() - t1
    else:
        frame = run_stages(frame, rec, timings=timings, keep_scene_linear=keep_scene_linear, on_stage=on_stage)
    frame.meta.extra["recipe"] = rec
    return frame
