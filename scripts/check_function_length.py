"""No function over 120 lines in ``src/rawlux``, numba kernels excepted.

A function's length is its source lines from ``def`` (decorators left out) to its last line, nested functions
included in their parent (a 300-line function of closures is one 300-line function). Numba kernels
(decorated ``@njit``/``@jit``/``@numba.*``, or defined in a ``_kernels.py``/``_*_kernel.py`` module) are
left out: their loops are written out on purpose.

    python scripts/check_function_length.py          # exit 1 and a list when a function is too long
    python scripts/check_function_length.py --top 10 # also show the 10 longest
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "rawlux"
LIMIT = 120


def _is_kernel(fn: ast.FunctionDef | ast.AsyncFunctionDef, path: Path) -> bool:
    if path.name == "_kernels.py" or (path.name.startswith("_") and path.stem.endswith("_kernel")):
        return True
    for d in fn.decorator_list:
        node = d.func if isinstance(d, ast.Call) else d
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        if name in ("njit", "jit", "vectorize", "guvectorize", "stencil"):
            return True
    return False


def functions(root: Path = ROOT) -> list[tuple[int, str, bool]]:
    """(lines, 'path:line name', is_kernel) for every top-level function and method (nested ones count in
    their parent)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

        def visit(node: ast.AST, prefix: str) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = (child.end_lineno or child.lineno) - child.lineno + 1
                    where = f"{path.relative_to(root.parent)}:{child.lineno} {prefix}{child.name}"
                    out.append((n, where, _is_kernel(child, path)))
                elif isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.")
        visit(tree, "")
    return out


def main(argv: list[str]) -> int:
    fns = functions()
    long = sorted(((n, w) for n, w, k in fns if n > LIMIT and not k), reverse=True)
    kernels = sum(1 for n, _, k in fns if k)
    print(f"{len(fns)} functions in {ROOT} ({kernels} numba kernels left out); limit {LIMIT} lines")
    if "--top" in argv:
        k = int(argv[argv.index("--top") + 1])
        for n, w in sorted(((n, w) for n, w, kk in fns if not kk), reverse=True)[:k]:
            print(f"  {n:4d}  {w}")
    if not long:
        print(f"no function over {LIMIT} lines")
        return 0
    for n, w in long:
        print(f"too long: {n} lines  {w}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
