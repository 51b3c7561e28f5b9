"""Alignment: known hand-shake is recovered to ≤ 0.25 px."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.burst.align import ReferencePyramid, TileFlow, align, bayer_grey, sharpness
from rawlux.burst.api import normalise, pick_reference


def _errors(sim, k, flow, exclude=None):
    d = sim.displacement(k)
    h, w = d.shape[:2]
    iy = np.clip(np.rint(flow.cy).astype(int), 0, h - 1)
    ix = np.clip(np.rint(flow.cx).astype(int), 0, w - 1)
    tru = d[iy][:, ix]
    err = np.hypot(flow.dy - tru[..., 0], flow.dx - tru[..., 1])
    keep = np.ones_like(err, bool)
    keep[:1], keep[-1:], keep[:, :1], keep[:, -1:] = False, False, False, False
    if exclude is not None:
        keep &= ~exclude[iy][:, ix]
    return err[keep]


@pytest.mark.parametrize("rotation", [0.0, 0.5])
def test_known_shifts_recovered(scene, rotation):
    from rawlux.burst.simulate import simulate_burst

    sim = simulate_burst(scene, 4, size=(512, 512), iso=1600, seed=3, rotation=rotation)
    pyr = ReferencePyramid(bayer_grey(normalise(sim.frames[0])))
    for k in range(1, 4):
        flow = align(pyr, bayer_grey(normalise(sim.frames[k])), noise=sim.noise)
        err = _errors(sim, k, flow)
        true_shift = np.abs(sim.displacement(k)).max()
        assert true_shift > 2.0                      # the test is not trivial
        assert np.median(err) <= 0.25, (k, np.median(err))
        assert np.percentile(err, 90) <= 0.25, (k, np.percentile(err, 90))


def test_local_search_without_global_prior(scene):
    """The coarse-to-fine tile search + LK alone (no global model) is sub-pixel on textured tiles."""
    from rawlux.burst.simulate import simulate_burst

    sim = simulate_burst(scene, 2, size=(512, 512), iso=400, seed=5, rotation=0.3)
    pyr = ReferencePyramid(bayer_grey(normalise(sim.frames[0])))
    flow = align(pyr, bayer_grey(normalise(sim.frames[1])), noise=sim.noise, prefer_global=False)
    err = _errors(sim, 1, flow)
    assert np.median(err) <= 0.25


def test_large_shift_found_by_pyramid(scene):
    """A ±40 px shake is beyond the finest search; the pyramid finds it."""
    from rawlux.burst.simulate import simulate_burst

    sim = simulate_burst(scene, 2, size=(512, 512), iso=800, seed=11, shift=40.0, rotation=0.0)
    pyr = ReferencePyramid(bayer_grey(normalise(sim.frames[0])))
    flow = align(pyr, bayer_grey(normalise(sim.frames[1])), noise=sim.noise)
    assert np.median(_errors(sim, 1, flow)) <= 0.25


def test_moving_object_keeps_background_aligned(moving_burst):
    sim = moving_burst
    pyr = ReferencePyramid(bayer_grey(normalise(sim.frames[0])))
    for k in range(1, len(sim.frames)):
        flow = align(pyr, bayer_grey(normalise(sim.frames[k])), noise=sim.noise)
        import cv2
        near_object = cv2.dilate(sim.mask.astype(np.uint8), np.ones((65, 65), np.uint8)).astype(bool)
        assert np.median(_errors(sim, k, flow, exclude=near_object)) <= 0.25


@pytest.mark.parametrize("iso", [800, 3200])
def test_reference_is_the_sharpest(scene, iso):
    from rawlux.burst.simulate import simulate_burst

    sim = simulate_burst(scene, 4, size=(384, 384), iso=iso, seed=2, blur=[3.0, 4.0, 0.0, 3.0])
    greys = [bayer_grey(normalise(f)) for f in sim.frames]
    assert pick_reference(greys) == 2
    assert sharpness(greys[2]) > max(sharpness(g) for i, g in enumerate(greys) if i != 2)


def test_tileflow_dense_interpolates_between_tile_centres():
    f = TileFlow(np.array([[0.0, 2.0], [4.0, 6.0]], np.float32), np.zeros((2, 2), np.float32),
                 np.array([10.0, 20.0]), np.array([10.0, 30.0]), (40, 40))
    dy, _ = f.dense(np.array([10.0, 15.0, 20.0]), np.array([10.0, 20.0, 30.0]))
    np.testing.assert_allclose(dy, [[0, 1, 2], [2, 3, 4], [4, 5, 6]], atol=1e-5)
