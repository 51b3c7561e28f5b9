"""Point-wise stages and their fusion into one pass.

Some stages are a function of each pixel alone, with parameters that depend on the frame only through its
metadata and a small sample (``colour``'s matrix, ``exposure``'s gain, ``tone``'s curve, ``output``'s encoding).
Such a stage implements :meth:`Stage.pointwise <rawlux.pipeline.stage.Stage.pointwise>`: it returns the
:data:`PointOp` it applies and the frame it gives. Its ``run`` is that method's frame, so the stage has one
implementation.

The runner (``pipeline/run.py``) fuses a run of point-wise stages that follow each other. Each stage is called
on a *probe*: a regular subsample of the frame of about :data:`PROBE_PIXELS` pixels. From the probe it gets the
stage's ops, its metadata and its state, exactly as ``run`` would make them on the whole frame. Then one
vectorised kernel (:func:`rawlux.isp._finish_kernel.finish`) applies the composed ops to every pixel, with a
single read and a single write of the full-size image. Statistics that stages take from the frame, such as the
automatic exposure, are taken on this same subsample (:func:`probe`) whether fused or not, so the picture
does not depend on whether the run was fused.

The composition the kernel takes is: any number of 3×3 :class:`Matrix` ops, then at most one :class:`ToneCurve`,
then at most one :class:`Encode`. A run that does not fit is cut where it stops fitting.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import numpy as np

#: pixels of the probe a fused run works its statistics out on (also what the automatic exposure samples)
PROBE_PIXELS = 250_000


def probe_step(shape: tuple[int, ...]) -> int:
    """The row and column step of the regular subsample of an image of this shape (see :func:`probe`)."""
    return max(1, int(math.sqrt(shape[0] * shape[1] / PROBE_PIXELS)))


def probe(pixels: np.ndarray) -> np.ndarray:
    """A regular subsample of ``pixels`` (every ``probe_step``-th row and column, from the first), a new
    contiguous array. A probe's own probe is itself (its step is 1)."""
    s = probe_step(pixels.shape)
    return np.ascontiguousarray(pixels[::s, ::s])


@dataclass(frozen=True, eq=False)
class Matrix:
    """Linear RGB → linear RGB by a 3×3 matrix (a gain is a scaled identity)."""
    m: np.ndarray


@dataclass(frozen=True)
class ToneCurve:
    """Each channel (negatives to 0) through peak·x^c/(x^c + s_c), then toward its hue-keeping position by
    ``hue_pres`` (see :mod:`rawlux.isp.tone`)."""
    c: float
    s_c: float
    peak: float
    hue_pres: float


@dataclass(frozen=True, eq=False)
class Encode:
    """To the output space (3×3 ``m``), gamut handling (``compress``: 0 clip, 1 smooth, 2 out-of-gamut pixels
    only), clip to [0, 1] and the transfer function ``tf`` (see :mod:`rawlux.isp.output`)."""
    m: np.ndarray
    compress: int
    tf: str


PointOp = Union[Matrix, ToneCurve, Encode]

_RANK = {Matrix: 0, ToneCurve: 1, Encode: 2}


def fits(ops: list[PointOp]) -> bool:
    """Whether one pass can apply ``ops`` in order: matrices, then at most one tone curve, then at most one
    encoding (each op after the first matrix-free one must rank strictly higher)."""
    last = -1
    for op in ops:
        r = _RANK[type(op)]
        if r < last or (r == last and r > 0):
            return False
        last = r
    return True


def apply(ops: list[PointOp], pixels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``ops`` (which must :func:`fit <fits>`) on an H×W×3 float32 image in one pass, into ``out`` (may be
    ``pixels``; new when None)."""
    from ..isp._finish_kernel import finish, transfer_params

    if not fits(ops):
        raise ValueError(f"these point-wise operations do not compose into one pass: {ops}")
    m_in = np.eye(3)
    tone = None
    enc = None
    for op in ops:
        if isinstance(op, Matrix):
            m_in = np.asarray(op.m, np.float64) @ m_in
        elif isinstance(op, ToneCurve):
            tone = op
        else:
            enc = op
    src = np.ascontiguousarray(pixels, np.float32)
    if out is None:
        out = np.empty_like(src)
    f32 = np.float32
    t = tone or ToneCurve(1.0, 1.0, 1.0, 0.0)
    e_m = np.eye(3) if enc is None else np.asarray(enc.m, np.float64)
    finish(src, m_in.astype(np.float32), tone is not None, tone is not None, f32(t.c), f32(t.s_c), f32(t.peak),
           f32(t.hue_pres), enc is not None, e_m.astype(np.float32), 0 if enc is None else int(enc.compress),
           transfer_params("linear" if enc is None else enc.tf), out)
    return out
