"""One unit of batch work and the functions that run it (in a local worker process or on a Dask worker).

A :class:`Job` is everything a worker needs to turn one input into one output: the resolved recipe, the
output settings, the decode options and (optionally) a frame template. It is plain picklable data.

Three ways to run it:

- :func:`run_job_path` reads ``job.src`` and writes ``job.out`` itself (local pool, ``--shared-storage``);
  the output goes to a temporary file in the output folder and is renamed into place (``rawlux.save``).
- :func:`run_job_bytes` gets the input's bytes and returns the encoded output's bytes; the client writes
  them (Dask without shared storage).
- :func:`run_job_shared` is :func:`run_job_path` plus a completion marker, so a task that Dask reruns after
  its worker died *after* the rename finds the finished output and does not write it twice.

Worker functions never raise for a bad input: every error becomes a failed :class:`Result` with the CLI exit
code of its class, so the engine records it and carries on.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 22


@dataclass
class Job:
    src: str                      # absolute input path as the client sees it
    out: str                      # absolute output path
    rel_out: str                  # output path relative to the output folder (catalog key for outputs)
    recipe: Any                   # rawlux.pipeline.recipe.Recipe (resolved, validated)
    job_hash: str                 # recipe digest + output settings
    fmt: str = "jpeg"
    bits: int = 8
    quality: int = 92
    raw: str | None = None
    cfa: str | None = None
    profile: str | None = None    # camera profile path (client side)
    profile_text: str | None = None  # its contents (shipped to remote workers)
    max_pixels: int | None = None
    frame: Any = None             # a rawlux.borders Template (already loaded and validated)
    hdr_kw: dict[str, Any] | None = None  # HDR output: rawlux.save keywords (hdr=True, hdr_map=...); in job_hash
    size: int = 0
    mtime_ns: int = 0
    content_hash: str | None = None   # known when the planner had to hash the input
    marker_dir: str | None = None     # --shared-storage: where completion markers live
    attempt: int = 0


@dataclass
class Result:
    src: str
    ok: bool
    worker: str
    started_at: float
    seconds: float
    content_hash: str | None = None
    out_size: int | None = None
    out_checksum: str | None = None
    data: bytes | None = None          # encoded output (bytes mode only)
    error: str | None = None
    error_code: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    reused: bool = False               # shared storage: an earlier attempt had already finished it
    crashed: bool = False              # the worker died (infrastructure failure: worth one retry)
    notes: list[str] = field(default_factory=list)   # the develop's notices (white balance, lens, ...)


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        while True:
            b = fh.read(CHUNK)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def worker_name() -> str:
    """``host/pidN``, or the Dask worker's address when running on one."""
    import sys
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker
            return str(get_worker().address)
        except Exception:  # noqa: BLE001 - not inside a Dask task
            pass
    return f"{socket.gethostname()}/pid{os.getpid()}"


def _error_result(job: Job, e: BaseException, worker: str, t0: float, wall0: float,
                  content_hash: str | None, alias: str | None = None) -> Result:
    from ..errors import RawluxError

    if isinstance(e, RawluxError):
        msg, code = str(e), e.exit_code
    elif isinstance(e, MemoryError):
        msg, code = "out of memory while developing this file", 1
    else:
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
        msg, code = f"internal error {type(e).__name__}: {e}{where}", 1
    if alias:  # a worker-side temporary copy: name the user's file instead
        msg = msg.replace(alias, job.src)
    if job.src not in msg:
        msg = f"{job.src}: {msg}"
    return Result(src=job.src, ok=False, worker=worker, started_at=wall0, seconds=time.perf_counter() - t0,
                  content_hash=content_hash, error=msg, error_code=code)


def develop_to(job: Job, src_path: str, out_path: str, timings: dict[str, float],
               profile_path: str | None = None) -> list[str]:
    """Decode ``src_path``, develop it with ``job.recipe``, frame it, and save it atomically to ``out_path``.
    Returns the develop's notices."""
    from ..pipeline.files import develop_file

    _frame, notes = develop_file(src_path, out_path, job.recipe, fmt=job.fmt, bits=job.bits, quality=job.quality,
                                 overwrite=True, border=job.frame, raw=job.raw, cfa=job.cfa,
                                 profile=profile_path if profile_path is not None else job.profile,
                                 max_pixels=job.max_pixels, timings=timings,
                                 develop_kw={"keep_scene_linear": True} if job.hdr_kw else None,
                                 save_kw=job.hdr_kw or None)
    return notes


def run_job_path(job: Job) -> Result:
    """Develop ``job.src`` into ``job.out`` (temp file + rename); return what the catalog records."""
    worker = worker_name()
    wall0, t0 = time.time(), time.perf_counter()
    content_hash = None
    try:
        try:
            content_hash = sha256_file(job.src)
        except OSError as e:
            from ..errors import InputError
            raise InputError(f"cannot be read: {e.strerror or e}", path=job.src) from None
        os.makedirs(os.path.dirname(job.out) or ".", exist_ok=True)
        timings: dict[str, float] = {}
        notes = develop_to(job, job.src, job.out, timings)
        out_sum = sha256_file(job.out)
        return Result(src=job.src, ok=True, worker=worker, started_at=wall0, seconds=time.perf_counter() - t0,
                      content_hash=content_hash, out_size=os.path.getsize(job.out), out_checksum=out_sum,
                      timings=timings, notes=notes)
    except Exception as e:  # noqa: BLE001 - recorded per file, never stops the batch
        return _error_result(job, e, worker, t0, wall0, content_hash)


def marker_path(job: Job) -> Path:
    key = hashlib.sha256(f"{job.src}\0{job.rel_out}\0{job.job_hash}\0{job.size}\0{job.mtime_ns}".encode()).hexdigest()
    return Path(job.marker_dir or ".") / f"{key[:40]}.json"


def run_job_shared(job: Job) -> Result:
    """:func:`run_job_path` on shared storage, idempotent across reruns of the same task."""
    mp = marker_path(job)
    try:
        rec = json.loads(mp.read_text())
        if os.path.isfile(job.out) and sha256_file(job.out) == rec["out_checksum"]:
            return Result(src=job.src, ok=True, worker=worker_name(), started_at=rec["started_at"],
                          seconds=rec["seconds"], content_hash=rec["content_hash"], out_size=rec["out_size"],
                          out_checksum=rec["out_checksum"], timings=rec.get("timings") or {}, reused=True,
                          notes=list(rec.get("notes") or []) + [f"finished earlier by {rec['worker']}"])
    except (OSError, ValueError, KeyError):
        pass
    res = run_job_path(job)
    if res.ok:
        os.makedirs(mp.parent, exist_ok=True)
        payload = json.dumps({"out_checksum": res.out_checksum, "out_size": res.out_size,
                              "content_hash": res.content_hash, "worker": res.worker,
                              "started_at": res.started_at, "seconds": res.seconds, "timings": res.timings,
                              "notes": res.notes})
        atomic_write(str(mp), payload.encode())
    return res


def run_job_bytes(job: Job, data: bytes) -> Result:
    """Develop an input given as bytes; return the encoded output as bytes (nothing is left on the worker)."""
    worker = worker_name()
    wall0, t0 = time.time(), time.perf_counter()
    content_hash = sha256_bytes(data)
    src = ""
    try:
        with tempfile.TemporaryDirectory(prefix="rawlux-batch-") as tmp:
            src = os.path.join(tmp, "in" + "".join(Path(job.src).suffixes[-1:]))
            with open(src, "wb") as fh:
                fh.write(data)
            prof = None
            if job.profile_text is not None:
                prof = os.path.join(tmp, "profile.toml")
                Path(prof).write_text(job.profile_text, encoding="utf-8")
            out = os.path.join(tmp, "out" + Path(job.out).suffix)
            timings: dict[str, float] = {}
            notes = develop_to(job, src, out, timings, profile_path=prof)
            with open(out, "rb") as fh:
                encoded = fh.read()
        return Result(src=job.src, ok=True, worker=worker, started_at=wall0, seconds=time.perf_counter() - t0,
                      content_hash=content_hash, out_size=len(encoded), out_checksum=sha256_bytes(encoded),
                      data=encoded, timings=timings, notes=notes)
    except Exception as e:  # noqa: BLE001
        return _error_result(job, e, worker, t0, wall0, content_hash, alias=src or None)


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename (replacing ``path``);
    a failure raises :class:`~rawlux.errors.OutputError` and leaves nothing behind."""
    from ..io.atomic import write_bytes

    write_bytes(path, data)
