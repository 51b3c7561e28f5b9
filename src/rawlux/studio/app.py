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


def _pkey(params) -> str:
    return repr(params)


class Renderer:
    """Fast previews: each photo is decoded once, and the stages up to ``geometry`` run once at full
    resolution; the result is kept as a downscaled *camera-RGB* proxy with the white balance undone
    (divided by ``meta.wb_multipliers``), so that temperature/tint re-run ``whitebalance`` on the proxy
    (it accepts CAMERA_RGB frames) followed by ``colour`` and every later stage. The proxy's front is
    built with the recipe's white balance less its creative shifts, so moving the temperature slider
    never re-decodes. Intermediate proxies after ``colour``, ``exposure`` (which measures the image for
    auto exposure) and ``tone`` are memoised by the params that made them, so a look-slider change only
    runs the stages after ``tone`` (the fused grade and the output encoding). Display-referred inputs (no white balance) start at ``colour``."""

    #: the stages run once per photo at full resolution (then downscaled)
    FRONT_STOP = "geometry"
    #: the stages run on the proxy, memoised after each of these
    MEMO = ("colour", "exposure", "tone")

    def __init__(self, capacity: int = 6):
        self._proxies: OrderedDict[tuple, Any] = OrderedDict()
        self._memo: OrderedDict[tuple, Any] = OrderedDict()
        self._thumbs: dict[tuple, bytes] = {}
        self._lock = threading.Lock()
        self._capacity = capacity
        self._building: dict[tuple, threading.Lock] = {}

    @staticmethod
    def _recipe(path: Path | None, look: str, params: dict[str, dict[str, Any]] | None, sidecar: bool = False):
        from ..pipeline.run import build_recipe
        return build_recipe(str(path) if path else None, look, overrides=params or {}, sidecar=sidecar)

    def decode(self, path: Path):
        """The frame of ``path`` (a hook: tests and benchmarks may give a cropped frame)."""
        from ..io.decode import open_image
        return open_image(str(path))

    @staticmethod
    def _front_wb(recipe):
        import dataclasses
        return dataclasses.replace(recipe.params["whitebalance"], temp_shift=0.0, tint_shift=0.0)

    def proxy_key(self, path: Path, recipe) -> tuple:
        from ..pipeline.order import stage_names
        names = stage_names()
        front = names[:names.index(self.FRONT_STOP) + 1]
        st = path.stat()
        parts = tuple((n, _pkey(self._front_wb(recipe) if n == "whitebalance" else recipe.params[n])) for n in front)
        return (str(path), st.st_mtime_ns, st.st_size, parts)

    def proxy(self, path: Path, recipe) -> Any:
        """The cached downscaled frame after ``geometry`` (camera RGB with white balance undone, or the
        scene-linear frame of a display-referred input)."""
        key = self.proxy_key(path, recipe)
        with self._lock:
            if key in self._proxies:
                self._proxies.move_to_end(key)
                return self._proxies[key]
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:  # one build per photo even when the page asks for several renders at once
            with self._lock:
                if key in self._proxies:
                    return self._proxies[key]
            frame = self._build_proxy(path, recipe)
            with self._lock:
                self._proxies[key] = frame
                self._building.pop(key, None)
                while len(self._proxies) > self._capacity:
                    self._proxies.popitem(last=False)
        return frame

    def _build_proxy(self, path: Path, recipe) -> Any:
        import dataclasses

        import cv2
        import numpy as np

        from ..frame import State
        from ..pipeline.run import run_stages
        frame = self.decode(path)
        pre_white = frame.meta.white_xy
        front_rec = dataclasses.replace(recipe, params={**recipe.params, "whitebalance": self._front_wb(recipe)})
        frame = run_stages(frame, front_rec, stop=self.FRONT_STOP)
        px = frame.pixels
        h, w = px.shape[:2]
        s = PROXY_LONG / max(h, w)
        if s < 1:
            px = cv2.resize(px, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        px = np.ascontiguousarray(px, dtype=np.float32)
        m = frame.meta
        if frame.state is State.CAMERA_RGB and m.wb_applied and m.wb_multipliers is not None:
            px = px / np.asarray(m.wb_multipliers, np.float32).reshape(1, 1, -1)
            out = frame.with_pixels(px)
            out.meta.wb_applied = False
            out.meta.wb_multipliers = None
            out.meta.white_xy = pre_white
            out.meta.extra.pop("neutral", None)
            out.meta.extra["studio_wb_undone"] = True
            return out
        return frame.with_pixels(px)

    def _memo_get(self, key: tuple):
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        return None

    def _memo_put(self, key: tuple, frame) -> None:
        with self._lock:
            self._memo[key] = frame
            while len(self._memo) > 2 * self._capacity:
                self._memo.popitem(last=False)

    def render_frame(self, path: Path, recipe, long_side: int | None = None):
        """The DISPLAY frame of ``path`` with ``recipe``, rendered on the proxy."""
        import cv2

        from ..pipeline.order import stage_names
        from ..pipeline.run import run_stages
        names = stage_names()
        proxy = self.proxy(path, recipe)
        pkey = (self.proxy_key(path, recipe), long_side)
        frame = proxy
        if long_side:
            h, w = frame.pixels.shape[:2]
            s = long_side / max(h, w)
            if s < 1:
                frame = frame.with_pixels(cv2.resize(frame.pixels, (max(1, round(w * s)), max(1, round(h * s))),
                                                     interpolation=cv2.INTER_AREA))
        # whitebalance (camera-RGB proxies only) then colour .. tone, memoised after the MEMO stages
        chain = ["whitebalance"] + names[names.index(self.FRONT_STOP) + 1:names.index(self.MEMO[-1]) + 1]
        keys = [pkey + tuple((n, _pkey(recipe.params[n])) for n in chain[:i + 1]) for i in range(len(chain))]
        pos = 0
        for i, name in enumerate(chain):
            if name in self.MEMO:
                hit = self._memo_get(keys[i])
                if hit is not None:
                    frame, pos = hit, i + 1
        frame = frame.with_pixels(frame.pixels.copy())  # the cached frames are never handed to a stage
        for i in range(pos, len(chain)):
            name = chain[i]
            frame = run_stages(frame, recipe, start=name, stop=name)
            if name in self.MEMO:
                self._memo_put(keys[i], frame)
                frame = frame.with_pixels(frame.pixels.copy())
        return run_stages(frame, recipe, start=names[names.index(self.MEMO[-1]) + 1])

    def render(self, path: Path, recipe, long_side: int | None = None):
        """float32 H×W×3 display-encoded pixels of ``path`` with ``recipe`` on the proxy."""
        import numpy as np
        px = self.render_frame(path, recipe, long_side).pixels
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


def warm_up() -> float:
    """Run the preview stages once on a small synthetic frame with every look ingredient on, so the numba
    kernels are loaded (or compiled, the first time on a machine; they are cached on disk) before the first
    slider is moved. Returns the seconds it took. Run in a background thread at server start."""
    import numpy as np

    from ..frame import Frame, Metadata, State
    from ..pipeline.run import build_recipe, run_stages
    t0 = time.perf_counter()
    yy, xx = np.mgrid[0:96, 0:128].astype(np.float32)
    px = np.stack([xx / 128, yy / 96, (xx + yy) / 224], axis=2).astype(np.float32) * 0.8 + 0.05
    frame = Frame(px, State.SCENE_LINEAR, Metadata(kind="image"))
    rec = build_recipe(None, "natural", sidecar=False, overrides={
        "grain": {"amount": 0.3}, "clarity": {"amount": 0.3}, "vignette": {"amount": -0.3},
        "curve": {"highlights": -0.2, "shadows": 0.2}, "saturation": {"vibrance": 0.2, "saturation": 1.1}})
    out = run_stages(frame, rec)
    try:
        from ..frames import apply_frame
        apply_frame(out, template="border")
    except Exception:  # the frame preview is optional; its errors are reported when it is used
        pass
    return time.perf_counter() - t0


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


def create_app(root: str | os.PathLike[str], token: str | None = None, warm: bool = True):
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    from ..errors import RawluxError
    from ..io.atomic import write_text
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
    app.state.warm = {}
    if warm:
        def _warm() -> None:
            try:
                app.state.warm["seconds"] = warm_up()
            except Exception as e:  # reported by /api/looks, never fatal
                app.state.warm["error"] = str(e)
        threading.Thread(target=_warm, name="rawlux-studio-warm-up", daemon=True).start()

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

    # stage fields that name files: a client may only point them inside the folder
    _FILE_FIELDS = {("lut", "path"), ("bokeh", "depth"), ("frame", "logo")}

    def _params(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        p = data.get("params") or {}
        if not isinstance(p, dict) or not all(isinstance(v, dict) for v in p.values()):
            raise StudioError(400, "params must be {stage: {field: value}}")
        out: dict[str, dict[str, Any]] = {}
        for stage, fields in p.items():
            out[stage] = dict(fields)
            for name, value in fields.items():
                if (stage, name) in _FILE_FIELDS and value not in (None, "", "embedded"):
                    if not isinstance(value, str):
                        raise StudioError(400, f"{stage}.{name} must be a path inside the folder")
                    out[stage][name] = str(safe_path(root_p, value))
        return out

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

    def _strength(data: dict[str, Any], look: str) -> str:
        """``look`` blended with neutral by the request's ``strength`` (the look's ``NAME@s`` form)."""
        s = data.get("strength", 1.0)
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.0 <= float(s) <= 1.0:
            raise StudioError(400, f"strength {s!r} must be a number in [0, 1]")
        if "@" in look:
            raise StudioError(400, f"look {look!r}: give the strength separately")
        return look if float(s) == 1.0 else f"{look}@{round(float(s), 3):g}"

    def _frame_template(data: dict[str, Any]) -> str | None:
        t = data.get("frame")
        if t in (None, "", "none"):
            return None
        from ..frames import builtin_names as frame_names
        if not isinstance(t, str) or t not in frame_names():
            raise StudioError(400, f"frame template {t!r} is not one of: none, {', '.join(frame_names())}")
        return t

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
        from ..frames import builtin_names as frame_names
        return {"builtin": builtin_names(), "saved": saved, "sliders": slider_specs(), "frames": frame_names(),
                "warm": dict(app.state.warm)}

    @app.post("/api/recipe")
    async def recipe_values(request: Request) -> Any:
        """The slider values for a photo + look: the look's own values (``sidecar: false``, when the page
        switches look), or with the photo's sidecar on top (and its look and strength, when none is given)."""
        data = await _json(request)
        p = safe_path(root_p, data.get("path"))
        from ..looks.schema import split_spec
        from ..pipeline.recipe import sidecar_look, sidecar_path
        side = sidecar_path(p)
        use_side = bool(data.get("sidecar", True)) and side.is_file()
        look = data.get("look")
        strength = data.get("strength", 1.0)
        if not look and use_side:
            look = sidecar_look(side)
            if isinstance(look, str):
                try:
                    look, st = split_spec(look)
                except RawluxError as e:
                    return _err(e)
                strength = 1.0 if st is None else st
        look = _look({"look": look})
        try:
            rec = renderer._recipe(p, _strength({"strength": strength}, look), None, sidecar=use_side)
        except RawluxError as e:
            return _err(e)
        vals = {f"{s['stage']}.{s['field']}": getattr(rec.params[s["stage"]], s["field"]) for s in slider_specs()}
        name = split_spec(rec.look)[0]
        from ..pipeline.recipe import read_sidecar
        side_params = read_sidecar(side) if use_side else {}
        return {"look": name, "strength": float(strength), "values": vals, "params": side_params}

    @app.post("/api/render")
    async def render(request: Request) -> Any:
        import numpy as np
        data = await _json(request)
        p = safe_path(root_p, data.get("path"))
        size = data.get("size")
        if size is not None and (not isinstance(size, int) or not 32 <= size <= PROXY_LONG):
            raise StudioError(400, f"size {size!r} must be an integer in [32, {PROXY_LONG}]")
        try:
            rec = _recipe_for(p, _strength(data, _look(data)), _params(data))
            template = _frame_template(data)
            t0 = time.perf_counter()
            fr = renderer.render_frame(p, rec, size)
            if template is not None:
                from ..frames import apply_frame
                fr = apply_frame(fr, template=template)
            px = fr.pixels
            if px.ndim == 2:
                px = np.repeat(px[..., None], 3, axis=2)
            px = np.clip(px, 0.0, 1.0)
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
            rec = _recipe_for(p, _strength(data, _look(data)), _params(data))
        except RawluxError as e:
            return _err(e)
        target = _check_write_target(root_p, sidecar_path(p))
        text = rec.to_toml()
        write_text(target, text)
        return {"saved": target.relative_to(root_p).as_posix(), "toml": text}

    @app.post("/api/look")
    async def save_look(request: Request) -> Any:
        data = await _json(request)
        name = data.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name) or name in builtin_names():
            raise StudioError(400, f"look name {name!r}: use letters, digits, - and _ (max 64), not a built-in name")
        from ..pipeline.recipe import _toml_value
        try:
            rec = renderer._recipe(None, _strength(data, _look(data, "base")), _params(data))
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
        write_text(target, "\n".join(lines))
        result = {"saved": target.relative_to(root_p).as_posix()}
        if data.get("cube"):
            from ..looks.bake import export_cube
            cube = _check_write_target(root_p, folder / f"{name}.cube")
            # the cube grades neutral renders of photos like the one being tuned: raw or display-referred
            photo = data.get("path")
            source = ("image" if isinstance(photo, str) and photo.lower().endswith(
                (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif")) else "raw")
            try:
                export_cube(str(target), cube, size=33, source=source)
            except RawluxError as e:
                return _err(e)
            result["cube"] = cube.relative_to(root_p).as_posix()
        return result

    def _export_job(job: dict[str, Any], p: Path, rec, target: Path, template: str | None = None) -> None:
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
            if template is not None:
                from ..frames import apply_frame
                job.update(stage="frame")
                frame = apply_frame(frame, template=template)
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
            rec = _recipe_for(p, _strength(data, _look(data)), _params(data))
            template = _frame_template(data)
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
        threading.Thread(target=_export_job, args=(job, p, rec, target, template), daemon=True).start()
        return {"job": jid}

    @app.get("/api/job/{jid}")
    def job(jid: str) -> Any:
        if jid not in jobs:
            raise StudioError(404, f"no job {jid!r}")
        return jobs[jid]

    return app
