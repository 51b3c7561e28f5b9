"""Focal-length crops (35 mm equivalent) and aspect-ratio crops.

A crop to an equivalent focal length F keeps the centre 1/k of each side, k = F / F_now, where
F_now is the frame's 35 mm-equivalent focal length (EXIF FocalLengthIn35mmFormat, else
FocalLength × crop factor). A crop can only narrow the view: asking for a wider view than the
frame holds is refused. The aspect crop then takes the largest rectangle of that shape, in the
orientation the photo is displayed in (EXIF orientation 5–8 swaps the pixel axes).
"""
from __future__ import annotations

import math
from typing import Any

from ..errors import ParameterError

FOCALS = (23, 28, 35, 50, 75, 90)
ASPECTS = {"3:2": 3 / 2, "4:3": 4 / 3, "16:9": 16 / 9, "1:1": 1.0, "65:24": 65 / 24, "2.39:1": 2.39}
FULL_FRAME_DIAGONAL = math.hypot(36.0, 24.0)   # mm


def equivalent_focal(meta: Any, crop_factor: float = 0.0) -> tuple[float, str]:
    """(35 mm-equivalent focal length, where it came from); (0, reason) when unknown."""
    exif = meta.exif or {}
    f35 = exif.get("FocalLengthIn35mmFormat")
    if f35:
        return float(f35), "FocalLengthIn35mmFormat"
    f = exif.get("FocalLength")
    if f and crop_factor:
        return float(f) * crop_factor, f"FocalLength {float(f):g} mm × crop factor {crop_factor:g}"
    if f:
        try:
            from .lensfun import find_camera

            cam, _ = find_camera(exif.get("Make", meta.make or ""), exif.get("Model", meta.model or ""))
        except Exception:  # noqa: BLE001 - lensfun is only a fallback source of the crop factor
            cam = None
        if cam is not None:
            return float(f) * float(cam.crop_factor), f"FocalLength × crop factor {cam.crop_factor:.3g} (lensfun)"
    return 0.0, ("the file gives neither FocalLengthIn35mmFormat nor FocalLength with a known crop factor; "
                 "set crop.source_focal (the frame's 35 mm-equivalent focal length) or, with EXIF "
                 "FocalLength, crop.crop_factor")


def crop_box(h: int, w: int, *, zoom: float = 1.0, aspect: float | None = None, portrait: bool = False,
             center: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a centred crop; ``zoom`` ≥ 1 narrows the view, ``aspect`` is long/short."""
    ch, cw = h / zoom, w / zoom
    if aspect is not None:
        # the displayed long side is horizontal unless the frame is shown portrait
        want = aspect if not portrait else 1.0 / aspect      # width / height in pixel axes
        if cw / ch > want:
            cw = ch * want
        else:
            ch = cw / want
    ch_i, cw_i = max(1, int(round(ch))), max(1, int(round(cw)))
    top = int(round(center[1] * h - ch_i / 2))
    left = int(round(center[0] * w - cw_i / 2))
    top = min(max(top, 0), h - ch_i)
    left = min(max(left, 0), w - cw_i)
    return top, left, ch_i, cw_i


def plan(meta: Any, h: int, w: int, *, focal: float, aspect: str, crop_factor: float,
         center: tuple[float, float], source_focal: float = 0.0) -> tuple[tuple[int, int, int, int], dict[str, Any]]:
    """The crop box and the EXIF changes for a focal/aspect request."""
    zoom, changes = 1.0, {}
    if focal:
        f_now, where = (source_focal, "crop.source_focal") if source_focal else equivalent_focal(meta, crop_factor)
        if not f_now:
            raise ParameterError(f"crop.focal={focal:g}: the frame's equivalent focal length is unknown: {where}",
                                 path=meta.source)
        if focal < f_now * 0.995:
            raise ParameterError(f"crop.focal={focal:g} mm is wider than the frame itself ({f_now:.1f} mm "
                                 f"equivalent, from {where}); a crop can only narrow the view — choose "
                                 f"{', '.join(str(f) for f in FOCALS if f >= f_now) or 'a longer focal length'}",
                                 path=meta.source)
        zoom = max(1.0, focal / f_now)
        changes["FocalLengthIn35mmFormat"] = int(round(focal))
        f = (meta.exif or {}).get("FocalLength")
        if f:
            changes["FocalLength"] = float(f) * zoom
    a = None
    if aspect:
        if aspect not in ASPECTS:
            raise ParameterError(f"crop.aspect={aspect!r} is not one of: {', '.join(ASPECTS)}")
        a = ASPECTS[aspect]
    rotated = getattr(meta, "orientation", 1) in (5, 6, 7, 8)
    disp_w, disp_h = (h, w) if rotated else (w, h)
    portrait_display = disp_h > disp_w
    # a portrait display of an unrotated frame, or a landscape display of a rotated one, uses a tall box
    portrait_pixels = portrait_display != rotated
    box = crop_box(h, w, zoom=zoom, aspect=a, portrait=portrait_pixels, center=center)
    return box, changes
