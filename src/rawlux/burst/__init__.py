"""Burst photography: align and merge raw frames (night), brackets (HDR, exposure fusion), DNG out.

- :func:`merge_burst` — hand-held burst → one clean raw (HDR+-style tile alignment, robust merge on
  the mosaic — frames with aliased detail are demosaiced before resampling — then spatial denoising
  by the number of frames merged), see :mod:`.align` and :mod:`.merge`;
- :func:`merge_hdr` — exposure brackets → one scene-linear HDR raw mosaic, see :mod:`.hdr`;
- :func:`fuse_exposures` — exposure fusion (Mertens et al. 2007) of developed brackets, see :mod:`.fusion`;
- :mod:`.simulate` — the burst simulator used by the tests and ``benchmarks/bench_burst.py``.
"""
from __future__ import annotations


__all__ = ["merge_burst", "BurstResult", "MergeParams", "merge_hdr", "fuse_exposures", "load_frames"]

from .._lazy import lazy_getattr  # noqa: E402

_LAZY = {
    "merge_burst": ("rawlux.burst.api", "merge_burst"),
    "BurstResult": ("rawlux.burst.api", "BurstResult"),
    "load_frames": ("rawlux.burst.api", "load_frames"),
    "MergeParams": ("rawlux.burst.merge", "MergeParams"),
    "merge_hdr": ("rawlux.burst.hdr", "merge_hdr"),
    "fuse_exposures": ("rawlux.burst.fusion", "fuse_exposures"),
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
