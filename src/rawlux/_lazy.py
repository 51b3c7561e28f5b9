"""Lazy package attributes: a name resolves to ``module.attr`` on first use, so importing a package
does not import its heavy modules (CLI start-up counts)."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - annotations only (no typing import at run time)
    from typing import Any, Callable


def lazy_getattr(package: str, table: dict[str, tuple[str, str]], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``table[name] = (module, attr)`` on first
    access and caches the value in ``namespace`` (the package's globals)."""

    def __getattr__(name: str) -> Any:
        if name in table:
            import importlib
            mod, attr = table[name]
            value = getattr(importlib.import_module(mod), attr)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
