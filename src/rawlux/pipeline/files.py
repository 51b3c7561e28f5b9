"""One photo file in, one photo file out: ``develop_file`` — what the CLI, batch and the studio all run.

    frame, notes = develop_file("IMG.dng", "IMG.jpg", Recipe.for_photo("IMG.dng", "vivid"))

decode → every stage of the recipe → (a border, when asked) → ``rawlux.save`` (atomic), and the notes the
pipeline left on the way (white balance estimated, lens not found, ...) collected the same way for everyone.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from ..frame import Frame
from .recipe import Recipe


def notes_of(frame: Frame) -> list[str]:
    """What the pipeline noticed on the way (one line each, no repeats, in the order they were made)."""
    legacy = frame.meta.extra     # modules not moved to ``meta.note`` yet write these keys
    found = [*frame.meta.facts.notes, legacy.get("note"), legacy.get("wb_note"), *legacy.get("notices", ())]
    return list(dict.fromkeys(str(n) for n in found if n))


def develop_file(src: str | os.PathLike[str], dst: str | os.PathLike[str], recipe: Recipe, *,
                 fmt: str | None = None, bits: int = 8, quality: int = 92, overwrite: bool = False,
                 border: Any = None, border_logo: str | None = None, border_overrides: Mapping[str, Any] | None = None,
                 raw: Any = None, cfa: Any = None, profile: Any = None, max_pixels: int | None = None,
                 timings: dict[str, float] | None = None, on_stage: Callable[[str, Frame], None] | None = None,
                 develop_kw: Mapping[str, Any] | None = None, save_kw: Mapping[str, Any] | None = None,
                 ) -> tuple[Frame, list[str]]:
    """Develop ``src`` with ``recipe`` (sidecars are the recipe's business: none is read here) and write ``dst``.

    ``bits=32`` writes a linear float TIFF (no border then). ``border``: a border template (name, path or
    loaded template; ``rawlux frame --list``) with ``border_logo`` and ``border_overrides``. ``timings`` gets
    seconds per stage plus ``frame`` and ``encode``; ``on_stage(name, frame)`` is called after each stage.
    ``develop_kw``/``save_kw``: further keywords of :func:`rawlux.develop` / :func:`rawlux.save` (HDR output...).
    Returns the developed (and bordered) frame and its notes."""
    from ..io.encode import save
    from .run import develop

    frame = develop(str(src), recipe=recipe, raw=raw, cfa=cfa, profile=profile, max_pixels=max_pixels,
                    sidecar=False, linear=int(bits) == 32, timings=timings, on_stage=on_stage,
                    **dict(develop_kw or {}))
    if border is not None:
        from ..borders import apply_frame

        t = time.perf_counter()
        frame = apply_frame(frame, template=border, logo=border_logo, overrides=border_overrides)
        if timings is not None:
            timings["frame"] = time.perf_counter() - t
        if on_stage is not None:
            on_stage("frame", frame)
    t = time.perf_counter()
    save(frame, Path(dst), format=fmt, bits=int(bits), quality=quality, overwrite=overwrite, recipe=recipe,
         **dict(save_kw or {}))
    if timings is not None:
        timings["encode"] = time.perf_counter() - t
    return frame, notes_of(frame)
