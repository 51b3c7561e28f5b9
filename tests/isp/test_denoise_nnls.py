"""The two-unknown non-negative least squares of the noise fit matches scipy.optimize.nnls."""
from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from rawlux.isp.denoise import _nnls2


def test_nnls2_matches_scipy_on_random_and_boundary_problems():
    rng = np.random.default_rng(7)
    faces = set()
    for i in range(400):
        n = int(rng.integers(2, 14))
        x = np.sort(rng.uniform(0, 1, n))
        A = np.stack([x, np.ones(n)], axis=1) * rng.uniform(0.5, 3, n)[:, None]
        truth = rng.normal(0, 1e-3, 2)                       # either sign: interior, faces and the origin
        b = A @ truth + rng.normal(0, 2e-4, n)
        want, rw = nnls(A, b)
        got = _nnls2(A, b)
        assert np.all(got >= 0)
        rg = float(np.linalg.norm(A @ got - b))
        assert rg <= rw * (1 + 1e-9) + 1e-15, (i, got, want)   # as good a fit (the optimum is unique here)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12)
        faces.add(tuple(got > 0))
    assert faces == {(True, True), (True, False), (False, True), (False, False)}   # every case was exercised
