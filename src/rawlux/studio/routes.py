"""The studio's HTTP routes, by group. Each ``add_*`` registers its routes on the app for one
:class:`~rawlux.studio.app.Studio` (folder, token, renderer, jobs); request fields are read by
:mod:`rawlux.studio.models`, errors answered by :mod:`rawlux.studio.security`'s guard."""
from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any

# at module level: FastAPI reads the (string) annotations of the routes against this module's names
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .imaging import PROXY_LONG, histogram, slider_specs
from .models import read_json
from .security import PAGE_HEADERS, StudioError, check_write_target, safe_path, writable_folder


def add_page_routes(app: Any, st: Any) -> None:

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        html = (st.static / "index.html").read_text(encoding="utf-8").replace("__RAWLUX_TOKEN__", st.token)
        return HTMLResponse(html, headers=PAGE_HEADERS)

    @app.get("/static/{name}")
    def static_file(name: str) -> Response:
        types = {"app.js": "text/javascript", "app.css": "text/css"}
        if name not in types:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response((st.static / name).read_bytes(), media_type=types[name])


def add_photo_routes(app: Any, st: Any) -> None:

    from ..io.formats import INPUT_EXTENSIONS

    @app.get("/api/photos")
    def photos() -> dict[str, Any]:
        out = []
        for dirpath, dirnames, filenames in os.walk(st.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("export", "looks"))
            for f in sorted(filenames):
                if f.startswith(".") or Path(f).suffix.lower() not in INPUT_EXTENSIONS:
                    continue
                full = Path(dirpath) / f
                rel = full.relative_to(st.root).as_posix()
                try:
                    safe_path(st.root, rel)
                except StudioError:
                    continue  # symlinks out of the folder are not listed
                out.append({"path": rel, "sidecar": (full.parent / (f + ".rawlux.toml")).is_file()})
        return {"photos": out}

    @app.get("/api/thumb")
    def thumb(path: str) -> Response:
        return Response(st.renderer.thumb(safe_path(st.root, path)), media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=60"})

    @app.post("/api/render")
    async def render(request: Request) -> Any:
        from ..pipeline.files import notes_of

        data = await read_json(request)
        req = st.requests
        p = req.photo(data)
        size = req.size(data, PROXY_LONG)
        rec = st.renderer.recipe_for(p, req.look_at_strength(data), req.params(data))
        border = req.border(data)
        t0 = time.perf_counter()
        px, jpeg = st.renderer.render_jpeg(p, rec, size, border)
        ms = (time.perf_counter() - t0) * 1000
        out: dict[str, Any] = {"image": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),
                               "width": int(px.shape[1]), "height": int(px.shape[0]), "ms": round(ms, 1),
                               "notes": notes_of(st.renderer.proxy(p, rec))}
        if data.get("histogram", True):
            out["histogram"] = histogram(px)
        return out


def add_recipe_routes(app: Any, st: Any) -> None:

    from ..io.atomic import write_text
    from ..looks.schema import split_spec
    from ..pipeline.recipe import read_sidecar, sidecar_look, sidecar_path

    @app.post("/api/recipe")
    async def recipe_values(request: Request) -> Any:
        """The slider values for a photo + look: the look's own values (``sidecar: false``, when the page
        switches look), or with the photo's sidecar on top (and its look and strength, when none is given)."""
        data = await read_json(request)
        p = st.requests.photo(data)
        side = sidecar_path(p)
        use_side = bool(data.get("sidecar", True)) and side.is_file()
        look = data.get("look")
        strength = data.get("strength", 1.0)
        if not look and use_side:
            look = sidecar_look(side)
            if isinstance(look, str):
                look, s = split_spec(look)
                strength = 1.0 if s is None else s
        look = st.requests.look({"look": look})
        rec = st.renderer.recipe(p, st.requests.strength({"strength": strength}, look), None, sidecar=use_side)
        vals = {f"{s['stage']}.{s['field']}": getattr(rec.params[s["stage"]], s["field"]) for s in slider_specs()}
        return {"look": split_spec(rec.look)[0], "strength": float(strength), "values": vals,
                "params": read_sidecar(side) if use_side else {}}

    @app.post("/api/sidecar")
    async def save_sidecar(request: Request) -> Any:
        data = await read_json(request)
        p = st.requests.photo(data)
        rec = st.renderer.recipe_for(p, st.requests.look_at_strength(data), st.requests.params(data))
        target = check_write_target(st.root, sidecar_path(p))
        text = rec.to_toml()
        write_text(target, text)
        return {"saved": target.relative_to(st.root).as_posix(), "toml": text}


def add_look_routes(app: Any, st: Any) -> None:

    from ..borders import builtin_names as border_names
    from ..io.atomic import write_text
    from ..io.formats import DISPLAY_EXTENSIONS
    from ..looks import builtin_names
    from .security import NAME_RE

    @app.get("/api/looks")
    def looks() -> dict[str, Any]:
        folder = st.root / "looks"
        saved = sorted(p.stem for p in folder.glob("*.toml") if NAME_RE.match(p.stem)) if folder.is_dir() else []
        return {"builtin": builtin_names(), "saved": saved, "sliders": slider_specs(), "frames": border_names(),
                "warm": dict(app.state.warm)}

    @app.post("/api/look")
    async def save_look(request: Request) -> Any:
        data = await read_json(request)
        name = st.requests.look_name(data)
        rec = st.renderer.recipe(None, st.requests.look_at_strength(data, "base"), st.requests.params(data))
        desc = data.get("description") or f"tuned in rawlux studio from {rec.look}"
        if not isinstance(desc, str) or len(desc) > 500:
            raise StudioError(400, "description must be text of at most 500 characters")
        folder = writable_folder(st.root, "looks")
        target = check_write_target(st.root, folder / f"{name}.toml")
        write_text(target, rec.to_toml(as_look=(name, desc)))
        result = {"saved": target.relative_to(st.root).as_posix()}
        if data.get("cube"):
            from ..looks.bake import export_cube
            cube = check_write_target(st.root, folder / f"{name}.cube")
            # the cube grades neutral renders of photos like the one being tuned: raw or display-referred
            photo = data.get("path")
            source = "image" if isinstance(photo, str) and Path(photo).suffix.lower() in DISPLAY_EXTENSIONS else "raw"
            export_cube(str(target), cube, size=33, source=source)
            result["cube"] = cube.relative_to(st.root).as_posix()
        return result


def add_export_routes(app: Any, st: Any) -> None:

    @app.post("/api/export")
    async def export(request: Request) -> Any:
        data = await read_json(request)
        p = st.requests.photo(data)
        rec = st.renderer.recipe_for(p, st.requests.look_at_strength(data), st.requests.params(data))
        from ..io.formats import EXTENSIONS

        border = st.requests.border(data)
        fmt, hdr = st.requests.export_format(data, border)
        target = check_write_target(st.root, writable_folder(st.root, "export") / (p.stem + EXTENSIONS[fmt]))
        return {"job": st.jobs.start_export(p, rec, target, border, hdr=hdr)}

    @app.get("/api/job/{jid}")
    def job(jid: str) -> Any:
        found = st.jobs.get(jid)
        if found is None:
            raise StudioError(404, f"no job {jid!r}")
        return found


#: every route group, registered in this order by ``create_app``
ROUTE_GROUPS = (add_page_routes, add_photo_routes, add_recipe_routes, add_look_routes, add_export_routes)
