"""rawlux studio: a local web app over the library (the server renders; the page only displays).

Security model: one folder (``root``) is served and written; every path from the page is relative to
it and is refused (4xx) if absolute, if it has ``..`` or odd characters, or if it resolves (symlinks
followed) outside the folder. Every ``/api`` call needs the per-session token embedded in the page
(header ``X-Rawlux-Token``) so other sites open in the same browser cannot drive it. Request bodies
are limited in size; images above the decoder's pixel limit are refused by the decoder.
"""


import base64
import hmac
import os
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

IMAGE_EXTS = {".dng", ".gpr", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp",
              ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw", ".kdc"}
MAX_BODY = 64 * 1024
PROXY_LONG = 1024
THUMB_LONG = 256
LOOKTHUMB_LONG = 160
#: the first stage run on the downscaled proxy; everything before runs once per photo at full resolution
PROXY_START = "exposure"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_BAD_CHARS = re.compile(r"[\x00-\x1f\\:]")

#: the sliders the page shows: (stage, field, label)
SLIDERS = [
    ("exposure", "ev", "Exposure"),
    ("whitebalance", "temp_shift", "Temperature"),
    ("whitebalance", "tint_shift", "Tint"),
    ("tone", "contrast", "Contrast"),
    ("curve", "highlights", "Highlights"),
    ("curve", "shadows", "Shadows"),
    ("saturation", "saturation", "Saturation"),
    ("saturation", "vibrance", "Vibrance"),
    ("clarity", "amount", "Clarity"),
    ("vignette", "amount", "Vignette"),
    ("grain", "amount", "Grain"),
]


class StudioError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def safe_path(root: Path, rel: Any, *, must_exist: bool = True) -> Path:
    """``rel`` (from the page) as a path inside ``root``, or StudioError 400/403/404."""
    if not isinstance(rel, str) or not rel or len(rel) > 1024:
        raise StudioError(400, f"path {rel!r} must be a non-empty relative path inside the folder")
    if _BAD_CHARS.search(rel):
        raise StudioError(400, f"path {rel!r} has characters that are not allowed")
    if rel.startswith("/") or os.path.isabs(rel):
        raise StudioError(403, f"path {rel!r} is absolute: give a path relative to the folder")
    parts = rel.split("/")
    if any(p in ("..", ".", "") for p in parts) or any(p.startswith(".") for p in parts):
        raise StudioError(403, f"path {rel!r} has '..' or hidden parts: give a path inside the folder")
    root_r = root.resolve()
    p = (root_r / rel)
    try:
        resolved = p.resolve(strict=False)
        resolved.relative_to(root_r)
    except (ValueError, OSError, RuntimeError):
        raise StudioError(403, f"path {rel!r} leads outside the folder") from None
    if must_exist and not resolved.is_file():
        raise StudioError(404, f"no file {rel!r} in the folder")
    return resolved


def _check_write_target(root: Path, target: Path) -> Path:
    root_r = root.resolve()
    if target.is_symlink():
        raise StudioError(403, f"{target.name} is a symbolic link; refusing to write through it")
    try:
        target.resolve(strict=False).relative_to(root_r)
    except ValueError:
        raise StudioError(403, f"{target.name} would be written outside the folder") from None
    return target


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Renderer:
    """Decodes each photo once, runs the stages before ``exposure`` at full resolution, keeps a
    downscaled scene-linear proxy, and renders the later stages on it for every slider change."""

    def __init__(self, capacity: int = 6):
        self._proxies: OrderedDict[tuple, Any] = OrderedDict()
        self._thumbs: dict[tuple, bytes] = {}
        self._lock = threading.Lock()
        self._capacity = capacity

    @staticmethod
    def _recipe(path: Path | None, look: str, params: dict[str, dict[str, Any]] | None, sidecar: bool = False):
        from ..pipeline.run import build_recipe
        return build_recipe(str(path) if path else None, look, overrides=params or {}, sidecar=sidecar)

    def proxy(self, path: Path, recipe) -> Any:
        from ..pipeline.order import stage_names
        names = stage_names()
        front = names[:names.index(PROXY_START)]
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size, tuple((n, repr(recipe.params[n])) for n in front))
        with self._lock:
            if key in self._proxies:
                self._proxies.move_to_end(key)
                return self._proxies[key]
        import cv2
        from ..io.decode import open_image
        from ..pipeline.run import run_stages
        frame = open_image(str(path))
        frame = run_stages(frame, recipe, stop=front[-1])
        px = frame.pixels
        h, w = px.shape[:2]
        s = PROXY_LONG / max(h, w)
        if s < 1:
            px = cv2.resize(px, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        frame = frame.with_pixels(px.astype("float32", copy=False))
        with self._lock:
            self._proxies[key] = frame
            while len(self._proxies) > self._capacity:
                self._proxies.popitem(last=False)
        return frame

    def render(self, path: Path, recipe, long_side: int | None = None):
        """float32 H×W×3 display-encoded pixels of ``path`` with ``recipe`` on the proxy."""
        import cv2
        import numpy as np
        from ..pipeline.run import run_stages
        proxy = self.proxy(path, recipe)
        frame = proxy.with_pixels(proxy.pixels.copy())
        frame.meta = proxy.meta.copy()
        if long_side:
            h, w = frame.pixels.shape[:2]
            s = long_side / max(h, w)
            if s < 1:
                frame = frame.with_pixels(cv2.resize(frame.pixels, (max(1, round(w * s)), max(1, round(h * s))),
                                                     interpolation=cv2.INTER_AREA))
        out = run_stages(frame, recipe, start=PROXY_START)
        px = out.pixels
        if px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        return np.clip(px, 0.0, 1.0)

    def thumb(self, path: Path) -> bytes:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            if key in self._thumbs:
                return self._thumbs[key]
        data = jpeg_bytes(self.render(path, self._recipe(path, "natural", None), THUMB_LONG), 85)
        with self._lock:
            self._thumbs[key] = data
        return data


def jpeg_bytes(px, quality: int = 90) -> bytes:
    import cv2
    import numpy as np
    u8 = (np.clip(px, 0, 1) * 255.0 + 0.5).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(u8[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover
        raise StudioError(500, "JPEG encoding failed")
    return buf.tobytes()


def histogram(px, bins: int = 64) -> list[list[int]]:
    import numpy as np
    q = np.minimum((px.reshape(-1, 3) * bins).astype(np.int32), bins - 1)
    return [np.bincount(q[:, c], minlength=bins).tolist() for c in range(3)]


def slider_specs() -> list[dict[str, Any]]:
    from ..pipeline.order import get_stage, stage_names
    from ..pipeline.stage import describe
    names = set(stage_names())
    out = []
    for stage, field, label in SLIDERS:
        if stage not in names:
            continue
        rows = {r["name"]: r for r in describe(get_stage(stage).Params)}
        r = rows.get(field)
        if r is None or r["min"] is None or r["max"] is None or r["type"] not in ("float", "int"):
            continue
        out.append({"stage": stage, "field": field, "label": label, "min": r["min"], "max": r["max"],
                    "default": r["default"], "doc": r["doc"]})
    return out


def create_app(root: str | os.PathLike[str], token: str | None = None):
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    from ..errors import RawluxError
    from ..looks import builtin_names

    root_p = Path(root).resolve()
    if not root_p.is_dir():
        from ..errors import InputError
        raise InputError("is not a folder", path=str(root))
    tok = token or secrets.token_urlsafe(32)
    static = Path(__file__).with_name("static")
    renderer = Renderer()
    jobs: dict[str, dict[str, Any]] = {}
    app = FastAPI(title="rawlux studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.token = tok
    app.state.root = root_p
    app.state.renderer = renderer

    @app.middleware("http")
    async def guard(request: Request, call_next):
        cl = request.headers.get("content-length")
        if cl is not None and (not cl.isdigit() or int(cl) > MAX_BODY):
            return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)
        if request.url.path.startswith("/api/"):
            given = request.headers.get("x-rawlux-token", "")
            if not hmac.compare_digest(given.encode(), tok.encode()):
                return JSONResponse({"error": "missing or wrong session token"}, status_code=403)
            if request.method == "POST":
                body = await request.body()
                if len(body) > MAX_BODY:
                    return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)
        try:
            return await call_next(request)
        except StudioError as e:
            return JSONResponse({"error": e.message}, status_code=e.status)
        except RawluxError as e:
            return JSONResponse({"error": str(e)}, status_code=422)

    @app.exception_handler(StudioError)
    async def studio_error(_request: Request, e: StudioError) -> JSONResponse:
        return JSONResponse({"error": e.message}, status_code=e.status)

    def _err(e: Exception) -> JSONResponse:
        if isinstance(e, StudioError):
            return JSONResponse({"error": e.message}, status_code=e.status)
        return JSONResponse({"error": str(e)}, status_code=422)

    async def _json(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except Exception:
            raise StudioError(400, "the request body must be JSON") from None
        if not isinstance(data, dict):
            raise StudioError(400, "the request body must be a JSON object")
        return data

    def _params(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        p = data.get("params") or {}
        if not isinstance(p, dict) or not all(isinstance(v, dict) for v in p.values()):
            raise StudioError(400, "params must be {stage: {field: value}}")
        return p

    def _look(data: dict[str, Any], key: str = "look") -> str:
        look = data.get(key) or "natural"
        if not isinstance(look, str):
            raise StudioError(400, f"{key} must be a look name")
        if look in builtin_names():
            return look
        # a look saved in the folder's looks/ directory
        if _NAME_RE.match(look):
            cand = root_p / "looks" / f"{look}.toml"
            if cand.is_file():
                return str(safe_path(root_p, f"looks/{look}.toml"))
        raise StudioError(400, f"unknown look {look!r} (built-in: {', '.join(builtin_names())})")

    def _recipe_for(p: Path, look: str, params: dict[str, dict[str, Any]]):
        """The recipe for a photo; temperature/tint of a display-referred input (which has no sensor white
        balance) become the look's ``balance`` shift, as the CLI would need them."""
        rec = renderer._recipe(p, look, params)
        wb = params.get("whitebalance") or {}
        if (wb.get("temp_shift") or wb.get("tint_shift")) and renderer.proxy(p, rec).meta.kind == "image":
            params = {k: dict(v) for k, v in params.items()}
            wb = params.pop("whitebalance")
            bal = params.setdefault("balance", {})
            bal["warmth"] = max(-100.0, min(100.0, float(wb.pop("temp_shift", 0.0)) / 50.0))
            bal["tint"] = max(-50.0, min(50.0, float(wb.pop("tint_shift", 0.0)) / 2.0))
            if wb:
                params["whitebalance"] = wb
            rec = renderer._recipe(p, look, params)
        return rec

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        html = (static / "index.html").read_text(encoding="utf-8").replace("__RAWLUX_TOKEN__", tok)
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                           "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                                           "script-src 'self'; style-src 'self'; frame-ancestors 'none'"})

    @app.get("/static/{name}")
    def static_file(name: str) -> Response:
        types = {"app.js": "text/javascript", "app.css": "text/css"}
        if name not in types:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response((static / name).read_bytes(), media_type=types[name])

    @app.get("/api/photos")
    def photos() -> dict[str, Any]:
        out = []
        for dirpath, dirnames, filenames in os.walk(root_p):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("export", "looks"))
            for f in sorted(filenames):
                if f.startswith(".") or Path(f).suffix.lower() not in IMAGE_EXTS:
                    continue
                full = Path(dirpath) / f
                rel = full.relative_to(root_p).as_posix()
                try:
                    safe_path(root_p, rel)
                except StudioError:
                    continue  # symlinks out of the folder are not listed
                out.append({"path": rel, "sidecar": (full.parent / (f + ".rawlux.toml")).is_file()})
        return {"photos": out}

    @app.get("/api/thumb")
    def thumb(path: str) -> Response:
        p = safe_path(root_p, path)
        try:
            return Response(renderer.thumb(p), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=60"})
        except RawluxError as e:
            return _err(e)

    @app.get("/api/looks")
    def looks() -> dict[str, Any]:
        saved = sorted(p.stem for p in (root_p / "looks").glob("*.toml") if _NAME_RE.match(p.stem)) \
            if (root_p / "looks").is_dir() else []
        return {"builtin": builtin_names(), "saved": saved, "sliders": slider_specs()}

    @app.post("/api/recipe")
    async def recipe_values(request: Request) -> dict[str, Any]:
        """The resolved values of the sliders for a photo + look (sidecar included)."""
        data = await _json(request)
        p = safe_path(root_p, data.get("path"))
        from ..pipeline.recipe import sidecar_path, sidecar_look
        side = sidecar_path(p)
        look = data.get("look")
        if not look and side.is_file():
            look = sidecar_look(side)
        look = _look({"look": look})
        rec = renderer._recipe(p, look, None, sidecar=bool(data.get("sidecar", True)))
        vals = {f"{s['stage']}.{s['field']}": getattr(rec.params[s["stage"]], s["field"]) for s in slider_specs()}
        return {"look": rec.look, "values": vals}

    @app.post("/api/render")
    async def render(request: Request) -> Any:
        data = await _json(request)
        p = safe_path(root_p, data.get("path"))
        size = data.get("size")
        if size is not None and (not isinstance(size, int) or not 32 <= size <= PROXY_LONG):
            raise StudioError(400, f"size {size!r} must be an integer in [32, {PROXY_LONG}]")
        try:
            rec = _recipe_for(p, _look(data), _params(data))
            t0 = time.perf_counter()
            px = renderer.render(p, rec, size)
            ms = (time.perf_counter() - t0) * 1000
        except RawluxError as e:
            return _err(e)
        out: dict[str, Any] = {"image": "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes(px)).decode(),
                               "width": int(px.shape[1]), "height": int(px.shape[0]), "ms": round(ms, 1)}
        if data.get("histogram", True):
            out["histogram"] = histogram(px)
        return out

    @app.post("/api/sidecar")
    async def save_sidecar(request: Request) -> Any:
        data = await _json(request)
        p = safe_path(root_p, data.get("path"))
        from ..pipeline.recipe import sidecar_path
        try:
            rec = _recipe_for(p, _look(data), _params(data))
        except RawluxError as e:
            return _err(e)
        target = _check_write_target(root_p, sidecar_path(p))
        text = rec.to_toml()
        _atomic_write_text(target, text)
        return {"saved": target.relative_to(root_p).as_posix(), "toml": text}

    @app.post("/api/look")
    async def save_look(request: Request) -> Any:
        data = await _json(request)
        name = data.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name) or name in builtin_names():
            raise StudioError(400, f"look name {name!r}: use letters, digits, - and _ (max 64), not a built-in name")
        from ..pipeline.recipe import _toml_value
        try:
            rec = renderer._recipe(None, _look(data, "base"), _params(data))
        except RawluxError as e:
            return _err(e)
        desc = data.get("description") or f"tuned in rawlux studio from {rec.look}"
        if not isinstance(desc, str) or len(desc) > 500:
            raise StudioError(400, "description must be text of at most 500 characters")
        lines = ["schema_version = 1", f"name = {_toml_value(name)}", f"description = {_toml_value(desc)}", ""]
        for stage, vals in rec.to_dict().items():
            lines.append(f"[{stage}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in vals.items()]
            lines.append("")
        folder = root_p / "looks"
        if folder.is_symlink():
            raise StudioError(403, "looks/ is a symbolic link; refusing to write through it")
        folder.mkdir(exist_ok=True)
        target = _check_write_target(root_p, folder / f"{name}.toml")
        _atomic_write_text(target, "\n".join(lines))
        result = {"saved": target.relative_to(root_p).as_posix()}
        if data.get("cube"):
            from ..looks.bake import export_cube
            cube = _check_write_target(root_p, folder / f"{name}.cube")
            try:
                export_cube(str(target), cube, size=33)
            except RawluxError as e:
                return _err(e)
            result["cube"] = cube.relative_to(root_p).as_posix()
        return result

    def _export_job(job: dict[str, Any], p: Path, rec, target: Path) -> None:
        from ..io.decode import open_image
        from ..io.encode import save
        from ..pipeline.order import stage_names
        from ..pipeline.run import run_stages
        total = len(stage_names()) + 2
        done = [0]

        def tick(name: str, _frame: Any) -> None:
            done[0] += 1
            job.update(stage=name, progress=min(0.99, (done[0] + 1) / total))
        try:
            job.update(stage="decode", progress=0.02)
            frame = open_image(str(p))
            frame = run_stages(frame, rec, on_stage=tick)
            frame.meta.extra["recipe"] = rec
            job.update(stage="save", progress=0.99)
            save(frame, target, quality=92)
            job.update(state="done", progress=1.0, saved=target.relative_to(root_p).as_posix())
        except Exception as e:  # reported to the page
            job.update(state="error", error=str(e))

    @app.post("/api/export")
    async def export(request: Request) -> Any:
        data = await _json(request)
        p = safe_path(root_p, data.get("path"))
        try:
            rec = _recipe_for(p, _look(data), _params(data))
        except RawluxError as e:
            return _err(e)
        folder = root_p / "export"
        if folder.is_symlink():
            raise StudioError(403, "export/ is a symbolic link; refusing to write through it")
        folder.mkdir(exist_ok=True)
        target = _check_write_target(root_p, folder / (p.stem + ".jpg"))
        jid = uuid.uuid4().hex
        job = {"id": jid, "state": "running", "progress": 0.0, "stage": "queued"}
        jobs[jid] = job
        threading.Thread(target=_export_job, args=(job, p, rec, target), daemon=True).start()
        return {"job": jid}

    @app.get("/api/job/{jid}")
    def job(jid: str) -> Any:
        if jid not in jobs:
            raise StudioError(404, f"no job {jid!r}")
        return jobs[jid]

    return app
