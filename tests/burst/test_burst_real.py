"""A burst made from a real camera mosaic (the shared 12 MP DNG): real content, real colour tags."""
from __future__ import annotations

import numpy as np

OFFSETS = [(0, 0), (6, -10), (-12, 4), (10, 14)]   # even: crops keep the CFA phase


def test_real_mosaic_burst_denoises_and_keeps_tags(tmp_path, hero6):
    import rawlux
    from rawlux.burst.api import merge_burst, normalise
    from rawlux.burst.simulate import psnr, wb_cfa
    from rawlux.isp.demosaic import demosaic

    src = rawlux.open_image(hero6)
    cfa = normalise(src)
    y0, x0, s = 640, 1664, 512             # a textured, unclipped part of the scene
    rng = np.random.default_rng(0)
    a, b = 0.004, 2e-5                   # two stops under, at a high ISO
    frames = []
    for dy, dx in OFFSETS:
        clean = 0.25 * np.clip(cfa[y0 + dy:y0 + dy + s, x0 + dx:x0 + dx + s], 0, 1)
        noisy = rng.poisson(clean / a) * a + rng.normal(0, np.sqrt(b), clean.shape)
        dn = np.clip(np.rint(noisy * 16383), 0, 16383).astype(np.uint16)
        f = src.with_pixels(dn)
        f.meta.noise_profile = None       # the merge estimates the noise itself
        frames.append(f)
    truth_cfa = 0.25 * np.clip(cfa[y0:y0 + s, x0:x0 + s], 0, 1)
    neutral = src.meta.as_shot_neutral
    pat = src.meta.cfa_pattern
    truth = demosaic(wb_cfa(truth_cfa, pat, neutral), pat)

    def score(m):
        return psnr(demosaic(wb_cfa(m, pat, neutral), pat), truth, border=16)

    res = merge_burst(frames, ref=0)
    for k, (dy, dx) in enumerate(OFFSETS[1:], 1):      # the aligner finds the crop offsets
        fy, fx = res.flows[k].at(256, 256)
        assert abs(fy + dy) < 0.25 and abs(fx + dx) < 0.25, (k, fy, fx)   # frame k sees p at p - offset
    gain = score(res.cfa) - score(normalise(frames[0]))
    assert gain > 4.5, gain                             # 4 frames: at most +6.0 dB
    out = res.write_dng(tmp_path / "real-merged.dng")
    back = rawlux.open_image(out)
    for name in ("color_matrix1", "color_matrix2", "as_shot_neutral"):
        np.testing.assert_allclose(getattr(back.meta, name), getattr(src.meta, name), atol=1e-4)
    assert (back.meta.illuminant1, back.meta.illuminant2) == (src.meta.illuminant1, src.meta.illuminant2)
    assert back.meta.exif.get("ExposureTime") == src.meta.exif.get("ExposureTime")
