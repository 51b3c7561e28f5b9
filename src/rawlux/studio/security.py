"""The studio's security model, in one place.

One folder (``root``) is served and written; every path from the page is relative to it and is refused (4xx)
if absolute, if it has ``..`` or odd characters, or if it resolves (symlinks followed) outside the folder.
Every ``/api`` call needs the per-session token embedded in the page (header ``X-Rawlux-Token``) so other
sites open in the same browser cannot drive it. Request bodies are limited in size; images above the
decoder's pixel limit are refused by the decoder (``io/formats.py``).
"""
from __future__ import annotations

import hmac
import os
import re
from pathlib import Path
from typing import Any

#: largest request body, bytes
MAX_BODY = 64 * 1024
#: names of looks saved in the folder
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_BAD_CHARS = re.compile(r"[\x00-\x1f\\:]")
#: the page's security headers
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                "script-src 'self'; style-src 'self'; frame-ancestors 'none'"}


class StudioError(Exception):
    """An error answered to the page as ``{"error": message}`` with an HTTP status."""

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


def check_write_target(root: Path, target: Path) -> Path:
    """``target`` if writing it stays inside ``root`` (no symlink on the way), else StudioError 403."""
    root_r = root.resolve()
    if target.is_symlink():
        raise StudioError(403, f"{target.name} is a symbolic link; refusing to write through it")
    try:
        target.resolve(strict=False).relative_to(root_r)
    except ValueError:
        raise StudioError(403, f"{target.name} would be written outside the folder") from None
    return target


def writable_folder(root: Path, name: str) -> Path:
    """``root/name`` made if needed, refused when it is a symbolic link."""
    folder = root / name
    if folder.is_symlink():
        raise StudioError(403, f"{name}/ is a symbolic link; refusing to write through it")
    folder.mkdir(exist_ok=True)
    return folder


def install_guard(app: Any, token: str) -> None:
    """Body-size limit and session token on every request; StudioError and RawluxError become JSON errors
    (the one error style of the API: ``{"error": ...}`` with 4xx)."""
    from fastapi import Request
    from fastapi.responses import JSONResponse

    from ..errors import RawluxError

    def too_big() -> JSONResponse:
        return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)

    @app.middleware("http")
    async def guard(request: Request, call_next):  # noqa: ANN202
        cl = request.headers.get("content-length")
        if cl is not None and (not cl.isdigit() or int(cl) > MAX_BODY):
            return too_big()
        if request.url.path.startswith("/api/"):
            given = request.headers.get("x-rawlux-token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"error": "missing or wrong session token"}, status_code=403)
            if request.method == "POST" and len(await request.body()) > MAX_BODY:
                return too_big()
        try:
            return await call_next(request)
        except StudioError as e:
            return JSONResponse({"error": e.message}, status_code=e.status)
        except RawluxError as e:
            return JSONResponse({"error": str(e)}, status_code=422)

    @app.exception_handler(StudioError)
    async def studio_error(_request: Request, e: StudioError) -> JSONResponse:
        return JSONResponse({"error": e.message}, status_code=e.status)

    @app.exception_handler(RawluxError)
    async def rawlux_error(_request: Request, e: RawluxError) -> JSONResponse:
        return JSONResponse({"error": str(e)}, status_code=422)
