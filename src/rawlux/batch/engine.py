"""The batch engine: scan → plan against the catalog → run on an executor → record → report.

    >>> from rawlux.batch import run_batch
    >>> report = run_batch(["card/DCIM"], "developed", look="natural", recursive=True)
    >>> report.failed, report.images_per_minute

Planning decides per input, from its catalog row: *skip* (done for the same input bytes and job hash, the
output still there), *skip, failed before* (same input and job, unless ``retry_failed``), or *run* (new,
changed input, changed recipe or output settings, output missing, interrupted). Inputs whose size/mtime are
unchanged are recognised without being read; a touched file is re-hashed and skipped if its bytes match.

Guarantees (see :mod:`rawlux.batch.catalog`): originals are only read; each output is written to a temporary
file and renamed; the catalog says ``done`` only after the rename; one batch at a time per output folder
(an advisory lock), and its stale temporary files are removed when it starts.
"""
from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import EXIT_CODES, OutputError, ParameterError, RawluxError
from .catalog import CATALOG_DIR, Catalog, Row
from .jobs import Job, Result, atomic_write, marker_path, sha256_file
from .scan import Input, output_paths, scan

MAX_CRASH_RETRIES = 1


@dataclass
class BatchOptions:
    """Everything that shapes a batch (the CLI fills it from its options)."""

    look: str | None = None
    recipe_file: str | None = None
    sets: tuple[str, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)
    sidecars: bool = True
    raw: str | None = None
    cfa: str | None = None
    profile: str | None = None
    max_pixels: int | None = None
    fmt: str = "jpeg"
    bits: int = 8
    quality: int = 92
    frame: str | None = None
    hdr_kw: dict[str, Any] | None = None   # HDR output: rawlux.save's hdr=True, hdr_map=... (None: SDR)
    recursive: bool = False
    globs: tuple[str, ...] = ()
    workers: int | None = None
    threads: int | None = None
    scheduler: str | None = None
    shared_storage: bool = False
    dry_run: bool = False
    retry_failed: bool = False


@dataclass
class FileOutcome:
    src: str
    status: str                 # done | failed | skipped | skipped-failed | would-run | interrupted
    out: str | None = None
    reason: str | None = None   # why it ran / was skipped
    error: str | None = None
    error_code: int = 0
    seconds: float | None = None
    worker: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class BatchReport:
    out_dir: str
    catalog: str
    executor: str
    files: list[FileOutcome] = field(default_factory=list)
    wall_seconds: float = 0.0
    interrupted: bool = False
    dry_run: bool = False

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def failed(self) -> int:
        return self.count("failed") + self.count("skipped-failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def images_per_minute(self) -> float:
        n = self.count("done") + self.count("failed")
        return 60.0 * n / self.wall_seconds if self.wall_seconds > 0 and n else 0.0

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        for f in sorted(self.files, key=lambda f: f.src):
            if f.status in ("failed", "skipped-failed"):
                return f.error_code or EXIT_CODES["input"]
        return 0

    def as_dict(self) -> dict[str, Any]:
        return {"out_dir": self.out_dir, "catalog": self.catalog, "executor": self.executor,
                "dry_run": self.dry_run, "interrupted": self.interrupted,
                "counts": {"total": len(self.files), "done": self.done, "failed": self.count("failed"),
                           "skipped": self.skipped, "skipped_failed": self.count("skipped-failed"),
                           "would_run": self.count("would-run")},
                "wall_seconds": round(self.wall_seconds, 3),
                "images_per_minute": round(self.images_per_minute, 2),
                "exit_code": self.exit_code,
                "files": [dataclasses.asdict(f) for f in self.files]}


# ----------------------------------------------------------------------------- recipes

class RecipeMaker:
    """Builds (and caches) the recipe of each input: defaults < look < --recipe file < the input's sidecar
    < --set < overrides. Everything the user typed is validated once, before any file is read."""

    def __init__(self, opts: BatchOptions):
        from ..pipeline.recipe import read_sidecar

        self.opts = opts
        if opts.recipe_file is not None:
            if not Path(opts.recipe_file).is_file():
                raise ParameterError(f"--recipe {opts.recipe_file}: no such file")
            read_sidecar(opts.recipe_file)  # raises a clear ParameterError on bad TOML
        self._plain: dict[str, Any] = {}
        self.base = self._build(None)
        self.extras_hash = self._extras_hash()

    def _build(self, src: Path | None) -> Any:
        from ..pipeline.recipe import Recipe

        return Recipe.for_photo(src, self.opts.look, sidecar=src is not None and self.opts.sidecars,
                                recipe_file=self.opts.recipe_file, sets=self.opts.sets,
                                overrides=self.opts.overrides or None)

    def for_input(self, src: Path) -> Any:
        from ..pipeline.recipe import sidecar_path

        if not self.opts.sidecars or not sidecar_path(src).is_file():
            return self.base
        return self._build(src)

    def _extras_hash(self) -> str:
        """Everything besides the recipe that changes the output bytes."""
        o = self.opts
        prof = sha256_file(o.profile) if o.profile else None
        frame = None
        if o.frame is not None:
            from ..borders import load_template
            tpl = load_template(o.frame)
            frame = json.dumps(dataclasses.asdict(tpl), sort_keys=True, default=str)
            self.template = tpl
        else:
            self.template = None
        blob = json.dumps({"fmt": o.fmt, "bits": o.bits, "quality": o.quality, "raw": o.raw, "cfa": o.cfa,
                           "profile": prof, "frame": frame, "hdr": o.hdr_kw or None}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def job_hash(self, recipe: Any) -> str:
        return hashlib.sha256(f"{recipe.digest()}:{self.extras_hash}".encode()).hexdigest()[:32]


# ----------------------------------------------------------------------------- the batch

class _Lock:
    """One batch per output folder (advisory ``flock``; released by the kernel if the process dies)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "lock"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                other = os.pread(self.fd, 64, 0).decode(errors="replace").strip()
            except OSError:
                other = "?"
            os.close(self.fd)
            raise OutputError(f"another rawlux batch (pid {other or '?'}) is writing to this folder; wait for it "
                              f"or use another --out-dir", path=folder.parent) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


class Batch:
    """One batch over an output folder. Use :func:`run_batch` unless you need the steps (``--watch`` does)."""

    def __init__(self, sources: Iterable[str], out_dir: str | os.PathLike[str], opts: BatchOptions, *,
                 progress: Any = None, argv: list[str] | None = None):
        from ..io.encode import EXTENSIONS

        self.sources = [str(s) for s in sources]
        if not self.sources:
            raise ParameterError("give at least one input file or folder")
        self.opts = opts
        if opts.fmt not in EXTENSIONS:
            raise ParameterError(f"--format {opts.fmt!r}: use one of {', '.join(EXTENSIONS)}")
        self.ext = EXTENSIONS[opts.fmt]
        if opts.bits == 16 and opts.fmt == "jpeg":
            raise ParameterError("JPEG is 8-bit only: use --bits 8, or --format png/tiff for 16 bits")
        if opts.bits == 32 and opts.fmt != "tiff":
            raise ParameterError("--bits 32 (linear float) needs --format tiff")
        if opts.hdr_kw:
            from ..io.formats import HDR_FORMATS
            if opts.fmt not in HDR_FORMATS:
                raise ParameterError(f"--hdr cannot be written as {opts.fmt.upper()}: use --format jpeg "
                                     "(Ultra HDR gain map), avif or heif (10-bit PQ/HLG)")
            if opts.bits != 8:
                raise ParameterError(f"--bits {opts.bits} with --hdr: the Ultra HDR JPEG is 8-bit, HDR AVIF/HEIF 10-bit")
            if opts.frame is not None:
                raise ParameterError("--frame cannot be combined with --hdr (a border has no HDR data)")
        elif opts.fmt == "avif":
            raise ParameterError("AVIF is written for HDR output only: add --hdr, or use --format jpeg/heif for SDR")
        if opts.shared_storage and not opts.scheduler:
            raise ParameterError("--shared-storage goes with --scheduler (the local pool always shares storage)")
        if opts.raw and opts.cfa:
            raise ParameterError("--raw and --cfa exclude each other")
        if opts.raw:
            from ..io.decode import RawSpec
            RawSpec.parse(opts.raw)
        if opts.cfa:
            from ..io.decode import CfaSpec
            CfaSpec.parse(opts.cfa)
        if opts.profile:
            from ..colour.profile import CameraProfile
            CameraProfile.from_file(opts.profile)
        self.recipes = RecipeMaker(opts)
        self.out_dir = Path(out_dir).expanduser().resolve()
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise ParameterError(f"--out-dir {out_dir}: exists and is not a folder")
        self.progress = progress
        self.argv = argv
        self.lock: _Lock | None = None
        self.catalog: Catalog | None = None
        self.executor: Any = None
        self.report = BatchReport(out_dir=str(self.out_dir), catalog=str(self.out_dir / CATALOG_DIR / "catalog.sqlite"),
                                  executor="dry run" if opts.dry_run else "", dry_run=opts.dry_run)
        self._busy = 0.0
        self._reasons: dict[str, str] = {}
        self.inflight: dict[str, Job] = {}   # src → job, while a worker has it

    # ------------------------------------------------------------------ set-up / tear-down
    def open(self) -> "Batch":
        if self.opts.dry_run:
            self.catalog = Catalog(self.out_dir, readonly=True)
            return self
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"cannot create the output folder: {e.strerror or e}", path=self.out_dir) from None
        self.lock = _Lock(self.out_dir / CATALOG_DIR)
        self.catalog = Catalog(self.out_dir)
        self.catalog.begin_run(self.argv)
        self.catalog.release_running()
        return self

    def start_executor(self) -> None:
        if self.executor is not None or self.opts.dry_run:
            return
        if self.opts.scheduler:
            from .dask import DaskExecutor
            self.executor = DaskExecutor(self.opts.scheduler, shared_storage=self.opts.shared_storage)
        else:
            from .local import LocalPool
            self.executor = LocalPool(self.opts.workers, threads=self.opts.threads)
        self.report.executor = self.executor.describe()

    def close(self, *, interrupted: bool = False) -> None:
        if self.executor is not None:
            self.executor.close(kill=interrupted)
            self.executor = None
        if self.catalog is not None:
            if not self.opts.dry_run:
                self.catalog.release_running()
                r = self.report
                self.catalog.end_run(planned=len(r.files) - r.skipped - r.count("skipped-failed"),
                                     skipped=r.skipped + r.count("skipped-failed"), done=r.done,
                                     failed=r.count("failed"), status="interrupted" if interrupted else "finished")
            self.catalog.close()
            self.catalog = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        self.report.wall_seconds = self._busy

    # ------------------------------------------------------------------ planning
    def scan(self) -> list[Input]:
        return scan(self.sources, out_dir=self.out_dir, recursive=self.opts.recursive, globs=self.opts.globs,
                    cfa=self.opts.cfa is not None, raw_dump=self.opts.raw is not None)

    def plan(self, inputs: list[Input], outs: list[Path] | None = None) -> list[Job]:
        """Decide, per input, skip or run; record the decision (and pre-queue failures) in the catalog."""
        assert self.catalog is not None
        if outs is None:
            outs = output_paths(inputs, self.out_dir, self.ext)
        jobs: list[Job] = []
        pend: list[tuple[str, int, int, str, str]] = []
        marker_dir = str(self.out_dir / CATALOG_DIR / "tasks") if self.opts.shared_storage else None
        profile_text = Path(self.opts.profile).read_text(encoding="utf-8") if self.opts.profile else None
        for inp, out in zip(inputs, outs):
            src = str(inp.path)
            rel = str(out.relative_to(self.out_dir))
            try:
                st = inp.path.stat()
            except OSError as e:
                self._outcome(FileOutcome(src, "failed", rel, error=f"{src}: cannot be read: {e.strerror or e}",
                                          error_code=EXIT_CODES["input"]))
                continue
            try:
                if out == inp.path:
                    raise OutputError(f"the output would replace the input {src}; use another --out-dir", path=out)
                recipe = self.recipes.for_input(inp.path)
                jh = self.recipes.job_hash(recipe)
            except RawluxError as e:
                self._fail_early(src, st, None, rel, str(e), e.exit_code)
                continue
            row = self.catalog.get(src)
            decision, reason, chash = self._decide(row, inp.path, st, jh, rel, out)
            if decision == "skip":
                self._outcome(FileOutcome(src, "skipped", rel, reason=reason, worker=row.worker if row else None))
                continue
            if decision == "skip-failed":
                self._outcome(FileOutcome(src, "skipped-failed", rel, reason=reason, error=row.error if row else None,
                                          error_code=(row.error_code if row else None) or EXIT_CODES["input"]))
                continue
            if self.opts.dry_run:
                self._outcome(FileOutcome(src, "would-run", rel, reason=reason))
                continue
            jobs.append(Job(src=src, out=str(out), rel_out=rel, recipe=recipe, job_hash=jh, fmt=self.opts.fmt,
                            bits=self.opts.bits, quality=self.opts.quality, raw=self.opts.raw, cfa=self.opts.cfa,
                            profile=self.opts.profile, profile_text=profile_text, max_pixels=self.opts.max_pixels,
                            frame=self.recipes.template, size=st.st_size, mtime_ns=st.st_mtime_ns,
                            content_hash=chash, marker_dir=marker_dir, hdr_kw=self.opts.hdr_kw or None))
            pend.append((src, st.st_size, st.st_mtime_ns, jh, rel))
            self._reasons[src] = reason
        if not self.opts.dry_run:
            self._remove_stale_temporaries([Path(j.out) for j in jobs])
            self.catalog.mark_pending(pend)
        return jobs

    def _decide(self, row: Row | None, path: Path, st: os.stat_result, jh: str, rel: str,
                out: Path) -> tuple[str, str, str | None]:
        if row is None:
            return "run", "new", None
        same_stat = row.size == st.st_size and row.mtime_ns == st.st_mtime_ns
        chash = None
        if not same_stat and row.content_hash:
            try:
                chash = sha256_file(path)
            except OSError:
                return "run", "unreadable", None
        same_input = same_stat or (chash is not None and chash == row.content_hash)
        if not same_input:
            return "run", "input changed", chash
        if row.job_hash != jh:
            return "run", "recipe or output settings changed", chash
        if row.out_path != rel:
            return "run", "output path changed", chash
        if row.status == "done":
            try:
                ok = out.stat().st_size == row.out_size
            except OSError:
                ok = False
            if not ok:
                return "run", "output missing or altered", chash
            if not same_stat and self.catalog is not None:
                self.catalog.touch_stat(row.src, st.st_size, st.st_mtime_ns)
            return "skip", "up to date", chash
        if row.status == "failed":
            if self.opts.retry_failed:
                return "run", "retrying a failure", chash
            return "skip-failed", "failed before (--retry-failed to try again)", chash
        return "run", "interrupted", chash

    def _fail_early(self, src: str, st: os.stat_result, jh: str | None, rel: str, msg: str, code: int) -> None:
        if src not in msg:
            msg = f"{src}: {msg}"
        if self.catalog is not None:
            self.catalog.record_failure(src, size=st.st_size, mtime_ns=st.st_mtime_ns, job_hash=jh, out_path=rel,
                                        error=msg, error_code=code)
        self._outcome(FileOutcome(src, "failed", rel, reason="could not be queued", error=msg, error_code=code))

    def _remove_stale_temporaries(self, outs: list[Path]) -> None:
        """``.NAME.xxxx.part`` files that a killed run left beside the outputs we are about to write."""
        by_folder: dict[Path, set[str]] = {}
        for o in outs:
            by_folder.setdefault(o.parent, set()).add(o.name)
        for folder, names in by_folder.items():
            try:
                entries = os.listdir(folder)
            except OSError:
                continue
            for e in entries:
                if e.startswith(".") and e.endswith(".part"):
                    base = e[1:].rsplit(".", 2)[0]
                    if base in names:
                        try:
                            os.unlink(folder / e)
                        except OSError:
                            pass

    # ------------------------------------------------------------------ running
    def _outcome(self, o: FileOutcome) -> None:
        self.report.files.append(o)
        if self.progress is not None:
            self.progress.outcome(o)

    def execute(self, jobs: list[Job], feeder: Callable[[], list[Job]] | None = None,
                feed_every: float = 1.0, should_stop: Callable[[], bool] | None = None) -> None:
        """Run ``jobs`` (and whatever ``feeder`` adds while running) to completion."""
        assert self.catalog is not None
        if not jobs and feeder is None:
            return
        self.start_executor()
        ex = self.executor
        pending: deque[Job] = deque(jobs)
        inflight = self.inflight
        if self.progress is not None:
            self.progress.add_total(len(jobs))
        t_start = time.perf_counter()
        next_feed = time.monotonic() + feed_every
        try:
            while True:
                while pending and ex.in_flight() < ex.capacity:
                    job = pending.popleft()
                    worker = ex.submit(job)
                    self.catalog.mark_running(job.src, worker)
                    inflight[job.src] = job
                for res in ex.wait(0.2):
                    job = inflight.pop(res.src, None)
                    if job is None:
                        continue
                    if res.crashed and job.attempt < MAX_CRASH_RETRIES:
                        job.attempt += 1
                        pending.appendleft(job)
                        if self.progress is not None:
                            self.progress.note(f"retrying {job.src}: {res.error}")
                        continue
                    self._record(job, res)
                stopping = should_stop is not None and should_stop()
                if stopping:
                    # graceful stop: finish what is in flight; queued rows stay 'pending' for the next run
                    pending.clear()
                    feeder = None
                if feeder is not None and time.monotonic() >= next_feed:
                    new = feeder()
                    if new:   # a file replaced while still queued: only its newest version stays queued
                        renewed = {j.src for j in new}
                        pending = deque(j for j in pending if j.src not in renewed)
                    pending.extend(new)
                    if new and self.progress is not None:
                        self.progress.add_total(len(new))
                    next_feed = time.monotonic() + feed_every
                if feeder is None and not pending and not inflight:
                    break
        finally:
            self._busy += time.perf_counter() - t_start

    def _record(self, job: Job, res: Result) -> None:
        assert self.catalog is not None
        cat = self.catalog
        if res.ok and res.data is not None:   # bytes mode: the client writes the output
            try:
                os.makedirs(os.path.dirname(job.out), exist_ok=True)
                atomic_write(job.out, res.data)
            except (OSError, OutputError) as e:
                msg = str(e) if isinstance(e, OutputError) else f"{job.out}: cannot write: {e.strerror or e}"
                res = dataclasses.replace(res, ok=False, data=None, error_code=EXIT_CODES["output"], error=msg)
        if res.ok:
            cat.mark_done(job.src, content_hash=res.content_hash, size=job.size, mtime_ns=job.mtime_ns,
                          out_size=int(res.out_size or 0), out_checksum=str(res.out_checksum), worker=res.worker,
                          seconds=res.seconds, timings=res.timings, started_at=res.started_at,
                          notes=res.notes)
            if job.marker_dir:
                try:
                    os.unlink(marker_path(job))
                except OSError:
                    pass
            self._outcome(FileOutcome(job.src, "done", job.rel_out, reason=self._reasons.get(job.src),
                                      seconds=res.seconds, worker=res.worker, notes=list(res.notes)))
        else:
            cat.mark_failed(job.src, error=str(res.error), error_code=res.error_code or 1,
                            content_hash=res.content_hash, worker=res.worker, seconds=res.seconds,
                            started_at=res.started_at)
            self._outcome(FileOutcome(job.src, "failed", job.rel_out, reason=self._reasons.get(job.src),
                                      error=res.error, error_code=res.error_code or 1, seconds=res.seconds,
                                      worker=res.worker))


def _sigterm(signum: int, frame: Any) -> None:  # pragma: no cover - exercised by the watch test
    raise KeyboardInterrupt


def run_batch(sources: Iterable[str], out_dir: str | os.PathLike[str], *, progress: Any = None,
              argv: list[str] | None = None, **options: Any) -> BatchReport:
    """Develop every input under ``sources`` into ``out_dir`` (see :class:`BatchOptions` for ``options``)."""
    opts = options.pop("opts", None) or BatchOptions(**options)
    b = Batch(sources, out_dir, opts, progress=progress, argv=argv)
    inputs = b.scan()
    b.open()
    interrupted = False
    old = signal.getsignal(signal.SIGTERM)
    if threading_main():
        signal.signal(signal.SIGTERM, _sigterm)
    try:
        jobs = b.plan(inputs)
        if progress is not None:
            progress.start(b)
        b.execute(jobs)
    except KeyboardInterrupt:
        interrupted = True
        b.report.interrupted = True
    finally:
        b.close(interrupted=interrupted)
        if threading_main():
            signal.signal(signal.SIGTERM, old)
        if progress is not None:
            progress.stop()
    return b.report


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()
