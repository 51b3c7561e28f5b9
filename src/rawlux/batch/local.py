"""The local executor: a pool of worker processes on this machine (embedded, nothing to start).

Each worker is a spawned Python process holding one job at a time over a pipe, so the pool always knows
which file a worker was developing: a worker that crashes (a decoder segfault, the OOM killer) costs only
that file, which the engine retries once on a fresh worker and then records as failed. Workers die with
the parent (``PR_SET_PDEATHSIG`` on Linux, and a parent check before every reply), so ``kill -9`` of the
batch leaves no orphan still writing. Each worker's numba/OpenCV thread count is ``threads`` (default:
CPU cores ÷ workers), so N workers never oversubscribe the machine; the default pool size is one worker per
core, capped by the free memory (:data:`WORKER_MEMORY` per worker).
"""
from __future__ import annotations

import os
import signal
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .jobs import Job, Result


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


#: memory a worker may need at its peak for a large raw (a 12 MP develop peaks near 0.65 GB; 50 MP ≈ 2.7 GB)
WORKER_MEMORY = 1.5 * 2**30


def default_workers() -> int:
    """One worker per core, but no more than the free memory holds (``WORKER_MEMORY`` each)."""
    n = cpu_count()
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        n = min(n, max(1, int(avail // WORKER_MEMORY)))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        pass
    return n


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def _worker_main(conn: Any, threads: int, parent_pid: int, mode: str) -> None:
    """Body of one worker process."""
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    import logging
    logging.basicConfig(level=logging.ERROR)  # notices travel in the Result (and the catalog), not on stderr
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import cv2
        cv2.setNumThreads(threads)
    except Exception:  # noqa: BLE001 - OpenCV is optional for the pool itself
        pass
    from .jobs import run_job_path, run_job_shared
    run = run_job_shared if mode == "shared" else run_job_path
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        res = run(job)
        if os.getppid() != parent_pid:
            os._exit(0)
        try:
            conn.send(res)
        except (BrokenPipeError, OSError):
            break
    os._exit(0)


@dataclass
class _Worker:
    proc: Any
    conn: Any
    job: Job | None = None
    since: float = 0.0


class LocalPool:
    """``submit`` jobs (at most ``capacity`` at once) and collect :class:`Result` s with ``wait``."""

    kind = "local"

    def __init__(self, workers: int | None = None, *, threads: int | None = None, mode: str = "path"):
        import multiprocessing as mp

        n = workers or default_workers()
        if n < 1:
            from ..errors import ParameterError
            raise ParameterError(f"--workers {workers}: must be at least 1")
        self.workers = n
        self.threads = threads or max(1, cpu_count() // n)
        self.mode = mode
        self._ctx = mp.get_context("spawn")
        self._pool: list[_Worker] = []
        self._done: deque[Result] = deque()
        for _ in range(n):
            self._pool.append(self._spawn())

    @property
    def capacity(self) -> int:
        return self.workers

    def describe(self) -> str:
        return f"local pool, {self.workers} worker process(es) × {self.threads} thread(s)"

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_worker_main, args=(child, self.threads, os.getpid(), self.mode),
                                 name="rawlux-batch-worker", daemon=True)
        proc.start()
        child.close()
        return _Worker(proc=proc, conn=parent)

    def in_flight(self) -> int:
        return sum(1 for w in self._pool if w.job is not None)

    def submit(self, job: Job) -> str:
        for w in self._pool:
            if w.job is None:
                w.job, w.since = job, time.time()
                try:
                    w.conn.send(job)
                except (BrokenPipeError, OSError):
                    self._crashed(w)
                return f"local/pid{w.proc.pid}"
        raise RuntimeError("LocalPool.submit: no idle worker (the engine must respect capacity)")

    def _crashed(self, w: _Worker) -> None:
        job = w.job
        w.proc.join(timeout=5)
        code = w.proc.exitcode
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        if job is not None:
            self._done.append(Result(src=job.src, ok=False, worker=f"local/pid{w.proc.pid}", started_at=w.since,
                                     seconds=time.time() - w.since, error_code=1, crashed=True,
                                     error=f"{job.src}: the worker process died while developing it ({how})"))
        try:
            w.conn.close()
        except OSError:
            pass
        i = self._pool.index(w)
        self._pool[i] = self._spawn()

    def wait(self, timeout: float) -> list[Result]:
        """Results that are ready within ``timeout`` seconds (possibly none)."""
        from multiprocessing.connection import wait as mp_wait

        if not self._done:
            busy = [w for w in self._pool if w.job is not None]
            if busy:
                handles: list[Any] = [w.conn for w in busy] + [w.proc.sentinel for w in busy]
                mp_wait(handles, timeout)
            elif timeout > 0:
                time.sleep(timeout)
        for w in list(self._pool):
            if w.job is None:
                if not w.proc.is_alive():          # an idle worker died: replace it quietly
                    self._pool[self._pool.index(w)] = self._spawn()
                continue
            got = False
            try:
                while w.conn.poll():
                    msg = w.conn.recv()
                    if isinstance(msg, Result):
                        self._done.append(msg)
                        w.job = None
                        got = True
                        break
            except (EOFError, OSError):
                pass
            if not got and not w.proc.is_alive():
                self._crashed(w)
        out = list(self._done)
        self._done.clear()
        return out

    def close(self, kill: bool = False) -> None:
        for w in self._pool:
            if kill:
                if w.proc.is_alive():
                    w.proc.kill()
            else:
                try:
                    w.conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
        deadline = time.time() + (2 if kill else 30)
        for w in self._pool:
            w.proc.join(timeout=max(0.1, deadline - time.time()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=5)
            try:
                w.conn.close()
            except OSError:
                pass
        self._pool.clear()
