"""Exposure brackets → one scene-linear HDR raw mosaic.

Frames of different exposure are brought to the reference's exposure (EXIF time × ISO / N², or, when
EXIF is missing, the median ratio of well-exposed pixels), aligned with the burst aligner on images
clipped to the range both frames can represent, then merged on the mosaic:

- each frame's value ``v`` becomes a radiance estimate ``v·e_ref/e_k``; its weight is the inverse of
  that estimate's noise variance from the noise model, ``(e_k/e_ref)² / (a·v + b)`` — long exposures
  dominate the shadows, short ones the highlights;
- clipped samples (any channel of a Bayer cell at ≥ 97 % of its clip level, grown by one cell)
  get no weight;
- the motion robustness of :mod:`.merge` removes what moved between brackets; where the reference
  itself is clipped nothing can be compared, so frames shorter than the reference are trusted there.

The result is scaled so that the shortest frame's clip is 1.0 and carries ``BaselineExposure`` raised
by log2(e_ref / e_shortest): the HDR DNG develops to the reference's brightness with the highlights
of the shortest frame.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError
from .align import ReferencePyramid, TileFlow, align, bayer_grey
from .api import BurstResult, FrameLike, _name, _parse_ref, exposure_of, load_frames, normalise, to_raw_frame
from .merge import Accumulator, MergeParams, RefStats, noise_from_meta, robustness

CLIP = 0.97


def _clip_level(frame) -> float:
    sat = frame.meta.saturation
    return float(np.min(sat)) if sat is not None and np.size(sat) else 1.0


def _cell_clipped(cfa: np.ndarray, clip: float) -> np.ndarray:
    """Half-resolution map (float 0/1) of Bayer cells with any sample at or above ``clip``, grown by one cell."""
    import cv2

    bad = (_cell_max(cfa) >= clip).astype(np.uint8)
    return cv2.dilate(bad, np.ones((3, 3), np.uint8)).astype(np.float32)


def _cell_max(cfa: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(cfa[0::2, 0::2], cfa[0::2, 1::2]), np.maximum(cfa[1::2, 0::2], cfa[1::2, 1::2]))


def _ratio_from_pixels(ref_cells: np.ndarray, alt_cells: np.ndarray) -> float | None:
    """Exposure ratio alt/ref by matching the level distributions (quantiles) of the Bayer cells' maxima:
    clipping then acts on both alike (min(r·x, clip) keeps the order), and hand-shake barely changes a
    distribution. Only quantiles well exposed in both frames count."""
    qs = np.linspace(1.0, 99.0, 99)
    pa = np.percentile(ref_cells[::2, ::2], qs)
    pb = np.percentile(alt_cells[::2, ::2], qs)
    ok = (pa > 0.05) & (pa < 0.9) & (pb > 0.05) & (pb < 0.9)
    if ok.sum() < 5:
        return None
    return float(np.median(pb[ok] / pa[ok]))


def _warp_cells(m: np.ndarray, flow: TileFlow) -> np.ndarray:
    """A half-resolution map of the alternate frame carried onto the reference grid (nearest)."""
    import cv2

    h2, w2 = m.shape
    gy = np.arange(h2, dtype=np.float64) * 2 + 0.5
    gx = np.arange(w2, dtype=np.float64) * 2 + 0.5
    dy, dx = flow.dense(gy, gx)
    mx = (np.arange(w2, dtype=np.float32)[None, :] + 0.5 * dx).astype(np.float32)
    my = (np.arange(h2, dtype=np.float32)[:, None] + 0.5 * dy).astype(np.float32)
    return cv2.remap(m, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=1.0)


def merge_hdr(inputs: Sequence[FrameLike], *, ref: int | str | None = "auto",
              exposures: Sequence[float] | None = None, params: MergeParams | None = None,
              noise: tuple[float, float] | None = None) -> BurstResult:
    """Merge exposure brackets into one HDR raw (see the module docstring).

    ``ref``: "auto" (the middle exposure) or an index. ``exposures``: relative exposures overriding EXIF.
    """
    p = params or MergeParams()
    frames = load_frames(inputs)
    n = len(frames)
    from_pixels = False
    if exposures is not None:
        if len(exposures) != n or any(not np.isfinite(e) or e <= 0 for e in exposures):
            raise InputError(f"exposures {list(exposures)!r}: need {n} positive numbers, one per frame")
        exps = [float(e) for e in exposures]
    else:
        ex = [exposure_of(f) for f in frames]
        if all(e is not None for e in ex):
            exps = [float(e) for e in ex]  # type: ignore[arg-type]
        else:  # from the pixels: order by brightness, chain the ratios of neighbouring exposures
            cells = [_cell_max(normalise(f)) for f in frames]
            order = np.argsort([float(np.median(c)) for c in cells])
            exps = [1.0] * n
            from_pixels = True
            for j in range(1, n):
                lo, hi = int(order[j - 1]), int(order[j])
                r = _ratio_from_pixels(cells[lo], cells[hi])
                if r is None:
                    raise InputError(f"cannot tell the exposure of {_name(frames[hi], hi)} (no EXIF exposure and "
                                     f"too few pixels well exposed in both it and {_name(frames[lo], lo)}); "
                                     f"pass exposures=", path=_name(frames[hi], hi))
                exps[hi] = exps[lo] * r
            del cells
    r_idx = _parse_ref(ref, n)
    if r_idx is None:
        order = np.argsort(exps)
        r_idx = int(order[(n - 1) // 2]) if n > 2 else int(order[-1])
    ref_frame = frames[r_idx]
    pattern = ref_frame.meta.cfa_pattern
    ref_cfa = normalise(ref_frame)
    e_ref, e_min = exps[r_idx], min(exps)
    nz = noise if noise is not None else noise_from_meta(ref_frame.meta, ref_cfa)
    a, b = nz
    clip_ref = _clip_level(ref_frame) * CLIP

    def inv_var(cells: np.ndarray, gain: float) -> np.ndarray:
        # variance of v·gain where var(v) = a·v + b; weight ∝ 1/variance
        return (1.0 / (gain * gain * (a * np.maximum(cells, 0) + b) + 1e-12)).astype(np.float32)

    acc = Accumulator(ref_cfa.shape, pattern, p)
    ref_clip_cells = _cell_clipped(ref_cfa, clip_ref)
    ref_grey = bayer_grey(ref_cfa)
    w_ref = inv_var(ref_grey, 1.0) * (1.0 - ref_clip_cells)
    acc.add(ref_cfa, TileFlow.zero(ref_cfa.shape), w_ref, reference=True)
    flows: list[TileFlow | None] = [None] * n
    weights = [1.0] * n
    # reference statistics on the reference's unclipped range, for alignment and robustness
    pyr_cache: dict[float, ReferencePyramid] = {}
    stats = RefStats(ref_cfa, pattern, nz, p)
    for k, f in enumerate(frames):
        if k == r_idx:
            continue
        cfa = normalise(f)
        gain = e_ref / exps[k]
        clip_k = _clip_level(f) * CLIP
        scaled = cfa * np.float32(gain)
        # align on grey images clipped to what both frames can represent
        top = min(clip_ref, clip_k * gain)
        key = round(top, 6)
        if key not in pyr_cache:
            pyr_cache[key] = ReferencePyramid(np.minimum(ref_grey, top))
        flow = align(pyr_cache[key], np.minimum(bayer_grey(scaled), top), noise=(a * gain, b * gain * gain))
        if from_pixels:  # refine the exposure ratio on the aligned frames (cells unclipped in both)
            alt_g = _warp_cells(bayer_grey(cfa), flow)
            alt_c = _warp_cells(_cell_clipped(cfa, clip_k), flow)
            ok = (ref_clip_cells < 0.5) & (alt_c < 0.5) & (ref_grey > 0.03) & (alt_g > 0.03)
            if ok.sum() > 100:
                gain = float(np.median(ref_grey[ok] / alt_g[ok]))
                exps[k] = e_ref / gain
                scaled = cfa * np.float32(gain)
        rob = robustness(stats, scaled, flow, p)
        if gain > 1.0:  # shorter than the reference: trusted where the reference is clipped
            rob = np.maximum(rob, ref_clip_cells)
        alt_clip = _warp_cells(_cell_clipped(cfa, clip_k), flow)
        cells = bayer_grey(cfa)
        w = rob * (1.0 - np.clip(alt_clip, 0, 1)) * _warp_cells(inv_var(cells, gain), flow)
        acc.add(scaled, flow, w.astype(np.float32))
        flows[k] = flow
        weights[k] = float(np.mean(w) / max(np.mean(w_ref), 1e-12))
    e_min = min(exps)
    # where every frame is clipped: the clip level of the shortest frame
    top_val = _clip_level(frames[int(np.argmin(exps))]) * e_ref / e_min
    merged = acc.result(np.full(ref_cfa.shape, top_val, np.float32))
    merged = np.where(acc.den > 0, merged, np.maximum(ref_cfa, top_val)).astype(np.float32)
    scale = e_min / e_ref
    out = (merged * np.float32(scale)).astype(np.float32)
    frame = to_raw_frame(out, ref_frame, noise=(a * scale, b * scale * scale),
                         baseline_shift=float(np.log2(e_ref / e_min)), note="hdr")
    frame.meta.saturation = np.ones(3, np.float32)
    frame.meta.extra["hdr"] = {"frames": n, "ref": r_idx, "exposures": [round(e, 6) for e in exps],
                               "stops": round(float(np.log2(max(exps) / e_min)), 3)}
    return BurstResult(frame, out, r_idx, flows, weights, [_name(f, i) for i, f in enumerate(frames)])
