"""Hue/saturation tables in the DNG camera-profile model (HueSatMap), fitted and applied.

A table is indexed by hue (cyclic, ``hue_divisions`` nodes) and saturation (``sat_divisions`` nodes from 0 to 1)
of the HSV of *linear ProPhoto RGB* (D50), as the DNG specification defines it; each node holds a hue shift
(degrees), a saturation scale and a value scale, and pixels take the bilinear blend of their four nodes.
The node at saturation 0 is the identity so that neutrals stay neutral.

``fit_hue_sat_map`` fits a table to chart patches after the matrix (minimising ΔE00), with penalties on the
second differences along hue and saturation and a pull toward the identity, so the table stays smooth
between the few patches it sees. ``apply_hue_sat_map`` applies it to a working-space (linear Rec.2020) image.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from ..errors import ParameterError
from . import spaces


@dataclass
class HueSatMap:
    hue_divisions: int
    sat_divisions: int
    data: np.ndarray      # (hue_divisions, sat_divisions, 3): hue shift °, sat scale, value scale

    def __post_init__(self) -> None:
        d = np.asarray(self.data, np.float32)
        if d.shape != (self.hue_divisions, self.sat_divisions, 3):
            raise ParameterError(f"hue/sat table has shape {d.shape}, expected "
                                 f"({self.hue_divisions}, {self.sat_divisions}, 3)")
        if not np.all(np.isfinite(d)):
            raise ParameterError("hue/sat table contains NaN or infinite values")
        if np.any(d[..., 1:] <= 0):
            raise ParameterError("hue/sat table: saturation and value scales must be > 0")
        self.data = np.ascontiguousarray(d)

    @classmethod
    def identity(cls, hue_divisions: int = 24, sat_divisions: int = 5) -> "HueSatMap":
        d = np.zeros((hue_divisions, sat_divisions, 3), np.float32)
        d[..., 1:] = 1.0
        return cls(hue_divisions, sat_divisions, d)

    @classmethod
    def from_dict(cls, t: Any, where: str = "profile") -> "HueSatMap":
        """From the ``[hue_sat_map]`` table of a profile TOML."""
        if not isinstance(t, dict):
            raise ParameterError(f"{where}: hue_sat_map must be a table")
        try:
            hd, sd = int(t["hue_divisions"]), int(t["sat_divisions"])
            data = np.asarray(t["data"], np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise ParameterError(f"{where}: hue_sat_map needs hue_divisions, sat_divisions and data ({e})") from None
        if not (3 <= hd <= 360 and 2 <= sd <= 64):
            raise ParameterError(f"{where}: hue_sat_map divisions {hd}×{sd} out of range (hue 3–360, sat 2–64)")
        if data.shape != (hd * sd, 3):
            raise ParameterError(f"{where}: hue_sat_map data must be {hd * sd} rows of 3 numbers, "
                                 f"not shape {data.shape}")
        try:
            return cls(hd, sd, data.reshape(hd, sd, 3))
        except ParameterError as e:
            raise ParameterError(f"{where}: {e}") from None

    def to_toml(self) -> str:
        rows = ",\n  ".join(f"[{h:.4f}, {s:.5f}, {v:.5f}]" for h, s, v in self.data.reshape(-1, 3))
        return ("[hue_sat_map]   # DNG HueSatMap model: HSV of linear ProPhoto RGB; rows hue-major, then saturation\n"
                f"hue_divisions = {self.hue_divisions}\nsat_divisions = {self.sat_divisions}\n"
                "# [hue shift in degrees, saturation scale, value scale]\n"
                f"data = [\n  {rows}\n]")


# ----------------------------------------------------------------------------- applying

@nb.njit(cache=True, parallel=True, fastmath=True)
def _hsm_kernel(img, to_pp, from_pp, table, out):  # pragma: no cover - compiled
    h, w, _ = img.shape
    hd = table.shape[0]
    sd = table.shape[1]
    for y in nb.prange(h):
        for x in range(w):
            r0 = img[y, x, 0]
            g0 = img[y, x, 1]
            b0 = img[y, x, 2]
            r = to_pp[0, 0] * r0 + to_pp[0, 1] * g0 + to_pp[0, 2] * b0
            g = to_pp[1, 0] * r0 + to_pp[1, 1] * g0 + to_pp[1, 2] * b0
            b = to_pp[2, 0] * r0 + to_pp[2, 1] * g0 + to_pp[2, 2] * b0
            mx = max(r, max(g, b))
            mn = min(r, min(g, b))
            if mx <= 1e-12 or mn < 0 or mx - mn <= 1e-9 * mx:
                out[y, x, 0] = r0
                out[y, x, 1] = g0
                out[y, x, 2] = b0
                continue
            v = mx
            s = (mx - mn) / mx
            c = mx - mn
            if mx == r:
                hh = (g - b) / c
                if hh < 0:
                    hh += 6.0
            elif mx == g:
                hh = (b - r) / c + 2.0
            else:
                hh = (r - g) / c + 4.0
            hf = hh * hd / 6.0
            i0 = int(math.floor(hf))
            fh = hf - i0
            i0 = i0 % hd
            i1 = (i0 + 1) % hd
            sf = s * (sd - 1)
            j0 = min(int(sf), sd - 2)
            fs = min(sf - j0, 1.0)
            j1 = j0 + 1
            w00 = (1 - fh) * (1 - fs)
            w01 = (1 - fh) * fs
            w10 = fh * (1 - fs)
            w11 = fh * fs
            dh = w00 * table[i0, j0, 0] + w01 * table[i0, j1, 0] + w10 * table[i1, j0, 0] + w11 * table[i1, j1, 0]
            ss = w00 * table[i0, j0, 1] + w01 * table[i0, j1, 1] + w10 * table[i1, j0, 1] + w11 * table[i1, j1, 1]
            vs = w00 * table[i0, j0, 2] + w01 * table[i0, j1, 2] + w10 * table[i1, j0, 2] + w11 * table[i1, j1, 2]
            hh = hh + dh / 60.0
            hh = hh - 6.0 * math.floor(hh / 6.0)
            s = min(s * ss, 1.0)
            v = v * vs
            # HSV → RGB
            k = int(hh)
            f = hh - k
            p = v * (1 - s)
            q = v * (1 - s * f)
            t = v * (1 - s * (1 - f))
            if k == 0:
                r, g, b = v, t, p
            elif k == 1:
                r, g, b = q, v, p
            elif k == 2:
                r, g, b = p, v, t
            elif k == 3:
                r, g, b = p, q, v
            elif k == 4:
                r, g, b = t, p, v
            else:
                r, g, b = v, p, q
            out[y, x, 0] = from_pp[0, 0] * r + from_pp[0, 1] * g + from_pp[0, 2] * b
            out[y, x, 1] = from_pp[1, 0] * r + from_pp[1, 1] * g + from_pp[1, 2] * b
            out[y, x, 2] = from_pp[2, 0] * r + from_pp[2, 1] * g + from_pp[2, 2] * b


def _apply(img: np.ndarray, to_pp: np.ndarray, table: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    a = np.ascontiguousarray(img, dtype=dtype)
    shape = a.shape
    if a.ndim == 2:
        a = a.reshape(1, -1, 3)
    out = np.empty_like(a)
    _hsm_kernel(a, to_pp.astype(dtype), np.linalg.inv(to_pp).astype(dtype), np.ascontiguousarray(table, dtype), out)
    return out.reshape(shape)


def apply_hue_sat_map(working: np.ndarray, hsm: HueSatMap, working_space: str = spaces.WORKING) -> np.ndarray:
    """Apply the table to a linear working-space image (H×W×3 or N×3, float32)."""
    return _apply(working, np.asarray(spaces.rgb_to_rgb(working_space, "prophoto"), np.float64), hsm.data)


def apply_hue_sat_map_xyz(xyz_d50: np.ndarray, hsm: HueSatMap | np.ndarray) -> np.ndarray:
    """Apply the table (or a raw float64 table array) to XYZ (D50) colours (N×3), in float64 (for fitting)."""
    to_pp = np.asarray(spaces.xyz_to_rgb("prophoto"), np.float64)
    table = hsm.data if isinstance(hsm, HueSatMap) else hsm
    return _apply(np.asarray(xyz_d50, np.float64), to_pp, table, np.float64)


# ----------------------------------------------------------------------------- fitting

def _hue_sat(xyz_d50: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pp = np.asarray(xyz_d50, np.float64) @ np.asarray(spaces.xyz_to_rgb("prophoto")).T
    mx, mn = pp.max(1), pp.min(1)
    c = np.maximum(mx - mn, 1e-12)
    r, g, b = pp.T
    h = np.where(mx == r, ((g - b) / c) % 6, np.where(mx == g, (b - r) / c + 2, (r - g) / c + 4))
    s = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-12), 0.0)
    return h, s


def _hsv_apply_np(pp: np.ndarray, h: np.ndarray, s: np.ndarray, trip: np.ndarray) -> np.ndarray:
    """Numpy twin of the kernel for a few colours: HSV (h in [0, 6)) modified by per-colour triples."""
    v = pp.max(1) * trip[:, 2]
    hh = (h + trip[:, 0] / 60.0) % 6.0
    ss = np.minimum(s * trip[:, 1], 1.0)
    k = np.floor(hh).astype(int) % 6
    f = hh - np.floor(hh)
    p, q, t = v * (1 - ss), v * (1 - ss * f), v * (1 - ss * (1 - f))
    sel = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros_like(pp)
    for i, (r, g, b) in enumerate(sel):
        m = k == i
        out[m] = np.stack([r[m], g[m], b[m]], 1)
    return out


@nb.njit(cache=True)
def _spd_solve(A, b):  # pragma: no cover - compiled
    """Solve A x = b for a symmetric positive-definite A (Cholesky), single-threaded: the systems are small
    and a threaded BLAS only adds contention."""
    n = A.shape[0]
    L = np.zeros_like(A)
    for j in range(n):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        L[j, j] = np.sqrt(max(s, 1e-300))
        for i in range(j + 1, n):
            t = A[i, j]
            for k in range(j):
                t -= L[i, k] * L[j, k]
            L[i, j] = t / L[j, j]
    y = np.zeros(n)
    for i in range(n):
        t = b[i]
        for k in range(i):
            t -= L[i, k] * y[k]
        y[i] = t / L[i, i]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        t = y[i]
        for k in range(i + 1, n):
            t -= L[k, i] * x[k]
        x[i] = t / L[i, i]
    return x


def _levenberg_marquardt(resid, jac_de, PtP, q, iterations: int = 60, tol: float = 1e-7) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A small Levenberg–Marquardt loop on the normal equations. ``jac_de`` is the Jacobian of the data
    residuals (few rows); the penalty's constant normal matrix ``PtP`` is added to it."""
    r = resid(q)
    cost = float(r @ r)
    lam = 1e-2
    n_de = None
    for _ in range(iterations):
        J = jac_de(q)
        n_de = J.shape[0]
        A = J.T @ J + PtP
        g = J.T @ r[:n_de] + PtP @ q
        improved = False
        rel = 0.0
        for _ in range(10):
            step = _spd_solve(A + lam * np.diag(np.diag(A) + 1e-9), -g)
            q2 = q + step
            r2 = resid(q2)
            c2 = float(r2 @ r2)
            if c2 < cost:
                improved = True
                rel = (cost - c2) / max(cost, 1e-12)
                q, r, cost = q2, r2, c2
                lam = max(lam / 3, 1e-7)
                break
            lam *= 4
        if not improved or rel < tol:
            break
    return q


def fit_hue_sat_map(matrix_xyz: np.ndarray, ref_xyz: np.ndarray, *, hue_divisions: int = 24,
                    sat_divisions: int = 5, smooth_hue: float = 0.6, smooth_sat: float = 0.6,
                    damping: float = 0.05) -> HueSatMap:
    """Fit a smooth table so that ``table(matrix_xyz)`` matches ``ref_xyz`` (both XYZ D50) in ΔE00.

    Each patch sees the bilinear blend of its four nodes, so the patches' (hue shift, sat scale, value scale)
    are linear in the table; the Jacobian is the chain of that blend and ΔE00's derivative with respect to the
    three blended numbers (finite differences, three evaluations), plus the constant penalty matrix.
    """
    from .difference import delta_e00, xyz_to_lab

    hd, sd = hue_divisions, sat_divisions
    src = np.asarray(matrix_xyz, np.float64)
    ref_lab = xyz_to_lab(np.asarray(ref_xyz, np.float64))
    units = np.array([10.0, 0.1, 0.1])            # one parameter unit: 10°, 10 % sat, 10 % value
    nodes = hd * (sd - 1)
    to_pp = np.asarray(spaces.xyz_to_rgb("prophoto"), np.float64)
    pp = src @ to_pp.T
    h, s = _hue_sat(src)
    n = len(src)
    ok = (pp.min(1) >= 0) & (pp.max(1) > 0) & (s > 1e-6)     # colours the kernel leaves alone stay alone
    # bilinear weights of every colour on the free nodes (the saturation-0 nodes are fixed at identity)
    W = np.zeros((n, nodes))
    for k in np.nonzero(ok)[0]:
        hf = h[k] * hd / 6.0
        i0 = int(np.floor(hf))
        fh = hf - i0
        i0 %= hd
        sf = min(s[k], 1.0) * (sd - 1)
        j0 = min(int(sf), sd - 2)
        fs = min(sf - j0, 1.0)
        for i, wi in ((i0, 1 - fh), ((i0 + 1) % hd, fh)):
            for j, wj in ((j0, 1 - fs), (j0 + 1, fs)):
                if j > 0:
                    W[k, i * (sd - 1) + j - 1] += wi * wj
    # penalty: second differences along hue (cyclic) and saturation (identity at sat 0), pull to identity
    def idx(i: int, j: int) -> int:
        return (i % hd) * (sd - 1) + j - 1
    rows = []
    for i in range(hd):
        for j in range(1, sd):
            r = np.zeros(nodes)
            r[idx(i - 1, j)] += 1
            r[idx(i, j)] -= 2
            r[idx(i + 1, j)] += 1
            rows.append(smooth_hue * r)
            if j < sd - 1:
                r = np.zeros(nodes)
                if j - 1 > 0:
                    r[idx(i, j - 1)] += 1
                r[idx(i, j)] -= 2
                r[idx(i, j + 1)] += 1
                rows.append(smooth_sat * r)
    P1 = np.vstack(rows + [damping * np.eye(nodes)])
    P = np.kron(P1, np.eye(3))      # parameters: node-major, then (hue, sat, value)
    ident = np.array([0.0, 1.0, 1.0])

    def triples(q: np.ndarray) -> np.ndarray:
        return ident + (W @ q.reshape(nodes, 3)) * units

    def de(trip: np.ndarray) -> np.ndarray:
        out = _hsv_apply_np(pp, h, s, trip)
        out = np.where(ok[:, None], out, pp)
        return delta_e00(xyz_to_lab(out @ np.linalg.inv(to_pp).T), ref_lab)

    def resid(q: np.ndarray) -> np.ndarray:
        return np.concatenate([de(triples(q)), P @ q])

    def jac_de(q: np.ndarray) -> np.ndarray:
        t = triples(q)
        base = de(t)
        J = np.zeros((n, nodes * 3))
        for c in range(3):
            eps = 1e-4 * units[c]
            t2 = t.copy()
            t2[:, c] += eps
            d = (de(t2) - base) / eps * units[c]          # d ΔE / d (parameter unit) of each colour
            J[:, c::3] = d[:, None] * W
        return J

    q = _levenberg_marquardt(resid, jac_de, P.T @ P, np.zeros(nodes * 3))
    d = np.zeros((hd, sd, 3))
    d[..., 1:] = 1.0
    d[:, 1:, :] = ident + q.reshape(hd, sd - 1, 3) * units
    d[..., 1:] = np.clip(d[..., 1:], 0.2, 5.0)
    return HueSatMap(hd, sd, d.astype(np.float32))


# ----------------------------------------------------------------------------- DNG profile tables (DCP/DNG)
#
# The DNG specification's rendering order for a camera profile: camera → linear ProPhoto RGB (the matrices),
# HueSatMap (blended 1/2 by the white like the matrices), exposure ramp (BaselineExposure + offset, the black
# of DefaultBlackRender), LookTable, ProfileToneCurve (applied to the largest and smallest channel, the middle
# one interpolated so the hue stays), then the output space. A table is indexed by hue (cyclic), saturation and
# — for 3D tables — value (linear, or sRGB-encoded when the table's encoding says so); each node holds a hue
# shift in degrees, a saturation scale and a value scale, blended (bi/tri)linearly between nodes.

@nb.njit(cache=True, inline="always")
def _srgb_enc(v):  # pragma: no cover - compiled
    if v <= 0.0031308:
        return 12.92 * v
    return 1.055 * v ** (1.0 / 2.4) - 0.055


@nb.njit(cache=True, inline="always")
def _srgb_dec(v):  # pragma: no cover - compiled
    if v <= 0.04045:
        return v / 12.92
    return ((v + 0.055) / 1.055) ** 2.4


_ENC_N = 8192


def _srgb_luts() -> tuple[np.ndarray, np.ndarray]:
    """sRGB encode and decode tabulated on [0, 1] (the value axis of sRGB-encoded tables): two table reads
    instead of two powers per pixel (error < 2e-5)."""
    x = np.linspace(0.0, 1.0, _ENC_N + 1)
    enc = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    dec = np.where(x <= 0.04045, x / 12.92, np.power((x + 0.055) / 1.055, 2.4))
    return enc.astype(np.float32), dec.astype(np.float32)


@nb.njit(cache=True, inline="always")
def _lut01(lut, v):  # pragma: no cover - compiled
    n = lut.shape[0] - 1
    f = v * n
    i = min(int(f), n - 1)
    return lut[i] + (f - i) * (lut[i + 1] - lut[i])


@nb.njit(cache=True, inline="always")
def _table_px(r, g, b, table, srgb, enc, dec):  # pragma: no cover - compiled
    """One ProPhoto-linear pixel through a DNG HSV table (val, hue, sat, 3); negatives are taken as 0."""
    r = max(r, 0.0)
    g = max(g, 0.0)
    b = max(b, 0.0)
    mx = max(r, max(g, b))
    mn = min(r, min(g, b))
    if mx <= 0.0:
        return r, g, b
    vd = table.shape[0]
    hd = table.shape[1]
    sd = table.shape[2]
    c = mx - mn
    s = c / mx
    if c <= 0.0:
        hh = 0.0
    elif mx == r:
        hh = (g - b) / c
        if hh < 0:
            hh += 6.0
    elif mx == g:
        hh = (b - r) / c + 2.0
    else:
        hh = (r - g) / c + 4.0
    hf = hh * hd / 6.0
    i0 = int(math.floor(hf))
    fh = hf - i0
    i0 = i0 % hd
    i1 = (i0 + 1) % hd
    sf = s * (sd - 1)
    j0 = min(int(sf), sd - 2)
    fs = min(sf - j0, 1.0)
    j1 = j0 + 1
    if srgb:
        venc = _lut01(enc, mx) if mx <= 1.0 else _srgb_enc(mx)
    else:
        venc = mx
    if vd > 1:
        vf = min(max(venc, 0.0), 1.0) * (vd - 1)
        k0 = min(int(vf), vd - 2)
        fv = vf - k0
        k1 = k0 + 1
    else:
        k0 = 0
        k1 = 0
        fv = 0.0
    dh = 0.0
    ss = 0.0
    vs = 0.0
    for kk in range(2):
        k = k0 if kk == 0 else k1
        wv = (1.0 - fv) if kk == 0 else fv
        if wv == 0.0:
            continue
        w00 = wv * (1 - fh) * (1 - fs)
        w01 = wv * (1 - fh) * fs
        w10 = wv * fh * (1 - fs)
        w11 = wv * fh * fs
        dh += w00 * table[k, i0, j0, 0] + w01 * table[k, i0, j1, 0] + w10 * table[k, i1, j0, 0] + w11 * table[k, i1, j1, 0]
        ss += w00 * table[k, i0, j0, 1] + w01 * table[k, i0, j1, 1] + w10 * table[k, i1, j0, 1] + w11 * table[k, i1, j1, 1]
        vs += w00 * table[k, i0, j0, 2] + w01 * table[k, i0, j1, 2] + w10 * table[k, i1, j0, 2] + w11 * table[k, i1, j1, 2]
    hh = hh + dh / 60.0
    hh = hh - 6.0 * math.floor(hh / 6.0)
    s = min(s * ss, 1.0)
    if srgb:
        ve = max(venc * vs, 0.0)
        v = _lut01(dec, ve) if ve <= 1.0 else _srgb_dec(ve)
    else:
        v = mx * vs
    k = int(hh)
    if k > 5:
        k = 5
    f = hh - k
    p = v * (1 - s)
    q = v * (1 - s * f)
    t = v * (1 - s * (1 - f))
    if k == 0:
        return v, t, p
    elif k == 1:
        return q, v, p
    elif k == 2:
        return p, v, t
    elif k == 3:
        return p, q, v
    elif k == 4:
        return t, p, v
    return v, p, q


@nb.njit(cache=True, parallel=True, fastmath=True)
def _dng_table_kernel(img, to_pp, from_pp, table, srgb, enc, dec, out):  # pragma: no cover - compiled
    n = img.shape[0]
    for y in nb.prange(n):
        r0 = img[y, 0]
        g0 = img[y, 1]
        b0 = img[y, 2]
        r = to_pp[0, 0] * r0 + to_pp[0, 1] * g0 + to_pp[0, 2] * b0
        g = to_pp[1, 0] * r0 + to_pp[1, 1] * g0 + to_pp[1, 2] * b0
        b = to_pp[2, 0] * r0 + to_pp[2, 1] * g0 + to_pp[2, 2] * b0
        r, g, b = _table_px(r, g, b, table, srgb, enc, dec)
        out[y, 0] = from_pp[0, 0] * r + from_pp[0, 1] * g + from_pp[0, 2] * b
        out[y, 1] = from_pp[1, 0] * r + from_pp[1, 1] * g + from_pp[1, 2] * b
        out[y, 2] = from_pp[2, 0] * r + from_pp[2, 1] * g + from_pp[2, 2] * b


def apply_dng_table(working: np.ndarray, table, working_space: str = spaces.WORKING,
                    out: np.ndarray | None = None) -> np.ndarray:
    """Apply a DNG HueSatMap/LookTable (``colour.dcpfile.HsvTable``) to a linear working-space image."""
    a = np.ascontiguousarray(working, np.float32)
    shape = a.shape
    flat = a.reshape(-1, 3)
    res = np.empty_like(flat) if out is None else out.reshape(-1, 3)
    to_pp = np.asarray(spaces.rgb_to_rgb(working_space, "prophoto"), np.float64)
    _dng_table_kernel(flat, to_pp.astype(np.float32), np.linalg.inv(to_pp).astype(np.float32),
                      np.ascontiguousarray(table.data, np.float32), bool(table.srgb_gamma), *_srgb_luts(), res)
    return res.reshape(shape)


@nb.njit(cache=True, inline="always")
def _ramp(x, black, slope, radius, qscale):  # pragma: no cover - compiled
    if x <= black - radius:
        return 0.0
    if x >= black + radius:
        return min((x - black) * slope, 1.0)
    d = x - (black - radius)
    return qscale * d * d


@nb.njit(cache=True, parallel=True, fastmath=True)
def _camera_render_kernel(img, to_pp, from_pp, black, slope, radius, qscale, lt, lt_srgb, has_lt,
                          tone, has_tone, enc, dec, out):  # pragma: no cover - compiled
    n = img.shape[0]
    nt = tone.shape[0] - 1
    for y in nb.prange(n):
        r0 = img[y, 0]
        g0 = img[y, 1]
        b0 = img[y, 2]
        # exposure ramp: black subtracted with a quadratic toe, white at 1
        r = _ramp(to_pp[0, 0] * r0 + to_pp[0, 1] * g0 + to_pp[0, 2] * b0, black, slope, radius, qscale)
        g = _ramp(to_pp[1, 0] * r0 + to_pp[1, 1] * g0 + to_pp[1, 2] * b0, black, slope, radius, qscale)
        b = _ramp(to_pp[2, 0] * r0 + to_pp[2, 1] * g0 + to_pp[2, 2] * b0, black, slope, radius, qscale)
        if has_lt:
            r, g, b = _table_px(r, g, b, lt, lt_srgb, enc, dec)
            r = min(max(r, 0.0), 1.0)
            g = min(max(g, 0.0), 1.0)
            b = min(max(b, 0.0), 1.0)
        if has_tone:
            # the curve on the largest and smallest channel; the middle one keeps its place between them
            mx = max(r, max(g, b))
            mn = min(r, min(g, b))
            f = mx * nt
            i = min(int(f), nt - 1)
            tmx = tone[i] + (f - i) * (tone[i + 1] - tone[i])
            f = mn * nt
            i = min(int(f), nt - 1)
            tmn = tone[i] + (f - i) * (tone[i + 1] - tone[i])
            if mx - mn <= 1e-12:
                r = tmx
                g = tmx
                b = tmx
            else:
                k = (tmx - tmn) / (mx - mn)
                r = tmn + (r - mn) * k
                g = tmn + (g - mn) * k
                b = tmn + (b - mn) * k
        out[y, 0] = from_pp[0, 0] * r + from_pp[0, 1] * g + from_pp[0, 2] * b
        out[y, 1] = from_pp[1, 0] * r + from_pp[1, 1] * g + from_pp[1, 2] * b
        out[y, 2] = from_pp[2, 0] * r + from_pp[2, 1] * g + from_pp[2, 2] * b


def tone_curve_lut(points: np.ndarray, size: int = 4097) -> np.ndarray:
    """A ProfileToneCurve's points as a uniform LUT on [0, 1] (natural cubic spline through the points,
    linear when there are only two)."""
    from scipy.interpolate import CubicSpline

    pts = np.asarray(points, np.float64)
    x = np.linspace(0.0, 1.0, size)
    if len(pts) < 3:
        y = np.interp(x, pts[:, 0], pts[:, 1])
    else:
        y = CubicSpline(pts[:, 0], pts[:, 1], bc_type="natural")(np.clip(x, pts[0, 0], pts[-1, 0]))
    return np.clip(y, 0.0, 1.0).astype(np.float32)


def black_render_ramp(black: float) -> tuple[float, float, float, float]:
    """(black, slope, toe radius, toe quadratic scale) of the exposure ramp that maps ``black`` → 0 and
    1 → 1 with a smooth (C¹) quadratic toe around the black point."""
    black = float(max(black, 0.0))
    slope = 1.0 / (1.0 - black)
    radius = min(0.5 * black, (1.0 / 16.0) / slope)
    qscale = slope / (4.0 * radius) if radius > 0 else 0.0
    return black, slope, radius, qscale


#: DefaultBlackRender "auto": the black point the DNG reference rendering subtracts (0.5 % of white)
AUTO_BLACK = 0.005


def camera_render(working: np.ndarray, *, look_table=None, tone_curve: np.ndarray | None = None,
                  black: float = 0.0, gain: float = 1.0, working_space: str = spaces.WORKING,
                  out: np.ndarray | None = None) -> np.ndarray:
    """Exposure ramp → LookTable → ProfileToneCurve on a scene-linear working-space image (display-linear out)."""
    a = np.ascontiguousarray(working, np.float32)
    shape = a.shape
    flat = a.reshape(-1, 3)
    res = np.empty_like(flat) if out is None else out.reshape(-1, 3)
    to_pp = np.asarray(spaces.rgb_to_rgb(working_space, "prophoto"), np.float64)
    from_pp = np.linalg.inv(to_pp)
    bl, slope, radius, qscale = black_render_ramp(black)
    lt = np.zeros((1, 1, 2, 3), np.float32) if look_table is None else np.ascontiguousarray(look_table.data, np.float32)
    tone = tone_curve_lut(tone_curve) if tone_curve is not None else np.linspace(0, 1, 2).astype(np.float32)
    _camera_render_kernel(flat, (to_pp * gain).astype(np.float32), from_pp.astype(np.float32), np.float32(bl),
                          np.float32(slope), np.float32(radius), np.float32(qscale), lt,
                          bool(look_table is not None and look_table.srgb_gamma), look_table is not None,
                          tone, tone_curve is not None, *_srgb_luts(), res)
    return res.reshape(shape)
