"""Looks on video: ``rawlux.video.grade(src, dst, look="vivid")`` and ``rawlux.video.still(src, t, dst, look=...)``.

Decoding and encoding go through PyAV (FFmpeg's libraries); the look's per-pixel part is one 3D LUT made by
rawlux's own pipeline, vignette and grain are rendered per frame (grain changes from frame to frame). See
``rawlux.video.transcode`` for what is kept (timing, rotation, colour tags, audio/subtitle streams) and refused.
"""
from __future__ import annotations

from .._lazy import lazy_getattr

__all__ = ["grade", "still", "probe", "render_still", "decode_frame", "frame_rgb", "build_look", "GradeResult",
           "VideoInfo"]

_LAZY = {
    "grade": ("rawlux.video.transcode", "grade"),
    "still": ("rawlux.video.transcode", "still"),
    "probe": ("rawlux.video.transcode", "probe"),
    "render_still": ("rawlux.video.transcode", "render_still"),
    "decode_frame": ("rawlux.video.transcode", "decode_frame"),
    "frame_rgb": ("rawlux.video.transcode", "frame_rgb"),
    "GradeResult": ("rawlux.video.transcode", "GradeResult"),
    "VideoInfo": ("rawlux.video.transcode", "VideoInfo"),
    "build_look": ("rawlux.video.grading", "build_look"),
}

__getattr__ = lazy_getattr(__name__, _LAZY, globals())
