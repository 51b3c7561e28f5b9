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
            # save the sidecar and find it on disk
            page.click("#savesidecar")
            page.wait_for_function("document.getElementById('message').textContent.startsWith('saved')")
            side = root / "a.jpg.rawlux.toml"
            data = tomllib.loads(side.read_text())
            assert data["look"] == "mono" and data["exposure"]["ev"] == 1.5
            # save as a look (+ cube) and load it with the CLI's look loader
            page.fill("#lookname", "e2e-look")
            page.click("#savelook")
            page.wait_for_function("document.getElementById('message').textContent.includes('e2e-look.cube')")
            from rawlux.looks import load_look
            assert load_look(root / "looks" / "e2e-look.toml").tables["exposure"]["ev"] == 1.5
            assert not errors, errors
            shot = os.environ.get("RAWLUX_STUDIO_SCREENSHOT")  # for the README: a picture of the page
            if shot:
                page.screenshot(path=shot)
        finally:
            browser.close()
