"""Find a ColorChecker 24 in a raw photo and read its patches in linear camera RGB.

The raw is black-subtracted and normalised by the ``levels`` stage, then binned to half resolution (one RGB
pixel per 2×2 Bayer cell: exact for flat patches, no demosaic guesswork). The chart is found by
colour-checker-detection's segmentation on a white-balanced, sRGB-encoded preview, or given as four corners
(``--corners``, full-resolution pixels, clockwise from the corner next to the dark-skin patch). Of the four
ways to read the quadrilateral, the one whose bottom row is neutral and whose luminances follow the
reference best is kept. Patches are sampled over their central part by rectifying the chart with a homography.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ParameterError
from ..frame import BAYER_PATTERNS, Frame, State

COLS, ROWS = 6, 4
#: reference luminance Y of the 24 patches (D50, BabelColor average), used only to orient the chart
_REF_Y = np.array([0.1034, 0.3525, 0.1887, 0.1329, 0.2385, 0.4278, 0.2896, 0.1142, 0.1908, 0.0641,
                   0.4426, 0.4314, 0.0620, 0.2320, 0.1189, 0.5916, 0.1912, 0.1946, 0.8975, 0.5858,
                   0.3591, 0.1906, 0.0899, 0.0317])


@dataclass
class ChartReading:
    rgb: np.ndarray          # 24×3 mean camera RGB (linear, black-subtracted, not white-balanced)
    std: np.ndarray          # 24×3 standard deviation inside each sampled area
    clipped: np.ndarray      # 24 fractions of sampled pixels with a channel at the clip level
    corners: np.ndarray      # 4×2 full-resolution pixel corners, TL (dark skin), TR, BR (black), BL
    detected: bool           # True when found automatically


def binned_rgb(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Half-resolution camera RGB of a CFA frame, and the per-colour clip level (normalised units)."""
    if frame.state is State.RAW:
        from ..pipeline.order import get_stage
        stage = get_stage("levels")
        frame = stage.run(frame, stage.Params())
    if frame.state is not State.CFA or frame.meta.cfa_pattern not in BAYER_PATTERNS:
        raise InputError("calibration needs a Bayer raw (CFA) image", path=frame.meta.source)
    px = frame.pixels
    code = BAYER_PATTERNS[frame.meta.cfa_pattern]  # type: ignore[index]
    h2, w2 = px.shape[0] // 2 * 2, px.shape[1] // 2 * 2
    rgb = np.zeros((h2 // 2, w2 // 2, 3), np.float32)
    cnt = np.zeros(3, np.float32)
    for i, c in enumerate(code):
        rgb[..., c] += px[i // 2:h2:2, i % 2:w2:2]
        cnt[c] += 1
    rgb /= cnt
    sat = np.asarray(frame.meta.saturation if frame.meta.saturation is not None else np.ones(3), np.float32)
    return rgb, sat


def preview(rgb: np.ndarray) -> np.ndarray:
    """White-balanced (grey world), normalised, sRGB-encoded float preview for detection and pictures."""
    from . import spaces

    small = rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)].reshape(-1, 3)
    gains = np.mean(small, 0)
    gains = np.where(gains > 1e-6, gains[1] / np.maximum(gains, 1e-6), 1.0)
    bal = rgb * gains.astype(np.float32)
    top = float(np.percentile(bal[..., 1], 99.5)) or 1.0
    return spaces.encode(bal / top, "srgb")


def parse_corners(text: str) -> np.ndarray:
    try:
        v = [float(t) for t in text.replace(";", ",").split(",") if t.strip()]
    except ValueError:
        raise ParameterError(f"--corners {text!r}: expected 8 numbers x1,y1,x2,y2,x3,y3,x4,y4") from None
    if len(v) != 8 or not np.all(np.isfinite(v)):
        raise ParameterError(f"--corners {text!r}: expected 8 numbers x1,y1,...,x4,y4 (got {len(v)})")
    c = np.array(v, np.float64).reshape(4, 2)
    area = 0.5 * abs(sum(c[i, 0] * c[(i + 1) % 4, 1] - c[(i + 1) % 4, 0] * c[i, 1] for i in range(4)))
    if area < 24 * 16:
        raise ParameterError(f"--corners {text!r}: the quadrilateral is degenerate (area {area:.0f} px²)")
    return c


def _sample(rgb: np.ndarray, corners_half: np.ndarray, frac: float = 0.5, cell: int = 40,
            sat: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import cv2

    dst = np.array([[0, 0], [COLS * cell, 0], [COLS * cell, ROWS * cell], [0, ROWS * cell]], np.float32)
    H = cv2.getPerspectiveTransform(corners_half.astype(np.float32), dst)
    rect = cv2.warpPerspective(rgb, H, (COLS * cell, ROWS * cell), flags=cv2.INTER_LINEAR)
    m = int(round(cell * (1 - frac) / 2))
    means, stds, clip = np.zeros((24, 3)), np.zeros((24, 3)), np.zeros(24)
    for k in range(24):
        r, c = divmod(k, COLS)
        a = rect[r * cell + m:(r + 1) * cell - m, c * cell + m:(c + 1) * cell - m].reshape(-1, 3).astype(np.float64)
        means[k] = a.mean(0)
        stds[k] = a.std(0)
        if sat is not None:
            clip[k] = float(np.mean(np.any(a >= 0.98 * sat, axis=1)))
    return means, stds, clip


def _orientation_score(means: np.ndarray) -> float:
    greys = means[18:24]
    if np.any(means <= 0):
        return np.inf
    n = greys[1:5].sum(0) / greys[1:5, 1].sum()
    bal = greys / n
    chroma = np.abs(np.log(bal[:, 0] / bal[:, 1])) + np.abs(np.log(bal[:, 2] / bal[:, 1]))
    lum = np.log(np.maximum((means / n).mean(1), 1e-6))
    ref = np.log(_REF_Y)
    off = np.mean(ref - lum)
    return float(np.mean(chroma[:5]) + np.mean((lum + off - ref) ** 2))


def read_chart(frame: Frame, corners: np.ndarray | None = None) -> ChartReading:
    """Locate (or take) the chart and read its patches. Raises InputError when no chart is found."""
    rgb, sat = binned_rgb(frame)
    where = frame.meta.source
    detected = corners is None
    candidates: list[np.ndarray] = []
    if corners is not None:
        c = np.asarray(corners, np.float64)
        h, w = frame.pixels.shape[:2]
        if np.any(c[:, 0] < 0) or np.any(c[:, 1] < 0) or np.any(c[:, 0] > w) or np.any(c[:, 1] > h):
            raise ParameterError(f"--corners lie outside the {w}×{h} image")
        candidates.append(c / 2.0)
    else:
        candidates = _detect(rgb)
        if not candidates:
            raise InputError("no ColorChecker 24 found in the image; make the chart fill more of the frame, "
                             "or give its four corners with --corners x1,y1,...,x4,y4", path=where)
    best = None
    for quad in candidates:
        for roll in range(4):
            q = np.roll(quad, roll, 0)
            means, stds, clip = _sample(rgb, q, sat=sat)
            s = _orientation_score(means)
            if best is None or s < best[0]:
                best = (s, q, means, stds, clip)
    assert best is not None
    s, q, means, stds, clip = best
    if not np.isfinite(s) or s > 0.6:
        if detected:
            raise InputError("found a chart-like object but its patches do not read as a ColorChecker 24 "
                             "(neutral row not neutral); give the corners with --corners", path=where)
        raise InputError("the patches inside --corners do not read as a ColorChecker 24 (its bottom row "
                         "should be neutral greys); check the corner order: start next to the dark-skin "
                         "patch and go clockwise", path=where)
    return ChartReading(rgb=means, std=stds, clipped=clip, corners=q * 2.0, detected=detected)


def _detect(rgb: np.ndarray) -> list[np.ndarray]:
    """Candidate patch-grid quadrilaterals (half-resolution pixels) from colour-checker-detection.

    The segmenter returns the card outline (border included) and the swatches it found; the swatch centres,
    assigned to their nearest grid cell inside the outline, give the homography of the patch grid itself.
    """
    import warnings

    import cv2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from colour_checker_detection import segmenter_default
    img = preview(rgb)
    ww = 1440
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = segmenter_default(img, additional_data=True, working_width=ww)
    except Exception:  # noqa: BLE001 - the detector fails in many ways on chart-less images
        return []
    scale = rgb.shape[1] / ww
    rects = [np.asarray(r, np.float64).reshape(4, 2) * scale for r in getattr(data, "rectangles", [])
             if np.asarray(r).size == 8]
    centres = np.array([np.asarray(s, np.float64).reshape(-1, 2).mean(0) * scale
                        for s in getattr(data, "swatches", [])]) if len(getattr(data, "swatches", [])) else None
    out = []
    unit = np.array([[0, 0], [COLS, 0], [COLS, ROWS], [0, ROWS]], np.float32)
    for quad in rects:
        for roll in (0, 1):      # the outline's long side may be either of its sides
            q = np.roll(quad, roll, 0).astype(np.float32)
            refined = None
            if centres is not None and len(centres) >= 8:
                H = cv2.getPerspectiveTransform(q, unit)
                uv = cv2.perspectiveTransform(centres.reshape(-1, 1, 2).astype(np.float32), H).reshape(-1, 2)
                inside = (uv[:, 0] > 0) & (uv[:, 0] < COLS) & (uv[:, 1] > 0) & (uv[:, 1] < ROWS)
                if inside.sum() >= 8:
                    cells = np.floor(uv[inside]).astype(np.float32) + 0.5
                    G, _ = cv2.findHomography(cells, centres[inside].astype(np.float32), cv2.RANSAC, 3.0 * scale + 2)
                    if G is not None:
                        refined = cv2.perspectiveTransform(unit.reshape(-1, 1, 2), G).reshape(4, 2).astype(np.float64)
            out.append(refined if refined is not None else q.astype(np.float64))
    return out
