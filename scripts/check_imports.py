"""Import-graph check: no import cycle inside ``src/rawlux``.

Every import counts, including those inside functions (rawlux imports heavy modules lazily, which would
otherwise hide cycles); only ``if TYPE_CHECKING:`` blocks are left out (they never run). An edge goes from a
module to the module it names (``from .a import b`` names ``a.b`` when that is a module, else ``a``).
Cycles are the strongly connected components of that graph with more than one module (or a self-import).

    python scripts/check_imports.py            # prints the cycles; exit 1 when there is one
    python scripts/check_imports.py --layers   # also prints which layer imports which
    python scripts/check_imports.py --grimp    # also asks grimp (pip install grimp) for the same answer
"""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "rawlux"


def modules(root: Path = ROOT) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(p.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[tuple[ast.stmt, int]]:
    """Every Import/ImportFrom node with its line, skipping ``if TYPE_CHECKING:`` bodies."""
    found: list[tuple[ast.stmt, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append((node, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    """module → {imported module: line of the first import}."""
    mods = modules(root)
    edges: dict[str, dict[str, int]] = defaultdict(dict)
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, line in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for a in node.names:
                    sub = f"{mod}.{a.name}"
                    targets.append(sub if sub in mods else mod)
            for t in targets:
                while t and t not in mods and "." in t:       # `import a.b.c` where c is an attribute
                    t = t.rsplit(".", 1)[0]
                if t in mods and t != name:
                    edges[name].setdefault(t, line)
                elif t == name:
                    edges[name].setdefault(t, line)
    for m in mods:
        edges.setdefault(m, {})
    return dict(edges)


def cycles(g: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(g):
        if start in index:
            continue
        work = [(start, iter(sorted(g[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1 or v in g[v]:
                        out.append(sorted(comp))
    return out


def layers(g: dict[str, dict[str, int]]) -> dict[str, set[str]]:
    """Top-level layer (rawlux.<layer>) → the layers it imports."""
    def layer(m: str) -> str:
        parts = m.split(".")
        return parts[1] if len(parts) > 1 else "(rawlux)"
    out: dict[str, set[str]] = defaultdict(set)
    for a, bs in g.items():
        for b in bs:
            if layer(a) != layer(b):
                out[layer(a)].add(layer(b))
    return out


def _grimp_check() -> None:
    """An independent reading of the same graph (grimp also sees imports inside functions)."""
    import grimp

    sys.path.insert(0, str(ROOT))
    g = grimp.build_graph(PACKAGE, cache_dir=None)
    on_cycle = sorted((m, t) for m in g.modules for t in g.find_modules_directly_imported_by(m)
                      if g.chain_exists(t, m))
    print(f"grimp: {len(g.modules)} modules, {len(on_cycle)} import edges on a cycle")
    for m, t in on_cycle:
        print(f"  grimp: {m} -> {t}")


def _where(module: str) -> str:
    path = modules()[module]
    return str(path.relative_to(ROOT.parent))


def main(argv: list[str]) -> int:
    g = graph()
    n_edges = sum(len(v) for v in g.values())
    found = cycles(g)
    print(f"{len(g)} modules, {n_edges} import edges (function-level imports included, TYPE_CHECKING left out)")
    if "--layers" in argv:
        for k, v in sorted(layers(g).items()):
            print(f"  {k:10s} -> {', '.join(sorted(v))}")
    if "--grimp" in argv:
        _grimp_check()
    if not found:
        print("no import cycle")
        return 0
    for comp in found:
        members = set(comp)
        print(f"cycle of {len(comp)} modules:")
        for m in comp:
            for t, line in sorted(g[m].items()):
                if t in members:
                    print(f"  {m} -> {t}   ({_where(m)}:{line})")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
