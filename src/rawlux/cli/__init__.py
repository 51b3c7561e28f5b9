"""``rawlux`` command line: a thin shell over the library.

Exit codes: 0 ok, 1 internal error, 2 usage/parameter error, 3 input error, 4 output error, 130 interrupted.
Errors print one line on stderr (``rawlux: error: FILE: what``); ``--debug`` shows tracebacks.

Adding a command: write a ``click`` command (or group) in a module of its own, say ``rawlux/cli/video.py``
(or a feature's ``cli.py``), decorate its body with :func:`rawlux.cli.common.guarded`, and add one line to
:data:`COMMANDS` (``rawlux/cli/commands.py``). Modules are imported only when their command runs, so ``rawlux --help``
stays fast. The click group lives in :mod:`rawlux.cli.app`: a ``develop`` handed to the warm worker imports
neither click nor typing (start-up counts).
"""
from __future__ import annotations

import os
import sys

from .commands import COMMANDS  # noqa: F401 - the one registry of commands (rawlux.cli.COMMANDS)


def main(argv: list[str] | None = None) -> int:
    """The `rawlux` entry point: usage errors are one line too (exit 2). As a command (``argv`` None), a
    ``develop`` goes to the warm worker when one can be used (see :mod:`rawlux.cli.worker`)."""
    if argv is None:
        from .worker import forward
        rc = forward(sys.argv[1:])
        if rc is not None:
            return rc
    if "--debug" in (argv if argv is not None else sys.argv[1:]):
        os.environ["RAWLUX_DEBUG"] = "1"
    else:
        # library notices (lens not found, opcode skipped, ...) are kept on the frame (develop_file's notes);
        # the CLI shows errors only, one line each (`--debug` shows everything)
        import logging
        lg = logging.getLogger("rawlux")
        lg.addHandler(logging.NullHandler())
        lg.propagate = False
    try:
        from .app import run
        rv = run(argv)
    finally:
        if argv is None:
            _lighter_exit()
    return rv if isinstance(rv, int) else 0


#: commands whose outputs are all written (atomically, closed) when they return: the process may then skip
#: the interpreter's final garbage collection of the cycles numba and friends leave (~0.3 s of a develop)
_DONE_AT_RETURN = frozenset({"develop"})


def _lighter_exit() -> None:
    """At the end of a `rawlux develop` process (not in-process callers: they pass argv): freeze the heap so
    the interpreter's shutdown does not walk every object numba, cv2 and the pipeline made (measured ~0.3 s
    on the 12 MP develop; atexit handlers and module teardown still run)."""
    words = [a for a in sys.argv[1:] if not a.startswith("-")]
    if words and words[0] in _DONE_AT_RETURN:
        import gc
        gc.disable()
        gc.freeze()


#: names that live in modules which import click (loaded on first use: the worker's client never needs them)
_MOVED = {"cli": "app", "LazyGroup": "app", "each_input": "common", "fail": "common", "guarded": "common",
          "parse_sets": "common", "parse_wb": "develop", "develop_options": "develop",
          "recipe_overrides": "develop", "output_path": "develop", "develop_cmd": "develop"}


def __getattr__(name: str):  # noqa: ANN202 - the click group and the helpers every command uses (rawlux.cli.cli, ...)
    if name in _MOVED:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_MOVED[name]}"), name)
    raise AttributeError(f"module 'rawlux.cli' has no attribute {name!r}")
