"""Raw denoising that knows the noise: a Poisson–Gaussian model per file, denoised in the CFA domain.

The noise of a linear sensor value x is modelled as Poisson–Gaussian, ``var(x) = S·x + O`` per colour
(Foi, Trimeche, Katkovnik, Egiazarian 2008). The model of a file comes from, in this order:

1. the DNG ``NoiseProfile`` (``meta.noise_profile``: one (S, O) pair for all planes or one per colour),
   rescaled by the white-balance gains already applied (a gain k turns (S, O) into (k·S, k²·O));
2. an estimate from the image itself: on the two green planes, 2×2 Haar details of non-overlapping blocks;
   the difference of the two planes' diagonal details is nearly pure noise (the scene mostly cancels, the
   noise does not), and for Gaussian noise it is independent of the horizontal and vertical details used to
   pick the smooth blocks, so that selection does not bias it. Robust (MAD) variances in intensity bins are
   fitted by weighted least squares to ``S·x + O``; red and blue follow by the white-balance gains.
   (An ISO value alone does not give a model: its mapping to noise is specific to each sensor.)

Denoising (Mäkitalo & Foi 2013): the generalised Anscombe transform makes each CFA plane's noise unit
variance; an orthonormal 4×4 transform turns the planes (R, G1, G2, B) into one luminance and three colour
differences, still with unit-variance, independent noise; each is denoised by an undecimated à-trous
(B3-spline) wavelet with a local Wiener gain per coefficient (noise variance per level known exactly);
then the inverse colour transform and the closed-form unbiased inverse of the Anscombe transform.
All of it is OpenCV filters and numpy on quarter-size planes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import ParameterError
from ..frame import BAYER_PATTERNS, Frame, State
from ..pipeline.stage import Params, Stage, param

DENOISE_METHODS = ("wavelet",)

#: wavelet levels and the multiplier of the noise variance in the Wiener gain at strength 1
_LEVELS = 3
_WIENER_K = 1.0
_WIN = 5
#: fraction of the smoothest blocks per intensity bin used by the noise estimate
_SMOOTH_Q = 0.05
#: the least spread of bin intensities from which a signal-dependent slope is fitted
_MIN_SPAN = 0.15
#: 4-row bands of the mosaic the estimate reads at most
_EST_ROWS = 200


# ----------------------------------------------------------------------------- noise model

@dataclass(frozen=True)
class NoiseModel:
    """``var = S·x + O`` per colour (R, G, B) in the units of the frame's pixels."""

    S: tuple[float, float, float]
    O: tuple[float, float, float]
    source: str  # "profile" | "estimate"

    def std(self, x: float, colour: int = 1) -> float:
        return float(np.sqrt(max(self.S[colour] * x + self.O[colour], 0.0)))


def _planes(cfa: np.ndarray) -> list[np.ndarray]:
    """The four CFA planes in reading order (0,0), (0,1), (1,0), (1,1), cropped to a common even size."""
    h, w = (cfa.shape[0] // 2) * 2, (cfa.shape[1] // 2) * 2
    return [cfa[i // 2:h:2, i % 2:w:2] for i in range(4)]


def estimate_noise(cfa: np.ndarray, pattern: str, gains=None, clip: float = 0.98) -> NoiseModel:
    """Estimate the Poisson–Gaussian model of a mosaic from the mosaic itself.

    Measured on green, where the two green planes see nearly the same scene: the difference of their
    2×2 Haar diagonal details cancels most texture but keeps the noise (their noise is independent).
    Red and blue follow from green by the white-balance ``gains`` (R, G, B) already applied, if given
    (same sensor noise before the gains), else they take green's model.
    """
    import cv2

    code = BAYER_PATTERNS[pattern]
    cfa = np.asarray(cfa, np.float32)
    # at most ~_EST_ROWS rows of 4-row bands, evenly spread (enough statistics, bounded time)
    band = max(1, cfa.shape[0] // (4 * _EST_ROWS))
    if band > 1:
        n = cfa.shape[0] // 4
        keep = np.arange(0, n, band)
        cfa = cfa[: n * 4].reshape(n, 4, cfa.shape[1])[keep].reshape(-1, cfa.shape[1])
    planes = _planes(cfa)
    g1, g2 = [planes[i] for i, c in enumerate(code) if c == 1]
    h, w = (g1.shape[0] // 2) * 2, (g1.shape[1] // 2) * 2
    if h < 8 or w < 8:
        return NoiseModel((0.0,) * 3, (0.0,) * 3, "estimate")  # type: ignore[arg-type]

    def haar(p):
        a, b, c, d = p[0:h:2, 0:w:2], p[0:h:2, 1:w:2], p[1:h:2, 0:w:2], p[1:h:2, 1:w:2]
        act = np.abs(0.5 * (a + b - c - d)) + np.abs(0.5 * (a - b + c - d))
        return 0.25 * (a + b + c + d), 0.5 * (a - b - c + d), act

    m1, d1, a1 = haar(g1)
    m2, d2, a2 = haar(g2)
    mean = 0.5 * (m1 + m2)
    diag = (d1 - d2) * np.float32(1 / np.sqrt(2))
    act = cv2.blur(a1 + a2, (3, 3), borderType=cv2.BORDER_REFLECT_101)
    top = np.maximum(_block_max(g1, h, w), _block_max(g2, h, w))
    ok = (top < clip) & np.isfinite(diag) & np.isfinite(mean)
    if int(ok.sum()) < 64:
        return NoiseModel((0.0,) * 3, (0.0,) * 3, "estimate")  # type: ignore[arg-type]
    s, o = _fit(mean[ok], diag[ok], act[ok])
    k = np.ones(3) if gains is None else np.asarray(gains, np.float64).reshape(-1)[:3]
    S = tuple(float(k[c] / k[1] * s) for c in range(3))
    O = tuple(float((k[c] / k[1]) ** 2 * o) for c in range(3))
    return NoiseModel(S, O, "estimate")  # type: ignore[arg-type]


def _block_max(p: np.ndarray, h: int, w: int) -> np.ndarray:
    return np.maximum(np.maximum(p[0:h:2, 0:w:2], p[0:h:2, 1:w:2]), np.maximum(p[1:h:2, 0:w:2], p[1:h:2, 1:w:2]))


def _fit(x: np.ndarray, diag: np.ndarray, act: np.ndarray, bins: int = 12) -> tuple[float, float]:
    """Weighted least squares of per-bin noise variances against the bin means.

    In each intensity bin, over its smoothest blocks (the fraction ``_SMOOTH_Q`` with the least horizontal
    and vertical detail), σ is the robust MAD of the diagonal detail.
    """
    edges = np.quantile(x, np.linspace(0, 1, bins + 1))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
    mx, mv, wt = [], [], []
    for k in range(bins):
        sel = idx == k
        if int(sel.sum()) < 32:
            continue
        a = act[sel]
        keep = a <= np.quantile(a, _SMOOTH_Q)
        if int(keep.sum()) < 16:
            continue
        sg = 1.4826 * float(np.median(np.abs(diag[sel][keep])))
        mx.append(float(np.mean(x[sel][keep])))
        mv.append(sg * sg)
        wt.append(float(keep.sum()))
    if len(mx) < 2:
        return 0.0, (float(mv[0]) if mv else 0.0)
    X, V, W = np.array(mx), np.array(mv), np.sqrt(np.array(wt))
    if X.max() - X.min() < _MIN_SPAN:
        # too narrow a range of intensities to read a slope: signal-independent noise only (errs low above)
        return 0.0, float(np.average(V, weights=W))
    A = np.stack([X, np.ones_like(X)], axis=1) * W[:, None]
    s, o = _nnls2(A.astype(np.float64), (V * W).astype(np.float64))
    return float(s), float(o)


def _nnls2(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """min ‖A·x − b‖² over x ≥ 0 for two unknowns, exactly (what scipy.optimize.nnls gives, without importing
    scipy.optimize on the develop path): the unconstrained least squares when it is non-negative, else the best
    of the optima on the faces x₀ = 0 and x₁ = 0 (each a clipped 1-D least squares) and the origin."""
    x, *_ = np.linalg.lstsq(A, b, rcond=None)
    if np.all(x >= 0):
        return x
    cands = [np.zeros(2)]
    for j in range(2):
        a = A[:, j]
        d = float(a @ a)
        c = np.zeros(2)
        if d > 0:
            c[j] = max(float(a @ b) / d, 0.0)
        cands.append(c)
    return min(cands, key=lambda c: float(np.sum((A @ c - b) ** 2)))


def profile_noise(frame: Frame) -> NoiseModel | None:
    """The model from the file's NoiseProfile, in the units of the frame (after its white balance)."""
    prof = frame.meta.noise_profile
    if not prof:
        return None
    vals = [float(v) for v in prof]
    if len(vals) == 2:
        pairs = [vals] * 3
    elif len(vals) >= 6 and len(vals) % 2 == 0:
        pairs = [vals[0:2], vals[2:4], vals[4:6]]
    else:
        return None
    if not all(np.isfinite(v) for p in pairs for v in p) or any(p[0] < 0 for p in pairs):
        return None
    gains = np.ones(3)
    if frame.meta.wb_applied and frame.meta.wb_multipliers is not None:
        gains = np.asarray(frame.meta.wb_multipliers, np.float64).reshape(-1)[:3]
    S = tuple(float(gains[c] * pairs[c][0]) for c in range(3))
    O = tuple(float(gains[c] ** 2 * max(pairs[c][1], 0.0)) for c in range(3))
    return NoiseModel(S, O, "profile")  # type: ignore[arg-type]


def noise_model(frame: Frame) -> NoiseModel:
    """The noise model of a CFA frame: its NoiseProfile if it has one, else estimated from its pixels."""
    m = profile_noise(frame)
    if m is not None:
        return m
    gains = frame.meta.wb_multipliers if frame.meta.wb_applied else None
    return estimate_noise(frame.pixels, frame.meta.cfa_pattern or "RGGB", gains)


# ----------------------------------------------------------------------------- the denoiser

_B3 = np.array([1, 4, 6, 4, 1], np.float32) / 16.0


def _atrous_kernel(level: int) -> np.ndarray:
    step = 1 << level
    k = np.zeros(4 * step + 1, np.float32)
    k[::step] = _B3
    return k


@lru_cache(maxsize=None)
def _level_noise(levels: int) -> tuple[float, ...]:
    """Standard deviation of each detail level for unit white noise (from the impulse responses)."""
    import cv2

    n = 8 * (1 << levels) + 1
    delta = np.zeros((n, n), np.float32)
    delta[n // 2, n // 2] = 1.0
    cur = delta
    out = []
    for lv in range(levels):
        k = _atrous_kernel(lv)
        nxt = cv2.sepFilter2D(cur, -1, k, k, borderType=cv2.BORDER_REFLECT_101)
        out.append(float(np.sqrt(np.sum((cur - nxt) ** 2))))
        cur = nxt
    return tuple(out)


@lru_cache(maxsize=None)
def _kernels():
    """The fused per-pixel loops (numba, compiled once and cached; built on first use)."""
    from numba import njit, prange

    @njit(cache=True, parallel=True, fastmath=True)
    def detail(cur, nxt, w, w2):
        # elementwise on flat views
        for i in prange(cur.size):
            v = cur[i] - nxt[i]
            w[i] = v
            w2[i] = v * v

    @njit(cache=True, parallel=True, fastmath=True)
    def wiener(w, e, nv, acc):
        tiny = np.float32(1e-12)
        for i in prange(w.size):
            ee = e[i]
            acc[i] += w[i] * (max(ee - nv, np.float32(0.0)) / max(ee, tiny))

    @njit(cache=True, parallel=True, fastmath=True)
    def forward(cfa, rows, cols, s, o, comps):
        # GAT of the planes (R, G1, G2, B), then the orthonormal colour transform
        h2, w2 = comps.shape[0], comps.shape[1]
        r2 = np.float32(1.0 / np.sqrt(2.0))
        for y in prange(h2):
            v = np.empty(4, np.float32)
            for x in range(w2):
                for j in range(4):
                    z = cfa[2 * y + rows[j], 2 * x + cols[j]]
                    if s[j] > 0:
                        a = z * s[j] + np.float32(0.375) * s[j] * s[j] + o[j]
                        v[j] = np.float32(2.0) / s[j] * np.sqrt(max(a, np.float32(0.0)))
                    else:
                        v[j] = z / np.sqrt(o[j])
                comps[y, x, 0] = np.float32(0.5) * (v[0] + v[1] + v[2] + v[3])
                comps[y, x, 1] = r2 * (v[0] - v[3])
                comps[y, x, 2] = np.float32(0.5) * (v[0] - v[1] - v[2] + v[3])
                comps[y, x, 3] = r2 * (v[1] - v[2])

    @njit(cache=True, parallel=True, fastmath=True)
    def inverse(comps, rows, cols, s, o, out):
        h2, w2 = comps.shape[0], comps.shape[1]
        r2 = np.float32(1.0 / np.sqrt(2.0))
        c = np.float32(np.sqrt(1.5))
        for y in prange(h2):
            v = np.empty(4, np.float32)
            for x in range(w2):
                l0, c1, c2, c3 = comps[y, x, 0], comps[y, x, 1], comps[y, x, 2], comps[y, x, 3]
                v[0] = np.float32(0.5) * (l0 + c2) + r2 * c1
                v[1] = np.float32(0.5) * (l0 - c2) + r2 * c3
                v[2] = np.float32(0.5) * (l0 - c2) - r2 * c3
                v[3] = np.float32(0.5) * (l0 + c2) - r2 * c1
                for j in range(4):
                    t = v[j]
                    if s[j] > 0:
                        # closed-form approximation of the exact unbiased inverse (valid above ~0.8)
                        t = max(t, np.float32(0.8))
                        inv = (np.float32(0.25) * t * t + np.float32(0.25) * c / t - np.float32(1.375) / (t * t)
                               + np.float32(0.625) * c / (t * t * t) - np.float32(0.125))
                        z = s[j] * inv - o[j] / s[j]
                    else:
                        z = t * np.sqrt(o[j])
                    out[2 * y + rows[j], 2 * x + cols[j]] = z

    return detail, wiener, forward, inverse


def _wavelet_denoise(p: np.ndarray, strength: float, levels: int | None = None) -> np.ndarray:
    """Denoise planes (H×W or H×W×C, C ≤ 4) with unit-variance Gaussian noise: à-trous wavelet, local
    Wiener gain per coefficient and level (all channels in one pass of each filter)."""
    import cv2

    detail, wiener, _, _ = _kernels()
    levels = _LEVELS if levels is None else levels
    sig = _level_noise(levels)
    cur = p
    out = np.zeros_like(p)
    w = np.empty_like(p)
    w2 = np.empty_like(p)
    for lv in range(levels):
        k = _atrous_kernel(lv)
        nxt = cv2.sepFilter2D(cur, -1, k, k, borderType=cv2.BORDER_REFLECT_101)
        detail(cur.reshape(-1), nxt.reshape(-1), w.reshape(-1), w2.reshape(-1))
        e = cv2.blur(w2, (_WIN, _WIN), borderType=cv2.BORDER_REFLECT_101)
        wiener(w.reshape(-1), e.reshape(-1), np.float32(_WIENER_K * strength * sig[lv] ** 2), out.reshape(-1))
        cur = nxt
    out += cur
    return out


def denoise_cfa(cfa: np.ndarray, pattern: str, model: NoiseModel, strength: float = 1.0) -> np.ndarray:
    """Denoise an H×W mosaic whose noise follows ``model``; returns a new H×W float32 mosaic."""
    pattern = str(pattern).upper()
    if pattern not in BAYER_PATTERNS:
        raise ParameterError(f"unknown CFA pattern {pattern!r} (valid: {', '.join(BAYER_PATTERNS)})")
    cfa = np.ascontiguousarray(cfa, np.float32)
    out = cfa.copy()
    if strength <= 0 or cfa.shape[0] < 4 or cfa.shape[1] < 4:
        return out
    code = BAYER_PATTERNS[pattern]
    greens = [i for i, c in enumerate(code) if c == 1]
    order = [code.index(0), greens[0], greens[1], code.index(2)]  # (R, G1, G2, B) whatever the pattern
    so = []
    for pos in order:
        sj, oj = float(model.S[code[pos]]), float(model.O[code[pos]])
        if not (np.isfinite(sj) and np.isfinite(oj)):
            raise ParameterError(f"noise model is not finite: S={model.S}, O={model.O}")
        so.append((max(sj, 0.0), max(oj, 1e-12 if sj > 0 else 1e-14)))
    if all(sj == 0 and oj <= 1e-12 for sj, oj in so):
        return out
    _, _, forward, inverse = _kernels()
    rows = np.array([pos // 2 for pos in order], np.int64)
    cols = np.array([pos % 2 for pos in order], np.int64)
    s_arr = np.array([v[0] for v in so], np.float32)
    o_arr = np.array([v[1] for v in so], np.float32)
    h2, w2 = cfa.shape[0] // 2, cfa.shape[1] // 2
    comps = np.empty((h2, w2, 4), np.float32)
    forward(cfa, rows, cols, s_arr, o_arr, comps)
    comps = _wavelet_denoise(comps, strength)
    inverse(comps, rows, cols, s_arr, o_arr, out)
    return out


# ----------------------------------------------------------------------------- the stage

@dataclass(frozen=True)
class DenoiseParams(Params):
    method: str = param("wavelet", choices=DENOISE_METHODS,
                        doc="wavelet: variance-stabilised, colour-decorrelated wavelet Wiener filter")
    strength: float | None = param(None, min=0.0, max=8.0, nullable=True,
                                   doc="multiplier of the modelled noise to remove; empty = auto (1: "
                                       "exactly the noise of the file's profile or the estimate, when the "
                                       "noise is visible: see auto_threshold), 0 = off")
    auto_threshold: float = param(0.007, min=0.0, max=0.1,
                                  doc="auto skips files whose modelled noise at middle grey (σ at 0.18 of white) "
                                      "is below this: clean low-ISO files keep their detail and develop faster")


class Denoise(Stage):
    name = "denoise"
    Params = DenoiseParams
    takes = frozenset({State.CFA})
    gives = None
    doc = "raw denoise on the mosaic with the file's Poisson–Gaussian noise model"

    def applies(self, frame: Frame, p: Params) -> bool:
        return bool(p.enabled) and frame.state in self.takes and frame.meta.cfa_pattern in BAYER_PATTERNS

    def run(self, frame: Frame, p: DenoiseParams) -> Frame:
        strength = 1.0 if p.strength is None else float(p.strength)
        if strength <= 0:
            return frame
        model = noise_model(frame)
        if p.strength is None:
            sigma_grey = float(np.sqrt(max(0.0, float(np.mean(model.S)) * 0.18 + float(np.mean(model.O)))))
            if sigma_grey < p.auto_threshold:
                out = frame.with_pixels(frame.pixels)
                out.meta.extra["noise_model"] = {"S": list(model.S), "O": list(model.O), "source": model.source,
                                                 "skipped": f"noise σ={sigma_grey:.4f} at middle grey < {p.auto_threshold}"}
                return out
        px = denoise_cfa(frame.pixels, frame.meta.cfa_pattern, model, strength)  # type: ignore[arg-type]
        out = frame.with_pixels(px)
        out.meta.extra["noise_model"] = {"S": list(model.S), "O": list(model.O), "source": model.source}
        return out
