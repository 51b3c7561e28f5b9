"""Burst merge, the Python API: frames in, one merged raw Frame (and DNG) out.

    >>> from rawlux.burst import merge_burst
    >>> res = merge_burst(["b0.dng", "b1.dng", ...], ref="auto")
    >>> res.write_dng("merged.dng")
    >>> rawlux.save(rawlux.develop(res.frame, look="natural"), "merged.jpg")
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence, Union

import numpy as np
from numba import njit, prange

from ..errors import InputError, ParameterError
from ..frame import BAYER_PATTERNS, Frame, State
from .align import ReferencePyramid, TileFlow, align, bayer_grey, sharpness
from .merge import (Accumulator, MergeParams, RefStats, aliased_fraction, demosaic_frame, noise_from_meta,
                    resample_demosaiced, resample_planes, residual_noise_fraction, robustness,
                    robustness_aligned, spatial_denoise)

FrameLike = Union[str, "os.PathLike[str]", Frame]

#: black pedestal and white level of merged mosaics (16-bit, room below black for negative noise)
PEDESTAL = 1024.0
WHITE = 65535.0


@dataclass
class BurstResult:
    """A merged burst: ``frame`` is a RAW-state uint16 mosaic with the reference's metadata."""

    frame: Frame
    cfa: np.ndarray                 # merged mosaic, normalised (0 = black, 1 = white of the inputs)
    ref: int                        # index of the reference frame
    flows: list[TileFlow | None]    # per frame (None for the reference)
    weights: list[float]            # mean robustness per frame (1 for the reference)
    sources: list[str] = field(default_factory=list)

    def write_dng(self, path: str | os.PathLike[str]) -> Path:
        from ..io.dngwrite import write_dng

        return write_dng(path, self.frame)


# ----------------------------------------------------------------------------- inputs

def _name(f: Frame, i: int) -> str:
    return f.meta.source or f"frame #{i}"


def load_frames(inputs: Sequence[FrameLike]) -> list[Frame]:
    """Open every input (paths through ``rawlux.open_image``) and check they form one burst."""
    from ..io.decode import open_image

    if not inputs:
        raise ParameterError("a burst needs at least one frame")
    frames = [x if isinstance(x, Frame) else open_image(x) for x in inputs]
    check_compatible(frames)
    return frames


def check_compatible(frames: Sequence[Frame]) -> None:
    """Raise InputError naming the files when frames differ in size, camera or CFA pattern."""
    first = frames[0]
    n0 = _name(first, 0)
    for i, f in enumerate(frames):
        nm = _name(f, i)
        if f.state is not State.RAW or f.pixels.ndim != 2 or f.meta.cfa_pattern not in BAYER_PATTERNS:
            raise InputError(f"burst frames must be Bayer raw mosaics; {nm} is "
                             f"{f.state.name} {'×'.join(map(str, f.pixels.shape))}"
                             f"{'' if f.meta.cfa_pattern else ' without a CFA pattern'}", path=nm)
        if f.pixels.shape != first.pixels.shape:
            raise InputError(f"burst frames differ in size: {n0} is {first.width}×{first.height} but "
                             f"{nm} is {f.width}×{f.height}; merge frames of one camera and mode", path=nm)
        if f.meta.cfa_pattern != first.meta.cfa_pattern:
            raise InputError(f"burst frames differ in CFA pattern: {n0} is {first.meta.cfa_pattern} but "
                             f"{nm} is {f.meta.cfa_pattern}", path=nm)
        if (f.meta.make, f.meta.model) != (first.meta.make, first.meta.model):
            raise InputError(f"burst frames come from different cameras: {n0} is "
                             f"{(first.meta.make + ' ' + first.meta.model).strip() or 'unknown'} but {nm} is "
                             f"{(f.meta.make + ' ' + f.meta.model).strip() or 'unknown'}", path=nm)
    if first.width < 32 or first.height < 32:
        raise InputError(f"burst frames of {first.width}×{first.height} are too small to align (need ≥ 32×32)",
                         path=n0)


@njit(parallel=True, cache=True, fastmath=True)
def _normalise(px, b2, scale, out):
    h, w = px.shape
    for y in prange(h):
        for x in range(w):
            out[y, x] = (np.float32(px[y, x]) - b2[y & 1, x & 1]) * scale[y & 1, x & 1]


def normalise(frame: Frame) -> np.ndarray:
    """RAW mosaic → float32, black subtracted per CFA position, 1.0 = white level."""
    px = frame.pixels
    h, w = px.shape
    black = np.asarray(frame.meta.black_level if frame.meta.black_level is not None else 0.0, np.float32)
    b2 = black.reshape(2, 2) if black.size == 4 else np.full((2, 2), float(black.ravel()[0]) if black.size else 0.0,
                                                              np.float32)
    white = float(np.max(np.asarray(frame.meta.white_level if frame.meta.white_level is not None else 65535.0)))
    scale = (1.0 / np.maximum(white - b2, 1.0)).astype(np.float32)
    out = np.empty((h, w), np.float32)
    _normalise(np.ascontiguousarray(px), b2.astype(np.float32), scale.astype(np.float32), out)
    return out


def exposure_of(frame: Frame) -> float | None:
    """Relative exposure (time × ISO / N²) from EXIF, or None when unknown."""
    ex = frame.meta.exif or {}
    try:
        t = float(ex.get("ExposureTime"))
    except (TypeError, ValueError):
        return None
    if not np.isfinite(t) or t <= 0:
        return None
    try:
        iso = float(ex.get("ISO") or 100.0)
    except (TypeError, ValueError):
        iso = 100.0
    try:
        fn = float(ex.get("FNumber") or 0.0)
    except (TypeError, ValueError):
        fn = 0.0
    return t * iso / (fn * fn if fn > 0 else 1.0) * 2.0 ** (frame.meta.baseline_exposure or 0.0) / 100.0


def pick_reference(greys: Sequence[np.ndarray]) -> int:
    """The sharpest frame (largest mean squared Laplacian)."""
    return int(np.argmax([sharpness(g) for g in greys]))


def _parse_ref(ref: int | str | None, n: int) -> int | None:
    if ref is None or (isinstance(ref, str) and ref.lower() == "auto"):
        return None
    try:
        r = int(ref)
    except (TypeError, ValueError):
        raise ParameterError(f"--ref {ref!r}: expected 'auto' or a frame index 0..{n - 1}") from None
    if not 0 <= r < n:
        raise ParameterError(f"--ref {r}: the burst has {n} frame{'s' if n > 1 else ''} (valid: 0..{n - 1} or auto)")
    return r


# ----------------------------------------------------------------------------- merge

def _neutral(frame: Frame) -> np.ndarray:
    """Camera RGB of a neutral (G = 1) for white-balancing the demosaic; ones when unknown or invalid."""
    n = frame.meta.as_shot_neutral
    if n is not None:
        v = np.asarray(n, np.float64).ravel()[:3]
        if v.size == 3 and np.all(np.isfinite(v)) and np.all(v > 0):
            return (v / v[1]).astype(np.float32)
    return np.ones(3, np.float32)


def to_raw_frame(cfa: np.ndarray, ref: Frame, *, noise: tuple[float, float] | None = None,
                 n_eff: float = 1.0, baseline_shift: float = 0.0, note: str = "burst") -> Frame:
    """A normalised merged mosaic → RAW-state uint16 Frame with the reference's metadata."""
    dn = np.clip(np.rint(PEDESTAL + cfa * (WHITE - PEDESTAL)), 0, WHITE).astype(np.uint16)
    meta = replace(ref.meta)
    meta.history = [*ref.meta.history, note]
    meta.extra = dict(ref.meta.extra)
    meta.extra.pop("black_delta_h", None)
    meta.extra.pop("black_delta_v", None)
    meta.black_level = np.full((2, 2), PEDESTAL, np.float32)
    meta.white_level = WHITE
    meta.source = None
    meta.baseline_exposure = float(ref.meta.baseline_exposure or 0.0) + baseline_shift
    if noise is not None:
        a, b = noise
        meta.noise_profile = (a / n_eff, b / n_eff) * 3
    meta.exif = dict(ref.meta.exif or {})
    meta.exif["Software"] = "rawlux"
    return Frame(dn, State.RAW, meta)


def merge_burst(inputs: Sequence[FrameLike], *, ref: int | str | None = "auto",
                params: MergeParams | None = None, noise: tuple[float, float] | None = None,
                align_exposure: bool = True) -> BurstResult:
    """Align and merge a hand-held burst of raw frames into one clean raw.

    ``ref``: "auto" (sharpest frame) or an index. ``noise``: (a, b) of ``var = a·v + b`` in normalised
    units; default from the reference's DNG NoiseProfile, else estimated from the reference. Frames of
    different exposure are scaled to the reference's (EXIF exposure time × ISO / N²) when
    ``align_exposure``; for real brackets use :func:`rawlux.burst.hdr.merge_hdr`.
    """
    p = params or MergeParams()
    frames = load_frames(inputs)
    n = len(frames)
    r = _parse_ref(ref, n)
    greys: list[np.ndarray | None] = [None] * n
    if r is None:
        if n == 1:
            r = 0
        else:
            greys = [bayer_grey(normalise(f)) for f in frames]
            r = pick_reference(greys)
    ref_frame = frames[r]
    ref_cfa = normalise(ref_frame)
    pattern = ref_frame.meta.cfa_pattern
    nz = noise if noise is not None else noise_from_meta(ref_frame.meta, ref_cfa)
    e_ref = exposure_of(ref_frame)
    neutral = _neutral(ref_frame)
    method = p.method
    if method not in ("auto", "demosaic", "cubic", "kernel"):
        raise ParameterError(f"merge method {method!r}: expected auto, demosaic, cubic or kernel")
    if p.kernel not in ("lanczos3", "cubic"):
        raise ParameterError(f"merge kernel {p.kernel!r}: expected lanczos3 or cubic")
    if method == "auto":  # demosaicing every frame pays off where the raw planes are aliased
        method = "demosaic" if n > 1 and aliased_fraction(ref_cfa, pattern, nz) >= p.alias_fraction else "cubic"
        p = replace(p, method=method)
    acc = Accumulator(ref_cfa.shape, pattern, p)
    h2, w2 = ref_cfa.shape[0] // 2, ref_cfa.shape[1] // 2
    zero = TileFlow.zero(ref_cfa.shape)
    acc.add(ref_cfa, zero, np.ones((h2, w2), np.float32), reference=True)
    flows: list[TileFlow | None] = [None] * n
    weights = [1.0] * n
    if n > 1:
        ref_grey = greys[r] if greys[r] is not None else bayer_grey(ref_cfa)
        pyr = ReferencePyramid(ref_grey)
        stats = RefStats(ref_cfa, pattern, nz, p)
        for k, f in enumerate(frames):
            if k == r:
                continue
            cfa = normalise(f)
            gain = 1.0
            e_k = exposure_of(f)
            if align_exposure and e_ref and e_k:
                gain = e_ref / e_k
            if gain != 1.0:
                cfa *= np.float32(gain)
            g = bayer_grey(cfa)
            flow = align(pyr, g, noise=nz)
            if method in ("demosaic", "cubic"):
                if method == "demosaic":
                    rgb = demosaic_frame(cfa, pattern, neutral, p.demosaic)
                    aligned, outside = resample_demosaiced(rgb, pattern, neutral, flow, cfa.shape, p.kernel)
                    del rgb
                else:
                    aligned, outside = resample_planes(cfa, pattern, flow, p.both_greens)
                rob = robustness_aligned(stats, aligned, outside, p)
                acc.add_aligned(aligned, rob)
                del aligned
            else:
                rob = robustness(stats, cfa, flow, p)
                acc.add(cfa, flow, rob)
            flows[k] = flow
            weights[k] = float(rob.mean())
            greys[k] = None
    merged = acc.result(ref_cfa)
    n_eff = float(sum(weights))
    left = 1.0
    if n > 1 and p.spatial > 0:
        temporal = merged
        merged = spatial_denoise(temporal, acc.den, nz, pattern, p.spatial)
        # the DNG's NoiseProfile describes what is left, so that a developer does not denoise twice
        left = residual_noise_fraction(temporal, merged, acc.den, nz)
        del temporal
    frame = to_raw_frame(merged, ref_frame, noise=nz, n_eff=max(n_eff, 1.0) / left)
    frame.meta.extra["burst"] = {"frames": n, "ref": r, "weights": [round(w, 4) for w in weights],
                                 "resampling": method, "noise_left_by_spatial_denoise": round(left, 4)}
    return BurstResult(frame, merged, r, flows, weights, [_name(f, i) for i, f in enumerate(frames)])
