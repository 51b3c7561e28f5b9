"""Buffer reuse between stages: which pixel buffer the running pipeline owns.

The runner (``pipeline/run.py``) marks the buffer a stage may overwrite; stages ask :func:`output_buffer`
where to write. Stages import this module, never the runner (so no stage depends on the code that runs it).
"""
from __future__ import annotations

from contextvars import ContextVar

import numpy as np

from ..frame import Frame

#: id() of the pixel buffer the running pipeline owns exclusively (made by one of its own stages and seen by
#: no one else): a stage may then write its result into it instead of allocating a new full-size image.
OWNED: ContextVar[int | None] = ContextVar("rawlux_owned_pixels", default=None)


def owns(frame: Frame) -> bool:
    """Whether the running pipeline owns ``frame.pixels`` exclusively (see :func:`output_buffer`)."""
    px = frame.pixels
    return OWNED.get() == id(px) and px.dtype == np.float32 and px.flags.c_contiguous and px.flags.writeable


def output_buffer(frame: Frame) -> np.ndarray:
    """Where an element-wise stage may write its H×W×C float32 result: the input buffer itself when the
    running pipeline owns it (never the caller's frame, never one an ``on_stage`` callback saw), else new."""
    return frame.pixels if owns(frame) else np.empty_like(frame.pixels)
