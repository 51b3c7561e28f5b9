"""rawlux studio: a local web app over the library (the server renders; the page only displays).

The pieces: :mod:`.security` (paths, token, body sizes: the security model is described there),
:mod:`.models` (what a request may carry), :mod:`.routes` (the HTTP routes, by group), :mod:`.jobs` (export
jobs), :mod:`.imaging` (JPEG previews, histograms, sliders, thumbnails). Previews are rendered by the
memoising :class:`rawlux.pipeline.preview.PreviewRunner`; exports by :func:`rawlux.pipeline.files.develop_file`.
This module is the small factory that puts them together.
"""
from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..pipeline.preview import PROXY_LONG, warm_up  # noqa: F401 - part of the studio's API
from .imaging import SLIDERS, THUMB_LONG, Renderer, histogram, jpeg_bytes, slider_specs  # noqa: F401
from .jobs import Jobs
from .models import RequestReader
from .security import MAX_BODY, StudioError, check_write_target, safe_path  # noqa: F401


@dataclass
class Studio:
    """One studio session: the folder it serves, its token, its preview renderer and export jobs."""

    root: Path
    token: str
    renderer: Renderer = field(default_factory=Renderer)
    static: Path = Path(__file__).with_name("static")
    jobs: Jobs = field(init=False)
    requests: RequestReader = field(init=False)

    def __post_init__(self) -> None:
        self.jobs = Jobs(self.root)
        self.requests = RequestReader(self.root)


def _start_warm_up(app: Any) -> None:
    def run() -> None:
        try:
            app.state.warm["seconds"] = warm_up()
        except Exception as e:  # reported by /api/looks, never fatal
            app.state.warm["error"] = str(e)
    threading.Thread(target=run, name="rawlux-studio-warm-up", daemon=True).start()


def create_app(root: str | os.PathLike[str], token: str | None = None, warm: bool = True) -> Any:
    """The FastAPI app serving (and writing only inside) the folder ``root``."""
    from fastapi import FastAPI

    from .routes import ROUTE_GROUPS
    from .security import install_guard

    root_p = Path(root).resolve()
    if not root_p.is_dir():
        from ..errors import InputError
        raise InputError("is not a folder", path=str(root))
    st = Studio(root=root_p, token=token or secrets.token_urlsafe(32))
    app = FastAPI(title="rawlux studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.token = st.token
    app.state.root = root_p
    app.state.renderer = st.renderer
    app.state.studio = st
    app.state.warm = {}
    install_guard(app, st.token)
    for add in ROUTE_GROUPS:
        add(app, st)
    if warm:
        _start_warm_up(app)
    return app
