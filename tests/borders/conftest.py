"""Fixtures for the frame tests (helpers are in framedata.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from framedata import FULL_EXIF, exif_bytes, mosaic, srgb_icc


@pytest.fixture
def photo_jpeg(tmp_path: Path) -> Path:
    """A 600×400 landscape JPEG with full EXIF and an ICC profile."""
    from PIL import Image

    px = mosaic(400, 600)
    p = tmp_path / "shot.jpg"
    Image.fromarray(px).save(p, quality=95, exif=exif_bytes(FULL_EXIF), icc_profile=srgb_icc())
    return p
