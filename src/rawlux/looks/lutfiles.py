"""Colour lookup tables: ``.cube`` (1D and 3D) and HaldCLUT PNG in and out, and fast application.

A :class:`Lut` holds either a 3D table ``table[r, g, b] -> (R, G, B)`` of size N³ (N = 2..65 for
``.cube``), or a 1D table ``table[i] -> (R, G, B)`` (per channel), over an input domain
``[domain_min, domain_max]`` per channel. 3D tables are applied with tetrahedral interpolation
(Kasson et al. 1995) in a parallel numba kernel; 1D tables with linear interpolation.

``.cube`` files follow the Cube LUT Specification 1.0: keywords (``TITLE``, ``LUT_1D_SIZE`` or
``LUT_3D_SIZE``, ``DOMAIN_MIN``, ``DOMAIN_MAX``) then one ``R G B`` line per entry, red varying
fastest. ``#`` comments, blank lines, CRLF line ends and a UTF-8 byte-order mark are accepted;
``LUT_1D_INPUT_RANGE`` / ``LUT_3D_INPUT_RANGE`` (a common extension) are read as the domain.
A file with both a 1D and a 3D table is read as a 1D shaper applied before the 3D table.

A HaldCLUT of level L is a square image of L³×L³ pixels holding an L²-point 3D table, red
fastest, row by row; it has no domain (always 0..1).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import LookError, OutputError
from ..io.atomic import write_bytes, write_text

CUBE_3D_SIZES = (2, 65)        # inclusive range the .cube spec allows for 3D tables
CUBE_1D_SIZES = (2, 65536)


@dataclass
class Lut:
    """A 1D or 3D colour lookup table over a per-channel input domain."""

    table: np.ndarray                      # 3D: (N, N, N, 3) indexed [r, g, b]; 1D: (N, 3)
    domain_min: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    domain_max: np.ndarray = field(default_factory=lambda: np.ones(3, np.float32))
    title: str = ""
    shaper: "Lut | None" = None             # optional 1D table applied first (3D tables only)

    def __post_init__(self) -> None:
        with np.errstate(over="ignore", invalid="ignore"):     # overflows become inf and are refused below
            self.table = np.ascontiguousarray(self.table, dtype=np.float32)
            self.domain_min = np.asarray(self.domain_min, np.float32).reshape(3)
            self.domain_max = np.asarray(self.domain_max, np.float32).reshape(3)
        t = self.table
        if not ((t.ndim == 4 and t.shape[0] == t.shape[1] == t.shape[2] and t.shape[3] == 3)
                or (t.ndim == 2 and t.shape[1] == 3)):
            raise LookError(f"a LUT table must be N×N×N×3 or N×3, not {'×'.join(map(str, t.shape))}")
        if t.shape[0] < 2:
            raise LookError(f"a LUT needs at least 2 points per axis, not {t.shape[0]}")
        if not np.all(np.isfinite(t)):
            raise LookError("a LUT holds NaN or infinite values")
        if not (np.all(np.isfinite(self.domain_min)) and np.all(np.isfinite(self.domain_max))):
            raise LookError(f"LUT domain must be finite: DOMAIN_MIN {self.domain_min.tolist()}, "
                            f"DOMAIN_MAX {self.domain_max.tolist()}")
        if not np.all(self.domain_max > self.domain_min):
            raise LookError(f"LUT domain is empty: DOMAIN_MIN {self.domain_min.tolist()} must be below "
                            f"DOMAIN_MAX {self.domain_max.tolist()}")

    @property
    def is_3d(self) -> bool:
        return self.table.ndim == 4

    @property
    def size(self) -> int:
        return int(self.table.shape[0])

    @classmethod
    def identity(cls, size: int, dim: int = 3) -> "Lut":
        g = np.linspace(0.0, 1.0, size, dtype=np.float32)
        if dim == 1:
            return cls(np.repeat(g[:, None], 3, axis=1))
        r, gg, b = np.meshgrid(g, g, g, indexing="ij")
        return cls(np.stack([r, gg, b], axis=-1))

    def grid(self) -> np.ndarray:
        """The input colours of the table's nodes, shaped like the table."""
        n = self.size
        axes = [np.linspace(self.domain_min[c], self.domain_max[c], n, dtype=np.float32) for c in range(3)]
        if not self.is_3d:
            return np.stack(axes, axis=-1)
        r, g, b = np.meshgrid(*axes, indexing="ij")
        return np.stack([r, g, b], axis=-1)

    def apply(self, rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Apply to an H×W×3 (or N×3) float32 array; values outside the domain are clamped to it."""
        return apply_lut(rgb, self, out)


# ----------------------------------------------------------------------------- .cube

def _floats(parts: list[str], n: int, where: str, what: str) -> list[float]:
    if len(parts) != n:
        raise LookError(f"{where}: {what} needs {n} numbers, found {len(parts)}")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = None
    # float() also reads "1_0" as 10 and non-ASCII digits: a .cube holds plain ASCII decimals only
    if vals is None or any("_" in p or not p.isascii() for p in parts):
        raise LookError(f"{where}: {what} has a value that is not a number: {' '.join(parts)!r}")
    if not all(math.isfinite(v) for v in vals):
        raise LookError(f"{where}: {what} holds NaN or infinity: {' '.join(parts)!r}")
    if not all(abs(v) <= _F32_MAX for v in vals):
        raise LookError(f"{where}: {what} holds a value beyond the float32 range (±3.4e38): {' '.join(parts)!r}")
    return vals


_F32_MAX = float(np.finfo(np.float32).max)


def parse_cube(text: str, source: str = "<cube>") -> Lut:
    """Parse the text of a ``.cube`` file (see the module doc); every defect is one clear LookError."""
    try:
        return _parse_cube(text, source)
    except LookError as e:
        if source in str(e):
            raise
        raise LookError(f"{source}: {e}") from None


def _parse_cube(text: str, source: str) -> Lut:
    if text.startswith("\ufeff"):
        text = text[1:]
    title = ""
    size1 = size3 = None
    dmin = dmax = None
    range1 = range3 = None
    rows: list[list[float]] = []
    first_data_line = 0
    seen: set[str] = set()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().upper().startswith("TITLE") else raw.strip()
        if not line:
            continue
        where = f"{source} line {lineno}"
        head = line.split(None, 1)[0]
        key = head.upper()
        if key[0].isalpha() and not _is_number(head):
            if rows:
                raise LookError(f"{where}: keyword {head} after the table data (keywords must come first)")
            if key in seen and key != "TITLE":
                raise LookError(f"{where}: {head} given twice")
            seen.add(key)
            rest = line[len(head):].strip()
            if key == "TITLE":
                title = rest.strip().strip('"')
            elif key in ("LUT_3D_SIZE", "LUT_1D_SIZE"):
                try:
                    n = int(rest)
                except ValueError:
                    raise LookError(f"{where}: {head} must be a whole number, not {rest!r}") from None
                lo, hi = CUBE_3D_SIZES if key == "LUT_3D_SIZE" else CUBE_1D_SIZES
                if not lo <= n <= hi:
                    raise LookError(f"{where}: {head} {n} is out of range [{lo}, {hi}]")
                if key == "LUT_3D_SIZE":
                    size3 = n
                else:
                    size1 = n
            elif key == "DOMAIN_MIN":
                dmin = _floats(rest.split(), 3, where, head)
            elif key == "DOMAIN_MAX":
                dmax = _floats(rest.split(), 3, where, head)
            elif key in ("LUT_1D_INPUT_RANGE", "LUT_3D_INPUT_RANGE"):
                lo_hi = _floats(rest.split(), 2, where, head)
                if key == "LUT_1D_INPUT_RANGE":
                    range1 = lo_hi
                else:
                    range3 = lo_hi
            else:
                raise LookError(f"{where}: unknown keyword {head!r} (a .cube file knows TITLE, LUT_1D_SIZE, "
                                f"LUT_3D_SIZE, DOMAIN_MIN, DOMAIN_MAX)")
            continue
        if not rows:
            first_data_line = lineno
        rows.append(_floats(line.split(), 3, where, "a table line"))
    if size1 is None and size3 is None:
        raise LookError(f"{source}: not a .cube file: no LUT_3D_SIZE or LUT_1D_SIZE line")
    n1 = size1 or 0
    n3 = size3 ** 3 if size3 else 0
    if len(rows) != n1 + n3:
        want = " + ".join(s for s in (f"{size1} (1D)" if size1 else "", f"{size3}³ = {n3} (3D)" if size3 else "") if s)
        raise LookError(f"{source}: expected {want} table lines, found {len(rows)}"
                        + (f" (data starts on line {first_data_line})" if rows else ""))
    data = np.asarray(rows, dtype=np.float32)

    def dom(rng, fallback):
        if rng is not None:
            return [rng[0]] * 3, [rng[1]] * 3
        return fallback

    base = (dmin if dmin is not None else [0.0] * 3, dmax if dmax is not None else [1.0] * 3)
    if size1 and size3:
        lo1, hi1 = dom(range1, base)
        lo3, hi3 = dom(range3, ([0.0] * 3, [1.0] * 3))
        shaper = Lut(data[:n1], lo1, hi1)
        t3 = data[n1:].reshape(size3, size3, size3, 3).transpose(2, 1, 0, 3)
        return Lut(t3, lo3, hi3, title=title, shaper=shaper)
    if size3:
        lo, hi = dom(range3, base)
        return Lut(data.reshape(size3, size3, size3, 3).transpose(2, 1, 0, 3), lo, hi, title=title)
    lo, hi = dom(range1, base)
    return Lut(data, lo, hi, title=title)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def read_cube(path: str | os.PathLike[str]) -> Lut:
    p = Path(path)
    if not _is_file(p):
        raise LookError(f"LUT file {p} does not exist")
    if p.stat().st_size > 64 * 1024 * 1024:
        raise LookError(f"LUT file {p} is larger than 64 MB; a 65³ .cube is about 9 MB")
    try:
        raw = p.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as e:
        raise LookError(f"LUT file {p} cannot be read: {e}") from None
    except UnicodeDecodeError:
        raise LookError(f"LUT file {p} is not a text .cube file (it is binary or not UTF-8)") from None
    if "\x00" in text:
        raise LookError(f"LUT file {p} is not a text .cube file (it holds NUL bytes)")
    return parse_cube(text, str(p))


def format_cube(lut: Lut, comments: list[str] | tuple[str, ...] = ()) -> str:
    lines = [f"# {c}" for c in comments]
    if lut.title:
        lines.append(f'TITLE "{lut.title}"')
    if lut.shaper is not None:
        raise LookError("writing a shaper + 3D .cube is not supported; bake the shaper into the 3D table")
    key = "LUT_3D_SIZE" if lut.is_3d else "LUT_1D_SIZE"
    lines.append(f"{key} {lut.size}")
    lines.append("DOMAIN_MIN " + " ".join(f"{v:.6g}" for v in lut.domain_min))
    lines.append("DOMAIN_MAX " + " ".join(f"{v:.6g}" for v in lut.domain_max))
    t = lut.table.transpose(2, 1, 0, 3).reshape(-1, 3) if lut.is_3d else lut.table
    body = "\n".join(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in t.tolist())
    return "\n".join(lines) + "\n" + body + "\n"


def write_cube(path: str | os.PathLike[str], lut: Lut, comments: list[str] | tuple[str, ...] = ()) -> Path:
    p = Path(path)
    write_text(p, format_cube(lut, comments))
    return p


# ----------------------------------------------------------------------------- HaldCLUT

def read_hald(path: str | os.PathLike[str]) -> Lut:
    """A HaldCLUT image (PNG/TIFF, 8 or 16 bit) → 3D Lut of size L²."""
    import cv2

    p = Path(path)
    if not _is_file(p):
        raise LookError(f"HaldCLUT file {p} does not exist")
    w, h = _image_size(p)
    if w * h > HALD_MAX_SIDE ** 2:
        raise LookError(f"HaldCLUT file {p} is {w}×{h}; a HaldCLUT is at most level 16 "
                        f"({HALD_MAX_SIDE}×{HALD_MAX_SIDE}), so it is not decoded")
    try:
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    except cv2.error as e:
        raise LookError(f"HaldCLUT file {p} cannot be decoded ({' '.join(str(e).split())[-120:]})") from None
    if img is None:
        raise LookError(f"HaldCLUT file {p} is not a readable image")
    if img.ndim != 3 or img.shape[2] < 3:
        raise LookError(f"HaldCLUT file {p} must be an RGB image, not {img.shape}")
    h, w = img.shape[:2]
    level = round(w ** (1.0 / 3.0))
    if h != w or level ** 3 != w or level < 2:
        raise LookError(f"HaldCLUT file {p} is {w}×{h}; a HaldCLUT of level L is a square of L³×L³ pixels "
                        f"(e.g. 512×512 for level 8)")
    if img.dtype == np.uint8:
        scale = 255.0
    elif img.dtype == np.uint16:
        scale = 65535.0
    elif img.dtype in (np.float32, np.float64):
        scale = 1.0
    else:
        raise LookError(f"HaldCLUT file {p} has an unsupported sample type {img.dtype}")
    rgb = img[..., 2::-1].astype(np.float32) / scale
    n = level * level
    t = rgb.reshape(-1, 3).reshape(n, n, n, 3).transpose(2, 1, 0, 3)   # rows: b, g, r (red fastest)
    return Lut(t, title=p.stem)


HALD_MAX_SIDE = 16 ** 3      # level 16: 4096×4096 pixels, a 256-point table


def _is_file(p: Path) -> bool:
    try:
        return p.is_file()
    except (OSError, ValueError) as e:     # a name too long, a NUL byte
        raise LookError(f"LUT file {str(p)!r} cannot be opened: {getattr(e, 'strerror', None) or e}") from None


def _image_size(p: Path) -> tuple[int, int]:
    """Width and height from the file's header (nothing decoded), so a bomb is refused before allocating."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # Pillow's bomb warning: the size is checked by the caller
            with Image.open(p) as im:
                return im.size
    except Image.DecompressionBombError:
        raise LookError(f"HaldCLUT file {p} claims a size far beyond a HaldCLUT's (at most "
                        f"{HALD_MAX_SIDE}×{HALD_MAX_SIDE}), so it is not decoded") from None
    except Exception:  # noqa: BLE001 - any decoder complaint means: not a readable image
        raise LookError(f"HaldCLUT file {p} is not a readable image") from None


def write_hald(path: str | os.PathLike[str], lut: Lut, level: int | None = None) -> Path:
    """Write a 16-bit PNG HaldCLUT; the table is resampled to L² points (L = level or from its size)."""
    import cv2

    if not lut.is_3d:
        raise LookError("a HaldCLUT holds a 3D table; this LUT is 1D")
    if level is None:
        level = max(2, min(16, round(math.sqrt(lut.size))))
    if not 2 <= level <= 16:
        raise LookError(f"HaldCLUT level {level} is out of range [2, 16]")
    n = level * level
    grid = Lut.identity(n).table
    lo, hi = lut.domain_min, lut.domain_max
    vals = apply_lut(grid * (hi - lo) + lo, lut)       # resample the table on the Hald grid
    img = vals.transpose(2, 1, 0, 3).reshape(level ** 3, level ** 3, 3)
    img16 = np.clip(np.rint(img * 65535.0), 0, 65535).astype(np.uint16)[..., ::-1]
    p = Path(path)
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(img16))
    if not ok:
        raise OutputError(f"cannot encode HaldCLUT {p}", path=p)
    write_bytes(p, buf.tobytes())
    return p


def read_lut(path: str | os.PathLike[str]) -> Lut:
    """A .cube file or a HaldCLUT image, by extension."""
    ext = Path(path).suffix.lower()
    if ext == ".cube":
        return read_cube(path)
    if ext in (".png", ".tif", ".tiff"):
        return read_hald(path)
    raise LookError(f"LUT file {path}: unsupported type {ext or '(none)'!r} (use .cube or a HaldCLUT .png/.tif)")


# ----------------------------------------------------------------------------- apply

def apply_lut(rgb: np.ndarray, lut: Lut, out: np.ndarray | None = None) -> np.ndarray:
    """Apply ``lut`` to the last axis (3) of ``rgb``; returns float32 of the same shape."""
    from .ingredients.kernels import apply_1d, apply_tetra, padded   # one file with the grade kernel (numba cache)

    a = np.ascontiguousarray(rgb, dtype=np.float32)
    if a.shape[-1] != 3:
        raise LookError(f"a LUT applies to RGB data (last axis 3), not shape {a.shape}")
    flat = a.reshape(-1, 3)
    res = np.empty_like(flat) if out is None else out.reshape(-1, 3)
    if lut.shaper is not None:
        tmp = np.empty_like(flat)
        s = lut.shaper
        apply_1d(flat, s.table, s.domain_min, s.domain_max, tmp)
        flat = tmp
    if lut.is_3d:
        apply_tetra(flat, padded(lut.table), lut.size, lut.domain_min, lut.domain_max, res)
    else:
        apply_1d(flat, lut.table, lut.domain_min, lut.domain_max, res)
    return res.reshape(a.shape)
