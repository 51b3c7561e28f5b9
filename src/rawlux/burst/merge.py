"""Robust temporal merge of aligned raw frames on the Bayer mosaic.

Every reference pixel ``p`` of colour ``c`` takes, from every other frame, that frame's colour-``c``
value at ``p + d(p)`` (``d``: the tile flow, interpolated bilinearly per pixel, so small rotations are
followed): a Catmull–Rom interpolation on the frame's own colour-``c`` plane (for green, the mean of
both green planes of the frame). The reference contributes exactly its own sample; the values are
averaged with robustness weights. Two resamplers are available (``MergeParams.method``):

- ``cubic`` (default): per-plane Catmull–Rom as above, equal weights — with the true motion, on simulated
  bursts it scores as well as the clean mosaic with the noise of N averaged frames;
- ``kernel``: the kernel regression of Wronski et al. 2019 ("Handheld Multi-Frame Super-Resolution")
  on the reference grid: the colour-``c`` samples around ``p + d(p)`` weighted by ``(1 - r²/ρ²)²`` of
  their distance, numerators and denominators summed over frames (isotropic kernels; ≈ 0.3–0.5 dB
  below ``cubic`` here).

The robustness weight ``R ∈ [0, 1]`` of a frame is computed per Bayer cell (half resolution): the 3×3
local mean of (aligned frame − reference), per colour, is compared with what the noise model
``var = a·v + b`` explains (plus a small allowance for residual misalignment on texture); a minimum
filter then spreads rejections over motion boundaries. A moving object therefore takes only the
frames in which it agrees with the reference: no ghosts, and real denoising where it stood still.

Frames are processed one at a time: memory is the reference, one frame and two accumulators.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..frame import BAYER_PATTERNS
from .align import TileFlow


@dataclass(frozen=True)
class MergeParams:
    """Tuning of the robust merge (defaults chosen on simulated ISO 3200 bursts, 4 scenes)."""

    radius_green: float = 1.5      # kernel support for green samples, mosaic pixels
    radius_rb: float = 2.0         # kernel support for red/blue samples
    misalignment: float = 0.15     # allowance for residual misalignment, as a fraction of local contrast
    threshold: float = 3.0         # normalised squared difference accepted without penalty
    falloff: float = 0.3           # how fast the weight drops beyond the threshold
    spread: int = 5                # size of the minimum filter that spreads rejections
    method: str = "cubic"          # cubic: per-plane Catmull–Rom resampling; kernel: kernel regression
    both_greens: bool = True       # cubic: a green estimate from both green planes of the frame


# ----------------------------------------------------------------------------- noise

def estimate_noise(cfa: np.ndarray, pattern: str) -> tuple[float, float]:
    """(a, b) of ``var = a·v + b`` estimated from one normalised mosaic (Foi et al. 2008 in spirit).

    The two green samples of each Bayer cell see nearly the same light, so half the variance of their
    difference, binned by level over the flattest cells, gives the noise curve; a robust line through
    the bins gives (a, b).
    """
    import cv2

    code = BAYER_PATTERNS[pattern]
    gpos = [i for i, c in enumerate(code) if c == 1]
    g1 = cfa[gpos[0] // 2::2, gpos[0] % 2::2].astype(np.float32)
    g2 = cfa[gpos[1] // 2::2, gpos[1] % 2::2].astype(np.float32)
    h, w = min(g1.shape[0], g2.shape[0]), min(g1.shape[1], g2.shape[1])
    g1, g2 = g1[:h, :w], g2[:h, :w]
    m = 0.5 * (g1 + g2)
    d = g1 - g2
    # flatness: local gradient of the smoothed level
    ms = cv2.blur(m, (5, 5))
    grad = np.abs(cv2.Sobel(ms, cv2.CV_32F, 1, 0, ksize=3)) + np.abs(cv2.Sobel(ms, cv2.CV_32F, 0, 1, ksize=3))
    lo, hi = np.percentile(m, 1), np.percentile(m, 99)
    edges = np.linspace(lo, min(hi, 0.9), 17)
    xs, vs = [], []
    for i in range(16):
        sel = (m >= edges[i]) & (m < edges[i + 1])
        if sel.sum() < 200:
            continue
        gsel = grad[sel]
        flat = gsel <= np.percentile(gsel, 30)
        dd = d[sel][flat]
        if dd.size < 100:
            continue
        mad = np.median(np.abs(dd - np.median(dd))) * 1.4826
        xs.append(float(np.mean(m[sel][flat])))
        vs.append(mad * mad / 2.0)
    if len(xs) < 2:
        v = float(np.var(d) / 2.0) if d.size else 1e-6
        return 0.0, max(v, 1e-10)
    x, v = np.array(xs), np.array(vs)
    a, b = np.polyfit(x, v, 1)
    if a < 0:
        a, b = 0.0, float(np.median(v))
    return float(max(a, 0.0)), float(max(b, 1e-10))


def noise_from_meta(meta, cfa: np.ndarray | None = None) -> tuple[float, float]:
    """(a, b) from the DNG NoiseProfile (first colour plane), else estimated from ``cfa``."""
    np_ = getattr(meta, "noise_profile", None)
    if np_ is not None and len(np_) >= 2:
        vals = np.asarray(np_, dtype=np.float64).reshape(-1, 2)
        a, b = float(vals[:, 0].mean()), float(vals[:, 1].mean())
        if np.isfinite(a) and np.isfinite(b) and a >= 0 and b >= 0 and (a > 0 or b > 0):
            return a, b
    if cfa is None:
        return 0.0, 1e-6
    return estimate_noise(cfa, meta.cfa_pattern or "RGGB")


# ----------------------------------------------------------------------------- robustness

def _planes(cfa: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(cfa[i // 2::2, i % 2::2]) for i in range(4)]


def _rgb_half(planes: list[np.ndarray], code: tuple[int, ...]) -> list[np.ndarray]:
    r = [p for p, c in zip(planes, code) if c == 0][0]
    b = [p for p, c in zip(planes, code) if c == 2][0]
    g = [p for p, c in zip(planes, code) if c == 1]
    return [r, 0.5 * (g[0] + g[1]), b]


class RefStats:
    """Half-resolution statistics of the reference used by every robustness computation."""

    def __init__(self, ref_cfa: np.ndarray, pattern: str, noise: tuple[float, float], p: MergeParams):
        import cv2

        self.code = BAYER_PATTERNS[pattern]
        self.rgb = _rgb_half(_planes(ref_cfa), self.code)
        a, b = noise
        self.denom = []
        for ci, ch in enumerate(self.rgb):
            mu = cv2.blur(ch, (3, 3))
            var_n = (a * np.maximum(mu, 0) + b) / (2.0 if ci == 1 else 1.0)
            sig2 = np.maximum(cv2.blur(ch * ch, (3, 3)) - mu * mu - var_n, 0)
            # variance of a 3×3 mean of the difference of two noisy frames + misalignment allowance
            self.denom.append((2.0 * var_n / 9.0 + (p.misalignment ** 2) * sig2 + 1e-12).astype(np.float32))
        self.rgb = [np.ascontiguousarray(c, dtype=np.float32) for c in self.rgb]
        self.denom_stack = np.ascontiguousarray(np.stack(self.denom))
        del self.denom
        h2, w2 = self.rgb[0].shape
        self.grid_y = np.arange(h2, dtype=np.float64) * 2 + 0.5
        self.grid_x = np.arange(w2, dtype=np.float64) * 2 + 0.5


@njit(parallel=True, cache=True, fastmath=True)
def _warp_diff(alt, code, ref_r, ref_g, ref_b, fy_row, fx_col, fdy, fdx, out):
    """Per Bayer cell: the alternate frame's R, G, B (bilinear per CFA plane at p + d(p)) minus the
    reference's; out[3] flags cells whose source falls outside the frame."""
    h, w = alt.shape
    h2, w2 = ref_r.shape
    ny, nx = fdy.shape
    for i in prange(h2):
        fy = fy_row[i]
        iy0 = min(int(fy), ny - 1)
        iy1 = min(iy0 + 1, ny - 1)
        ay = fy - iy0
        for j in range(w2):
            fx = fx_col[j]
            ix0 = min(int(fx), nx - 1)
            ix1 = min(ix0 + 1, nx - 1)
            ax = fx - ix0
            dy = ((1 - ay) * ((1 - ax) * fdy[iy0, ix0] + ax * fdy[iy0, ix1])
                  + ay * ((1 - ax) * fdy[iy1, ix0] + ax * fdy[iy1, ix1]))
            dx = ((1 - ay) * ((1 - ax) * fdx[iy0, ix0] + ax * fdx[iy0, ix1])
                  + ay * ((1 - ax) * fdx[iy1, ix0] + ax * fdx[iy1, ix1]))
            py = i + 0.5 * dy
            px = j + 0.5 * dx
            out[3, i, j] = 1.0 if (py < -0.5 or py > h2 - 0.5 or px < -0.5 or px > w2 - 0.5) else 0.0
            by = int(np.floor(py))
            bx = int(np.floor(px))
            ty = py - by
            tx = px - bx
            y1 = min(max(by, 0), h2 - 1)
            y2 = min(max(by + 1, 0), h2 - 1)
            x1 = min(max(bx, 0), w2 - 1)
            x2 = min(max(bx + 1, 0), w2 - 1)
            r = 0.0
            g = 0.0
            b = 0.0
            for k in range(4):
                oy = k // 2
                ox = k % 2
                v = ((1 - ty) * ((1 - tx) * alt[2 * y1 + oy, 2 * x1 + ox] + tx * alt[2 * y1 + oy, 2 * x2 + ox])
                     + ty * ((1 - tx) * alt[2 * y2 + oy, 2 * x1 + ox] + tx * alt[2 * y2 + oy, 2 * x2 + ox]))
                c = code[k]
                if c == 0:
                    r = v
                elif c == 2:
                    b = v
                else:
                    g += 0.5 * v
            out[0, i, j] = r - ref_r[i, j]
            out[1, i, j] = g - ref_g[i, j]
            out[2, i, j] = b - ref_b[i, j]


@njit(parallel=True, cache=True, fastmath=True)
def _weights(d, denom, threshold, falloff, out):
    h2, w2 = out.shape
    for i in prange(h2):
        for j in range(w2):
            z2 = (d[0, i, j] * d[0, i, j] / denom[0, i, j] + d[1, i, j] * d[1, i, j] / denom[1, i, j]
                  + d[2, i, j] * d[2, i, j] / denom[2, i, j]) / 3.0
            out[i, j] = np.exp(-max(z2 - threshold, 0.0) * falloff)


def robustness(stats: RefStats, alt_cfa: np.ndarray, flow: TileFlow, p: MergeParams,
               valid: np.ndarray | None = None) -> np.ndarray:
    """Per-cell weight in [0, 1] of the aligned frame (half resolution)."""
    import cv2

    h2, w2 = stats.rgb[0].shape
    fy, fx = flow.index_maps(stats.grid_y, stats.grid_x)
    d = np.empty((4, h2, w2), np.float32)
    _warp_diff(np.ascontiguousarray(alt_cfa, dtype=np.float32), np.asarray(stats.code, np.int64),
               stats.rgb[0], stats.rgb[1], stats.rgb[2], fy, fx,
               np.ascontiguousarray(flow.dy), np.ascontiguousarray(flow.dx), d)
    for ci in range(3):
        cv2.blur(d[ci], (3, 3), dst=d[ci])
    r = np.empty((h2, w2), np.float32)
    _weights(d, stats.denom_stack, float(p.threshold), float(p.falloff), r)
    if p.spread > 1:
        r = cv2.erode(r, np.ones((p.spread, p.spread), np.uint8))
    r[d[3] > 0] = 0.0          # samples that map outside the frame carry no information
    if valid is not None:
        r *= valid
    return r


# ----------------------------------------------------------------------------- accumulation

@njit(parallel=True, cache=True, fastmath=True)
def _accumulate(num, den, img, cfa, fy_row, fx_col, fdy, fdx, rob, inv_r2, gain):
    """Add one frame's kernel-weighted samples (× robustness) to num/den, in place."""
    h, w = img.shape
    ny, nx = fdy.shape
    for y in prange(h):
        fy = fy_row[y]
        iy0 = min(int(fy), ny - 1)
        iy1 = min(iy0 + 1, ny - 1)
        ay = fy - iy0
        for x in range(w):
            r = rob[y >> 1, x >> 1]
            if r <= 0.0:
                continue
            fx = fx_col[x]
            ix0 = min(int(fx), nx - 1)
            ix1 = min(ix0 + 1, nx - 1)
            ax = fx - ix0
            dy = ((1 - ay) * ((1 - ax) * fdy[iy0, ix0] + ax * fdy[iy0, ix1])
                  + ay * ((1 - ax) * fdy[iy1, ix0] + ax * fdy[iy1, ix1]))
            dx = ((1 - ay) * ((1 - ax) * fdx[iy0, ix0] + ax * fdx[iy0, ix1])
                  + ay * ((1 - ax) * fdx[iy1, ix0] + ax * fdx[iy1, ix1]))
            c = cfa[y & 1, x & 1]
            k = inv_r2[c]
            qy = y + dy
            qx = x + dx
            by = int(np.floor(qy))
            bx = int(np.floor(qx))
            sw = 0.0
            sv = 0.0
            for yy in range(by - 1, by + 3):
                if yy < 0 or yy >= h:
                    continue
                ey = yy - qy
                for xx in range(bx - 1, bx + 3):
                    if xx < 0 or xx >= w:
                        continue
                    if cfa[yy & 1, xx & 1] != c:
                        continue
                    ex = xx - qx
                    t = 1.0 - (ey * ey + ex * ex) * k
                    if t <= 0.0:
                        continue
                    wt = t * t
                    sw += wt
                    sv += wt * img[yy, xx]
            num[y, x] += r * gain * sv
            den[y, x] += r * sw


@njit(cache=True, fastmath=True)
def _cubic_plane(img, py, px, oy, ox):
    """Catmull–Rom interpolation of the CFA plane at parity (oy, ox) at plane coordinates (py, px)."""
    h, w = img.shape
    hp = (h - oy + 1) // 2
    wp = (w - ox + 1) // 2
    by = int(np.floor(py))
    bx = int(np.floor(px))
    ty = py - by
    tx = px - bx
    ty2 = ty * ty
    tx2 = tx * tx
    wy0 = 0.5 * (-ty2 * ty + 2 * ty2 - ty)
    wy1 = 0.5 * (3 * ty2 * ty - 5 * ty2 + 2)
    wy2 = 0.5 * (-3 * ty2 * ty + 4 * ty2 + ty)
    wy3 = 0.5 * (ty2 * ty - ty2)
    wx0 = 0.5 * (-tx2 * tx + 2 * tx2 - tx)
    wx1 = 0.5 * (3 * tx2 * tx - 5 * tx2 + 2)
    wx2 = 0.5 * (-3 * tx2 * tx + 4 * tx2 + tx)
    wx3 = 0.5 * (tx2 * tx - tx2)
    if by >= 1 and by + 2 < hp and bx >= 1 and bx + 2 < wp:   # inside: no clamping
        s = 0.0
        for i in range(4):
            r = img[2 * (by + i - 1) + oy]
            c0 = 2 * (bx - 1) + ox
            row = wx0 * r[c0] + wx1 * r[c0 + 2] + wx2 * r[c0 + 4] + wx3 * r[c0 + 6]
            s += (wy0 if i == 0 else wy1 if i == 1 else wy2 if i == 2 else wy3) * row
        return s
    s = 0.0
    for i in range(4):
        yy = min(max(by + i - 1, 0), hp - 1)
        row = 0.0
        for j in range(4):
            xx = min(max(bx + j - 1, 0), wp - 1)
            wx = wx0 if j == 0 else wx1 if j == 1 else wx2 if j == 2 else wx3
            row += wx * img[2 * yy + oy, 2 * xx + ox]
        s += (wy0 if i == 0 else wy1 if i == 1 else wy2 if i == 2 else wy3) * row
    return s


@njit(parallel=True, cache=True, fastmath=True)
def _accumulate_cubic(num, den, img, cfa, fy_row, fx_col, fdy, fdx, rob, both_greens, gain):
    """Add one frame resampled per CFA plane (Catmull–Rom) at p + d(p), weight = robustness."""
    h, w = img.shape
    ny, nx = fdy.shape
    for y in prange(h):
        fy = fy_row[y]
        iy0 = min(int(fy), ny - 1)
        iy1 = min(iy0 + 1, ny - 1)
        ay = fy - iy0
        for x in range(w):
            r = rob[y >> 1, x >> 1]
            if r <= 0.0:
                continue
            fx = fx_col[x]
            ix0 = min(int(fx), nx - 1)
            ix1 = min(ix0 + 1, nx - 1)
            ax = fx - ix0
            dy = ((1 - ay) * ((1 - ax) * fdy[iy0, ix0] + ax * fdy[iy0, ix1])
                  + ay * ((1 - ax) * fdy[iy1, ix0] + ax * fdy[iy1, ix1]))
            dx = ((1 - ay) * ((1 - ax) * fdx[iy0, ix0] + ax * fdx[iy0, ix1])
                  + ay * ((1 - ax) * fdx[iy1, ix0] + ax * fdx[iy1, ix1]))
            qy = y + dy
            qx = x + dx
            oy = y & 1
            ox = x & 1
            v = _cubic_plane(img, (qy - oy) * 0.5, (qx - ox) * 0.5, oy, ox)
            if both_greens and cfa[oy, ox] == 1:
                o2y = 1 - oy
                o2x = 1 - ox
                v = 0.5 * (v + _cubic_plane(img, (qy - o2y) * 0.5, (qx - o2x) * 0.5, o2y, o2x))
            num[y, x] += r * gain * v
            den[y, x] += r


class Accumulator:
    """Running numerator/denominator of the merge on the reference grid."""

    def __init__(self, shape: tuple[int, int], pattern: str, p: MergeParams):
        self.num = np.zeros(shape, np.float32)
        self.den = np.zeros(shape, np.float32)
        self.cfa = np.array(BAYER_PATTERNS[pattern], dtype=np.int64).reshape(2, 2)
        self.inv_r2 = np.array([1 / p.radius_rb ** 2, 1 / p.radius_green ** 2, 1 / p.radius_rb ** 2], np.float64)
        self.frames = 0
        self.method = p.method
        self.both_greens = p.both_greens

    def add(self, img: np.ndarray, flow: TileFlow, rob: np.ndarray, gain: float = 1.0, *,
            reference: bool = False) -> None:
        """Add frame ``img`` (normalised mosaic), seen through ``flow``; ``gain`` scales its values."""
        h, w = img.shape
        fy, fx = flow.index_maps(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64))
        if self.method == "cubic":
            if reference:  # the reference on its own grid: its samples, unresampled
                if np.all(rob == 1.0) and gain == 1.0:
                    self.num += img
                    self.den += np.float32(1.0)
                else:
                    full = np.repeat(np.repeat(rob, 2, 0), 2, 1)[:h, :w]
                    self.num += np.float32(gain) * img * full
                    self.den += full
            else:
                _accumulate_cubic(self.num, self.den, np.ascontiguousarray(img, dtype=np.float32), self.cfa,
                                  fy, fx, np.ascontiguousarray(flow.dy), np.ascontiguousarray(flow.dx),
                                  np.ascontiguousarray(rob, dtype=np.float32), self.both_greens, float(gain))
            self.frames += 1
            return
        _accumulate(self.num, self.den, np.ascontiguousarray(img, dtype=np.float32), self.cfa, fy, fx,
                    np.ascontiguousarray(flow.dy), np.ascontiguousarray(flow.dx),
                    np.ascontiguousarray(rob, dtype=np.float32), self.inv_r2, float(gain))
        self.frames += 1

    def result(self, fallback: np.ndarray) -> np.ndarray:
        out = np.where(self.den > 1e-6, self.num / np.maximum(self.den, 1e-6), fallback)
        return out.astype(np.float32)
