"""The saturated built-in looks (vivid, slide) add chroma and contrast without turning hues.

Measured as a reviewer would: median CIELAB hue-angle change against the `natural` render, per hue
family, on the pixels whose natural chroma is above 30 (blue skies/glass must not go purple, skin must not
go pink), and the mean chroma ratio look / natural over the whole photo.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import rawlux

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lookdata import lab_of_srgb, mcmaster_paths  # noqa: E402

#: CIELAB hue ranges (degrees) of the families, and the largest |median hue shift| allowed
FAMILIES = {
    "blue": ([(230.0, 300.0)], 4.0),
    "skin": ([(30.0, 70.0)], 4.0),
    "red": ([(0.0, 30.0), (340.0, 360.0)], 6.0),
}
MIN_PIXELS = 200
#: mean chroma ratio look / natural at least
MIN_CHROMA = {"vivid": 1.25, "slide": 1.15}
IMAGES = (1, 5, 9)


@pytest.fixture(scope="module")
def labs():
    paths = mcmaster_paths(IMAGES)
    return {look: [lab_of_srgb(rawlux.develop(str(p), look=look).pixels).reshape(-1, 3) for p in paths]
            for look in ("natural", "vivid", "slide")}


def _hue(lab: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360.0


def _shifts(nat: np.ndarray, look: np.ndarray) -> dict[str, float]:
    cn = np.hypot(nat[:, 1], nat[:, 2])
    hn = _hue(nat)
    d = (_hue(look) - hn + 180.0) % 360.0 - 180.0
    # pixels the look crushes to (near) black have no visible hue, and CIELAB's linear segment near black
    # gives them a meaningless one: they are left out
    keep = (cn > 30.0) & (look[:, 0] >= 5.0)
    out = {}
    for fam, (ranges, _) in FAMILIES.items():
        sel = keep & np.any([(hn >= a) & (hn < b) for a, b in ranges], axis=0)
        if sel.sum() >= MIN_PIXELS:
            out[fam] = float(np.median(d[sel]))
    return out


@pytest.mark.parametrize("look", ["vivid", "slide"])
def test_hues_hold_while_chroma_and_contrast_rise(labs, look):
    bad = []
    for i, (nat, lk) in zip(IMAGES, zip(labs["natural"], labs[look])):
        for fam, shift in _shifts(nat, lk).items():
            if abs(shift) > FAMILIES[fam][1]:
                bad.append(f"McMaster {i} {fam}: {shift:+.1f}°")
        cn = np.hypot(nat[:, 1], nat[:, 2]).mean()
        cl = np.hypot(lk[:, 1], lk[:, 2]).mean()
        if cl / cn < MIN_CHROMA[look]:
            bad.append(f"McMaster {i} chroma ×{cl / cn:.2f} < ×{MIN_CHROMA[look]}")
        if lk[:, 0].std() <= 1.03 * nat[:, 0].std():
            bad.append(f"McMaster {i} contrast: L* std {lk[:, 0].std():.1f} vs {nat[:, 0].std():.1f}")
    assert not bad, f"{look}: " + "; ".join(bad)


def test_the_families_are_measured(labs):
    """The photos hold enough blue, skin and red pixels for the hue checks to mean something."""
    seen = set()
    for nat in labs["natural"]:
        seen |= set(_shifts(nat, nat))
    assert seen == set(FAMILIES)
