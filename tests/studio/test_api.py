"""API tests of rawlux studio with FastAPI's test client: rendering, caching, writes, and refusals."""
from __future__ import annotations

import base64
from pathlib import Path
import os
import time
import tomllib

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

TOKEN = "test-token-123"
H = {"X-Rawlux-Token": TOKEN}


@pytest.fixture()
def client(fresh_dir):
    from fastapi.testclient import TestClient

    from rawlux.studio.app import create_app
    return TestClient(create_app(fresh_dir, token=TOKEN))


def _decode(data_url: str) -> np.ndarray:
    import cv2
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR).astype(np.float32)


def _render(client, **body):
    r = client.post("/api/render", headers=H, json={"path": "a.jpg", **body})
    assert r.status_code == 200, r.text
    return r.json()


def test_page_carries_token_and_no_cdn(client):
    r = client.get("/")
    assert r.status_code == 200
    assert TOKEN in r.text
    assert "http://" not in r.text and "https://" not in r.text
    js = client.get("/static/app.js").text
    assert "https://" not in js and "eval(" not in js


@pytest.mark.parametrize("headers", [{}, {"X-Rawlux-Token": "wrong"}, {"X-Rawlux-Token": ""}])
def test_token_required(client, headers):
    for method, url, body in (("GET", "/api/photos", None), ("GET", "/api/thumb?path=a.jpg", None),
                              ("POST", "/api/render", {"path": "a.jpg"}),
                              ("POST", "/api/sidecar", {"path": "a.jpg"})):
        r = client.request(method, url, headers=headers, json=body)
        assert r.status_code == 403, (url, r.status_code)
    assert not (client.app.state.root / "a.jpg.rawlux.toml").exists()


def test_listing_and_thumbnail(client):
    r = client.get("/api/photos", headers=H)
    assert [p["path"] for p in r.json()["photos"]] == ["a.jpg", "b.jpg", "sub/c.jpg"]
    t = client.get("/api/thumb", params={"path": "sub/c.jpg"}, headers=H)
    assert t.status_code == 200 and t.headers["content-type"] == "image/jpeg"
    import cv2
    img = cv2.imdecode(np.frombuffer(t.content, np.uint8), cv2.IMREAD_COLOR)
    assert max(img.shape[:2]) <= 256 and img.std() > 10
    assert client.app.state.renderer._thumbs  # cached


@pytest.mark.parametrize("bad", ["../a.jpg", "/etc/passwd", "sub/../../x.jpg", "..", ".", "sub/./c.jpg",
                                 "a.jpg\x00.png", "C:\\x.jpg", "..\\a.jpg", "", "nothere.jpg", ".hidden.jpg"])
def test_traversal_refused(client, bad):
    for url in ("/api/render", "/api/sidecar", "/api/export"):
        r = client.post(url, headers=H, json={"path": bad})
        assert 400 <= r.status_code < 500, (url, bad, r.status_code)
    r = client.get("/api/thumb", params={"path": bad}, headers=H)
    assert 400 <= r.status_code < 500


def test_symlink_out_refused(client, fresh_dir, tmp_path):
    import shutil
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(fresh_dir / "a.jpg", outside / "secret.jpg")
    os.symlink(outside / "secret.jpg", fresh_dir / "link.jpg")
    os.symlink(outside, fresh_dir / "linkdir")
    names = [p["path"] for p in client.get("/api/photos", headers=H).json()["photos"]]
    assert "link.jpg" not in names and not any(n.startswith("linkdir") for n in names)
    for p in ("link.jpg", "linkdir/secret.jpg"):
        assert client.post("/api/render", headers=H, json={"path": p}).status_code == 403
        assert client.post("/api/sidecar", headers=H, json={"path": p}).status_code == 403
    # a sidecar that is a symlink out is not written through
    os.symlink(outside / "evil.toml", fresh_dir / "b.jpg.rawlux.toml")
    assert client.post("/api/sidecar", headers=H, json={"path": "b.jpg"}).status_code == 403
    assert not (outside / "evil.toml").exists()


def test_request_size_limit(client):
    big = {"path": "a.jpg", "params": {"tone": {"x" * 100: "y" * 100_000}}}
    assert client.post("/api/render", headers=H, json=big).status_code == 413


def test_bad_params_are_4xx(client):
    for body in ({"params": {"tone": {"contrast": 99}}}, {"params": {"nostage": {"x": 1}}},
                 {"params": "x"}, {"look": "no-such-look"}, {"look": "../../etc/passwd"}, {"size": 5}):
        r = client.post("/api/render", headers=H, json={"path": "a.jpg", **body})
        assert 400 <= r.status_code < 500, (body, r.status_code)
        assert r.json()["error"]


def test_slider_changes_preview_and_proxy_is_cached(client):
    base = _render(client, look="natural")
    n_proxies = len(client.app.state.renderer._proxies)
    brighter = _render(client, look="natural", params={"exposure": {"ev": 1.0}})
    assert len(client.app.state.renderer._proxies) == n_proxies == 1  # same proxy reused
    a, b = _decode(base["image"]), _decode(brighter["image"])
    assert a.shape == b.shape and max(a.shape[:2]) <= 1024
    assert b.mean() > a.mean() + 10
    warm = _render(client, look="natural", params={"whitebalance": {"temp_shift": 1500.0}})
    w = _decode(warm["image"])
    # BGR: warmer = more red than blue compared with the neutral render
    assert (w[..., 2].mean() - w[..., 0].mean()) > (a[..., 2].mean() - a[..., 0].mean()) + 3
    hist = base["histogram"]
    assert len(hist) == 3 and sum(hist[0]) == base["width"] * base["height"]


def test_looks_render_differently(client):
    a = _decode(_render(client, look="natural")["image"])
    m = _decode(_render(client, look="mono", size=160)["image"])
    assert max(m.shape[:2]) == 160
    assert np.abs(m[..., 0] - m[..., 2]).mean() < 3  # monochrome
    assert np.abs(a[..., 0] - a[..., 2]).mean() > 10


def test_sidecar_round_trip_with_cli_recipe(client, fresh_dir):
    from rawlux.pipeline.run import build_recipe
    r = client.post("/api/sidecar", headers=H,
                    json={"path": "sub/c.jpg", "look": "vivid", "params": {"tone": {"contrast": 1.3}}})
    assert r.status_code == 200
    side = fresh_dir / "sub" / "c.jpg.rawlux.toml"
    data = tomllib.loads(side.read_text())
    assert data["look"] == "vivid" and data["tone"]["contrast"] == 1.3
    rec = build_recipe(str(fresh_dir / "sub" / "c.jpg"))  # what `rawlux develop` would use
    assert rec.look == "vivid" and rec.params["tone"].contrast == 1.3
    vals = client.post("/api/recipe", headers=H, json={"path": "sub/c.jpg"}).json()
    assert vals["look"] == "vivid" and vals["values"]["tone.contrast"] == 1.3


def test_save_look_and_cube(client, fresh_dir):
    from rawlux.looks import load_look
    from rawlux.looks.lutfiles import read_cube
    body = {"name": "warm-punch", "base": "vivid", "params": {"saturation": {"saturation": 1.7}}, "cube": True}
    r = client.post("/api/look", headers=H, json=body)
    assert r.status_code == 200, r.text
    lf = load_look(fresh_dir / "looks" / "warm-punch.toml")
    assert lf.tables["saturation"]["saturation"] == 1.7
    lut = read_cube(fresh_dir / "looks" / "warm-punch.cube")
    assert lut.size == 33
    # the saved look is offered and renders
    assert "warm-punch" in client.get("/api/looks", headers=H).json()["saved"]
    _render(client, look="warm-punch")
    for bad in ("../x", "natural", "a b", "", "x" * 65, "/abs"):
        assert client.post("/api/look", headers=H, json={**body, "name": bad}).status_code == 400


def test_export_full_resolution(client, fresh_dir):
    import cv2
    r = client.post("/api/export", headers=H, json={"path": "b.jpg", "look": "natural"})
    jid = r.json()["job"]
    for _ in range(200):
        j = client.get(f"/api/job/{jid}", headers=H).json()
        if j["state"] != "running":
            break
        time.sleep(0.05)
    assert j["state"] == "done", j
    out = cv2.imread(str(fresh_dir / j["saved"]))
    src = cv2.imread(str(fresh_dir / "b.jpg"))
    assert out.shape == src.shape
    psnr = cv2.PSNR(out, src)
    assert psnr > 25, psnr  # natural look of a display-referred JPEG stays close to it
    assert client.get("/api/job/nope", headers=H).status_code == 404


def _wait_job(client, jid):
    for _ in range(600):
        j = client.get(f"/api/job/{jid}", headers=H).json()
        if j["state"] != "running":
            return j
        time.sleep(0.05)
    raise AssertionError(f"export job {jid} still running: {j}")


def test_export_hdr_writes_an_ultra_hdr_jpeg(client, fresh_dir):
    """``hdr: true`` exports the raw's scene light as an Ultra HDR (gain-map) JPEG; refusals name the field."""
    from rawlux.io.ultrahdr import is_ultrahdr, read_hdr

    lg = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "raw" / "lg-g4-linear-raw.dng"
    if not lg.exists():
        pytest.skip(f"{lg} is absent from the shared data")
    (fresh_dir / "lg.dng").write_bytes(lg.read_bytes())
    r = client.post("/api/export", headers=H, json={"path": "lg.dng", "look": "natural", "hdr": True})
    assert r.status_code == 200, r.text
    j = _wait_job(client, r.json()["job"])
    assert j["state"] == "done" and j["hdr"] is True and j["saved"] == "export/lg.jpg", j
    sdr, hdr, meta, _space = read_hdr(fresh_dir / j["saved"])
    assert sdr.shape == hdr.shape == (338, 600, 3)
    assert 0 < meta.capacity_max <= 4.0 and float(hdr.max()) > 1.0
    # the same photo without hdr: a plain JPEG
    j = _wait_job(client, client.post("/api/export", headers=H, json={"path": "lg.dng"}).json()["job"])
    assert j["state"] == "done" and not is_ultrahdr(fresh_dir / j["saved"])
    # a 10-bit PQ AVIF when asked
    body = {"path": "lg.dng", "hdr": True, "format": "avif"}
    j = _wait_job(client, client.post("/api/export", headers=H, json=body).json()["job"])
    assert j["state"] == "done" and j["saved"] == "export/lg.avif", j
    head = (fresh_dir / j["saved"]).read_bytes()[:64]
    assert b"ftypavif" in head
    for body, message in (({"hdr": "yes"}, "hdr 'yes' must be true or false"),
                          ({"format": "png", "hdr": True}, "format 'png' must be one of"),
                          ({"format": "avif"}, "avif' is written for HDR exports only"),
                          ({"hdr": True, "frame": "bar"}, "cannot be combined with hdr")):
        r = client.post("/api/export", headers=H, json={"path": "lg.dng", **body})
        assert r.status_code == 400 and message in r.text, r.text


def test_cli_warns_beyond_localhost(fresh_dir, monkeypatch):
    from click.testing import CliRunner

    import uvicorn
    from rawlux.studio.cli import studio
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    r = CliRunner().invoke(studio, [str(fresh_dir), "--host", "0.0.0.0", "--port", "9999"])
    assert r.exit_code == 0, r.output
    assert "warning" in r.output and calls[0]["host"] == "0.0.0.0" and calls[0]["port"] == 9999
    r = CliRunner().invoke(studio, [str(fresh_dir)])
    assert "warning" not in r.output and calls[1]["host"] == "127.0.0.1" and calls[1]["port"] == 8765


def test_strength_frame_and_look_values(client, fresh_dir):
    nat = _decode(_render(client, look="natural")["image"])
    mono0 = _decode(_render(client, look="mono", strength=0.0)["image"])
    mono1 = _decode(_render(client, look="mono", strength=1.0)["image"])
    mse0, mse1 = ((nat - mono0) ** 2).mean(), ((nat - mono1) ** 2).mean()
    assert 10 * np.log10(255 ** 2 / max(mse0, 1e-9)) > 40  # strength 0 = the neutral rendering
    assert 10 * np.log10(255 ** 2 / mse1) < 25
    framed = _render(client, look="natural", frame="border")
    assert framed["width"] * framed["height"] > nat.shape[0] * nat.shape[1] * 1.05
    for body in ({"strength": 1.5}, {"strength": "x"}, {"frame": "no-such-frame"}, {"frame": "../x"},
                 {"look": "mono@0.5"}):
        r = client.post("/api/render", headers=H, json={"path": "a.jpg", **body})
        assert r.status_code == 400, (body, r.status_code)
    # a sidecar with a strength: the page gets the look, the strength and the sidecar's own values
    r = client.post("/api/sidecar", headers=H, json={"path": "a.jpg", "look": "vivid", "strength": 0.5,
                                                     "params": {"tone": {"contrast": 1.2}}})
    assert r.status_code == 200 and 'look = "vivid@0.5"' in r.json()["toml"]
    rv = client.post("/api/recipe", headers=H, json={"path": "a.jpg"}).json()
    assert rv["look"] == "vivid" and rv["strength"] == 0.5 and rv["params"]["tone"]["contrast"] == 1.2
    # switching look (no sidecar): the look's own values, nothing of the sidecar
    rv = client.post("/api/recipe", headers=H, json={"path": "a.jpg", "look": "slide", "sidecar": False}).json()
    from rawlux.pipeline.recipe import Recipe
    own = Recipe.build("slide").params
    assert rv["look"] == "slide" and rv["params"] == {}
    assert rv["values"]["tone.contrast"] == own["tone"].contrast
    assert rv["values"]["saturation.saturation"] == own["saturation"].saturation


RAW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "raw" / "gopro-hero6-12mp.dng"


def _crop_renderer():
    """A Renderer whose 'photo' is a 2400×1600 crop of the 12 MP mosaic (keeps the test fast)."""
    from rawlux.studio.app import Renderer

    class Crop(Renderer):
        def decode(self, path):
            f = super().decode(path)
            f = f.with_pixels(np.ascontiguousarray(f.pixels[0:1600, 800:3200]))
            f.meta.opcodes = {}  # the lens-shading map is laid out for the whole sensor
            f.meta.default_crop = None
            return f
    return Crop()


def _psnr(a, b) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12)))


@pytest.mark.skipif(not RAW.is_file(), reason="shared data folder is absent")
def test_raw_proxy_matches_downscaled_full_render():
    """The camera-RGB proxy (white balance undone, re-applied per render) against the full-resolution
    render downscaled to the same size: PSNR ≥ 35 dB, also with temperature/tint moved, and moving them
    re-uses the proxy (no new decode)."""
    import cv2

    from rawlux.pipeline.run import run_stages
    r = _crop_renderer()
    full_frame = None
    for look, params in (("natural", {}), ("vivid", {"whitebalance": {"temp_shift": 1500.0, "tint_shift": -20.0}})):
        rec = r._recipe(RAW, look, params)
        prev = r.render(RAW, rec)
        assert max(prev.shape[:2]) == 1024 and len(r._proxies) == 1
        if full_frame is None:
            full_frame = r.decode(RAW)
        f = full_frame.with_pixels(full_frame.pixels.copy())
        f.meta = full_frame.meta.copy()
        full = run_stages(f, rec).pixels
        full = np.clip(cv2.resize(full, prev.shape[1::-1], interpolation=cv2.INTER_AREA), 0, 1)
        assert _psnr(prev, full) >= 35, (look, params, _psnr(prev, full))
    # the temperature moved the picture (warmer = more red than blue)
    a = r.render(RAW, r._recipe(RAW, "natural", {}))
    w = r.render(RAW, r._recipe(RAW, "natural", {"whitebalance": {"temp_shift": 1500.0}}))
    assert (w[..., 0] - w[..., 2]).mean() > (a[..., 0] - a[..., 2]).mean() + 0.02
    assert len(r._proxies) == 1
