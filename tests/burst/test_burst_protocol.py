"""Merge quality on the shared burst protocol (../shared/tools/burst): fine, aliased detail, moving object.

One small burst (8 frames of 384×256 from McMaster images tiled at native size, ISO 3200, ±16 px / ±0.5° shake,
an object moving every frame) made by make_burst.py and scored by score_burst.py (PSNR after a fixed Malvar
demosaic against the noiseless truth, 32 px border out)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from .conftest import DATA, MCMASTER, need

TOOLS = DATA.parent / "tools" / "burst"


@pytest.fixture(scope="module")
def protocol(tmp_path_factory):
    need(MCMASTER / "1.tif")
    if not (TOOLS / "make_burst.py").exists():
        pytest.skip(f"burst protocol tools absent from {TOOLS}")
    out = tmp_path_factory.mktemp("protocol") / "b"
    subprocess.run([sys.executable, str(TOOLS / "make_burst.py"), "--src", str(MCMASTER / "1.tif"),
                    str(MCMASTER / "4.tif"), "--tile", "--size", "384x256", "--object", "--seed", "1",
                    "--out", str(out), "--preview", "no"], check=True, stdout=subprocess.DEVNULL)
    sys.path.insert(0, str(TOOLS))
    try:
        import score_burst as sb
    finally:
        sys.path.remove(str(TOOLS))
    meta = sb.load_meta(str(out))
    frames, sat = sb.load_frames(str(out), meta)
    base, _ = sb.run_baselines(frames, sat, meta)
    return out, sb, sb.Scorer(str(out), meta), base


def test_aliased_detail_is_demosaiced_and_beats_the_baselines(protocol):
    from rawlux.burst.api import merge_burst
    from rawlux.burst.merge import MergeParams

    d, sb, sc, base = protocol
    files = sorted(d.glob("frame_*.dng"))
    ref = sc.score(base["ref (frame 0)"][0])
    ecc = sc.score(base["ecc-robust"][0])
    res = merge_burst(files, ref=0)
    assert res.frame.meta.extra["burst"]["resampling"] == "demosaic"   # the planes are aliased here
    m = sc.score(res.cfa)
    assert m["all"] - ref["all"] >= 5.0, (ref, m)
    assert m["ghost"] - ref["ghost"] >= 2.5, (ref, m)       # the moving object does not ghost
    assert m["all"] >= ecc["all"] + 1.0 and m["ghost"] >= ecc["ghost"] + 0.5, (ecc, m)
    # where the loss was: per-plane resampling of aliased samples (same alignment, same robustness, no denoise)
    plane = sc.score(merge_burst(files, ref=0, params=MergeParams(method="cubic", spatial=0)).cfa)
    dem = sc.score(merge_burst(files, ref=0, params=MergeParams(method="demosaic", spatial=0)).cfa)
    assert dem["all"] >= plane["all"] + 1.5, (plane, dem)


def test_spatial_denoising_follows_the_frame_count(protocol):
    """Where only the reference could be used (the object), the post-merge denoiser is strongest; it
    helps there and overall, and the DNG's NoiseProfile reports what is left."""
    from rawlux.burst.api import merge_burst
    from rawlux.burst.merge import MergeParams

    d, sb, sc, base = protocol
    files = sorted(d.glob("frame_*.dng"))
    off = merge_burst(files, ref=0, params=MergeParams(spatial=0))
    on = merge_burst(files, ref=0)
    s_off, s_on = sc.score(off.cfa), sc.score(on.cfa)
    assert s_on["all"] > s_off["all"] + 0.1 and s_on["obj"] > s_off["obj"] + 0.5, (s_off, s_on)
    left = on.frame.meta.extra["burst"]["noise_left_by_spatial_denoise"]
    assert 0.05 <= left < 1.0
    np.testing.assert_allclose(np.asarray(on.frame.meta.noise_profile[:2]),
                               np.asarray(off.frame.meta.noise_profile[:2]) * left, rtol=1e-3)
