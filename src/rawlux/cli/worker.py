"""The develop worker: a warm process that runs ``rawlux develop`` for the short-lived command.

A ``rawlux develop`` process spends about a second before it touches a pixel: the interpreter, numpy, OpenCV,
rawpy and numba's compiled kernels (numba's CPU target alone takes ~0.35 s to start). That start-up is paid
once here: the first ``rawlux develop`` starts a worker in the background; it imports the develop path and loads
every cached kernel of it, then waits on a Unix socket. Each later ``rawlux develop`` (this module's
:func:`forward`, which needs only the standard library) connects and hands over its arguments, working folder,
environment, umask and its own stdin/stdout/stderr (file descriptors passed over the socket). The worker forks:
the child *is* the command from then on (same code as a cold run: ``rawlux.cli.main``), writes to the caller's
terminal or pipes, and its exit status (and peak memory) goes back to the caller, which exits with it. Ctrl-C and
SIGTERM in the caller are forwarded to the child.

- Every job is a fresh fork of the warm process: nothing one job does (caches, globals, a crash) reaches the
  next; two commands run side by side.
- The worker is private: a 0700 folder of the user's (``$XDG_RUNTIME_DIR`` or the temp dir), a 0600 socket,
  the peer's uid checked on every connection.
- One worker per installation and environment: the socket's name hashes the version, the package folder and
  its sources' modification times, the interpreter, and the environment variables read at import time
  (``NUMBA_*``, ``OMP_*``, ``PYTHON*``...). Edit the code, switch venv: a new worker; the old one idles out.
- It exits after ``RAWLUX_WORKER_IDLE`` seconds without a job (default 900) and on ``rawlux worker stop``.
- ``RAWLUX_WORKER=off`` never uses it (each command runs in its own process, as before); ``=require`` makes a
  command fail when the worker cannot be reached (for tests). If the worker cannot be started or does not answer,
  the command runs in its own process: it never fails because of the worker.

numba's thread pool in the worker is the ``workqueue`` layer, the one that is safe to fork (OpenMP is not).
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import sys
import time

ENV_SWITCH = "RAWLUX_WORKER"
ENV_DIR = "RAWLUX_WORKER_DIR"
ENV_IDLE = "RAWLUX_WORKER_IDLE"
ENV_SPARE = "RAWLUX_WORKER_SPARE"        # off: fork each job on demand, with no spare process kept warm
ENV_STARTED = "_RAWLUX_CLIENT_STARTED"     # the caller's start time (boot clock), for --timings' start-up row
#: the commands the worker runs (its warm-up covers their path)
COMMANDS = frozenset({"develop"})
#: environment variables read when modules are imported: part of the worker's identity
_IMPORT_ENV = ("NUMBA_", "OMP_", "MKL_", "OPENBLAS_", "PYTHON", "OPENCV_", "LD_", "LENSFUN", "RAWLUX_")
#: how long a caller waits for a worker it started to warm up, and for an existing one to answer
START_WAIT_S, ANSWER_WAIT_S = 60.0, 10.0


class Unavailable(Exception):
    """The worker cannot be used (the command then runs in its own process)."""


# ------------------------------------------------------------------------------------------------ identity
def _mode() -> str:
    v = os.environ.get(ENV_SWITCH, "on").strip().lower()
    if v in ("0", "off", "no", "false", "never"):
        return "off"
    return "require" if v == "require" else "on"


def _command(args: list[str]) -> str | None:
    """The command word of ``rawlux [--debug] COMMAND ...``."""
    for a in args:
        if a == "--debug":
            continue
        return None if a.startswith("-") else a
    return None


def _package_dir() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _source_stamp(pkg: str) -> float:
    """The newest modification time of the package's Python sources (an edited checkout gets a new worker)."""
    newest = 0.0
    stack = [pkg]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    if e.name != "__pycache__":
                        stack.append(e.path)
                elif e.name.endswith((".py", ".toml")):
                    newest = max(newest, e.stat().st_mtime)
    return newest


def identity() -> str:
    from .._version import __version__

    pkg = _package_dir()
    env = sorted((k, v) for k, v in os.environ.items()
                 if k.startswith(_IMPORT_ENV) and not k.startswith((ENV_SWITCH, "_RAWLUX")))
    blob = json.dumps([__version__, pkg, _source_stamp(pkg), sys.executable, sys.version, env])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def folder() -> str:
    """The user's private worker folder (created 0700; refused when someone else owns it or can enter it)."""
    base = os.environ.get(ENV_DIR)
    if not base:
        import tempfile
        base = os.path.join(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir(), f"rawlux-{os.getuid()}")
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        st = os.stat(base)
    except OSError as e:
        raise Unavailable(f"cannot use the worker folder {base}: {e.strerror}") from None
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise Unavailable(f"the worker folder {base} is not private to this user")
    return base


def paths(key: str | None = None) -> dict[str, str]:
    d = folder()
    key = key or identity()
    return {"dir": d, "key": key, "sock": os.path.join(d, f"worker-{key}.sock"),
            "lock": os.path.join(d, f"worker-{key}.lock"), "log": os.path.join(d, "worker.log")}


# ------------------------------------------------------------------------------------------------ messages
def _send(sock: socket.socket, obj: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(obj).encode()
    msg = struct.pack("!I", len(data)) + data
    if fds:
        socket.send_fds(sock, [msg], fds)
    else:
        sock.sendall(msg)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def _recv(sock: socket.socket, want_fds: int = 0) -> tuple[dict, list[int]]:
    fds: list[int] = []
    if want_fds:
        head, fds, _flags, _addr = socket.recv_fds(sock, 4, want_fds)
        if not head:
            raise EOFError("connection closed")
        head += _recv_exact(sock, 4 - len(head))
    else:
        head = _recv_exact(sock, 4)
    (n,) = struct.unpack("!I", head)
    if n > 1 << 24:
        raise ValueError(f"message of {n} bytes")
    return json.loads(_recv_exact(sock, n)), list(fds)


# ------------------------------------------------------------------------------------------------ the caller
def _connect(p: dict[str, str], wait: float) -> socket.socket | None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(p["sock"])
        s.settimeout(wait)
        hello, _ = _recv(s)                       # sent when the worker accepts: it is warm
        if hello.get("hello") != "rawlux-worker":
            raise ValueError("not a rawlux worker")
        return s
    except (OSError, EOFError, ValueError):
        s.close()
        return None


def start(p: dict[str, str], after_pid: int | None = None) -> None:
    """Start a worker for this identity in the background (detached; its messages go to the folder's log).
    With ``after_pid`` it warms up only once that process has ended (so it does not slow the command that
    started it)."""
    import subprocess

    cmd = [sys.executable, "-m", "rawlux.cli._worker_server", p["key"]] + ([str(after_pid)] if after_pid else [])
    try:
        with open(p["log"], "ab") as log:
            subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                             close_fds=True, cwd=p["dir"])
    except OSError as e:
        raise Unavailable(f"cannot start a worker: {e.strerror}") from None


def wait_ready(p: dict[str, str], timeout: float = START_WAIT_S) -> socket.socket | None:
    """A connection to the worker at ``p`` once it is warm (None if none answers within ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(p["sock"]):
            s = _connect(p, max(deadline - time.monotonic(), 0.1))
            if s is not None:
                return s
        time.sleep(0.05)
    return None


def connect(spawn: bool = True) -> socket.socket:
    """A connection to a warm worker. None running: (``spawn``) start one that warms up after this process
    ends (this command runs in its own process), and raise :class:`Unavailable`."""
    p = paths()
    if os.path.exists(p["sock"]):
        s = _connect(p, START_WAIT_S)        # a worker still warming up answers when it is ready
        if s is not None:
            return s
    if spawn:
        start(p, after_pid=os.getpid())
        raise Unavailable("no worker was running (one starts now for the next commands)")
    raise Unavailable(f"no worker is running for this installation (in {p['dir']}; `rawlux worker start`)")


def _started_at() -> float | None:
    """This process's start on the boot clock (seconds), so the worker can report the caller's start-up."""
    try:
        with open("/proc/self/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def forward(args: list[str]) -> int | None:
    """Run ``rawlux ARGS`` in the worker; the exit status, or None when this process should run it itself."""
    mode = _mode()
    if mode == "off" or _command(args) not in COMMANDS:
        return None
    try:
        if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
            raise Unavailable("this platform cannot pass file descriptors to a worker")
        s = connect(spawn=mode == "on")
    except Unavailable as e:
        if mode == "require":
            print(f"rawlux: error: worker: {e}", file=sys.stderr)
            return 1
        return None
    return _run(s, args)


def _run(s: socket.socket, args: list[str]) -> int | None:
    import signal

    um = os.umask(0)
    os.umask(um)
    env = dict(os.environ)
    started = _started_at()
    if started is not None:
        env[ENV_STARTED] = repr(started)
    enc = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        _send(s, {"op": "run", "argv": list(args), "cwd": os.getcwd(), "env": env, "umask": um, "encoding": enc},
              [0, 1, 2])
    except (OSError, ValueError, TypeError):    # a closed stdin/stdout, a deleted folder...: nothing started
        s.close()
        return None
    s.settimeout(None)
    child: list[int] = []

    def relay(sig: int, _frame: object) -> None:
        if child:
            try:
                os.kill(child[0], sig)
            except OSError:
                pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, relay)
    try:
        msg, _ = _recv(s)
        child.append(int(msg["pid"]))
        msg, _ = _recv(s)
        return int(msg["rc"])
    except (EOFError, OSError, ValueError, KeyError):
        print("rawlux: error: the rawlux worker stopped during the command (RAWLUX_WORKER=off runs commands in "
              "their own process)", file=sys.stderr)
        return 1
    finally:
        s.close()


def request(op: str, p: dict[str, str]) -> dict | None:
    """Send ``op`` (status, stop) to the worker at ``p``; its answer, or None when none is running."""
    s = _connect(p, ANSWER_WAIT_S) if os.path.exists(p["sock"]) else None
    if s is None:
        return None
    try:
        _send(s, {"op": op})
        msg, _ = _recv(s)
        return msg
    except (OSError, EOFError, ValueError):
        return None
    finally:
        s.close()


def running() -> list[dict[str, str]]:
    """The paths of every worker socket in the user's folder (any identity)."""
    d = folder()
    return [paths(name[len("worker-"):-len(".sock")]) for name in sorted(os.listdir(d))
            if name.startswith("worker-") and name.endswith(".sock")]
