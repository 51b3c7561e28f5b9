"""Per-hue adjustments in eight bands: hue shift, saturation and lightness for reds, oranges, yellows,
greens, aquas, blues, purples and magentas.

Bands are centred on the Oklab hues of the pure colours (red = sRGB (1, 0, 0), orange = (1, 0.5, 0),
...); a pixel's adjustment is a smooth blend (raised cosine) of its two neighbouring bands, so there
are no hard edges between hues. Greys are left alone: every adjustment fades out at low chroma.
"""
from __future__ import annotations

from dataclasses import fields, make_dataclass
from functools import lru_cache

import numpy as np

from ...pipeline.stage import param
from . import DeferredStage, LookParams
from ...colour import oklab as cm

BANDS = {"red": (1.0, 0.0, 0.0), "orange": (1.0, 0.5, 0.0), "yellow": (1.0, 1.0, 0.0), "green": (0.0, 1.0, 0.0),
         "aqua": (0.0, 1.0, 1.0), "blue": (0.0, 0.0, 1.0), "purple": (0.5, 0.0, 1.0), "magenta": (1.0, 0.0, 1.0)}


def _fields():
    out = []
    for band in BANDS:
        out += [(f"{band}_hue", float, param(0.0, min=-45.0, max=45.0, doc=f"hue shift of the {band}s, degrees")),
                (f"{band}_sat", float, param(0.0, min=-1.0, max=1.0, doc=f"saturation of the {band}s (-1 = grey)")),
                (f"{band}_lum", float, param(0.0, min=-1.0, max=1.0, doc=f"lightness of the {band}s"))]
    return out


HslParams = make_dataclass("HslParams", _fields(), bases=(LookParams,), frozen=True,
                           namespace={"__module__": __name__, "__doc__": "Per-hue (8 bands) hue/sat/lightness."})


@lru_cache(maxsize=1)
def centres() -> np.ndarray:
    return np.array([cm.srgb_hue(c) for c in BANDS.values()])


def band_weights(h_deg: np.ndarray) -> np.ndarray:
    """N×8 weights (rows sum to 1) of each band at hue ``h_deg``."""
    c = centres()
    n = len(c)
    w = np.zeros((h_deg.shape[0], n))
    for i in range(n):
        c0, c1 = c[i], c[(i + 1) % n]
        span = (c1 - c0) % 360.0
        t = ((h_deg - c0) % 360.0) / span
        inside = t < 1.0
        wi = 0.5 * (1.0 + np.cos(np.pi * np.clip(t, 0.0, 1.0)))
        w[inside, i] += wi[inside]
        w[inside, (i + 1) % n] += 1.0 - wi[inside]
    return w


def _vec(p, suffix: str) -> np.ndarray:
    return np.array([getattr(p, f"{b}_{suffix}") for b in BANDS], np.float64)


def apply_lab(lab: np.ndarray, p) -> np.ndarray:
    s = p.strength
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    c = np.hypot(a, b)
    h = np.degrees(np.arctan2(b, a)) % 360.0
    w = band_weights(h)
    chroma_w = cm.smoothstep(0.0, 0.06, c)
    dh = s * (w @ _vec(p, "hue")) * chroma_w
    sat = np.maximum(1.0 + s * (w @ _vec(p, "sat")), 0.0)
    lum = s * (w @ _vec(p, "lum")) * chroma_w
    h2 = np.radians(h + dh)
    c2 = c * sat
    L2 = L * np.power(2.0, 0.8 * lum)
    return np.stack([L2, c2 * np.cos(h2), c2 * np.sin(h2)], axis=-1)


def apply(rgb: np.ndarray, p) -> np.ndarray:
    return cm.oklab_to_rgb(apply_lab(cm.rgb_to_oklab(rgb), p))


class Hsl(DeferredStage):
    name = "hsl"
    Params = HslParams
    doc = "per-hue hue/saturation/lightness (8 bands)"


_ = fields
