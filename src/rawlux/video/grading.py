"""A look prepared for video: its per-pixel part as one 3D LUT over the frame's R'G'B', plus the spatial
ingredients that are rendered per frame (vignette, grain).

The LUT is made by running rawlux's own pipeline (the stages ``rawlux develop`` runs on a JPEG/PNG: the
input is display-referred) on a grid of R'G'B' values, with the spatial ingredients switched off, so a graded
video frame is the still render of that frame, sampled on a ``size``³ grid. Video R'G'B' (BT.709 primaries,
which are sRGB's) is read as sRGB-encoded, the same as a frame exported to PNG and developed, and the same as
``ffmpeg -vf lut3d`` with the look's exported cube (``rawlux look export NAME --source image``).
Clarity and sharpening are not rendered on video (they are listed in ``VideoLook.skipped``).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LookError, ParameterError

#: stages that may act on the LUT grid: per-pixel functions of the colour, nothing spatial or statistical
POINTWISE = frozenset({"levels", "whitebalance", "colour", "exposure", "tone", "balance", "curve", "saturation", "hsl",
                       "mixer", "split", "lut", "grade", "output"})
#: ingredients rendered per frame; clarity and sharpening are skipped on video
SPATIAL_OFF = {"vignette": {"enabled": False}, "grain": {"enabled": False}, "clarity": {"enabled": False},
               "sharpen": {"enabled": False}}
#: matrix coefficients (Kr, Kb) by name
MATRICES = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114)}
TRANSFER_TABLE = 4097


@dataclass(frozen=True, eq=False)
class VideoLook:
    """What the video kernel needs for one look."""

    name: str
    lut: np.ndarray                     # flat padded table (n³·4 float32, r slowest), or empty
    n: int
    vignette: Any = None                # VignetteParams, or None
    grain: Any = None                   # GrainParams, or None
    skipped: tuple[str, ...] = ()       # ingredients the look has that video does not render
    recipe: Any = None
    cube: Any = None                    # a bare LUT applied after the look (rawlux.looks.lutfiles.Lut), or None

    @property
    def spatial(self) -> bool:
        return self.vignette is not None or self.grain is not None


def look_spec(look: str | os.PathLike[str] | None, strength: float | None) -> str:
    """The look as ``rawlux.develop`` takes it (``NAME[@strength]``)."""
    from ..looks.schema import split_spec
    spec = "natural" if look is None else str(look)
    if strength is not None:
        base, _ = split_spec(spec)
        try:
            s = float(strength)
        except (TypeError, ValueError):
            raise ParameterError(f"strength {strength!r} is not a number") from None
        if not 0.0 <= s <= 1.0:
            raise ParameterError(f"strength {s:g} is out of range [0, 1]")
        spec = f"{base}@{s:g}"
    return spec


def build_look(look: str | os.PathLike[str] | None = None, *, strength: float | None = None,
               sets: tuple[str, ...] | list[str] = (), cube: str | os.PathLike[str] | None = None,
               size: int = 33) -> VideoLook:
    """Prepare a look (and/or a bare ``.cube``) for video. Errors are raised before any video is opened."""
    if not 9 <= int(size) <= 65:
        raise ParameterError(f"LUT size {size} is out of range [9, 65]")
    spec = look_spec(look, strength)
    stamp = None
    if cube is not None:
        p = Path(cube)
        try:
            stamp = (str(p.resolve()), p.stat().st_mtime_ns)
        except OSError as e:
            raise LookError(f"--cube {cube}: cannot read ({e.strerror or e})") from None
    return _build(spec, tuple(sets), stamp, int(size))


@lru_cache(maxsize=16)
def _build(spec: str, sets: tuple[str, ...], cube_stamp: tuple | None, size: int) -> VideoLook:
    from ..colour import spaces
    from ..frame import Frame, Metadata, State
    from ..looks.ingredients.kernels import padded
    from ..pipeline.recipe import Recipe
    from ..pipeline.run import run_stages

    rec = Recipe.build(spec, sets=sets)
    vig = rec.params.get("vignette")
    grn = rec.params.get("grain")
    vig = vig if vig is not None and not vig.is_identity() else None
    grn = grn if grn is not None and not grn.is_identity() else None
    skipped = tuple(s for s in ("clarity", "sharpen") if s in rec.params and not rec.params[s].is_identity())

    colour = rec.with_overrides({**SPATIAL_OFF, "output": {"space": "srgb"}})
    g = np.linspace(0.0, 1.0, size, dtype=np.float32)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    enc = np.stack([r, gg, b], axis=-1).reshape(-1, 1, 3)
    lin = spaces.decode(enc, spaces.transfer_of("srgb"))
    m = spaces.rgb_to_rgb("srgb", spaces.WORKING).astype(np.float32)
    work = (lin.reshape(-1, 3) @ m.T).reshape(-1, 1, 3)
    frame = Frame(np.ascontiguousarray(work, np.float32), State.SCENE_LINEAR, Metadata(kind="image"))
    out = run_stages(frame, colour)
    bad = [s for s in out.meta.history if s not in POINTWISE]
    if bad or out.pixels.shape != enc.shape:
        raise ParameterError(f"look {spec}: stage {', '.join(bad) or 'crop'} is not a per-pixel colour operation "
                             f"and cannot be applied to video")
    table = np.clip(out.pixels.reshape(-1, 3), 0.0, 1.0)
    lut_obj = None
    if cube_stamp is not None:
        from ..looks.lutfiles import read_lut
        lut_obj = read_lut(cube_stamp[0])
        table = np.clip(lut_obj.apply(np.ascontiguousarray(table, np.float32)), 0.0, 1.0)
    identity = bool(np.abs(table - enc.reshape(-1, 3)).max() < 0.5 / 1023)
    if identity:
        flat, n = np.zeros(0, np.float32), 0
    else:
        flat, n = padded(table.reshape(size, size, size, 3).astype(np.float32)), size
    flat.setflags(write=False)
    name = spec if cube_stamp is None else f"{spec} + {Path(cube_stamp[0]).name}"
    return VideoLook(name, flat, n, vig, grn, skipped, rec, lut_obj)


@lru_cache(maxsize=1)
def transfer_tables() -> tuple[np.ndarray, np.ndarray]:
    """(decode table over encoded [0, 1], encode table over √linear [0, 1]) for the sRGB transfer function."""
    from ..colour import spaces
    tf = spaces.transfer_of("srgb")
    x = np.linspace(0.0, 1.0, TRANSFER_TABLE)
    dec = np.asarray(spaces.decode(x, tf), np.float32)
    enc = np.asarray(spaces.encode(x * x, tf), np.float32)
    return np.ascontiguousarray(dec), np.ascontiguousarray(enc)


def conversion(bits_in: int, full_in: bool, bits_out: int, full_out: bool, matrix: str) -> np.ndarray:
    """The kernel's parameter vector: code values ↔ normalised Y'CbCr, and the matrix."""
    from ._kernels import NCONV

    def side(bits: int, full: bool) -> tuple[float, float, float, float]:
        k = float(1 << (bits - 8))
        if full:
            top = float((1 << bits) - 1)
            return 0.0, top, float(1 << (bits - 1)), top
        return 16.0 * k, 219.0 * k, 128.0 * k, 224.0 * k

    yo, ys, co, cs = side(bits_in, full_in)
    oyo, oys, oco, ocs = side(bits_out, full_out)
    kr, kb = MATRICES[matrix]
    c = np.zeros(NCONV, np.float32)
    c[:] = [yo, 1.0 / ys, co, 1.0 / cs, oyo, oys, oco, ocs, float((1 << bits_out) - 1), kr, kb]
    return c


def grain_for_frame(p: Any, index: int) -> Any:
    """The grain params of frame ``index``: the look's seed moved on per frame, so grain changes like film."""
    return dataclasses.replace(p, seed=int((p.seed + 7919 * (index + 1)) % (2 ** 31 - 1)))


class FrameGrader:
    """Grades 4:2:0 planes frame by frame for one look and one frame geometry."""

    def __init__(self, vlook: VideoLook, width: int, height: int, conv: np.ndarray, bits_in: int = 8,
                 table: bool = True):
        self.look = vlook
        self.w, self.h = width, height
        self.conv = conv
        self.dec_t, self.enc_t = transfer_tables()
        one = np.zeros(1, np.float32)
        self._dummy2 = np.zeros((1, 1), np.float32)
        self.vdx2 = self.vdy2 = self.vtab = one
        if vlook.vignette is not None:
            from ..looks.ingredients.vignette import axes, gain_table
            self.vdx2, self.vdy2 = axes(height, width, vlook.vignette)
            self.vtab = gain_table(vlook.vignette)
        self.vtabp = np.ascontiguousarray(self.vtab ** np.float32(1.0 / 2.4), dtype=np.float32)
        #: 8-bit input and no spatial ingredient: the whole grade is one table lookup per pixel
        self.table = None
        if table and bits_in == 8:
            self.ybits = int(round(float(conv[8]))).bit_length()
            self.frac = 4 if self.ybits == 8 else 1
            self.table = _table8(vlook, conv.tobytes(), self.ybits, self.frac)

    def grain(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]:
        p = self.look.grain
        if p is None:
            d = self._dummy2
            return d, d, d, 0.0, 0.0, 0.0
        from ..looks.ingredients.grade import grain_planes
        noise, nr, nb, factor = grain_planes(self.h, self.w, grain_for_frame(p, index))
        return noise, nr, nb, 0.1 * p.strength * p.amount * factor, p.response, p.colour

    def __call__(self, planes_in: tuple[np.ndarray, np.ndarray, np.ndarray],
                 planes_out: tuple[np.ndarray, np.ndarray, np.ndarray], index: int) -> None:
        from ._kernels import apply_table8, apply_table8_spatial, grade_420
        if self.table is not None and not self.look.spatial:
            apply_table8(*planes_in, self.table, self.ybits, self.frac, int(self.conv[8]), *planes_out)
            return
        noise, nr, nb, amt, resp, col = self.grain(index)
        if self.table is not None:
            apply_table8_spatial(*planes_in, self.table, self.ybits, self.frac, self.conv, self.dec_t, self.enc_t,
                                 self.vdx2, self.vdy2, self.vtab, self.vtabp, noise, nr, nb, np.float32(amt),
                                 np.float32(resp), np.float32(col), *planes_out)
            return
        # the per-pixel path serves 10-bit sources: it always writes 16-bit planes (one compiled specialisation),
        # copied into 8-bit ones when the output is 8-bit
        out16 = planes_out if planes_out[0].dtype == np.uint16 else tuple(np.empty(p.shape, np.uint16)
                                                                           for p in planes_out)
        lk = self.look
        grade_420(*planes_in, *out16, self.conv, lk.lut, lk.n, self.dec_t, self.enc_t, self.vdx2, self.vdy2,
                  self.vtab, noise, nr, nb, np.float32(amt), np.float32(resp), np.float32(col))
        if out16 is not planes_out:
            for dst, src in zip(planes_out, out16):
                np.copyto(dst, src, casting="unsafe")


def _huge(n: int) -> np.ndarray:
    """n uint32, on transparent huge pages where the kernel offers them (a 64 MiB table read at random
    costs a TLB miss per 4 KiB page otherwise)."""
    import mmap
    try:
        m = mmap.mmap(-1, n * 4)
        if hasattr(mmap, "MADV_HUGEPAGE"):
            m.madvise(mmap.MADV_HUGEPAGE)
        return np.frombuffer(m, np.uint32)
    except (OSError, ValueError, AttributeError):       # pragma: no cover - platform without it
        return np.empty(n, np.uint32)


@lru_cache(maxsize=1)
def _table8(vlook: VideoLook, conv_bytes: bytes, ybits: int, frac: int) -> np.ndarray:
    """The 2²⁴-entry table of ``build_table8`` (64 MiB) for one look and one stream format."""
    from ._kernels import build_table8
    conv = np.frombuffer(conv_bytes, np.float32)
    dec_t, enc_t = transfer_tables()
    out = _huge(1 << 24)
    build_table8(conv, vlook.lut, vlook.n, dec_t, enc_t, ybits, frac, out)
    out.setflags(write=False)
    return out


def planes_rgb(planes: tuple[np.ndarray, np.ndarray, np.ndarray], conv: np.ndarray) -> np.ndarray:
    """R'G'B' float32 H×W×3 of 4:2:0 planes (the same conversion the grade uses)."""
    from ._kernels import yuv420_to_rgb
    y = planes[0]
    out = np.empty((y.shape[0], y.shape[1], 3), np.float32)
    yuv420_to_rgb(planes[0], planes[1], planes[2], conv, out)
    return out
