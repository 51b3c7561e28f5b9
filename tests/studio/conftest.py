from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MCM = DATA / "demosaic" / "mcmaster"


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory) -> Path:
    """A folder of small JPEGs made from McMaster TIFFs (and one in a subfolder)."""
    if not MCM.is_dir():
        pytest.skip("shared data folder is absent")
    import cv2
    root = tmp_path_factory.mktemp("photos")
    (root / "sub").mkdir()
    for name, dest in (("1.tif", "a.jpg"), ("5.tif", "b.jpg"), ("9.tif", "sub/c.jpg")):
        img = cv2.imread(str(MCM / name), cv2.IMREAD_COLOR)
        cv2.imwrite(str(root / dest), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return root


@pytest.fixture()
def fresh_dir(photo_dir, tmp_path) -> Path:
    root = tmp_path / "photos"
    shutil.copytree(photo_dir, root)
    return root
