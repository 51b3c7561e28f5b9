"""Exposure fusion of brackets (Mertens, Kautz & Van Reeth 2007): a natural, display-ready result
without an HDR radiance map or a tone curve.

Every bracket is aligned to the reference on the mosaic (the burst aligner, on exposure-matched
grey images), resampled onto the reference grid, developed with the same look and white balance but
*no* automatic exposure (so the brackets keep their differences), and the developed images are
blended by OpenCV's ``MergeMertens`` (per-pixel weights from contrast, saturation and
well-exposedness, blended in a Laplacian pyramid).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..frame import Frame, State
from .align import ReferencePyramid, align, bayer_grey
from .api import FrameLike, _parse_ref, exposure_of, load_frames, normalise, to_raw_frame
from .baselines import resample
from .hdr import CLIP, _clip_level


def fuse_exposures(inputs: Sequence[FrameLike], *, look: str | None = None, ref: int | str | None = "auto",
                   contrast: float = 1.0, saturation: float = 1.0, exposedness: float = 1.0,
                   **overrides: Any) -> Frame:
    """Align, develop and fuse brackets; returns a DISPLAY Frame (the reference's output space)."""
    import cv2

    from ..pipeline.run import develop

    frames = load_frames(inputs)
    n = len(frames)
    exps = [exposure_of(f) for f in frames]
    if any(e is None for e in exps):
        exps = [1.0] * n   # without EXIF, alignment uses the images as they are (clipped alike)
    r = _parse_ref(ref, n)
    if r is None:
        order = np.argsort(exps)
        r = int(order[(n - 1) // 2])
    ref_cfa = normalise(frames[r])
    pattern = frames[r].meta.cfa_pattern
    ref_grey = bayer_grey(ref_cfa)
    clip_ref = _clip_level(frames[r]) * CLIP
    ex_over = dict(overrides)
    ex = dict(ex_over.pop("exposure", {}) or {})
    ex["auto"] = False
    developed = []
    for k, f in enumerate(frames):
        cfa = normalise(f)
        if k != r:
            gain = float(exps[r] / exps[k])
            top = min(clip_ref, _clip_level(f) * CLIP * gain)
            pyr = ReferencePyramid(np.minimum(ref_grey, top))
            flow = align(pyr, np.minimum(bayer_grey(cfa * np.float32(gain)), top))
            cfa = resample(cfa, flow, pattern)
        # keep the frame's own exposure: its pixels on the reference's grid, its own meta
        raw = to_raw_frame(cfa, f, note="aligned")
        raw.meta.baseline_exposure = float(frames[r].meta.baseline_exposure or 0.0)
        raw.meta.as_shot_neutral = frames[r].meta.as_shot_neutral
        raw.meta.orientation = frames[r].meta.orientation
        out = develop(raw, look=look, exposure=ex, **ex_over)
        developed.append(out)
    # OpenCV scales inputs by 1/255 (8-bit convention) and returns [0, 1]
    imgs = [np.clip(d.pixels, 0, 1).astype(np.float32) * np.float32(255.0) for d in developed]
    mm = cv2.createMergeMertens(float(contrast), float(saturation), float(exposedness))
    fused = mm.process(imgs)
    fused = np.clip(fused, 0, 1).astype(np.float32)
    base = developed[r]
    result = base.with_pixels(fused, State.DISPLAY)
    result.meta.history = [*base.meta.history, "fusion"]
    result.meta.extra["fusion"] = {"frames": n, "ref": r}
    return result
