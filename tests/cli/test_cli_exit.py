"""The `rawlux develop` process skips the final garbage collection of its heap; other commands and
in-process callers of ``main(argv)`` keep the normal shutdown."""
from __future__ import annotations

import subprocess
import sys

PROBE = ("import gc, sys\nsys.argv = ['rawlux', *sys.argv[1:]]\nfrom rawlux.cli import _lighter_exit\n"
         "_lighter_exit()\nprint(gc.get_freeze_count() > 0, gc.isenabled())")


def probe(*argv: str) -> str:
    p = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_only_a_develop_process_freezes_its_heap_at_exit():
    assert probe("develop", "a.dng", "-o", "a.jpg") == "True False"
    assert probe("--debug", "develop", "a.dng") == "True False"
    assert probe("batch", "in", "--out-dir", "out") == "False True"
    assert probe("studio") == "False True"


def test_in_process_main_leaves_the_collector_alone(tmp_path):
    code = ("import gc, sys\nfrom rawlux.cli import main\n"
            "rc = main(['develop', 'missing.dng', '-o', 'x.jpg'])\nprint(rc, gc.isenabled(), gc.get_freeze_count())")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert p.stdout.split() == ["3", "True", "0"], (p.stdout, p.stderr)
