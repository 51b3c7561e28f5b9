"""Export jobs: full-resolution develops run in a background thread, polled by the page."""
from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any


class Jobs:
    """The jobs of one studio session, by id."""

    def __init__(self, root: Path):
        self.root = root
        self._jobs: dict[str, dict[str, Any]] = {}

    def get(self, jid: str) -> dict[str, Any] | None:
        return self._jobs.get(jid)

    def start_export(self, src: Path, recipe: Any, target: Path, border: str | None = None, *,
                     hdr: bool = False) -> str:
        """Develop ``src`` into ``target`` (format from its extension) in the background; ``hdr``: an HDR
        photo (Ultra HDR gain-map JPEG, or 10-bit PQ AVIF/HEIF) from the scene-linear light."""
        jid = uuid.uuid4().hex
        job: dict[str, Any] = {"id": jid, "state": "running", "progress": 0.0, "stage": "queued", "hdr": hdr}
        self._jobs[jid] = job
        threading.Thread(target=self._export, args=(job, src, recipe, target, border, hdr), daemon=True).start()
        return jid

    def _export(self, job: dict[str, Any], src: Path, recipe: Any, target: Path, border: str | None,
                hdr: bool = False) -> None:
        from ..pipeline.files import develop_file
        from ..pipeline.order import stage_names

        total = len(stage_names()) + 2
        done = [0]

        def tick(name: str, _frame: Any) -> None:
            done[0] += 1
            job.update(stage=name, progress=min(0.99, (done[0] + 1) / total))
        try:
            job.update(stage="decode", progress=0.02)
            _frame, notes = develop_file(src, target, recipe, quality=92, overwrite=True, border=border,
                                         on_stage=tick,
                                         develop_kw={"keep_scene_linear": True} if hdr else None,
                                         save_kw={"hdr": True} if hdr else None)
            job.update(state="done", progress=1.0, saved=target.relative_to(self.root).as_posix(), notes=notes)
        except Exception as e:  # reported to the page
            job.update(state="error", error=str(e))
