"""End-to-end: the studio page in headless Chromium (Debian's /usr/bin/chromium) against a real uvicorn."""
from __future__ import annotations

import io
import os
import socket
import threading
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture()
def server(fresh_dir):
    import uvicorn

    from rawlux.studio.app import create_app
    app = create_app(fresh_dir)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", fresh_dir
    srv.should_exit = True
    th.join(10)


def _shot(el) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(el.screenshot())).convert("RGB"), np.float32)


def test_studio_in_browser(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    url, root = server
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            # bypass_csp: Playwright evaluates wait_for_function strings, which the page CSP (no eval) forbids
            page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.wait_for_selector("#photos li[data-path='a.jpg'] img[src^='blob:']", timeout=60_000)
            page.click("#photos li[data-path='a.jpg']")
            page.wait_for_selector("#after[data-seq]", timeout=60_000)
            page.wait_for_function("document.getElementById('before').complete && "
                                   "document.getElementById('before').naturalWidth > 0", timeout=60_000)
            compare = page.locator("#compare")
            # move the divider to the left edge so the whole view shows the "after" render
            box = compare.bounding_box()
            div = page.locator("#divider").bounding_box()
            page.mouse.move(div["x"] + div["width"] / 2, div["y"] + div["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + 0.1 * box["width"], div["y"] + div["height"] / 2, steps=8)
            page.mouse.up()
            split = float(compare.get_attribute("data-split"))
            assert 0.05 < split < 0.15, split
            before = _shot(compare)
            seq = int(page.get_attribute("#after", "data-seq"))
            page.fill("#s-exposure-ev", "1.5")  # fires input → new server render
            page.wait_for_function(f"Number(document.getElementById('after').dataset.seq) > {seq}", timeout=30_000)
            page.wait_for_timeout(300)
            after = _shot(compare)
            right = slice(int(after.shape[1] * 0.2), None)
            diff = after[:, right].mean() - before[:, right].mean()
            assert diff > 15, diff  # the after side got brighter
            # the left 10 % (before side) is unchanged
            left = slice(0, int(after.shape[1] * 0.08))
            assert abs(after[:, left].mean() - before[:, left].mean()) < 3
            # switch look via its thumbnail
            seq = int(page.get_attribute("#after", "data-seq"))
            page.wait_for_selector("#lookthumbs figure[data-look='mono'] img[src^='data:']", timeout=60_000)
            page.click("#lookthumbs figure[data-look='mono']")
            page.wait_for_function(f"Number(document.getElementById('after').dataset.seq) > {seq}", timeout=30_000)
            page.wait_for_timeout(300)
            mono = _shot(compare)[:, right]
            assert np.abs(mono[..., 0] - mono[..., 2]).mean() < 4
            # a new look starts from its own values: the +1.5 EV moved on natural is dropped
            assert float(page.input_value("#s-exposure-ev")) == pytest.approx(0.0, abs=0.06)
            seq = int(page.get_attribute("#after", "data-seq"))
            page.fill("#s-exposure-ev", "1.5")
            page.wait_for_function(f"Number(document.getElementById('after').dataset.seq) > {seq}", timeout=30_000)
            # save the sidecar and find it on disk
            page.click("#savesidecar")
            page.wait_for_function("document.getElementById('message').textContent.startsWith('saved')")
            side = root / "a.jpg.rawlux.toml"
            data = tomllib.loads(side.read_text())
            assert data["look"] == "mono" and data["exposure"]["ev"] == 1.5
            # the global look strength: mono at strength 0 is the neutral (colour) rendering again
            seq = int(page.get_attribute("#after", "data-seq"))
            page.fill("#s-strength", "0")
            page.wait_for_function(f"Number(document.getElementById('after').dataset.seq) > {seq}", timeout=30_000)
            page.wait_for_timeout(300)
            weak = _shot(compare)[:, right]
            assert np.abs(weak[..., 0] - weak[..., 2]).mean() > 8  # colour is back
            # switching look reloads the sliders with the look's own values (vivid's saturation)
            from rawlux.pipeline.recipe import Recipe
            vivid_sat = Recipe.build("vivid")["saturation"].saturation
            seq = int(page.get_attribute("#after", "data-seq"))
            page.select_option("#look", "vivid")
            page.wait_for_function(f"Number(document.getElementById('after').dataset.seq) > {seq}", timeout=30_000)
            page.fill("#s-strength", "1")
            page.wait_for_function("Math.abs(Number(document.getElementById('s-saturation-saturation').value) - "
                                   f"{vivid_sat}) < 0.02", timeout=30_000)
            assert float(page.input_value("#s-exposure-ev")) == pytest.approx(0.0, abs=0.06)  # mono's +1.5 is gone
            # the frame template preview: the rendered image grows by the frame
            w0 = page.evaluate("document.getElementById('after').naturalWidth")
            h0 = page.evaluate("document.getElementById('after').naturalHeight")
            seq = int(page.get_attribute("#after", "data-seq"))
            page.select_option("#frame", "border")
            page.wait_for_function(f"Number(document.getElementById('after').dataset.seq) > {seq}", timeout=30_000)
            page.wait_for_function(f"document.getElementById('after').naturalWidth !== {w0} || "
                                   f"document.getElementById('after').naturalHeight !== {h0}", timeout=30_000)
            page.select_option("#frame", "")
            # save the tuned look (+ .cube) and load both with the CLI
            page.fill("#s-saturation-saturation", "1.8")
            page.fill("#lookname", "e2e-look")
            page.click("#savelook")
            page.wait_for_function("document.getElementById('message').textContent.includes('e2e-look.cube')")
            from rawlux.looks import load_look
            lf = load_look(root / "looks" / "e2e-look.toml")
            assert lf.tables["saturation"]["saturation"] == pytest.approx(1.8)
            assert lf.tables["curve"]["contrast"] == pytest.approx(0.35)  # vivid's own value kept
            _cli_loads_look(root)
            assert not errors, errors
            shot = os.environ.get("RAWLUX_STUDIO_SCREENSHOT")  # for the README: a picture of the page
            if shot:
                page.select_option("#frame", "")
                page.fill("#s-strength", "1")
                d = page.locator("#divider").bounding_box()
                b = compare.bounding_box()
                page.mouse.move(d["x"] + d["width"] / 2, d["y"] + d["height"] / 2)
                page.mouse.down()
                page.mouse.move(b["x"] + 0.5 * b["width"], d["y"] + d["height"] / 2, steps=4)
                page.mouse.up()
                page.wait_for_timeout(1500)
                _readme_screenshot(page, shot)
        finally:
            browser.close()


def _cli_loads_look(root: Path) -> None:
    """``rawlux develop x.jpg --look FOLDER/looks/e2e-look.toml`` renders the tuned look, and the exported
    .cube applied to the CLI's neutral render gives the same colours (mean ΔE00 ≤ 1.5)."""
    import colour
    import cv2
    from click.testing import CliRunner

    from rawlux.cli import cli
    from rawlux.looks.lutfiles import read_cube
    src = root / "b.jpg"
    outs = {}
    for name, look in (("tuned", str(root / "looks" / "e2e-look.toml")), ("natural", "natural")):
        out = root / f"cli-{name}.png"
        r = CliRunner().invoke(cli, ["develop", str(src), "--look", look, "-o", str(out), "--no-sidecar"])
        assert r.exit_code == 0, r.output
        outs[name] = cv2.imread(str(out))[..., ::-1].astype(np.float32) / 255.0
    tuned, natural = outs["tuned"], outs["natural"]
    graded = read_cube(root / "looks" / "e2e-look.cube").apply(np.ascontiguousarray(natural))

    def lab(x):
        return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.clip(x, 0, 1)))
    de = float(colour.delta_E(lab(graded), lab(tuned), method="CIE 2000").mean())
    de_nat = float(colour.delta_E(lab(natural), lab(tuned), method="CIE 2000").mean())
    assert de <= 1.5, de  # the cube holds the tuned look's colour
    assert de_nat > 3 * de + 2, (de_nat, de)  # ... and the look is far from a no-op


def _readme_screenshot(page, path: str) -> None:
    """A JPEG-compressed PNG-sized screenshot of the page (≤ 300 KB) for the README."""
    from PIL import Image
    png = page.screenshot(full_page=False)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    img = img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.LANCZOS)
    for colours in (256, 128, 64):
        buf = io.BytesIO()
        img.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buf, "PNG", optimize=True)
        if buf.tell() <= 300_000:
            break
    Path(path).write_bytes(buf.getvalue())
