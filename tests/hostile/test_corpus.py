"""Every hostile case through `rawlux` as a subprocess, with a time limit and a memory cap.

Each case must end in a valid output or a clean error: non-zero exit, one clear line naming the file, no
traceback, no signal, within TIME_LIMIT seconds and under MEM_LIMIT bytes.
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from corpus import DATA, Case, build
from corpus_looks import build_looks
from corpus_preflight import build_preflight, fuzzed

TIME_LIMIT = 20.0
MEM_LIMIT = 2 * 1024 ** 3
RAWLUX = [sys.executable, "-c", "import sys; from rawlux.cli import main; sys.exit(main())"]

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not beside the checkout")


def _limit() -> None:  # in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))
    os.setsid()


def run_case(case: Case, cwd: Path) -> dict:
    env = dict(os.environ, PYTHONIOENCODING="utf-8", NUMBA_NUM_THREADS="1")
    env.pop("RAWLUX_DEBUG", None)
    t0 = time.monotonic()
    with open(cwd / f".{abs(hash(case.name))}.err", "w+b") as err:
        p = subprocess.Popen(RAWLUX + case.args, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                             cwd=str(cwd), env=env, preexec_fn=_limit)
        status, rss_kb, timed_out = None, 0, False
        while True:
            pid, st, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                status, rss_kb = st, ru.ru_maxrss
                break
            if time.monotonic() - t0 > TIME_LIMIT:
                timed_out = True
                os.killpg(p.pid, 9)
                _, status, ru = os.wait4(p.pid, 0)
                rss_kb = ru.ru_maxrss
                break
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return {"case": case, "rc": p.returncode, "stderr": stderr, "secs": time.monotonic() - t0,
            "rss": rss_kb * 1024, "timed_out": timed_out}


def verdict(r: dict) -> str | None:
    """None when the case behaved, else what went wrong."""
    c: Case = r["case"]
    rc, err = r["rc"], r["stderr"]
    if r["timed_out"]:
        return f"hang (> {TIME_LIMIT:.0f} s)"
    if rc < 0:
        return f"killed by signal {-rc}"
    if "Traceback" in err:
        return "traceback: " + err.strip().splitlines()[-1][:200]
    if r["rss"] > MEM_LIMIT:
        return f"memory {r['rss'] / 2**20:.0f} MiB"
    ok_output = False
    if rc == 0 and c.output and c.output.endswith(".cube"):
        try:
            from rawlux.looks.lutfiles import read_cube
            ok_output = read_cube(c.output).size >= 2
        except Exception as e:  # noqa: BLE001
            return f"exit 0 but the output is not a valid .cube ({e})"
    elif rc == 0 and c.output:
        try:
            from PIL import Image
            with Image.open(c.output) as im:
                im.load()
                ok_output = im.size[0] > 0 and im.size[1] > 0
        except Exception as e:  # noqa: BLE001
            return f"exit 0 but the output is not a valid image ({e})"
    elif rc == 0:
        ok_output = True
    if rc == 0:
        if c.expect == "error":
            return "accepted an input it must refuse"
        return None if ok_output else "exit 0 without an output"
    # a clean error: exactly one line, starting with rawlux:, naming something useful
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if c.progress:      # commands that report progress on stderr (look fit): drop those known lines
        import re
        lines = [ln for ln in lines if not re.match(c.progress, ln)]
    if c.expect == "ok":
        return f"refused a valid input: {err.strip()[:200]}"
    if len(lines) != 1:
        return f"{len(lines)} lines on stderr: {err.strip()[:300]!r}"
    if not lines[0].startswith("rawlux: error: "):
        return f"unclear message: {lines[0][:200]!r}"
    if rc not in (2, 3, 4):
        return f"exit code {rc} (internal error?): {lines[0][:200]}"
    if c.code is not None and rc != c.code:
        return f"exit code {rc}, expected {c.code}: {lines[0][:200]}"
    missing = [w for w in c.needs if w.lower() not in lines[0].lower()]
    if missing:
        return f"the message does not name {', '.join(missing)}: {lines[0][:200]}"
    name = Path(c.args[1]).name if len(c.args) > 1 and c.args[0] == "develop" and c.needs else None
    if name and name not in lines[0]:
        return f"the message does not name the file {name}: {lines[0][:200]}"
    if c.output and os.path.exists(c.output) and "exists" not in c.name:
        return "an output was left behind by a failed run"
    return None


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    root = tmp_path_factory.mktemp("hostile")
    cases = build(root / "corpus")
    cases += build_looks(root / "looks", root / "corpus" / "tiny-good.png")
    cases += build_preflight(root / "preflight") + fuzzed(root / "fuzz", n=12)
    workers = 3
    with ThreadPoolExecutor(workers) as ex:
        res = list(ex.map(lambda c: run_case(c, root), cases))
    return res


def test_corpus_size(results: list[dict]) -> None:
    assert len(results) >= 300, len(results)
    assert sum(r["case"].category == "preflight" for r in results) >= 45
    cats = Counter(r["case"].category for r in results)
    assert len(cats) >= 12, cats


def test_every_case_ends_cleanly(results: list[dict]) -> None:
    bad = [(r["case"].name, v) for r in results if (v := verdict(r))]
    summary = defaultdict(lambda: [0, 0, 0.0, 0])
    for r in results:
        s = summary[r["case"].category]
        s[0] += 1
        s[1] += r["rc"] == 0
        s[2] = max(s[2], r["secs"])
        s[3] = max(s[3], r["rss"])
    table = "\n".join(f"{k:22s} {v[0]:4d} cases  {v[1]:3d} developed  {v[0]-v[1]:3d} refused  max {v[2]:5.1f} s  "
                      f"max {v[3]/2**20:5.0f} MiB" for k, v in sorted(summary.items()))
    print("\n" + table)
    assert not bad, f"{len(bad)} of {len(results)} cases misbehaved:\n" + "\n".join(f"  {n}: {v}" for n, v in bad)


def test_the_originals_are_untouched(results: list[dict]) -> None:
    sums = (DATA / "SHA256SUMS").read_text().split("\n")
    import hashlib
    for line in sums:
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        p = DATA / name.strip().lstrip("*")
        if p.is_file() and p.stat().st_size < 5_000_000:
            assert hashlib.sha256(p.read_bytes()).hexdigest() == digest, p
