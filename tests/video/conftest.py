"""Fixtures of the rawlux.video tests (helpers in _videoclips.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.importorskip("av")

from _videoclips import make_clip  # noqa: E402


@pytest.fixture
def clip(tmp_path):
    """make_clip bound to tmp_path: ``clip("name.mp4", **options)``."""
    def make(name: str = "clip.mp4", **kw):
        return make_clip(tmp_path / name, **kw)
    return make
