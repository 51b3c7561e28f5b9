"""Hot folder: develop what is there, then every new (or replaced) file as it appears, once each.

The source folders are re-scanned every ``interval`` seconds (polling works on every file system, network
mounts included). A file is taken only when its size and modification time are the same on two scans in a
row, so a file still being copied in is never developed half-written. Each taken file goes through the same
planning as a batch (the catalog decides; a file whose bytes are unchanged is not redone), on the same
executor, with the same guarantees.

The first SIGINT/SIGTERM stops watching: files in flight are finished and recorded, queued ones stay
``pending`` for the next run; a second signal stops at once (in-flight files are then redone next time).
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any, Iterable

from .engine import Batch, BatchOptions, BatchReport, threading_main
from .jobs import Job
from .scan import output_paths


def watch_batch(sources: Iterable[str], out_dir: str | os.PathLike[str], *, opts: BatchOptions | None = None,
                progress: Any = None, interval: float = 2.0, argv: list[str] | None = None,
                stop: threading.Event | None = None, **options: Any) -> BatchReport:
    """Run the batch, then keep watching ``sources`` until ``stop`` is set or a signal arrives."""
    opts = opts or BatchOptions(**options)
    b = Batch(sources, out_dir, opts, progress=progress, argv=argv)
    stop = stop or threading.Event()
    inputs = b.scan()
    b.open()
    handled: dict[str, tuple[int, int]] = {}
    last_seen: dict[str, tuple[int, int]] = {}

    def stat_key(p: Path) -> tuple[int, int] | None:
        try:
            st = p.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def feeder() -> list[Job]:
        try:
            current = b.scan()
        except Exception:  # noqa: BLE001 - a source folder vanished for a moment: try again next scan
            return []
        ready = []
        for inp in current:
            src = str(inp.path)
            key = stat_key(inp.path)
            if key is None or handled.get(src) == key or src in b.inflight:
                continue           # unchanged, or replaced while its old version is being developed (next scan)
            if last_seen.get(src) == key and key[0] > 0:
                ready.append(inp)
            else:
                last_seen[src] = key
        if not ready:
            return []
        outs = dict(zip((str(i.path) for i in current), output_paths(current, b.out_dir, b.ext)))
        for inp in ready:
            handled[str(inp.path)] = last_seen.pop(str(inp.path))
        return b.plan(ready, [outs[str(i.path)] for i in ready])

    hard = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal hard
        if stop.is_set():
            hard = True
            raise KeyboardInterrupt
        stop.set()

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if threading_main() else {}
    for s in old:
        signal.signal(s, on_signal)
    try:
        for inp in inputs:
            k = stat_key(inp.path)
            if k is not None:
                handled[str(inp.path)] = k
        jobs = b.plan(inputs)
        if progress is not None:
            progress.start(b)
            progress.note(f"watching {', '.join(b.sources)} every {interval:g} s (Ctrl-C to stop)")
        b.execute(jobs, feeder=feeder, feed_every=interval, should_stop=stop.is_set)
    except KeyboardInterrupt:
        hard = True
    finally:
        b.report.interrupted = hard
        b.close(interrupted=hard)
        for s, h in old.items():
            signal.signal(s, h)
        if progress is not None:
            progress.stop()
    return b.report
