"""Every data file the package reads ships in its wheel.

Setuptools puts only ``.py`` files in a wheel unless ``package-data`` names the others; a data
file it misses works in a checkout and fails once installed (the ES|QL function data did). We
match the package's files against those patterns rather than build a wheel: same answer, no build.
"""

from __future__ import annotations

import re
import tomllib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tooling" / "ctdetect"


def test_every_non_python_file_of_the_package_is_package_data() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["ctdetect"]
    data_files = [p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
                  and not _build_product(p)]
    assert data_files, "the package has data files"
    shipped = [_glob(pattern) for pattern in patterns]
    missed = [rel for rel in (p.relative_to(PACKAGE).as_posix() for p in data_files) if not any(g.fullmatch(rel) for g in shipped)]
    assert missed == [], f"not shipped in a wheel: add to [tool.setuptools.package-data]: {missed}"


def _build_product(path: Path) -> bool:
    """A compiled module or the C that Cython generated from a ``.py``/``.pyx`` beside it
    (setup.py's optional build): made by the build, not data to ship."""
    if path.name.endswith(tuple(EXTENSION_SUFFIXES)):
        return True
    return path.suffix == ".c" and any(path.with_suffix(s).exists() for s in (".py", ".pyx"))


def _glob(pattern: str) -> re.Pattern[str]:
    """Setuptools' glob as a regex: ``*`` stays within one folder, ``**/`` spans any number."""
    out = "".join("(?:[^/]+/)*" if part == "**/" else "[^/]*" if part == "*" else re.escape(part) for part in re.split(r"(\*\*/|\*)", pattern))
    return re.compile(out)


def test_test_support_is_not_shipped() -> None:
    """The fake cluster is importable in a clone (tests, bench) but never part of the wheel."""
    find = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]["find"]
    assert (ROOT / "tooling" / "ctdetect_testsupport" / "__init__.py").exists()
    assert "ctdetect_testsupport*" in find.get("exclude", []), "exclude ctdetect_testsupport from the wheel in pyproject.toml"
