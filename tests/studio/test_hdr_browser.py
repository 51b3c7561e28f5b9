"""Headless Chromium (Debian's /usr/bin/chromium) shows rawlux's Ultra HDR JPEG with its gain map applied: drawn
into a float16 ``srgb-linear`` 2D canvas with ``globalHDRHeadroom`` (behind
--enable-experimental-web-platform-features), the pixels match Google's libultrahdr decode of the same file."""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

import rawlux

from testdata import RAW, need

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-experimental-web-platform-features"]

#: draws the JPEG (a data: URL) into a float16 srgb-linear canvas at the given headroom (stops) and returns the
#: pixels as base64 of the Float16Array's bytes
DRAW = """async ([b64, headroom]) => {
  const blob = await (await fetch('data:image/jpeg;base64,' + b64)).blob();
  const img = new Image();
  img.src = URL.createObjectURL(blob);
  await img.decode();
  const c = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
  const ctx = c.getContext('2d', {colorSpace: 'srgb-linear', colorType: 'float16'});
  if (!('globalHDRHeadroom' in ctx)) return {error: 'no globalHDRHeadroom on CanvasRenderingContext2D'};
  ctx.globalHDRHeadroom = headroom;
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height, {pixelFormat: 'rgba-float16'});
  if (d.pixelFormat !== 'rgba-float16') return {error: 'getImageData gave ' + d.pixelFormat};
  const bytes = new Uint8Array(d.data.buffer);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return {w: c.width, h: c.height, data: btoa(s)};
}"""


def test_chromium_applies_the_gain_map(tmp_path):
    imagecodecs = pytest.importorskip("imagecodecs")
    sync_api = pytest.importorskip("playwright.sync_api")
    from rawlux.io import ultrahdr as U

    frame = rawlux.develop(need(RAW / "lg-g4-linear-raw.dng"), keep_scene_linear=True)
    out = rawlux.save(frame, tmp_path / "hdr.jpg", hdr=True, hdr_headroom=2.0)
    data = out.read_bytes()
    meta = U.split(data).meta
    ref = imagecodecs.ultrahdr_decode(data)[..., :3].astype(np.float32)      # libultrahdr, full boost
    sdr_ref = U.reference_base_linear(U.split(data).primary, None)
    b64 = base64.b64encode(data).decode()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.goto("about:blank")
            got = {}
            for headroom in (0.0, meta.capacity_max / 2, meta.capacity_max):
                r = page.evaluate(DRAW, [b64, headroom])
                assert "error" not in r, r.get("error")
                px = np.frombuffer(base64.b64decode(r["data"]), np.float16).reshape(r["h"], r["w"], 4)
                got[headroom] = px[..., :3].astype(np.float32)
        finally:
            browser.close()
    hdr = got[meta.capacity_max]
    assert hdr.shape == ref.shape
    rel = np.abs(hdr - ref) / np.maximum(ref, 0.05)
    hi = ref.max(axis=2) > 1.0                                               # the restored highlights
    print(f"Chromium vs libultrahdr: median {np.median(rel) * 100:.2f} %, p99 {np.percentile(rel, 99) * 100:.2f} %, "
          f"above SDR white median {np.median(rel[hi]) * 100:.2f} % ({hi.mean() * 100:.1f} % of pixels)")
    assert float(np.median(rel)) < 0.02, float(np.median(rel))
    assert hi.mean() > 0.01 and float(np.median(rel[hi])) < 0.02
    assert hdr.max() > 1.5 and hdr.max() == pytest.approx(ref.max(), rel=0.05)   # highlights above SDR white
    # a screen with half the headroom: both weigh the map the same way (log-linear between the capacities)
    half = meta.capacity_max / 2
    ref_half = imagecodecs.ultrahdr_decode(data, boost=2.0 ** half)[..., :3].astype(np.float32)
    assert float(np.median(np.abs(got[half] - ref_half) / np.maximum(ref_half, 0.05))) < 0.02
    assert got[half].max() == pytest.approx(ref_half.max(), rel=0.05) and got[half].max() < 0.9 * hdr.max()
    # at headroom 0 (an SDR screen) Chromium shows the base
    sdr = got[0.0]
    assert sdr.max() <= 1.0 + 1e-3
    assert float(np.median(np.abs(sdr - sdr_ref) / np.maximum(sdr_ref, 0.05))) < 0.01
