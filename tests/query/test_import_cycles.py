"""No import cycle inside ``ctdetect.query``: each module imports in a fresh interpreter on its own,
and the graph of its imports (top-level, lazy and type-checking ones alike) has no cycle.

A cycle hidden behind a lazy or ``TYPE_CHECKING`` import still ties two modules into one
(neither can be understood, tested or moved alone), so the static graph counts every import
statement. Importing a package's ``__init__`` as a side effect of importing a sub-module is
Python's doing, not an edge.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "tooling" / "ctdetect"
QUERY_DIR = PACKAGE_DIR / "query"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE_DIR.parent / rel.with_suffix(".py")).exists() or (PACKAGE_DIR.parent / rel / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    """Every ctdetect module ``path`` imports (``from pkg import sub`` names the sub-module)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if _is_module(sub) else target)
    return {name for name in found if name.startswith("ctdetect.")}


def _query_modules() -> list[Path]:
    return sorted(p for p in QUERY_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in _query_modules()}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_lazy_imports_are_edges() -> None:
    graph = _graph()
    assert "ctdetect.query.eql_runtime" in graph["ctdetect.query.predicate"]  # top-level
    assert "ctdetect.query.predicate" in graph["ctdetect.query.esql.expressions"]  # lazy, inside a method


def test_query_layer_has_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("module", [_module_name(p) for p in _query_modules()])
def test_each_module_imports_alone(module: str) -> None:
    """A fresh interpreter imports the module first: a cycle through top-level imports fails here."""
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
