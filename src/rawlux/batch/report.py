"""What a batch shows: a live progress bar (files done/failed, images per minute, ETA), a summary table at the
end, or a JSON report (``--json``). Everything but the JSON goes to stderr, so stdout stays machine-readable.

On a terminal the bar is a ``rich`` live display; in a log (no terminal) each finished file is one line.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from .engine import BatchReport, FileOutcome


class Progress:
    """Receives the engine's events (``start``, ``add_total``, ``outcome``, ``note``, ``stop``)."""

    def __init__(self, *, quiet: bool = False, console: Any = None):
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.live = self.console.is_terminal and not quiet
        self.total = 0
        self.done = 0
        self.failed = 0
        self.t0: float | None = None
        self._bar: Any = None
        self._task: Any = None

    # -------------------------------------------------------------- events
    def start(self, batch: Any) -> None:
        r = batch.report
        skipped, prev_failed = r.skipped, r.count("skipped-failed")
        if not self.quiet:
            if batch.report.dry_run:
                return
            msg = []
            if skipped:
                msg.append(f"{skipped} up to date (skipped)")
            if prev_failed:
                msg.append(f"{prev_failed} failed before (skipped; --retry-failed to try again)")
            if msg:
                self.console.print("rawlux batch: " + ", ".join(msg))
        self.t0 = time.perf_counter()
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn, \
                TextColumn, TimeElapsedColumn, TimeRemainingColumn
            self._bar = RichProgress(
                SpinnerColumn(), TextColumn("[bold]developing"), BarColumn(), MofNCompleteColumn(),
                TextColumn("[green]{task.fields[ok]} done[/] [red]{task.fields[bad]} failed[/]"),
                TextColumn("{task.fields[rate]} img/min"), TimeElapsedColumn(), TextColumn("ETA"),
                TimeRemainingColumn(), console=self.console, transient=False, refresh_per_second=4)
            self._bar.start()
            self._task = self._bar.add_task("batch", total=self.total, ok=0, bad=0, rate="–")

    def add_total(self, n: int) -> None:
        self.total += n
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)

    def rate(self) -> float:
        if self.t0 is None:
            return 0.0
        dt = time.perf_counter() - self.t0
        return 60.0 * (self.done + self.failed) / dt if dt > 0 else 0.0

    def outcome(self, o: FileOutcome) -> None:
        if o.status not in ("done", "failed") or self.t0 is None:
            if o.status == "failed" and not self.quiet:   # could not even be queued (e.g. a bad sidecar)
                self.console.print(f"[red]failed[/] {o.error}")
            return
        if o.status == "done":
            self.done += 1
        else:
            self.failed += 1
        if self._bar is not None:
            if o.status == "failed":
                self._bar.console.print(f"[red]failed[/] {o.error}")
            self._bar.update(self._task, advance=1, ok=self.done, bad=self.failed, rate=f"{self.rate():.1f}")
        elif not self.quiet:
            if o.status == "done":
                self.console.print(f"done {o.src} → {o.out} ({o.seconds or 0:.2f} s, {o.worker})")
            else:
                self.console.print(f"failed {o.error}")
        elif o.status == "failed":
            self.console.print(f"rawlux: error: {o.error}")

    def note(self, msg: str) -> None:
        if not self.quiet:
            self.console.print(f"[yellow]{msg}[/]")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def print_summary(report: BatchReport, console: Any = None) -> None:
    """The end-of-batch table (stderr)."""
    from rich.console import Console
    from rich.table import Table

    con = console or Console(stderr=True, highlight=False, soft_wrap=True)
    t = Table(title="rawlux batch" + (" (dry run)" if report.dry_run else ""), title_justify="left")
    t.add_column("", style="bold")
    t.add_column("files", justify="right")
    t.add_column("", overflow="fold")
    rows = [("developed", report.done, ""), ("failed", report.count("failed"), ""),
            ("skipped, up to date", report.skipped, ""),
            ("skipped, failed before", report.count("skipped-failed"), "--retry-failed to try again"),
            ("would develop", report.count("would-run"), "")]
    if report.dry_run:
        reasons = Counter(f.reason for f in report.files if f.status == "would-run")
        rows[-1] = ("would develop", report.count("would-run"), ", ".join(f"{n} {r}" for r, n in reasons.items()))
    for name, n, note in rows:
        if n or (name in ("developed", "failed") and not report.dry_run):
            t.add_row(name, str(n), note)
    con.print(t)
    if report.done or report.count("failed"):
        workers = Counter(f.worker for f in report.files if f.status in ("done", "failed") and f.worker)
        con.print(f"{report.images_per_minute:.1f} images/minute over {report.wall_seconds:.1f} s "
                  f"({report.executor}; {len(workers)} worker(s))")
    failed = [f for f in report.files if f.status in ("failed", "skipped-failed")]
    for f in failed[:20]:
        con.print(f"[red]✗[/] {f.error}")
    if len(failed) > 20:
        con.print(f"… and {len(failed) - 20} more (see {report.catalog})")
    if report.interrupted:
        con.print("[yellow]interrupted: run the same command again to finish (done work is kept)[/]")


def to_json(report: BatchReport) -> str:
    return json.dumps(report.as_dict(), indent=2)
