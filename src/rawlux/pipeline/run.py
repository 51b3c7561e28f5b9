"""Run a recipe over a frame: ``develop``.

``develop(path_or_frame, look="natural", **overrides)`` decodes (when given a path), validates the recipe
*before* decoding, then runs every stage of ``ORDER`` whose ``applies`` says so, and returns a DISPLAY frame.
"""
from __future__ import annotations

import os
import sys
import time
from contextvars import ContextVar
from pathlib import Path

import numpy as np
from typing import Any, Callable, Mapping

from ..errors import ParameterError
from ..frame import Frame, State
from .order import get_stage, stage_names
from .recipe import Recipe, sidecar_look, sidecar_path


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


def resolve_sidecar_look(name: str, photo: str | os.PathLike[str]) -> str:
    """A sidecar's look: a built-in name or a path as given; otherwise NAME (or NAME@s) saved as
    ``looks/NAME.toml`` in the photo's folder or one of the 8 folders above it (where the studio saves looks)."""
    from ..looks import builtin_names
    from ..looks.schema import split_spec

    base, strength = split_spec(name)
    if base in builtin_names() or base.endswith(".toml") or "/" in base or "\\" in base:
        return name
    here = Path(photo).resolve().parent
    for d in [here, *here.parents][:9]:
        cand = d / "looks" / f"{base}.toml"
        if cand.is_file():
            return str(cand) + (f"@{strength:g}" if strength is not None else "")
    return name


def build_recipe(source: str | os.PathLike[str] | None, look: str | os.PathLike[str] | None = None, *,
                 sets: tuple[str, ...] | list[str] = (), overrides: Mapping[str, Any] | None = None,
                 sidecar: bool | str | os.PathLike[str] = True, recipe: Recipe | None = None) -> Recipe:
    """The recipe for one input: defaults < look < sidecar < --set < overrides."""
    if recipe is not None:
        return recipe.with_overrides(overrides) if overrides else recipe
    side: Path | None = None
    if sidecar is True and source is not None:
        cand = sidecar_path(source)
        side = cand if cand.is_file() else None
    elif sidecar not in (False, None, True):
        side = Path(sidecar)  # type: ignore[arg-type]
    if look is None:
        named = sidecar_look(side) if side is not None else None
        look = (resolve_sidecar_look(named, source) if named and source is not None else named) or "natural"
    return Recipe.build(look, sidecar=side, sets=sets, overrides=overrides)


#: id() of the pixel buffer the running pipeline owns exclusively (made by one of its own stages and seen by
#: no one else): a stage may then write its result into it instead of allocating a new full-size image.
_OWNED: ContextVar[int | None] = ContextVar("rawlux_owned_pixels", default=None)


def owns(frame: Frame) -> bool:
    """Whether the running pipeline owns ``frame.pixels`` exclusively (see :func:`output_buffer`)."""
    px = frame.pixels
    return _OWNED.get() == id(px) and px.dtype == np.float32 and px.flags.c_contiguous and px.flags.writeable


def output_buffer(frame: Frame) -> np.ndarray:
    """Where an element-wise stage may write its H×W×C float32 result: the input buffer itself when the
    running pipeline owns it (never the caller's frame, never one an ``on_stage`` callback saw), else new."""
    return frame.pixels if owns(frame) else np.empty_like(frame.pixels)


def run_stages(frame: Frame, recipe: Recipe, *, start: str | None = None, stop: str | None = None,
               timings: dict[str, float] | None = None,
               on_stage: Callable[[str, Frame], None] | None = None) -> Frame:
    """Run the stages of ``recipe`` from ``start`` up to and including ``stop`` (names from ORDER)."""
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
        return _run(frame, recipe, names[i0:i1], caller_pixels, timings, on_stage)
    finally:
        _OWNED.reset(token)


def _run(frame: Frame, recipe: Recipe, names: list[str], caller_pixels: np.ndarray,
         timings: dict[str, float] | None, on_stage: Callable[[str, Frame], None] | None) -> Frame:
    for name in names:
        stage = get_stage(name)
        p = recipe.params[name]
        if not stage.applies(frame, p):
            continue
        # buffers made by this run's own stages may be reused in place; the caller's never
        owned = frame.pixels is not caller_pixels and on_stage is None
        _OWNED.set(id(frame.pixels) if owned else None)
        t0 = time.perf_counter()
        frame = stage.run(frame, p)
        if stage.gives is not None and frame.state is not stage.gives:
            frame.state = stage.gives
        frame.meta.history.append(name)
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
        if on_stage is not None:
            on_stage(name, frame)
    return frame


def develop(source: str | os.PathLike[str] | Frame, look: str | os.PathLike[str] | None = None, *,
            recipe: Recipe | None = None, sets: tuple[str, ...] | list[str] = (),
            raw: str | None = None, cfa: str | None = None, profile: Any = None,
            max_pixels: int | None = None, sidecar: bool | str = True, linear: bool = False,
            timings: dict[str, float] | None = None, **overrides: Any) -> Frame:
    """Develop a file (or a Frame) into a finished, display-encoded Frame.

    ``overrides`` are stage params: ``tone={"contrast": 1.2}``, ``tone__contrast=1.2`` or
    ``**{"tone.contrast": 1.2}``. The returned frame carries the recipe in ``meta.extra['recipe']``.
    ``linear=True`` stops before the output encoding: a SCENE_LINEAR frame in the output space's primaries,
    unclipped (for linear float TIFFs).
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
        frame = open_image(path, raw=raw, cfa=cfa, profile=profile, max_pixels=max_pixels)  # type: ignore[arg-type]
    if timings is not None:
        timings["decode"] = time.perf_counter() - t0
    if profile is not None and is_frame:
        from ..colour.profile import CameraProfile
        frame.meta.extra["profile"] = profile if isinstance(profile, CameraProfile) else CameraProfile.from_file(profile)
    if linear:
        names = stage_names()
        frame = run_stages(frame, rec, stop=names[names.index("output") - 1], timings=timings)
        from ..colour import spaces
        import numpy as np
        space = rec.params["output"].space  # type: ignore[attr-defined]
        m = spaces.rgb_to_rgb(spaces.WORKING, space).astype(np.float32)
        import cv2
        frame = frame.with_pixels(cv2.transform(frame.pixels, m), State.SCENE_LINEAR)
        frame.meta.output_space = space
    else:
        frame = run_stages(frame, rec, timings=timings)
    frame.meta.extra["recipe"] = rec
    return frame
