"""The batch catalog: one SQLite database (WAL mode) per output folder, ``DIR/.rawlux/catalog.sqlite``.

One row per input file records what was done to it: the input's content hash (and its size/mtime, so an
unchanged file is recognised without reading it again), the job hash (recipe digest + output settings),
the output path (relative to DIR) with its size and SHA-256, the status, the error, the timings and the
worker. The invariants that make a batch resumable:

- a row becomes ``done`` only *after* its output has been renamed into place, so a ``done`` row always
  points at a complete file;
- a row left ``running`` by a killed process is simply redone on the next run (the "files in flight");
- every status change is its own committed transaction (WAL, ``synchronous=NORMAL``: a killed process
  loses nothing that was committed).

A ``runs`` table keeps one line per batch invocation (when, arguments, counts).
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import OutputError

SCHEMA_VERSION = 1
CATALOG_DIR = ".rawlux"
CATALOG_NAME = "catalog.sqlite"

STATUSES = ("pending", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    src           TEXT PRIMARY KEY,   -- absolute input path
    size          INTEGER,            -- input size in bytes when last seen
    mtime_ns      INTEGER,            -- input modification time when last seen
    content_hash  TEXT,               -- SHA-256 of the input bytes
    job_hash      TEXT,               -- recipe digest + output settings (+ rawlux version)
    out_path      TEXT,               -- output path relative to the catalog's folder
    out_size      INTEGER,
    out_checksum  TEXT,               -- SHA-256 of the output bytes
    status        TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    error         TEXT,
    error_code    INTEGER,            -- the CLI exit code of the error class (3 input, 4 output, ...)
    attempts      INTEGER NOT NULL DEFAULT 0,
    worker        TEXT,
    queued_at     REAL,
    started_at    REAL,
    finished_at   REAL,
    seconds       REAL,               -- time spent in the worker (decode + develop + encode)
    timings       TEXT,               -- JSON: per-stage seconds
    notes         TEXT,               -- notices from the develop (JSON list), e.g. "no lens profile"
    run_id        INTEGER
);
CREATE INDEX IF NOT EXISTS files_status ON files(status);
CREATE TABLE IF NOT EXISTS runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at   REAL NOT NULL,
    finished_at  REAL,
    host         TEXT,
    pid          INTEGER,
    argv         TEXT,
    planned      INTEGER DEFAULT 0,
    skipped      INTEGER DEFAULT 0,
    done         INTEGER DEFAULT 0,
    failed       INTEGER DEFAULT 0,
    status       TEXT
);
"""

_COLUMNS = ("src", "size", "mtime_ns", "content_hash", "job_hash", "out_path", "out_size", "out_checksum",
            "status", "error", "error_code", "attempts", "worker", "queued_at", "started_at", "finished_at",
            "seconds", "timings", "notes", "run_id")


@dataclass
class Row:
    """One catalog row (see the schema above)."""

    src: str
    size: int | None = None
    mtime_ns: int | None = None
    content_hash: str | None = None
    job_hash: str | None = None
    out_path: str | None = None
    out_size: int | None = None
    out_checksum: str | None = None
    status: str = "pending"
    error: str | None = None
    error_code: int | None = None
    attempts: int = 0
    worker: str | None = None
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    seconds: float | None = None
    timings: str | None = None
    notes: str | None = None
    run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d = {c: getattr(self, c) for c in _COLUMNS}
        for k in ("timings", "notes"):
            if d[k]:
                d[k] = json.loads(d[k])
        return d


def catalog_path(out_dir: str | os.PathLike[str]) -> Path:
    return Path(out_dir) / CATALOG_DIR / CATALOG_NAME


class Catalog:
    """The SQLite catalog of one output folder. ``readonly=True`` opens an existing one without writing
    (for ``--dry-run``); a missing read-only catalog behaves as an empty one."""

    def __init__(self, out_dir: str | os.PathLike[str], *, readonly: bool = False):
        self.root = Path(out_dir).resolve()
        self.path = catalog_path(self.root)
        self.readonly = readonly
        self.run_id: int | None = None
        self._db: sqlite3.Connection | None = None
        try:
            if readonly:
                if self.path.is_file():
                    self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30.0)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
                self._check_schema()
        except sqlite3.DatabaseError as e:
            raise OutputError(f"catalog {self.path} cannot be opened: {e} (move it away to start afresh)",
                              path=self.path) from None
        except OSError as e:
            raise OutputError(f"cannot create the catalog folder: {e.strerror or e}", path=self.path.parent) from None
        if self._db is not None:
            self._db.row_factory = sqlite3.Row

    # ------------------------------------------------------------------ plumbing
    def _check_schema(self) -> None:
        assert self._db is not None
        cur = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if cur is None:
            self._db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(cur[0]) > SCHEMA_VERSION:
            raise OutputError(f"catalog {self.path} was written by a newer rawlux (schema {cur[0]} > "
                              f"{SCHEMA_VERSION}); upgrade rawlux or use another --out-dir", path=self.path)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _write(self, sql: str, args: Iterable[Any] = ()) -> None:
        if self.readonly or self._db is None:
            return
        self._db.execute(sql, tuple(args))

    # ------------------------------------------------------------------ reads
    def get(self, src: str) -> Row | None:
        if self._db is None:
            return None
        r = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM files WHERE src=?", (src,)).fetchone()
        return Row(**dict(r)) if r is not None else None

    def rows(self, status: str | None = None) -> Iterator[Row]:
        if self._db is None:
            return iter(())
        if status is None:
            cur = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM files ORDER BY src")
        else:
            cur = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM files WHERE status=? ORDER BY src", (status,))
        return (Row(**dict(r)) for r in cur.fetchall())

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        if self._db is not None:
            for status, n in self._db.execute("SELECT status, COUNT(*) FROM files GROUP BY status"):
                out[status] = n
        return out

    def output_owner(self, out_path: str) -> str | None:
        """The input whose row currently claims ``out_path`` (relative), if any."""
        if self._db is None:
            return None
        r = self._db.execute("SELECT src FROM files WHERE out_path=?", (out_path,)).fetchone()
        return r[0] if r else None

    # ------------------------------------------------------------------ runs
    def begin_run(self, argv: list[str] | None = None) -> int:
        if self.readonly or self._db is None:
            return 0
        cur = self._db.execute("INSERT INTO runs(started_at, host, pid, argv, status) VALUES (?, ?, ?, ?, 'running')",
                               (time.time(), socket.gethostname(), os.getpid(), json.dumps(argv or [])))
        self.run_id = int(cur.lastrowid or 0)
        return self.run_id

    def end_run(self, *, planned: int, skipped: int, done: int, failed: int, status: str) -> None:
        if self.run_id is None:
            return
        self._write("UPDATE runs SET finished_at=?, planned=?, skipped=?, done=?, failed=?, status=? WHERE id=?",
                    (time.time(), planned, skipped, done, failed, status, self.run_id))

    def runs(self) -> list[dict[str, Any]]:
        if self._db is None:
            return []
        return [dict(r) for r in self._db.execute("SELECT * FROM runs ORDER BY id")]

    # ------------------------------------------------------------------ state changes
    def touch_stat(self, src: str, size: int, mtime_ns: int) -> None:
        """The input's bytes are unchanged but its stat moved (copied, touched): remember the new stat."""
        self._write("UPDATE files SET size=?, mtime_ns=? WHERE src=?", (size, mtime_ns, src))

    def mark_pending(self, items: Iterable[tuple[str, int, int, str, str]]) -> None:
        """``(src, size, mtime_ns, job_hash, out_path)`` for every job about to be queued (one transaction)."""
        if self.readonly or self._db is None:
            return
        now = time.time()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for src, size, mtime_ns, job_hash, out_path in items:
                db.execute(
                    "INSERT INTO files(src, size, mtime_ns, job_hash, out_path, status, queued_at, run_id) "
                    "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT(src) DO UPDATE SET "
                    "size=excluded.size, mtime_ns=excluded.mtime_ns, job_hash=excluded.job_hash, "
                    "out_path=excluded.out_path, status='pending', error=NULL, error_code=NULL, "
                    "queued_at=excluded.queued_at, run_id=excluded.run_id",
                    (src, size, mtime_ns, job_hash, out_path, now, self.run_id))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def mark_running(self, src: str, worker: str | None = None) -> None:
        self._write("UPDATE files SET status='running', attempts=attempts+1, started_at=?, worker=? WHERE src=?",
                    (time.time(), worker, src))

    def mark_done(self, src: str, *, content_hash: str | None, size: int | None, mtime_ns: int | None,
                  out_size: int, out_checksum: str, worker: str | None, seconds: float | None,
                  timings: dict[str, float] | None, started_at: float | None = None,
                  notes: list[str] | None = None) -> None:
        """Record a finished output. Call only after the output file has been renamed into place."""
        self._write(
            "UPDATE files SET status='done', content_hash=COALESCE(?, content_hash), size=COALESCE(?, size), "
            "mtime_ns=COALESCE(?, mtime_ns), out_size=?, out_checksum=?, error=NULL, error_code=NULL, "
            "worker=?, started_at=COALESCE(?, started_at), finished_at=?, seconds=?, timings=?, notes=? WHERE src=?",
            (content_hash, size, mtime_ns, out_size, out_checksum, worker, started_at, time.time(), seconds,
             json.dumps(timings) if timings else None, json.dumps(notes) if notes else None, src))

    def mark_failed(self, src: str, *, error: str, error_code: int, content_hash: str | None = None,
                    worker: str | None = None, seconds: float | None = None,
                    started_at: float | None = None) -> None:
        self._write(
            "UPDATE files SET status='failed', error=?, error_code=?, content_hash=COALESCE(?, content_hash), "
            "out_size=NULL, out_checksum=NULL, worker=?, started_at=COALESCE(?, started_at), finished_at=?, "
            "seconds=? WHERE src=?",
            (error, error_code, content_hash, worker, started_at, time.time(), seconds, src))

    def record_failure(self, src: str, *, size: int | None, mtime_ns: int | None, job_hash: str | None,
                       out_path: str | None, error: str, error_code: int) -> None:
        """A file that failed before it could be queued (e.g. a bad sidecar): one upsert."""
        if self.readonly or self._db is None:
            return
        self._db.execute(
            "INSERT INTO files(src, size, mtime_ns, job_hash, out_path, status, error, error_code, finished_at, "
            "run_id) VALUES (?, ?, ?, ?, ?, 'failed', ?, ?, ?, ?) ON CONFLICT(src) DO UPDATE SET "
            "size=excluded.size, mtime_ns=excluded.mtime_ns, job_hash=excluded.job_hash, out_path=excluded.out_path, "
            "status='failed', error=excluded.error, error_code=excluded.error_code, "
            "finished_at=excluded.finished_at, run_id=excluded.run_id",
            (src, size, mtime_ns, job_hash, out_path, error, error_code, time.time(), self.run_id))

    def release_running(self) -> int:
        """Rows left ``running`` (by this run on interrupt, or by a killed run) go back to ``pending``."""
        if self.readonly or self._db is None:
            return 0
        cur = self._db.execute("UPDATE files SET status='pending' WHERE status='running'")
        return cur.rowcount
