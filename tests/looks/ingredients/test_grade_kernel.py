"""The fused grade kernel against a plain numpy/colour-science reading of what it is documented to do:
detail gain from clarity and sharpening on √Y, then the baked LUT looked up tetrahedrally over √rgb."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "looks"))
from _lookdata import display_linear, mcmaster_paths  # noqa: E402

from rawlux.colour import oklab as cm  # noqa: E402
from rawlux.looks.ingredients.clarity import ClarityParams, base_layer  # noqa: E402
from rawlux.looks.ingredients.curve import CurveParams  # noqa: E402
from rawlux.looks.ingredients.grade import bake, render  # noqa: E402
from rawlux.looks.ingredients.saturation import SaturationParams  # noqa: E402
from rawlux.looks.ingredients.sharpen import SharpenParams, blurred  # noqa: E402


def _reference(img, cl, sh, colour_ops, n=33):
    colour = pytest.importorskip("colour")
    wts = cm.LUMA.astype(np.float32)
    ye = np.sqrt(np.clip(img @ wts, 0, 1)).astype(np.float32)
    v2 = ye.astype(np.float64).copy()
    if cl is not None:
        base = base_layer(ye, cl)
        v2 += cl.strength * cl.amount * (ye - base) * 4 * ye * (1 - ye)
    if sh is not None:
        d = ye - blurred(ye, sh)
        v2 += sh.strength * sh.amount * (d - np.clip(d, -sh.threshold, sh.threshold))
    k = np.clip((np.maximum(v2, 0) / np.maximum(ye, 1e-3)) ** 2, 0.25, 4.0)
    k = np.where(ye > 1e-3, k, 1.0)
    x = img * k[..., None]
    if not colour_ops:
        return x
    table = bake(tuple(colour_ops), n).astype(np.float64)
    enc = np.sqrt(np.clip(x, 0, 1)).reshape(-1, 3)
    return colour.algebra.table_interpolation_tetrahedral(enc, table).reshape(img.shape)


@pytest.mark.parametrize("which", ["clarity", "sharpen", "both", "colour only"])
def test_grade_kernel_matches_its_numpy_reading(which):
    img = display_linear(mcmaster_paths((5,))[0])
    img = np.ascontiguousarray(img * 1.1, np.float32)          # a few values above 1 (clamped by the grid)
    cl = ClarityParams(amount=0.5) if which in ("clarity", "both") else None
    sh = SharpenParams(amount=1.2, threshold=0.01) if which in ("sharpen", "both") else None
    colour_ops = (("curve", CurveParams(contrast=0.4, lift=0.05)), ("saturation", SaturationParams(saturation=1.3)))
    ops = tuple(o for o in (("clarity", cl), ("sharpen", sh)) if o[1] is not None) + colour_ops
    got = render(img, ops)
    want = _reference(img, cl, sh, colour_ops)
    assert np.abs(got - want).max() < 2e-4, np.abs(got - want).max()


def test_gain_alone_without_a_lut_is_exact():
    img = display_linear(mcmaster_paths((5,))[0])
    cl = ClarityParams(amount=-0.4)
    got = render(img, (("clarity", cl),))
    assert np.abs(got - _reference(img, cl, None, ())).max() < 1e-5
