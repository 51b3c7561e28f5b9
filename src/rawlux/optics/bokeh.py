"""Depth-aware synthetic depth of field, rendered in scene-linear light.

Method (after Wadhwa et al. 2018, "Synthetic Depth-of-Field with a Single-Camera Mobile Phone"):

1. The thin-lens model gives each pixel a signed circle of confusion from its depth ``z``, the
   focus distance ``z_f``, the focal length ``f`` and f-number ``N`` (35 mm-equivalent, so the
   blur is what that lens would give on a full-frame sensor framing the same picture)::

       c = f² / (N (z_f − f)) · (1 − z_f / z)        (mm on the 43.3 mm diagonal; > 0 behind focus)

2. The signed radius axis is cut into layers (radii growing by √2). Each pixel is shared between
   its two nearest layers with weights linear in the *signed squared radius*, so the second moment
   of the blur is exactly that of the pixel's own disc.
3. Each layer — premultiplied colour and coverage — is blurred with its aperture kernel (scatter of
   every pixel by its own disc, done per layer) at a resolution where the kernel is 2.5–5 pixels in
   radius (larger blurs are done on box-downsampled layers, so every layer costs about the same).
4. Layers are composited back to front: far layers *over* each other, then the in-focus layer;
   near layers are composited front to back (*under*) and laid over the result. Dividing by the
   accumulated coverage fills what a foreground object hid from the background layers from the
   background itself, so there is neither a dark halo nor foreground colour bleeding into the
   blurred background, and blurred foreground edges spread softly over what lies behind them.
5. Bright pixels are boosted before blurring (scene-linear light, clipped highlights get their
   energy back), so highlights bloom into bright discs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .kernels import KernelSpec, kernel

FULL_FRAME_DIAGONAL = math.hypot(36.0, 24.0)
Q = math.sqrt(2.0)


def _nb():
    from numba import njit, prange

    return njit, prange


_KERNELS: dict[str, object] = {}


def _jit():
    if _KERNELS:
        return _KERNELS
    njit, prange = _nb()

    @njit(cache=True, parallel=True, fastmath=True)
    def layer_down(img, u, ulo, uk, uhi, s, boost, thr, out):
        ho, wo = out.shape[0], out.shape[1]
        inv = 1.0 / (s * s)
        for i in prange(ho):
            for j in range(wo):
                a0 = 0.0
                a1 = 0.0
                a2 = 0.0
                a3 = 0.0
                for di in range(s):
                    y = i * s + di
                    for dj in range(s):
                        x = j * s + dj
                        v = u[y, x]
                        if v <= ulo or v >= uhi:
                            if not ((v >= uhi and uhi == np.inf) or (v <= ulo and ulo == -np.inf)):
                                continue
                        if v < uk:
                            w = 1.0 if ulo == -np.inf else (v - ulo) / (uk - ulo)
                        else:
                            w = 1.0 if uhi == np.inf else (uhi - v) / (uhi - uk)
                        if w <= 0.0:
                            continue
                        r = img[y, x, 0]
                        g = img[y, x, 1]
                        b = img[y, x, 2]
                        if boost > 0.0:
                            m = max(r, max(g, b))
                            if m > thr:
                                t = min(1.0, (m - thr) / thr)
                                gain = 1.0 + boost * t * t * (3.0 - 2.0 * t)
                                r *= gain
                                g *= gain
                                b *= gain
                        a0 += r * w
                        a1 += g * w
                        a2 += b * w
                        a3 += w
                out[i, j, 0] = a0 * inv
                out[i, j, 1] = a1 * inv
                out[i, j, 2] = a2 * inv
                out[i, j, 3] = a3 * inv

    @njit(cache=True, parallel=True, fastmath=True)
    def over(acc, lay):
        for i in prange(acc.shape[0]):
            for j in range(acc.shape[1]):
                t = 1.0 - lay[i, j, 3]
                for c in range(4):
                    acc[i, j, c] = lay[i, j, c] + t * acc[i, j, c]

    @njit(cache=True, parallel=True, fastmath=True)
    def under(acc, lay):
        for i in prange(acc.shape[0]):
            for j in range(acc.shape[1]):
                t = 1.0 - acc[i, j, 3]
                for c in range(4):
                    acc[i, j, c] += t * lay[i, j, c]

    @njit(cache=True, parallel=True, fastmath=True)
    def finish(front, back, fill, out):
        for i in prange(out.shape[0]):
            for j in range(out.shape[1]):
                t = 1.0 - front[i, j, 3]
                ba = back[i, j, 3]
                hole = 1.0 - min(max(ba, 0.0), 1.0)
                a = front[i, j, 3] + t * (ba + hole * fill[i, j, 3])
                inv = 1.0 / a if a > 1e-6 else 0.0
                for c in range(3):
                    out[i, j, c] = (front[i, j, c] + t * (back[i, j, c] + hole * fill[i, j, c])) * inv

    @njit(cache=True, parallel=True)
    def occupancy(u, edges, counts2d):
        n = edges.shape[0]
        for i in prange(u.shape[0]):
            for j in range(u.shape[1]):
                v = u[i, j]
                lo = 0
                hi = n
                while lo < hi:                     # first edge > v
                    mid = (lo + hi) // 2
                    if edges[mid] <= v:
                        lo = mid + 1
                    else:
                        hi = mid
                counts2d[i, lo] += 1

    _KERNELS.update(layer_down=layer_down, over=over, under=under, finish=finish, occupancy=occupancy)
    return _KERNELS


# ----------------------------------------------------------------------------- thin lens

def coc_radius(inv_depth: np.ndarray, *, focus_m: float, focal_mm: float, f_number: float,
               diag_px: float, max_radius_px: float) -> np.ndarray:
    """Signed circle-of-confusion radius in pixels (> 0 behind the focus plane) from 1/z (1/m)."""
    zf = focus_m * 1000.0
    f = focal_mm
    if zf <= f * 1.01:
        zf = f * 1.01
    k = f * f / (f_number * (zf - f))                        # blur diameter (mm) at infinity
    scale = 0.5 * k * diag_px / FULL_FRAME_DIAGONAL           # radius in px per unit |1 − z_f/z|
    c = scale * (1.0 - focus_m * inv_depth.astype(np.float32))
    return np.clip(c, -max_radius_px, max_radius_px).astype(np.float32)


def layer_radii(r_max: float) -> list[float]:
    out, r = [], 1.0
    while r < r_max * Q:
        out.append(r)
        r *= Q
    return out


def _scale_for(r: float) -> int:
    """Resolution divisor for a layer, so that its kernel is 2.5–5 px in radius (≤ 11×11 taps: the
    direct convolution path, several times faster than the DFT one larger kernels take)."""
    if r < 5.0:
        return 1
    return int(2 ** math.floor(math.log2(r / 2.5)))


# ----------------------------------------------------------------------------- render

@dataclass(frozen=True)
class RenderOptions:
    spec: KernelSpec = KernelSpec()
    highlight_boost: float = 2.0
    highlight_threshold: float = 1.0
    glow: float = 0.0
    glow_radius: float = 0.01            # fraction of the diagonal


def _blur(lay: np.ndarray, r_lo: float, s: int, spec: KernelSpec, full_hw: tuple[int, int]) -> np.ndarray:
    import cv2

    if r_lo * s < 2.5:
        return cv2.GaussianBlur(lay, (0, 0), r_lo / 2.0, borderType=cv2.BORDER_REFLECT)
    if s > 1:
        # box-downsampling and bilinear upsampling add ≈ 1/4 low-res px² of variance per axis; a disc
        # has ρ²/4 per axis, so a disc of √(ρ² − 1) keeps the layer's second moment that of radius ρ
        r_lo = math.sqrt(max(r_lo * r_lo - 1.0, 0.8 * r_lo * r_lo))
    if not spec.varies or r_lo * s < 5.0:
        k = kernel(spec if not spec.varies else KernelSpec("round"), r_lo)
        return cv2.filter2D(lay, -1, k, borderType=cv2.BORDER_REFLECT)
    # spatially varying kernel: anchors on a grid, bilinear blend between their convolutions
    hh, ww = lay.shape[:2]
    fh, fw = full_hw
    half_diag = 0.5 * math.hypot(fw, fh)
    nx, ny = 5, 4
    xs = np.linspace(0, ww - 1, nx)
    ys = np.linspace(0, hh - 1, ny)
    out = np.zeros_like(lay)
    for j in range(ny):
        for i in range(nx):
            pos = (((xs[i] + 0.5) * s - fw / 2) / half_diag, ((ys[j] + 0.5) * s - fh / 2) / half_diag)
            k = kernel(spec, r_lo, pos)
            hk = k.shape[0] // 2
            x0 = int(math.floor(xs[i - 1])) if i > 0 else 0
            x1 = int(math.ceil(xs[i + 1])) if i < nx - 1 else ww - 1
            y0 = int(math.floor(ys[j - 1])) if j > 0 else 0
            y1 = int(math.ceil(ys[j + 1])) if j < ny - 1 else hh - 1
            ix0, ix1 = max(0, x0 - hk), min(ww, x1 + 1 + hk)
            iy0, iy1 = max(0, y0 - hk), min(hh, y1 + 1 + hk)
            conv = cv2.filter2D(np.ascontiguousarray(lay[iy0:iy1, ix0:ix1]), -1, k, borderType=cv2.BORDER_REFLECT)
            conv = conv[y0 - iy0:y1 + 1 - iy0, x0 - ix0:x1 + 1 - ix0]
            dx = (xs[1] - xs[0]) if nx > 1 else 1.0
            dy = (ys[1] - ys[0]) if ny > 1 else 1.0
            wx = np.maximum(0.0, 1.0 - np.abs(np.arange(x0, x1 + 1) - xs[i]) / dx).astype(np.float32)
            wy = np.maximum(0.0, 1.0 - np.abs(np.arange(y0, y1 + 1) - ys[j]) / dy).astype(np.float32)
            out[y0:y1 + 1, x0:x1 + 1] += conv * (wy[:, None] * wx[None, :])[..., None]
    return out


def render(img: np.ndarray, coc: np.ndarray, opts: RenderOptions = RenderOptions()) -> np.ndarray:
    """Render depth of field: ``img`` H×W×3 scene-linear float32, ``coc`` H×W signed radius in pixels."""
    import cv2

    k = _jit()
    h, w = coc.shape
    r_max = float(np.max(np.abs(coc))) if coc.size else 0.0
    radii = layer_radii(r_max)
    if not radii:
        out = np.array(img, dtype=np.float32, copy=True)
    else:
        s_max = max(_scale_for(r) for r in radii)
        ph, pw = -(-h // s_max) * s_max, -(-w // s_max) * s_max
        src = np.ascontiguousarray(img, dtype=np.float32)
        u = (coc * np.abs(coc)).astype(np.float32)
        if (ph, pw) != (h, w):
            src = cv2.copyMakeBorder(src, 0, ph - h, 0, pw - w, cv2.BORDER_REFLECT)
            u = cv2.copyMakeBorder(u, 0, ph - h, 0, pw - w, cv2.BORDER_REFLECT)
        values = [-(r * r) for r in reversed(radii)] + [0.0] + [r * r for r in radii]
        ext = [-np.inf] + values + [np.inf]
        counts = np.zeros((ph, len(values) + 1), np.int64)
        k["occupancy"](u, np.asarray(values, np.float32), counts)
        occ = counts.sum(axis=0)            # occ[i]: pixels in (values[i-1], values[i]]

        def used(idx: int) -> bool:          # does any pixel fall between layer idx's neighbours?
            return bool(occ[idx] + occ[idx + 1] > 0)

        def make(idx: int, s: int) -> np.ndarray:
            buf = np.empty((ph // s, pw // s, 4), np.float32)
            r = math.sqrt(abs(values[idx]))
            k["layer_down"](src, u, np.float32(ext[idx]), np.float32(values[idx]), np.float32(ext[idx + 2]),
                            s, np.float32(opts.highlight_boost if r >= 2 else 0.0),
                            np.float32(opts.highlight_threshold), buf)
            return buf

        def resize_to(acc: np.ndarray, s: int) -> np.ndarray:
            return cv2.resize(acc, (pw // s, ph // s), interpolation=cv2.INTER_LINEAR)

        n = len(radii)
        # back: far → focus, "over"
        back, sb = None, None
        for idx in list(range(len(values) - 1, n, -1)) + [n]:
            r = math.sqrt(abs(values[idx]))
            s = _scale_for(r) if idx != n else 1
            if not used(idx):
                continue
            lay = make(idx, s)
            if idx != n:
                lay = _blur(lay, r / s, s, opts.spec, (ph, pw))
            if back is None:
                back, sb = lay, s
            else:
                if s != sb:
                    back, sb = resize_to(back, s), s
                k["over"](back, lay)
        # front: nearest → focus, "under"
        front, sf = None, None
        for idx in range(0, n):
            r = math.sqrt(abs(values[idx]))
            s = _scale_for(r)
            if not used(idx):
                continue
            lay = _blur(make(idx, s), r / s, s, opts.spec, (ph, pw))
            if front is None:
                front, sf = lay, s
            else:
                if s != sf:
                    front, sf = resize_to(front, s), s
                k["under"](front, lay)
        if back is None:
            back, sb = np.zeros((ph, pw, 4), np.float32), 1
        if sb != 1:
            back = resize_to(back, 1)
        if front is None:
            front = np.zeros((ph, pw, 4), np.float32)
            fill = np.broadcast_to(np.zeros((1, 1, 4), np.float32), (ph, pw, 4))   # nothing to fill
        else:
            if sf != 1:
                front = resize_to(front, 1)
            # what a blurred foreground reveals behind it: the background, extended into the hidden
            # area (push-pull at quarter resolution: it is only ever seen through a blur)
            f = 4 if min(ph, pw) >= 64 else 1
            small = cv2.resize(back, (pw // f, ph // f), interpolation=cv2.INTER_AREA) if f > 1 else back
            fill = cv2.resize(fill_holes(small), (pw, ph), interpolation=cv2.INTER_LINEAR) if f > 1 \
                else fill_holes(small)
        out = np.empty((ph, pw, 3), np.float32)
        k["finish"](front, back, fill, out)
        out = np.ascontiguousarray(out[:h, :w])
    if opts.glow > 0:
        out = soft_glow(out, opts.glow, opts.glow_radius)
    return out


def fill_holes(acc: np.ndarray) -> np.ndarray:
    """Push-pull: extend premultiplied colour + coverage (H×W×4) into uncovered places, coverage → 1."""
    import cv2

    levels = [acc]
    while min(levels[-1].shape[:2]) > 4:
        a = levels[-1]
        levels.append(cv2.resize(a, ((a.shape[1] + 1) // 2, (a.shape[0] + 1) // 2), interpolation=cv2.INTER_AREA))
    top = levels[-1].copy()
    cov = np.maximum(top[..., 3:4], 1e-6)
    top = np.where(top[..., 3:4] > 1e-6, top / cov, 0).astype(np.float32)
    top[..., 3] = 1.0
    for lev in reversed(levels[:-1]):
        up = cv2.resize(top, (lev.shape[1], lev.shape[0]), interpolation=cv2.INTER_LINEAR)
        t = 1.0 - np.clip(lev[..., 3:4], 0.0, 1.0)
        top = lev + t * up
    return np.ascontiguousarray(top, dtype=np.float32)


def soft_glow(img: np.ndarray, amount: float, radius: float) -> np.ndarray:
    """Spherical-aberration glow: a soft halo around every point, strongest around highlights."""
    import cv2

    h, w = img.shape[:2]
    sigma = max(1.0, radius * math.hypot(h, w))
    f = max(1, int(sigma // 4))
    small = cv2.resize(img, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f, borderType=cv2.BORDER_REFLECT)
    halo = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return ((1.0 - amount) * img + amount * halo).astype(np.float32)
