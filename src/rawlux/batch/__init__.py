"""Batch development: a resumable SQLite catalog, a local process pool, a Dask cluster, a hot folder.

    >>> from rawlux.batch import run_batch
    >>> report = run_batch(["card/"], "developed", look="natural", recursive=True, workers=2)
    >>> print(report.done, report.failed, report.skipped, f"{report.images_per_minute:.0f} img/min")

The CLI is ``rawlux batch`` (:mod:`rawlux.batch.cli`); the catalog is :mod:`rawlux.batch.catalog`.
"""
from __future__ import annotations

from typing import Any

__all__ = ["run_batch", "watch_batch", "BatchOptions", "BatchReport", "Catalog"]


def __getattr__(name: str) -> Any:
    if name in ("run_batch", "BatchOptions", "BatchReport"):
        from . import engine
        return getattr(engine, name)
    if name == "watch_batch":
        from .watch import watch_batch
        return watch_batch
    if name == "Catalog":
        from .catalog import Catalog
        return Catalog
    raise AttributeError(f"module 'rawlux.batch' has no attribute {name!r}")
