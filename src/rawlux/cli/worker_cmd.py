"""``rawlux worker``: see, start and stop the warm develop worker (:mod:`rawlux.cli.worker`)."""
from __future__ import annotations

import click

from .common import guarded


@click.group("worker")
def worker() -> None:
    """The warm worker that runs `rawlux develop` commands without the start-up cost.

    The first `rawlux develop` starts it; it exits after RAWLUX_WORKER_IDLE seconds without work (default 900).
    RAWLUX_WORKER=off runs every command in its own process.
    """


@worker.command("status")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def status(debug: bool) -> int:
    """List the running workers (pid, jobs run, idle time, peak memory)."""
    from . import worker as w

    me = w.identity()
    found = 0
    for p in w.running():
        info = w.request("status", p)
        if info is None:
            continue
        found += 1
        tag = "this installation" if p["key"] == me else "another installation or environment"
        click.echo(f"worker {info['pid']} ({tag}): {info['jobs']} jobs, {info['running']} running, "
                   f"up {info['uptime_s']:.0f} s, idle {info['idle_s']:.0f} s, peak {info['rss_mib']} MiB"
                   + (f"; spare job process {info['spare']} ({info['spare_heap_mib']} MiB of heap ready)"
                      if info.get("spare") else ""))
    if not found:
        click.echo("no worker running")
    return 0


@worker.command("start")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def start(debug: bool) -> int:
    """Start the worker for this installation and wait until it is warm."""
    from ..errors import RawluxError
    from . import worker as w

    p = w.paths()
    s = w.wait_ready(p, timeout=0.2) if w.request("status", p) is not None else None
    if s is None:
        w.start(p)
        s = w.wait_ready(p)
    if s is None:
        raise RawluxError(f"the worker did not start (see {p['log']})")
    s.close()
    info = w.request("status", p) or {}
    click.echo(f"worker {info.get('pid', '?')} is warm ({p['sock']})")
    return 0


@worker.command("stop")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def stop(debug: bool) -> int:
    """Stop every running worker of this user (running jobs finish first)."""
    from . import worker as w

    n = sum(w.request("stop", p) is not None for p in w.running())
    click.echo(f"stopped {n} worker{'s' if n != 1 else ''}")
    return 0
