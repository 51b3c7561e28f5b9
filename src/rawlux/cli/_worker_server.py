"""The worker process (see :mod:`rawlux.cli.worker`): warm up once, then fork one child per command.

The parent stays single-threaded (forking a threaded process is unsafe): one loop accepts connections, forks
jobs and reaps them. A job's child takes the caller's descriptors, folder, environment and umask and runs
``rawlux.cli.main`` with its arguments, then ends with ``os._exit`` (the parent's state is never torn down by a
child). The parent sends the caller the child's pid when it starts and its exit status and peak memory when
it ends.
"""
from __future__ import annotations

import os
import sys
import time

from .worker import ENV_IDLE, ENV_SPARE, _recv, _send, paths


def warm_up() -> None:
    """Import the develop path and load its compiled kernels, then develop the bundled sample through every
    built-in look (the first call of each kernel and table builds its caches), and freeze the heap so
    children do not copy it by touching it."""
    import gc
    import importlib
    import pkgutil
    import tempfile
    from pathlib import Path

    import rawlux
    from . import develop as _develop  # noqa: F401 - the command module itself

    for pkg in ("rawlux.io", "rawlux.isp", "rawlux.colour", "rawlux.optics", "rawlux.looks", "rawlux.pipeline",
                "rawlux.borders"):
        mod = importlib.import_module(pkg)
        for info in pkgutil.walk_packages(mod.__path__, pkg + "."):
            if not info.name.rsplit(".", 1)[-1].startswith(("cli", "__main__")):
                try:
                    importlib.import_module(info.name)
                except Exception as e:  # noqa: BLE001 - an optional module (lensfun, heif) may be absent
                    print(f"worker: skipped {info.name}: {e}", file=sys.stderr)
    load_cached_kernels()
    no_hugepage_advice()
    from ..demo import run_demo

    with tempfile.TemporaryDirectory() as d:
        run_demo(Path(d))
    del rawlux
    gc.collect()
    gc.freeze()
    release_free_heap()


def release_free_heap() -> None:
    """Give the heap's free memory back to the system (glibc ``malloc_trim``). Without it a child's large
    arrays reuse the parent's freed heap pages, and every write to one is a copy-on-write fault: measured on
    the 12 MP develop, 61 000 page faults and +0.3 s per job, against 7 800 faults with it."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass                                      # not glibc: nothing to do


def no_hugepage_advice() -> None:
    """Stop numpy advising huge pages for its big arrays in this process and its forks. Each job is a fresh fork
    that allocates its full-size buffers anew; where the kernel's THP defrag setting is ``madvise`` (common), a
    fault in an advised region may compact memory synchronously, which stalls most when other programs have
    fragmented it. Measured with `bench_develop.py --runs 5` (interleaved with rawpy, rawtherapee and
    own-process runs): worker jobs 0.94 and 0.99 s without the advice, 1.04 and 1.05 s with it; back to back,
    the same (0.8 s in a forked child either way; 4 KiB faults are cheap here, ~69 000 against ~7 300)."""
    import numpy as np

    for mod in (getattr(np, "_core", None), getattr(np, "core", None)):
        setter = getattr(getattr(mod, "multiarray", None), "_set_madvise_hugepage", None)
        if setter is not None:
            setter(False)
            return


def load_cached_kernels() -> int:
    """Load every overload in numba's on-disk cache of the imported rawlux kernels (no compiling: only what
    this machine compiled before and is still current). Returns how many were loaded."""
    from numba.core.registry import CPUDispatcher

    n = 0
    for name, mod in list(sys.modules.items()):
        if not name.startswith("rawlux.") or mod is None:
            continue
        for obj in list(vars(mod).values()):
            if not isinstance(obj, CPUDispatcher) or getattr(obj, "_cache", None) is None:
                continue
            try:
                sigs = [key[0] for key in obj._cache._cache_file._load_index()]
            except Exception:  # noqa: BLE001 - numba's cache layout is internal: a miss only costs speed
                continue
            for sig in sigs:
                try:
                    obj.compile(sig)
                    n += 1
                except Exception:  # noqa: BLE001
                    pass
    return n


def _child(req: dict, fds: list[int]) -> int:
    """In the forked child: become the caller's command."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    for target, fd in zip((0, 1, 2), fds):
        if fd != target:
            os.dup2(fd, target)
            os.close(fd)
    enc = req.get("encoding") or "utf-8"
    sys.stdin = open(0, "r", closefd=False)  # noqa: SIM115 - the process's own descriptors
    sys.stdout = open(1, "w", encoding=enc, errors="replace", closefd=False,  # noqa: SIM115
                      buffering=1 if os.isatty(1) else -1)
    sys.stderr = open(2, "w", encoding=enc, errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    os.umask(int(req["umask"]))
    threads = os.environ.get("NUMBA_NUM_THREADS")
    if threads:
        import numba
        try:
            numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
        except ValueError:
            pass
    sys.argv = ["rawlux", *req["argv"]]
    from . import main

    rc = main(list(req["argv"]))
    return rc if isinstance(rc, int) else 1


def _become_job(req: dict, fds: list[int]) -> None:  # pragma: no cover - runs in a child
    """In a child: run the caller's command, then leave without touching the parent's state."""
    rc = 70
    try:
        rc = _child(req, fds)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - report anything, then leave without touching the parent's state
        import traceback
        traceback.print_exc()
        rc = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(rc)


def _detach(listener, wake: tuple[int, int], *socks) -> None:  # pragma: no cover - runs in a child
    """In a freshly forked child: drop the parent's loop (wake-up pipe, listener, its side of connections)."""
    import signal
    signal.set_wakeup_fd(-1)
    for fd in wake:
        os.close(fd)
    listener.close()
    for sk in socks:
        sk.close()


def _fork_job(conn, req: dict, fds: list[int], listener, wake: tuple[int, int]) -> int:
    release_free_heap()                           # what the loop freed since (cheap: little changes between jobs)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child (its exit status is what the tests check)
        try:
            _detach(listener, wake, conn)
        finally:
            _become_job(req, fds)
    for fd in fds:
        os.close(fd)
    _send(conn, {"pid": pid})
    return pid


#: heap the spare job process faults in while the worker is idle (bytes): what the last job needed beyond the
#: worker's own memory, at least SPARE_HEAP, at most SPARE_HEAP_MAX
SPARE_HEAP = 256 << 20
SPARE_HEAP_MAX = 1 << 30


def prewarm(nbytes: int) -> None:  # pragma: no cover - runs in the spare child
    """Fault in ``nbytes`` of heap and give it back to the allocator, which keeps it (``_tune_malloc``'s
    thresholds), and start numba's threads with their own heaps warm (a small demosaic): the job that this
    process becomes then writes its full-size buffers into memory it already has. A fresh process pays a
    page fault per 4 KiB on first touch, about 0.05–0.1 s for a 12 MP develop. Huge pages are asked for
    here (they fault 512× less often); a compaction stall, if any, happens now, while the worker is idle."""
    import ctypes

    import numpy as np

    from ..isp.demosaic.ri import ri

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = [ctypes.c_size_t]
        libc.free.argtypes = [ctypes.c_void_p]
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    except (OSError, AttributeError):
        return                                     # not glibc: nothing to warm
    ptr = libc.malloc(nbytes)
    if ptr:
        page = 2 << 20
        start = (ptr + page - 1) // page * page
        if start + page < ptr + nbytes:
            libc.madvise(start, (ptr + nbytes - start) // page * page, 14)   # MADV_HUGEPAGE
        ctypes.memset(ptr, 0, nbytes)
        libc.free(ptr)
    ri(np.zeros((512, 2048), np.float32), "RGGB")   # every thread allocates its tiles once


def _spawn_spare(listener, wake: tuple[int, int], nbytes: int, jobs: dict) -> tuple[int, object] | None:
    """Fork the next job's process ahead of time (see :func:`prewarm`): it waits on a socket pair for one
    request and its descriptors, then becomes that job. Returns (pid, the parent's end)."""
    import socket

    try:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    release_free_heap()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the spare
        try:
            _detach(listener, wake, ours, *jobs.values())
            prewarm(nbytes)
            req, fds = _recv(theirs, want_fds=3)
            theirs.close()
        except BaseException:  # noqa: BLE001 - the worker went away (EOF) or the request was bad
            os._exit(0)
        _become_job(req, fds)
    theirs.close()
    return pid, ours


def _hand_to_spare(spare: tuple[int, object], req: dict, fds: list[int]) -> int | None:
    """Give a job to the spare; its pid, or None when the spare is gone (the caller forks instead)."""
    pid, sock = spare
    try:
        _send(sock, req, fds)
    except OSError:
        return None
    finally:
        sock.close()                                # type: ignore[attr-defined]
    return pid


def _reap(jobs: dict, state: dict) -> None:
    while jobs:
        try:
            pid, status, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            jobs.clear()
            return
        if pid == 0:
            return
        conn = jobs.pop(pid, None)
        if conn is None:
            if state["spare"] and state["spare"][0] == pid:    # the spare died (killed): fork a new one later
                state["spare"][1].close()
                state["spare"] = None
            continue
        state["heap"] = min(max(SPARE_HEAP, ru.ru_maxrss * 1024 - state["base_rss"]), SPARE_HEAP_MAX)
        rc = os.waitstatus_to_exitcode(status)
        rc = 128 - rc if rc < 0 else rc           # killed by a signal: the shell's convention
        try:
            _send(conn, {"rc": rc, "maxrss_kib": ru.ru_maxrss})
        except OSError:
            pass
        conn.close()


def _peer_ok(conn) -> bool:
    import socket
    import struct

    try:
        cred = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return True                                 # no peer credentials here: the 0700 folder still guards
    _pid, uid, _gid = struct.unpack("3i", cred)
    return uid == os.getuid()


def _handle(conn, listener, jobs: dict, state: dict) -> None:
    conn.settimeout(5.0)
    if not _peer_ok(conn):
        conn.close()
        return
    try:
        _send(conn, {"hello": "rawlux-worker", "pid": os.getpid()})
        req, fds = _recv(conn, want_fds=3)
    except (OSError, EOFError, ValueError):
        conn.close()
        return
    op = req.get("op")
    if op == "run" and len(fds) == 3:
        conn.settimeout(None)
        pid = _hand_to_spare(state["spare"], req, fds) if state["spare"] else None
        state["spare"] = None
        if pid is None:
            pid = _fork_job(conn, req, fds, listener, state["wake"])
        else:
            for fd in fds:
                os.close(fd)
            _send(conn, {"pid": pid})
        jobs[pid] = conn
        state["jobs"] += 1
        return
    for fd in fds:
        os.close(fd)
    if op == "status":
        import resource
        _send(conn, {"pid": os.getpid(), "jobs": state["jobs"], "running": len(jobs),
                     "uptime_s": round(time.monotonic() - state["t0"], 1),
                     "idle_s": round(time.monotonic() - state["last"], 1),
                     "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                     "spare": state["spare"][0] if state["spare"] else None, "spare_heap_mib": state["heap"] >> 20})
    elif op == "stop":
        state["stop"] = True
        _send(conn, {"stopping": os.getpid()})
    conn.close()


def _wait_for_exit(pid: int | None, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while pid and time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":     # ended, not reaped yet
                    return
        except (OSError, IndexError):
            try:
                os.kill(pid, 0)
            except OSError:
                return
        time.sleep(0.05)


def serve(p: dict[str, str], after_pid: int | None = None) -> int:
    """Run a worker for the identity in ``p`` until it has been idle for RAWLUX_WORKER_IDLE seconds (warming
    up once process ``after_pid``, the command that started it, has ended)."""
    import fcntl
    import socket

    os.environ["NUMBA_THREADING_LAYER"] = "workqueue"     # fork-safe (set before numba is imported)
    # BLAS on one thread from the start (read when numpy, SciPy and OpenCV load their OpenBLAS): a develop keeps
    # BLAS to one thread anyway (rawlux._threads), and in a forked job, setting that limit on a pool that the
    # fork left behind starts a thread that spins for ~0.1 s (measured: the job's decode 0.06 -> 0.13 s)
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    lock = open(p["lock"], "a")  # noqa: SIM115 - held for the worker's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0                                           # another worker of this identity runs or starts
    try:
        os.unlink(p["sock"])
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(p["sock"])
    finally:
        os.umask(old)
    listener.listen(64)                                     # callers queue here while we warm up
    try:
        _wait_for_exit(after_pid)
        t = time.perf_counter()
        warm_up()
        print(f"worker {os.getpid()} ({p['key']}): warm in {time.perf_counter() - t:.2f} s", file=sys.stderr,
              flush=True)
        return _loop(listener, float(os.environ.get(ENV_IDLE, "900")))
    finally:
        try:
            if os.path.exists(p["sock"]):
                os.unlink(p["sock"])
        finally:
            listener.close()


def _loop(listener, idle: float) -> int:
    """Accept, fork, reap. SIGCHLD wakes the loop (through a self-pipe) so a job's status goes back at once."""
    import select
    import signal

    jobs: dict = {}
    import resource

    state = {"jobs": 0, "t0": time.monotonic(), "last": time.monotonic(), "stop": False, "spare": None,
             "heap": SPARE_HEAP, "base_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    use_spare = os.environ.get(ENV_SPARE, "on").strip().lower() not in ("0", "off", "no", "false")
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_a: None)
    state["wake"] = (wake_r, wake_w)
    listener.setblocking(False)
    while not state["stop"]:
        _reap(jobs, state)
        if jobs:
            state["last"] = time.monotonic()
        elif time.monotonic() - state["last"] > idle:
            break
        if use_spare and not jobs and state["spare"] is None:
            state["spare"] = _spawn_spare(listener, state["wake"], state["heap"], jobs)
        ready, _, _ = select.select([listener, wake_r], [], [], 1.0)
        if wake_r in ready:
            try:
                os.read(wake_r, 512)
            except BlockingIOError:
                pass
        if listener not in ready:
            continue
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            break
        conn.setblocking(True)
        state["last"] = time.monotonic()
        _handle(conn, listener, jobs, state)
    if state["spare"]:
        state["spare"][1].close()                           # the spare reads EOF and leaves
        jobs[state["spare"][0]] = None
        state["spare"] = None
    while jobs:                                             # let running jobs finish and report
        time.sleep(0.05)
        _reap(jobs, state)
    return 0


if __name__ == "__main__":  # pragma: no cover - the worker process itself (tests drive it through the CLI)
    sys.exit(serve(paths(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None))
