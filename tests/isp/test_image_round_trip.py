"""A display-referred photo developed with the natural look comes back unchanged: no stage (tone, gamut
handling) may alter in-gamut colours of an image that is already rendered."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rawlux

MCM = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "demosaic" / "mcmaster"


@pytest.mark.parametrize("name", ["1.tif", "13.tif"])
def test_png_through_natural_is_unchanged(tmp_path, name):
    if not (MCM / name).is_file():
        pytest.skip("McMaster images are absent")
    import tifffile
    from PIL import Image

    img = tifffile.imread(MCM / name)
    src = tmp_path / "in.png"
    Image.fromarray(img).save(src)
    out = rawlux.develop(str(src), look="natural").pixels
    out8 = np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)
    assert np.abs(out8.astype(int) - img.astype(int)).max() <= 1
    # saturated primaries too (the most sensitive case for gamut handling)
    prim = np.zeros((4, 6, 3), np.uint8)
    prim[0, :3] = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
    prim[1, :3] = [[255, 255, 0], [0, 255, 255], [255, 0, 255]]
    Image.fromarray(prim).save(src)
    out = rawlux.develop(str(src), look="natural").pixels
    assert np.abs(np.clip(out * 255 + 0.5, 0, 255).astype(int) - prim.astype(int)).max() <= 1
