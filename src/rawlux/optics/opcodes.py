"""DNG opcode lists (OpcodeList1/2/3): parse the big-endian byte strings and apply them.

Layout (DNG 1.3+, all big-endian): ``uint32 count``, then per opcode ``uint32 id``, ``uint32 dng
version``, ``uint32 flags`` (bit 0: optional, bit 1: may be skipped for previews), ``uint32 size``
and ``size`` bytes of parameters.

Pixel opcodes (GainMap, MapPolynomial, MapTable, Delta/ScalePerRow/Column, FixVignetteRadial,
FixBadPixelsConstant/List, TrimBounds) are applied here. The warps (WarpRectilinear, WarpFisheye)
only produce *coordinate maps*: the ``lens`` stage composes them with the other geometric
corrections and resamples once (see :mod:`rawlux.optics.warp`).

Coordinates: an opcode's area and the warp/vignette centre are in the pixel grid of the image
the list applies to (the active area for lists 2 and 3). Radial models normalise distances by the
largest distance from the centre to a corner of the image.
"""
from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError

log = logging.getLogger("rawlux.optics")

OPCODE_NAMES = {1: "WarpRectilinear", 2: "WarpFisheye", 3: "FixVignetteRadial", 4: "FixBadPixelsConstant",
                5: "FixBadPixelsList", 6: "TrimBounds", 7: "MapTable", 8: "MapPolynomial", 9: "GainMap",
                10: "DeltaPerRow", 11: "DeltaPerColumn", 12: "ScalePerRow", 13: "ScalePerColumn",
                14: "WarpRectilinear2"}
GEOMETRIC = {"WarpRectilinear", "WarpFisheye"}


def notice(meta: Any, text: str, level: int = logging.WARNING) -> None:
    """Record a user-facing notice on the frame (``meta.note``, kept in ``meta.facts.notes``) and log it."""
    log.log(level, text)
    if meta is not None:
        meta.note(text)


@dataclass
class Opcode:
    """One parsed opcode: its id, name, flags and decoded parameters (``args``)."""

    id: int
    version: tuple[int, int, int, int]
    flags: int
    args: dict[str, Any] = field(default_factory=dict)
    raw: bytes = b""

    @property
    def name(self) -> str:
        return OPCODE_NAMES.get(self.id, f"opcode {self.id}")

    @property
    def optional(self) -> bool:
        return bool(self.flags & 1)

    @property
    def known(self) -> bool:
        return self.id in _DECODERS


# ----------------------------------------------------------------------------- decoders

class _Reader:
    def __init__(self, data: bytes, what: str):
        self.d, self.o, self.what = data, 0, what

    def take(self, fmt: str) -> tuple:
        n = struct.calcsize(fmt)
        if self.o + n > len(self.d):
            raise ValueError(f"{self.what}: parameters end after {len(self.d)} bytes, {self.o + n} needed")
        v = struct.unpack_from(fmt, self.d, self.o)
        self.o += n
        return v

    def array(self, dtype: str, n: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * n
        if n < 0 or self.o + size > len(self.d):
            raise ValueError(f"{self.what}: {n} values do not fit the {len(self.d)} parameter bytes")
        a = np.frombuffer(self.d, dtype=dtype, count=n, offset=self.o).astype(np.float64)
        self.o += size
        return a


def _area(r: _Reader) -> dict[str, int]:
    t, l, b, rt, plane, planes, rp, cp = r.take(">8I")
    if b < t or rt < l or rp < 1 or cp < 1 or planes < 1:
        raise ValueError(f"{r.what}: degenerate area ({t},{l})-({b},{rt}) pitch {rp}×{cp} planes {planes}")
    if plane >= MAX_PLANES or planes > MAX_PLANES:
        raise ValueError(f"{r.what}: plane {plane} + {planes} planes is beyond the {MAX_PLANES} planes an image has")
    return dict(top=t, left=l, bottom=b, right=rt, plane=plane, planes=planes, row_pitch=rp, col_pitch=cp)


def _warp_rect(r: _Reader) -> dict[str, Any]:
    (n,) = r.take(">I")
    if not 1 <= n <= 4:
        raise ValueError(f"{r.what}: {n} planes")
    coef = r.array(">f8", 6 * n).reshape(n, 6)
    cx, cy = r.take(">2d")
    return dict(kr=coef[:, :4], kt=coef[:, 4:], cx=cx, cy=cy)


def _warp_fish(r: _Reader) -> dict[str, Any]:
    (n,) = r.take(">I")
    if not 1 <= n <= 4:
        raise ValueError(f"{r.what}: {n} planes")
    coef = r.array(">f8", 4 * n).reshape(n, 4)
    cx, cy = r.take(">2d")
    return dict(kr=coef, cx=cx, cy=cy)


def _vignette(r: _Reader) -> dict[str, Any]:
    k = r.array(">f8", 5)
    cx, cy = r.take(">2d")
    return dict(k=k, cx=cx, cy=cy)


def _bad_const(r: _Reader) -> dict[str, Any]:
    const, phase = r.take(">2I")
    return dict(constant=const, bayer_phase=phase)


def _bad_list(r: _Reader) -> dict[str, Any]:
    phase, npts, nrect = r.take(">3I")
    pts = r.array(">u4", 2 * npts).reshape(npts, 2).astype(np.int64)
    rects = r.array(">u4", 4 * nrect).reshape(nrect, 4).astype(np.int64)
    return dict(bayer_phase=phase, points=pts, rects=rects)


def _trim(r: _Reader) -> dict[str, Any]:
    t, l, b, rt = r.take(">4I")
    return dict(top=t, left=l, bottom=b, right=rt)


def _map_table(r: _Reader) -> dict[str, Any]:
    a = _area(r)
    (n,) = r.take(">I")
    if n < 1:
        raise ValueError(f"{r.what}: empty table")
    a["table"] = r.array(">u2", n) / 65535.0
    return a


def _map_poly(r: _Reader) -> dict[str, Any]:
    a = _area(r)
    (deg,) = r.take(">I")
    if deg > 8:
        raise ValueError(f"{r.what}: degree {deg} above 8")
    a["coefficients"] = r.array(">f8", deg + 1)
    return a


def _gain_map(r: _Reader) -> dict[str, Any]:
    a = _area(r)
    pv, ph = r.take(">2I")
    sv, sh, ov, oh = r.take(">4d")
    (mp,) = r.take(">I")
    if pv < 1 or ph < 1 or mp < 1 or sv <= 0 and pv > 1 or sh <= 0 and ph > 1:
        raise ValueError(f"{r.what}: degenerate map {pv}×{ph}×{mp}, spacing {sv}, {sh}")
    a.update(points_v=pv, points_h=ph, spacing_v=sv, spacing_h=sh, origin_v=ov, origin_h=oh,
             map_planes=mp, gains=r.array(">f4", pv * ph * mp).reshape(pv, ph, mp).astype(np.float32))
    return a


def _per_line(r: _Reader) -> dict[str, Any]:
    a = _area(r)
    (n,) = r.take(">I")
    a["values"] = r.array(">f4", n)
    return a


#: most planes an opcode area may name (a DNG image has 1 to 4)
MAX_PLANES = 16

_DECODERS = {1: _warp_rect, 2: _warp_fish, 3: _vignette, 4: _bad_const, 5: _bad_list, 6: _trim,
             7: _map_table, 8: _map_poly, 9: _gain_map, 10: _per_line, 11: _per_line, 12: _per_line,
             13: _per_line}


def parse_opcode_list(data: bytes, list_name: str = "OpcodeList", source: str | None = None) -> list[Opcode]:
    """Parse one opcode list. Unknown opcodes are kept undecoded (``known`` is False)."""
    if not data:
        return []
    if len(data) < 4:
        raise InputError(f"{list_name} is {len(data)} bytes, too short to hold its opcode count", path=source)
    (count,) = struct.unpack_from(">I", data, 0)
    if count > 10_000 or 16 * count > len(data) - 4:   # every opcode has a 16-byte header
        raise InputError(f"{list_name} claims {count} opcodes but its {len(data)} bytes hold at most "
                         f"{max(len(data) - 4, 0) // 16}; the tag is corrupt", path=source)
    out, o = [], 4
    for i in range(count):
        if o + 16 > len(data):
            raise InputError(f"{list_name} is truncated at opcode {i + 1} of {count}", path=source)
        oid, ver, flags, size = struct.unpack_from(">4I", data, o)
        body = data[o + 16:o + 16 + size]
        if len(body) != size:
            raise InputError(f"{list_name}: opcode {i + 1} ({OPCODE_NAMES.get(oid, oid)}) needs {size} "
                             f"parameter bytes but only {len(body)} remain", path=source)
        op = Opcode(oid, tuple(ver.to_bytes(4, "big")), flags, raw=body)  # type: ignore[arg-type]
        if oid in _DECODERS:
            try:
                op.args = _DECODERS[oid](_Reader(body, f"{list_name} {op.name}"))
            except (ValueError, struct.error) as e:
                raise InputError(f"{list_name}: cannot decode {op.name}: {e}", path=source) from None
        out.append(op)
        o += 16 + size
    return out


def check_supported(ops: list[Opcode], list_name: str, meta: Any, supported: set[str]) -> list[Opcode]:
    """The opcodes to run: unsupported optional ones are skipped with a notice, mandatory ones raise."""
    keep = []
    for op in ops:
        if op.known and op.name in supported:
            keep.append(op)
        elif op.optional:
            notice(meta, f"{list_name}: {op.name} (id {op.id}) is not supported here; skipped (marked optional)")
        else:
            raise InputError(f"{list_name}: {op.name} (id {op.id}) is not supported by rawlux and the file marks it "
                             f"as required (optional=false); the image cannot be rendered faithfully. "
                             f"Supported: {', '.join(sorted(supported))}",
                             path=getattr(meta, "source", None))
    return keep


# ----------------------------------------------------------------------------- pixel opcodes

PIXEL_OPS = {"GainMap", "MapPolynomial", "MapTable", "DeltaPerRow", "DeltaPerColumn", "ScalePerRow",
             "ScalePerColumn", "FixVignetteRadial", "FixBadPixelsConstant", "FixBadPixelsList", "TrimBounds"}


def _planes(img: np.ndarray) -> int:
    return 1 if img.ndim == 2 else img.shape[2]


def _region(img: np.ndarray, a: dict[str, Any]):
    """(row slice, col slice, plane list) of an opcode's area, clipped to the image."""
    h, w = img.shape[:2]
    t, l = min(a["top"], h), min(a["left"], w)
    b, r = min(a["bottom"], h), min(a["right"], w)
    np_ = _planes(img)
    planes = list(range(min(a["plane"], np_), min(a["plane"] + a["planes"], np_)))
    return slice(t, b, a["row_pitch"]), slice(l, r, a["col_pitch"]), planes


def _view(img: np.ndarray, rs: slice, cs: slice, p: int) -> np.ndarray:
    return img[rs, cs] if img.ndim == 2 else img[rs, cs, p]


def _interp_index(pos: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation at fractional indices ``pos`` into ``n`` samples (clamped): the left sample's index
    (at most n − 2, so that index + 1 exists when n > 1) and the right sample's weight (0 when n == 1)."""
    p = np.clip(pos, 0.0, n - 1.0)
    i0 = np.minimum(np.floor(p).astype(np.int64), max(n - 2, 0))
    f = p - i0 if n > 1 else np.zeros_like(p)
    return i0, f


def _interp_matrix(pos: np.ndarray, n: int) -> np.ndarray:
    """Rows of linear-interpolation weights at fractional indices ``pos`` into ``n`` samples (clamped)."""
    m = np.zeros((pos.size, n), np.float64)
    i0, f = _interp_index(pos, n)
    rows = np.arange(pos.size)
    m[rows, i0] += 1.0 - f
    if n > 1:
        m[rows, i0 + 1] += f
    return m


def _gain_map_apply(img: np.ndarray, a: dict[str, Any]) -> None:
    from ..isp._kernels import separable_gain

    h, w = img.shape[:2]
    rs, cs, planes = _region(img, a)
    rows = np.arange(h)[rs].astype(np.float64)
    cols = np.arange(w)[cs].astype(np.float64)
    if rows.size == 0 or cols.size == 0:
        return
    # relative image coordinates → fractional map indices; bilinear, clamped at the map's edges
    fv = ((rows + 0.5) / h - a["origin_v"]) / a["spacing_v"] if a["points_v"] > 1 else np.zeros_like(rows)
    fh = ((cols + 0.5) / w - a["origin_h"]) / a["spacing_h"] if a["points_h"] > 1 else np.zeros_like(cols)
    wy = _interp_matrix(fv, a["points_v"])
    # the column interpolation as (left index, weight of the right one); a one-column map gets a copy of its
    # column so that index + 1 always exists
    i0, f = _interp_index(fh, a["points_h"])
    f = f.astype(np.float32)
    g = a["gains"].astype(np.float64)
    if a["points_h"] == 1:
        g = np.concatenate([g, g], axis=1)
    for i, pl in enumerate(planes):
        rowgain = np.ascontiguousarray(wy @ g[:, :, min(i, g.shape[2] - 1)], dtype=np.float32)   # rows × points_h
        v = _view(img, rs, cs, pl)
        if v.dtype == np.float32:
            separable_gain(v, rowgain, i0, f)
        else:
            v *= (rowgain[:, i0] * (1 - f) + rowgain[:, i0 + 1] * f).astype(v.dtype)


def _map_poly_apply(img: np.ndarray, a: dict[str, Any]) -> None:
    rs, cs, planes = _region(img, a)
    c = a["coefficients"].astype(np.float32)
    for p in planes:
        v = _view(img, rs, cs, p)
        acc = np.full(v.shape, c[-1], dtype=np.float32)
        for k in c[-2::-1]:                      # Horner
            acc *= v
            acc += k
        v[...] = acc


def _map_table_apply(img: np.ndarray, a: dict[str, Any]) -> None:
    rs, cs, planes = _region(img, a)
    t = a["table"].astype(np.float32)
    xs = np.linspace(0.0, 1.0, t.size, dtype=np.float32) if t.size > 1 else np.zeros(1, np.float32)
    for p in planes:
        v = _view(img, rs, cs, p)
        v[...] = np.interp(np.clip(v, 0, 1), xs, t).astype(np.float32) if t.size > 1 else t[0]


def _per_line_apply(img: np.ndarray, a: dict[str, Any], rows: bool, scale: bool) -> None:
    rs, cs, planes = _region(img, a)
    vals = a["values"].astype(np.float32)
    for p in planes:
        v = _view(img, rs, cs, p)
        n = v.shape[0] if rows else v.shape[1]
        if vals.size < n:
            raise ValueError(f"{vals.size} values for {n} {'rows' if rows else 'columns'}")
        vv = vals[:n, None] if rows else vals[None, :n]
        if scale:
            v *= vv
        else:
            v += vv


def radial_norm(h: int, w: int, cx: float, cy: float) -> tuple[float, float, float]:
    """Centre in pixels and the normaliser m (largest centre→corner distance) of a DNG radial model."""
    x0, y0 = cx * (w - 1), cy * (h - 1)
    m = max(np.hypot(x0 - x, y0 - y) for x in (0, w - 1) for y in (0, h - 1))
    return x0, y0, float(max(m, 1e-6))


def vignette_gain(h: int, w: int, k: np.ndarray, cx: float, cy: float) -> np.ndarray:
    x0, y0, m = radial_norm(h, w, cx, cy)
    xx = ((np.arange(w, dtype=np.float32) - x0) / m) ** 2
    yy = ((np.arange(h, dtype=np.float32) - y0) / m) ** 2
    r2 = yy[:, None] + xx[None, :]
    g = np.full_like(r2, np.float32(k[4]))
    for c in k[3::-1]:
        g *= r2
        g += np.float32(c)
    g *= r2
    g += 1.0
    return g


def _fix_bad(img: np.ndarray, bad: np.ndarray, cfa: bool) -> None:
    """Replace masked pixels by the mean of good same-colour neighbours (2 px apart on a mosaic)."""
    import cv2

    if not bad.any():
        return
    step = 2 if cfa else 1
    k = np.zeros((2 * step + 1, 2 * step + 1), np.float32)
    k[::step, ::step] = 1
    k[step, step] = 0
    good = (~bad).astype(np.float32)
    planes = [img] if img.ndim == 2 else [img[..., c] for c in range(img.shape[2])]
    for pl in planes:
        src = np.ascontiguousarray(pl) * good
        num = cv2.filter2D(src, -1, k, borderType=cv2.BORDER_REFLECT)
        den = cv2.filter2D(good, -1, k, borderType=cv2.BORDER_REFLECT)
        fill = num / np.maximum(den, 1e-6)
        pl[bad] = fill[bad]


def apply_pixel_opcodes(img: np.ndarray, ops: list[Opcode], *, cfa: bool = False,
                        meta: Any = None) -> np.ndarray:
    """Apply the pixel opcodes of ``ops`` in order (warps are left to the lens stage)."""
    img = np.array(img, dtype=np.float32, copy=True, order="C")
    for op in ops:
        a = op.args
        try:
            if op.name == "GainMap":
                _gain_map_apply(img, a)
            elif op.name == "MapPolynomial":
                _map_poly_apply(img, a)
            elif op.name == "MapTable":
                _map_table_apply(img, a)
            elif op.name in ("DeltaPerRow", "DeltaPerColumn", "ScalePerRow", "ScalePerColumn"):
                _per_line_apply(img, a, rows=op.name.endswith("Row"), scale=op.name.startswith("Scale"))
            elif op.name == "FixVignetteRadial":
                g = vignette_gain(img.shape[0], img.shape[1], a["k"], a["cx"], a["cy"])
                img *= g if img.ndim == 2 else g[..., None]
            elif op.name == "FixBadPixelsConstant":
                _fix_bad(img, img == np.float32(a["constant"]) if img.ndim == 2
                         else np.all(img == np.float32(a["constant"]), axis=2), cfa)
            elif op.name == "FixBadPixelsList":
                bad = np.zeros(img.shape[:2], bool)
                pts = a["points"]
                ok = (pts[:, 0] < img.shape[0]) & (pts[:, 1] < img.shape[1])
                bad[pts[ok, 0], pts[ok, 1]] = True
                for t, l, b, r in a["rects"]:
                    bad[t:b, l:r] = True
                _fix_bad(img, bad, cfa)
            elif op.name == "TrimBounds":
                t, l, b, r = a["top"], a["left"], a["bottom"], a["right"]
                if 0 <= t < b <= img.shape[0] and 0 <= l < r <= img.shape[1]:
                    img = np.ascontiguousarray(img[t:b, l:r])
                    if meta is not None:
                        meta.extra["trim_bounds"] = (t, l, b, r)
            elif op.name in GEOMETRIC:
                continue
        except ValueError as e:
            if op.optional:
                notice(meta, f"{op.name}: {e}; skipped (marked optional)")
                continue
            raise InputError(f"{op.name}: {e}", path=getattr(meta, "source", None)) from None
    return img


def opcode_lists(meta: Any) -> dict[str, list[Opcode]]:
    """All opcode lists of a frame's metadata, parsed once and cached in ``meta.extra``."""
    cache = meta.extra.get("_opcodes_parsed")
    if cache is not None:
        return cache
    out = {k: parse_opcode_list(v, k, meta.source) for k, v in (meta.opcodes or {}).items()}
    meta.extra["_opcodes_parsed"] = out
    return out
