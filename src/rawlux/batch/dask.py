"""The distributed executor: the same jobs on an existing Dask ``distributed`` cluster.

Two ways to move the data:

- default: the client reads each input and ships its bytes with the task; the worker develops them in a
  private temporary folder and returns the encoded output's bytes; the client (which keeps the catalog)
  writes the output atomically. Workers need no access to the client's disks.
- ``--shared-storage``: workers read the inputs and write the outputs by path (the same paths must be
  visible everywhere, e.g. an NFS mount); a completion marker next to the catalog makes a rerun of a task
  whose worker died *after* renaming its output return that output instead of writing it again.

The input bytes travel inside the task (not scattered), so when a worker dies the scheduler can rerun its
tasks on another worker by itself; a task that still fails for infrastructure reasons (``KilledWorker``,
a lost connection) comes back as a *crashed* result, which the engine resubmits once. The client writes
each output exactly once: when, and only when, its future first completes.
"""
from __future__ import annotations

import time
import uuid
import warnings
from typing import Any

from ..errors import ParameterError
from .jobs import Job, Result


class DaskExecutor:
    kind = "dask"

    def __init__(self, scheduler: str, *, shared_storage: bool = False, timeout: float = 20.0):
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - distributed is an optional dependency
            raise ParameterError("--scheduler needs the 'distributed' package (pip install 'rawlux[dask]')") from None
        if "://" not in scheduler:
            scheduler = "tcp://" + scheduler
        try:
            self.client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise ParameterError(f"--scheduler {scheduler}: cannot connect ({e}); is `dask scheduler` running "
                                 f"there and reachable?") from None
        self.scheduler = scheduler
        self.shared = shared_storage
        self.futures: dict[Any, Job] = {}
        self._done: list[Result] = []
        self._cap_checked = 0.0
        self._capacity = 2

    def describe(self) -> str:
        try:
            n = len(self.client.nthreads())
        except Exception:  # noqa: BLE001
            n = 0
        how = "shared storage" if self.shared else "bytes through the cluster"
        return f"dask cluster {self.scheduler} ({n} worker(s) at start, {how})"

    @property
    def capacity(self) -> int:
        """Two tasks per worker thread in flight: enough to keep workers busy, bounded client memory."""
        now = time.monotonic()
        if now - self._cap_checked > 2.0:
            try:
                threads = sum(self.client.nthreads().values())
            except Exception:  # noqa: BLE001 - keep the last value while the scheduler is busy
                threads = self._capacity // 2
            self._capacity = max(2, 2 * threads)
            self._cap_checked = now
        return self._capacity

    def in_flight(self) -> int:
        return len(self.futures)

    def submit(self, job: Job) -> str:
        from .jobs import run_job_bytes, run_job_shared

        key = f"rawlux-batch-{uuid.uuid4().hex}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # "large object in task graph": intended, see the module doc
            if self.shared:
                fut = self.client.submit(run_job_shared, job, key=key, pure=False, retries=0)
            else:
                try:
                    with open(job.src, "rb") as fh:
                        data = fh.read()
                except OSError as e:
                    self._done.append(Result(src=job.src, ok=False, worker="client", started_at=time.time(),
                                             seconds=0.0, error=f"{job.src}: cannot be read: {e.strerror or e}",
                                             error_code=3))
                    return "client"
                fut = self.client.submit(run_job_bytes, job, data, key=key, pure=False, retries=0)
        self.futures[fut] = job
        return "dask"

    def wait(self, timeout: float) -> list[Result]:
        from distributed import wait as dwait

        out, self._done = self._done, []
        if not self.futures:
            if not out and timeout > 0:
                time.sleep(timeout)
            return out
        try:
            with self.client.as_current():
                done, _ = dwait(list(self.futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:       # nothing finished yet (distributed's TimeoutError is the builtin one)
            return out
        for fut in done:
            job = self.futures.pop(fut)
            try:
                if fut.status == "finished":
                    out.append(fut.result())
                    continue
                exc = fut.exception() if fut.status == "error" else None
                why = f"{type(exc).__name__}: {exc}" if exc is not None else fut.status
            except Exception as e:  # noqa: BLE001 - e.g. the result was lost with its worker
                why = f"{type(e).__name__}: {e}"
            finally:
                fut.release()
            out.append(Result(src=job.src, ok=False, worker="dask", started_at=time.time(), seconds=0.0,
                              crashed=True, error_code=1, error=f"{job.src}: the cluster lost this task ({why})"))
        return out

    def close(self, kill: bool = False) -> None:
        try:
            if self.futures:
                self.client.cancel(list(self.futures), force=True)
            self.futures.clear()
            self.client.close(timeout=10)
        except Exception:  # noqa: BLE001 - closing must not hide the batch's own outcome
            pass
