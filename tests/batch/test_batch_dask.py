"""Distributed batches on a real Dask cluster started here: one scheduler and two workers on 127.0.0.1
(subprocesses, bounded in time, always cleaned up); one worker is killed mid-run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchkit import KDC, LG, copies, env, leftovers, read_image, rows, sha256

pytest.importorskip("distributed")


class Cluster:
    def __init__(self, folder: Path):
        self.folder = folder
        self.file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self.sched = self._start("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                 "--no-dashboard", "--scheduler-file", self.file)
        t = time.time()
        while not self.file.exists() or not self.file.read_text().strip().endswith("}"):
            if time.time() - t > 60 or self.sched.poll() is not None:
                raise RuntimeError("dask scheduler did not start")
            time.sleep(0.2)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers: list[subprocess.Popen] = []

    def _start(self, module: str, *args: object) -> subprocess.Popen:
        log = open(self.folder / f"{module.rsplit('.', 1)[-1]}-{len(self.procs)}.log", "w")
        p = subprocess.Popen([sys.executable, "-m", module, *map(str, args)], stdout=log, stderr=log, env=env(),
                             start_new_session=True)
        self.procs.append(p)
        return p

    def add_workers(self, n: int) -> None:
        from distributed import Client

        for _ in range(n):
            self.workers.append(self._start("distributed.cli.dask_worker", "--scheduler-file", self.file,
                                            "--nthreads", "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0",
                                            "--death-timeout", "60"))
        with Client(self.address, timeout=30, set_as_default=False) as c:
            alive = sum(1 for w in self.workers if w.poll() is None)
            c.wait_for_workers(alive, timeout=90)

    def kill_worker_of(self, address: str) -> int:
        """SIGKILL the worker process serving ``address`` (found through the scheduler)."""
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as c:
            pid = c.run(os.getpid, workers=[address])[address]
        os.kill(pid, signal.SIGKILL)
        return pid

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def cluster(tmp_path: Path):
    c = Cluster(tmp_path)
    try:
        c.add_workers(2)
        yield c
    finally:
        c.close()


class KillOnFirstResult:
    """A progress sink that kills the worker which delivered the first result (it holds queued tasks)."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.killed: int | None = None
        self.victim: str | None = None

    def start(self, batch) -> None: ...
    def add_total(self, n: int) -> None: ...
    def note(self, msg: str) -> None: ...
    def stop(self) -> None: ...

    def outcome(self, o) -> None:
        if o.status == "done" and self.killed is None and o.worker and o.worker.startswith("tcp://"):
            self.victim = o.worker
            self.killed = self.cluster.kill_worker_of(o.worker)


@pytest.mark.parametrize("shared", [False, True], ids=["bytes", "shared-storage"])
def test_dask_batch_survives_a_killed_worker(cluster: Cluster, tmp_path: Path, shared: bool) -> None:
    from rawlux.batch import run_batch

    src = tmp_path / "in"
    inputs = copies(src, 10, (KDC, LG))
    (src / "broken.dng").write_bytes(LG.read_bytes()[:20000])
    out = tmp_path / "out"
    spy = KillOnFirstResult(cluster)
    rep = run_batch([str(src)], out, scheduler=cluster.address, shared_storage=shared, progress=spy)
    assert spy.killed is not None, "no worker was killed"
    assert rep.done == len(inputs) and rep.count("failed") == 1
    assert "broken.dng" in next(f.error for f in rep.files if f.status == "failed")
    cat = rows(out)
    assert len(cat) == len(inputs) + 1
    done = [r for r in cat.values() if r["status"] == "done"]
    # every output exists exactly once, is complete, and matches its catalog checksum
    names = sorted(p.name for p in out.iterdir() if p.is_file())
    assert names == sorted(f"img_{i:03d}.jpg" for i in range(len(inputs)))
    for r in done:
        assert sha256(out / r["out_path"]) == r["out_checksum"]
        assert r["content_hash"] == sha256(r["src"])
        img = read_image(out / r["out_path"])
        assert img.shape[0] > 300 and img.std() > 5
    assert not leftovers(out)
    # the surviving worker finished what the killed one had been given
    workers = {r["worker"] for r in done}
    assert len(workers) == 2 and spy.victim in workers
    after = [r for r in done if r["worker"] != spy.victim]
    assert len(after) >= 2
    if shared:
        assert not list((out / ".rawlux" / "tasks").glob("*.json"))   # markers are cleared once recorded
    # a re-run on the (now one-worker) cluster has nothing to do
    rep2 = run_batch([str(src)], out, scheduler=cluster.address, shared_storage=shared)
    assert rep2.skipped == len(inputs) and rep2.done == 0
