"""Fixtures for the look tests: small real photographs (McMaster) as frames, and ΔE00 helpers."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MCM = DATA / "demosaic" / "mcmaster"


def mcmaster_paths(ids=(1, 5, 9, 13, 18)) -> list[Path]:
    if not MCM.is_dir():
        pytest.skip(f"shared data folder {MCM} is absent")
    return [MCM / f"{i}.tif" for i in ids]


def display_linear(path: Path, size: int | None = None) -> np.ndarray:
    """An 8-bit sRGB photo as display-linear Rec.2020 float32 (what the look stages see for a JPEG)."""
    import cv2
    import tifffile

    from rawlux.colour import spaces

    im = tifffile.imread(str(path)).astype(np.float32) / 255.0
    if size:
        im = cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA)
    lin = spaces.decode(im, "srgb")
    m = np.asarray(spaces.rgb_to_rgb("srgb", spaces.WORKING), np.float32)
    return np.ascontiguousarray(lin @ m.T, dtype=np.float32)


def lab_of_linear(rgb: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour

        from rawlux.colour import spaces
        m = np.asarray(spaces.rgb_to_xyz(spaces.WORKING))
        return colour.XYZ_to_Lab(np.clip(rgb, 0, None) @ m.T, colour.XYZ_to_xy(m @ np.ones(3)))


def lab_of_srgb(enc: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
        return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.clip(enc, 0, 1)))


def de00(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
        return colour.delta_E(lab1, lab2, method="CIE 2000")


def lab_of_encoded(enc: np.ndarray, space: str) -> np.ndarray:
    """Lab of values encoded in one of rawlux's output spaces."""
    from rawlux.colour import spaces

    lin = spaces.decode(np.clip(enc, 0, 1), spaces.transfer_of(space)).astype(np.float64)
    return lab_of_linear(lin @ np.asarray(spaces.rgb_to_rgb(space, spaces.WORKING)).T)
