"""Burst fixtures: simulated bursts from the shared McMaster images (skip cleanly without the data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MCMASTER = DATA / "demosaic" / "mcmaster"
HERO6 = DATA / "raw" / "gopro-hero6-12mp.dng"


def need(path: Path) -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data folder {DATA} is absent")
    if not path.exists():
        pytest.skip(f"{path} is absent from the shared data")
    return path


@pytest.fixture(scope="session")
def hero6():
    """The shared 12 MP camera DNG (skips without the data)."""
    return need(HERO6)


@pytest.fixture(scope="session")
def scene():
    from rawlux.burst.simulate import mcmaster_scene

    need(MCMASTER / "1.tif")
    return mcmaster_scene(1, DATA, 1.6)


@pytest.fixture(scope="session")
def texture():
    from rawlux.burst.simulate import mcmaster_scene

    need(MCMASTER / "5.tif")
    return mcmaster_scene(5, DATA, 1.0)


@pytest.fixture(scope="session")
def bright_scene():
    """McMaster 1 upsampled ×1.6, scaled ×3: highlights up to 3× a middle exposure's white."""
    from rawlux.burst.simulate import mcmaster_scene

    need(MCMASTER / "1.tif")
    return mcmaster_scene(1, DATA, 1.6) * 3.0


@pytest.fixture(scope="session")
def moving_burst(texture):
    """6 frames of 512×512, ISO 3200, ±16 px / 0.5° shake, an object that jumps in half the frames."""
    from rawlux.burst.simulate import mcmaster_scene, simulate_burst

    need(MCMASTER / "9.tif")
    sc = mcmaster_scene(9, DATA, 2.0)
    return simulate_burst(sc, 6, size=(512, 512), iso=3200, seed=7, moving_object=texture, object_radius=48)


def norm(frame) -> np.ndarray:
    from rawlux.burst.api import normalise

    return normalise(frame)
