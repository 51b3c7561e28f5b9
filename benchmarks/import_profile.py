"""Where a rawlux process spends its import time, every import counted.

    python benchmarks/import_profile.py [--top 40] -m rawlux.cli develop IN.dng -o /tmp/x.jpg --overwrite -q
    python benchmarks/import_profile.py -c "import rawlux.cli"

Why not ``python -X importtime``: on Python 3.11 it misses every module loaded through
``importlib.import_module`` (the stage registry and the CLI's lazy commands load that way; their imports then
show up at depth 0 with no parent), and rawlux silences fd 2 while LibRaw decodes, which loses the lines written
meanwhile. This wraps ``importlib._bootstrap._find_and_load`` instead, so both kinds are timed, and prints the
total, the module count and the heaviest imports by cumulative time (self time beside it, indented by depth).
"""
from __future__ import annotations

import importlib._bootstrap as _bootstrap
import runpy
import sys
import time

_records: list[tuple[int, str, float, float]] = []     # (depth, module, self s, cumulative s), children first
_stack: list[float] = []
_orig = _bootstrap._find_and_load


def _timed_find_and_load(name, import_):  # noqa: ANN001, ANN202 - importlib's private signature
    if name in sys.modules:
        return _orig(name, import_)
    _stack.append(0.0)
    t0 = time.perf_counter()
    try:
        return _orig(name, import_)
    finally:
        dt = time.perf_counter() - t0
        children = _stack.pop()
        _records.append((len(_stack), name, dt - children, dt))
        if _stack:
            _stack[-1] += dt


def report(top: int) -> str:
    total = sum(c for d, _n, _s, c in _records if d == 0)
    out = [f"imports: {total * 1000:.0f} ms in {len(_records)} modules (cumulative ms, self ms, module)"]
    for d, n, s, c in sorted(_records, key=lambda r: -r[3])[:top]:
        out.append(f"{c * 1000:8.1f} {s * 1000:7.1f}  {'  ' * d}{n}")
    return "\n".join(out)


def main() -> None:
    args = sys.argv[1:]
    top = 40
    if args[:1] == ["--top"]:
        top, args = int(args[1]), args[2:]
    if not args or args[0] not in ("-m", "-c") or len(args) < 2:
        sys.exit(__doc__)
    import atexit
    atexit.register(lambda: print(report(top), file=sys.__stderr__))
    _bootstrap._find_and_load = _timed_find_and_load
    if args[0] == "-m":
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *args[2:]]
        exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})


if __name__ == "__main__":
    main()
