"""`rawlux calibrate -o cam.dcp`: the DCP holds the same profile as the TOML (matrix and hue/sat table)."""
from __future__ import annotations

import numpy as np

from rawlux.colour import calibrate as cal
from rawlux.colour import dcp, dcpfile, spaces
from rawlux.colour.profile import CameraProfile


def _calibration():
    rng = np.random.default_rng(5)
    true = np.array([[0.62, 0.28, 0.06], [0.27, 0.78, -0.05], [0.03, -0.15, 0.95]])
    ref, _ = cal.reference_lab()            # XYZ D50 of the 24 patches
    cam = ref @ np.linalg.inv(true).T
    cam = cam * (1 + rng.normal(0, 0.03, cam.shape))      # a little off the matrix: the table has work to do
    cam = np.clip(cam, 1e-3, None) * np.array([0.55, 1.0, 0.7])
    return cal.fit_profile(cam, xy=spaces.D50_XY)


def test_dcp_written_by_calibrate_reads_back_as_the_same_profile(tmp_path):
    c = _calibration()
    assert c.hue_sat_map is not None
    toml = c.write(tmp_path / "cam.toml", name="unit")
    dcpf = c.write(tmp_path / "cam.dcp", name="unit", camera="Test Camera")
    assert dcpf.read_bytes()[:4] == b"IIRC"
    p = dcpfile.read_dcp(dcpf)
    assert p.unique_camera_model == "Test Camera" and p.illuminant1 == 23      # D50
    np.testing.assert_allclose(p.color_matrix1, c.color_matrix, atol=1e-4)
    np.testing.assert_allclose(p.forward_matrix1, c.forward_matrix, atol=1e-4)
    a, b = CameraProfile.from_file(toml), CameraProfile.from_file(dcpf)
    n = np.array([0.55, 1.0, 0.7])
    np.testing.assert_allclose(a.camera_to_working(spaces.D50_XY, n), b.camera_to_working(spaces.D50_XY, n), atol=2e-4)
    # the table does the same to in-gamut colours whichever file carries it
    rng = np.random.default_rng(2)
    pp = rng.uniform(0.05, 0.9, (3000, 3))
    w = (pp @ np.linalg.inv(spaces.rgb_to_rgb(spaces.WORKING, "prophoto")).T).astype(np.float32)
    t = b.hue_sat_table(spaces.D50_XY)
    np.testing.assert_allclose(dcp.apply_dng_table(w, t), dcp.apply_hue_sat_map(w, a.hue_sat_map), atol=1e-4)
    from rawlux.colour.profile_cli import describe_file
    assert "HueSatMap: 24 hue × 5 sat × 1 value (2.5D)" in describe_file(str(dcpf))
    assert "HueSatMap: 24 hue × 5 sat" in describe_file(str(toml))
