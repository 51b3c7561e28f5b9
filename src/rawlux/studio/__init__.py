"""rawlux studio: tune, compare and export looks in the browser (``rawlux studio FOLDER``)."""
from __future__ import annotations

__all__ = ["create_app"]


def create_app(root, token=None):  # noqa: ANN001 - thin lazy re-export
    from .app import create_app as _create
    return _create(root, token)
