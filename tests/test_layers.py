"""The layer rule of DESIGN.md, enforced by reading every module's imports with ``ast``.

Data flows down, nothing flows up: a module may import only from its own layer or from
layers below it. Imports inside functions (lazy imports) count too. Every sub-package of
``ctdetect`` must have a layer here, so a new one is placed on purpose.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "tooling" / "ctdetect"

# rank of each top-level sub-package (higher = further up). Same rank: may import each other.
LAYERS: dict[str, int] = {
    # leaf data and lookups: used by every layer, import nothing else of ctdetect
    "attack": 0,
    "catalogue": 0,
    "geoip": 0,
    "schemas": 0,
    "data": 0,
    "timeutil": 0,  # epoch ms, ISO-8601 text, durations: one module for every layer
    # content: typed model of rules, jobs, datafeeds, playbooks, scenarios (+ findings' shape)
    "content": 1,
    "findings": 1,
    # raw CloudTrail -> ECS, reading inputs, generating benign history
    "ecs": 2,
    "readers": 2,
    "synth": 2,
    # query languages -> one AST -> evaluate / translate
    "query": 3,
    # rule evaluation, anomaly emulation, scoring; content checks
    "engine": 4,
    "validate": 4,
    # embedded / elasticsearch backends; talking to a cluster
    "backends": 5,
    "elastic": 5,
    "deploy": 5,
    "export": 5,
    "stack": 5,
    # one service per command
    "services": 6,
    # every report: one module per result type (text, JSON, JUnit, SARIF, tables)
    "reporting": 7,
    # thin front end
    "commands": 8,
    "cli": 8,
    "__main__": 8,
}
NAMES = {rank: [n for n, r in LAYERS.items() if r == rank] for rank in set(LAYERS.values())}


def _module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=None)
def _imports(path: Path, package_dir: Path = PACKAGE_DIR) -> list[tuple[int, str]]:
    """(line, absolute module name) of every ctdetect import in ``path``, in line order."""
    module = _module_name(path, package_dir)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "ctdetect":  # from ctdetect import x: x may be a sub-package
                found += [(node.lineno, f"ctdetect.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return sorted((line, name) for line, name in found if name == "ctdetect" or name.startswith("ctdetect."))


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _all_modules() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_subpackage_has_a_layer() -> None:
    names = {p.stem if p.is_file() else p.name for p in PACKAGE_DIR.iterdir()}
    names = {n for n in names if not n.startswith((".", "_")) or n == "__main__"}
    names -= {"__init__", "py"}
    names = {n for n in names if (PACKAGE_DIR / n).is_dir() or (PACKAGE_DIR / f"{n}.py").exists()}
    names = {n for n in names if not n.endswith(".egg-info")}
    unplaced = sorted(n for n in names if n not in LAYERS)
    assert unplaced == [], f"give these ctdetect sub-packages a layer in tests/test_layers.py: {unplaced}"


def test_no_import_goes_up() -> None:
    violations = []
    for path in _all_modules():
        own = _layer_of(_module_name(path))
        if own is None or own not in LAYERS:
            continue  # ctdetect/__init__.py; unplaced packages are reported by the test above
        for line, target in _imports(path):
            other = _layer_of(target)
            if other is None or other not in LAYERS:
                continue
            if LAYERS[other] > LAYERS[own]:
                rel = path.relative_to(PACKAGE_DIR.parent.parent)
                violations.append(f"{rel}:{line}: {own} (layer {LAYERS[own]}) imports {target} (layer {LAYERS[other]})")
    assert violations == [], "imports that go up the layers (DESIGN.md):\n" + "\n".join(violations)


def test_named_rules_hold() -> None:
    """The rules DESIGN.md states in words, checked separately so a message names them."""
    forbidden = {
        "content": {"ecs", "query", "engine", "backends", "services", "cli", "commands", "validate"},
        "ecs": {"query", "engine", "backends", "services", "cli", "commands"},
        "query": {"engine", "backends", "services", "cli", "commands"},
        "engine": {"services", "cli", "commands", "backends"},
        "backends": {"services", "cli", "commands", "deploy", "export", "stack"},
        "elastic": {"services", "cli", "commands", "deploy", "backends", "export", "stack"},
        "services": {"cli", "commands", "reporting"},
        "reporting": {"cli", "commands"},
        "catalogue": {n for n in LAYERS if n not in ("catalogue", "data")},
        "attack": {n for n in LAYERS if n not in ("attack", "data")},
        "geoip": {n for n in LAYERS if n not in ("geoip", "data")},
    }
    broken = []
    for path in _all_modules():
        own = _layer_of(_module_name(path))
        for line, target in _imports(path):
            if _layer_of(target) in forbidden.get(own or "", set()):
                broken.append(f"{path.relative_to(PACKAGE_DIR.parent.parent)}:{line}: {own} must not import {target}")
    assert broken == [], "\n".join(broken)


def test_package_never_imports_test_support() -> None:
    """``ctdetect_testsupport`` (the fake cluster) is not in the wheel: the package must not need it."""
    found = []
    for path in _all_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.relative_to(PACKAGE_DIR.parent.parent)}:{node.lineno}" for n in names if n.split(".")[0] == "ctdetect_testsupport"]
    assert found == [], f"ctdetect imports its test support: {found}"


def test_import_parser_resolves_relative_imports(tmp_path: Path) -> None:
    """The checker itself: relative and lazy imports are seen (a check that can fail)."""
    package_dir = tmp_path / "ctdetect"
    (package_dir / "query").mkdir(parents=True)
    mod = package_dir / "query" / "evaluate.py"
    mod.write_text("from ..engine import rules\n\ndef f():\n    import ctdetect.services.hunt\nfrom . import ast\n")
    assert _imports(mod, package_dir) == [
        (1, "ctdetect.engine"), (4, "ctdetect.services.hunt"), (5, "ctdetect.query")
    ]
    init = package_dir / "query" / "__init__.py"
    init.write_text("from .evaluate import f\nfrom ctdetect import cli\n")
    assert _imports(init, package_dir) == [(1, "ctdetect.query.evaluate"), (2, "ctdetect.cli")]
