"""The warm develop worker (rawlux.cli.worker): same bytes as a process of its own, the caller's folder,
exit codes and errors, status/stop, identity, privacy. Real processes, a real socket, a real fork."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from testdata import N900_PROFILE, ROOT

DEMO = ROOT / "src" / "rawlux" / "data" / "demo-n900-grbg-10bit.png"
CFA = "GRBG,50,1023"


def _run(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rawlux.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=180)


@pytest.fixture(scope="module")
def worker_env():
    # a short private folder of its own (Unix socket paths are limited to ~100 bytes)
    d = tempfile.mkdtemp(prefix="rlxw-")
    env = dict(os.environ, RAWLUX_WORKER_DIR=d, RAWLUX_WORKER="on", RAWLUX_WORKER_IDLE="120",
               NUMBA_NUM_THREADS="2")
    env.pop("RAWLUX_DEBUG", None)
    r = _run("worker", "start", env=env)
    assert r.returncode == 0, r.stderr
    assert "is warm" in r.stdout
    yield env
    _run("worker", "stop", env=env)
    import shutil
    shutil.rmtree(d, ignore_errors=True)


def test_same_bytes_as_own_process_and_relative_paths(worker_env, tmp_path):
    args = ["develop", str(DEMO), "--cfa", CFA, "--profile", str(N900_PROFILE), "-q"]
    own = _run(*args, "-o", str(tmp_path / "own.jpg"), env=dict(worker_env, RAWLUX_WORKER="off"))
    assert own.returncode == 0, own.stderr
    # require: fails instead of running in this process if the worker does not take it
    via = _run(*args, "-o", "via.jpg", "--timings", env=dict(worker_env, RAWLUX_WORKER="require"), cwd=tmp_path)
    assert via.returncode == 0, via.stderr
    assert (tmp_path / "via.jpg").read_bytes() == (tmp_path / "own.jpg").read_bytes()
    assert "the worker's job" in via.stdout                  # --timings says who did the work
    assert "start-up (interpreter + imports)" in via.stdout


def test_errors_and_exit_codes_come_back(worker_env, tmp_path):
    env = dict(worker_env, RAWLUX_WORKER="require")
    r = _run("develop", str(tmp_path / "missing.dng"), "-o", str(tmp_path / "x.jpg"), env=env)
    assert r.returncode == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing.dng" in lines[0] and lines[0].startswith("rawlux: error:")
    r = _run("develop", str(DEMO), "--set", "tone.contrast=banana", "-o", str(tmp_path / "y.jpg"), env=env)
    assert r.returncode == 2 and "banana" in r.stderr
    assert not (tmp_path / "x.jpg").exists() and not (tmp_path / "y.jpg").exists()


def test_status_names_this_installation(worker_env):
    r = _run("worker", "status", env=worker_env)
    assert r.returncode == 0 and "this installation" in r.stdout


def test_require_without_a_worker_fails_cleanly(tmp_path):
    d = tempfile.mkdtemp(prefix="rlxe-")
    try:
        env = dict(os.environ, RAWLUX_WORKER_DIR=d, RAWLUX_WORKER="require")
        r = _run("develop", str(DEMO), "-o", str(tmp_path / "z.jpg"), env=env)
        assert r.returncode == 1 and "no worker is running" in r.stderr
        assert not any(n.endswith(".sock") for n in os.listdir(d))        # and none was started
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


def test_identity_follows_code_and_import_environment(monkeypatch):
    from rawlux.cli import worker

    a = worker.identity()
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1" if os.environ.get("NUMBA_NUM_THREADS") != "1" else "2")
    assert worker.identity() != a
    monkeypatch.setenv("RAWLUX_WORKER", "require")            # the switch itself is not part of it
    b = worker.identity()
    monkeypatch.setenv("RAWLUX_WORKER", "on")
    assert worker.identity() == b


def test_folder_must_be_private(tmp_path, monkeypatch):
    from rawlux.cli import worker

    d = tmp_path / "shared"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    monkeypatch.setenv("RAWLUX_WORKER_DIR", str(d))
    monkeypatch.setenv("RAWLUX_WORKER", "on")
    with pytest.raises(worker.Unavailable, match="not private"):
        worker.folder()
    assert worker.forward(["develop", "x.dng"]) is None       # the command then runs in its own process


def test_only_develop_goes_to_the_worker(monkeypatch):
    from rawlux.cli import worker

    monkeypatch.setenv("RAWLUX_WORKER", "require")
    assert worker._command(["--debug", "develop", "a.dng"]) == "develop"
    assert worker.forward(["looks", "list"]) is None
    assert worker.forward(["--help"]) is None


def test_closed_stdin_still_develops(worker_env, tmp_path):
    # fd 0 closed: it cannot be passed to the worker, so the command runs in its own process
    r = subprocess.run([sys.executable, "-m", "rawlux.cli", "develop", str(DEMO), "--cfa", CFA, "--profile",
                        str(N900_PROFILE), "-q", "-o", str(tmp_path / "c.jpg")], env=worker_env,
                       capture_output=True, text=True, timeout=180, preexec_fn=lambda: os.close(0))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c.jpg").stat().st_size > 1000


def _status(env) -> dict:
    from rawlux.cli import worker as w

    old = dict(os.environ)
    os.environ.update(env)
    try:
        return w.request("status", w.paths()) or {}
    finally:
        os.environ.clear()
        os.environ.update(old)


def _wait_for_spare(env, not_pid=None, limit=30.0) -> int:
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        pid = _status(env).get("spare")
        if pid and pid != not_pid:
            return pid
        time.sleep(0.1)
    raise AssertionError("no spare job process appeared")


def test_jobs_run_in_the_prewarmed_spare_and_a_lost_spare_is_replaced(worker_env, tmp_path):
    """While idle the worker keeps one job process forked ahead with its heap faulted in; a job runs in it, a
    new one is forked after; a spare that dies (here: killed) is noticed and the job forks instead."""
    import signal

    env = dict(worker_env, RAWLUX_WORKER="require")
    args = ["develop", str(DEMO), "--cfa", CFA, "--profile", str(N900_PROFILE), "-q"]
    spare = _wait_for_spare(worker_env)
    r = _run(*args, "-o", str(tmp_path / "a.jpg"), env=env)
    assert r.returncode == 0, r.stderr
    spare2 = _wait_for_spare(worker_env, not_pid=spare)       # the old spare became the job and ended
    with pytest.raises(ProcessLookupError):
        os.kill(spare, 0)
    os.kill(spare2, signal.SIGKILL)
    r = _run(*args, "-o", str(tmp_path / "b.jpg"), env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.jpg").read_bytes() == (tmp_path / "b.jpg").read_bytes()
    assert _wait_for_spare(worker_env, not_pid=spare2) != spare
    assert "spare job process" in _run("worker", "status", env=worker_env).stdout


def test_no_spare_when_switched_off(tmp_path):
    d = tempfile.mkdtemp(prefix="rlxs-")
    env = dict(os.environ, RAWLUX_WORKER_DIR=d, RAWLUX_WORKER="on", RAWLUX_WORKER_IDLE="60",
               RAWLUX_WORKER_SPARE="off", NUMBA_NUM_THREADS="2")
    try:
        assert _run("worker", "start", env=env).returncode == 0
        r = _run("develop", str(DEMO), "--cfa", CFA, "--profile", str(N900_PROFILE), "-q", "-o",
                 str(tmp_path / "a.jpg"), env=dict(env, RAWLUX_WORKER="require"))
        assert r.returncode == 0, r.stderr
        st = _status(env)
        assert st.get("jobs") == 1 and st.get("spare") is None
    finally:
        _run("worker", "stop", env=env)
        import shutil
        shutil.rmtree(d, ignore_errors=True)
