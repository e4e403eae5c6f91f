"""Which anomaly modules run compiled: the count-series hot path and the bucket scores (Cython).

The modules named in ``ACCELERATED`` are compiled from their own ``.py`` source, typed by
the Cython ``.pxd`` file beside each (``setup.py`` builds them; a failed build leaves the
pure-Python modules, which give the same results). The ``.py`` files stay the one source
of truth: the compiled module is that code with C-typed attributes and locals, so every
result is bit-identical (``tests/anomaly/test_compiled_agrees.py`` checks it).

Which of the two runs is chosen once, when the package is imported
(``choose_implementation``): the extensions when built, unless ``CTDETECT_PURE_PYTHON=1``
asks for the sources, or, in a source checkout, an extension is older than the source it
was built from (an edit not yet rebuilt must run, not its old compiled code).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import re
import sys
import warnings
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

# read by setup.py (ast.literal_eval): keep it a literal tuple of module names, relative to
# this package ("detectors.rare": a module of a subpackage). The bucket close's glue (the
# detectors' close, the normalisers and their digests) runs once per series per bucket,
# and the count series' daily seasonality test (``seasonality``, ``robust``) once per
# series per day: compiled as they are, without a .pxd, their classes stay Python classes
# (but ``qdigest``'s, typed by its .pxd: its tree walks run for every history sample).
# The runner's close and feed (``runner``: per leaf keys, normaliser batches, the bucket
# runs of a batch) and the batch columns (``columns``) are that glue too, compiled as they are
ACCELERATED = ("priors", "trend", "multibucket", "anomaly_model", "gain", "timeseries", "scores", "hierarchy",
               "stats", "categorical", "qdigest", "normalizer", "detectors.base", "detectors.rare", "detectors.counting",
               "seasonality", "robust", "runner", "columns")
PACKAGE = "ctdetect.engine.anomaly"
HERE = Path(__file__).resolve().parent
# set to 1: run the .py sources even where the extensions are built (debugging, and the
# test that compares the two)
PURE_PYTHON_ENV = "CTDETECT_PURE_PYTHON"


# compiled from its own .pyx: scipy's special functions called as C (stats.scalar_special)
SPECIAL = "_cspecial"


def compiled_modules() -> list[str]:
    """The names in ``ACCELERATED`` whose imported module is a compiled extension, and
    ``SPECIAL`` when ``priors``, ``stats`` and ``timeseries`` call scipy through it."""
    out = []
    for name in ACCELERATED:
        path = getattr(importlib.import_module(f"{PACKAGE}.{name}"), "__file__", "") or ""
        if path.endswith(tuple(EXTENSION_SUFFIXES)):
            out.append(name)
    if getattr(importlib.import_module(f"{PACKAGE}.stats").scalar_special(), "__name__", "") == f"{PACKAGE}.{SPECIAL}":
        out.append(SPECIAL)
    return out


def source_path(name: str, suffix: str = ".py") -> Path:
    """The file of accelerated module ``name`` (dotted below this package) with ``suffix``."""
    *folders, module = name.split(".")
    return HERE.joinpath(*folders, module + suffix)


def _extension_file(name: str) -> Path | None:
    """The compiled module of ``name`` beside its source, if one was built."""
    for suffix in EXTENSION_SUFFIXES:
        path = source_path(name, suffix)
        if path.exists():
            return path
    return None


# ``from ctdetect.engine.anomaly.X cimport ...`` / ``cimport ctdetect.engine.anomaly.X`` in a .pxd
_CIMPORT = re.compile(r"^\s*(?:from\s+ctdetect\.engine\.anomaly\.([\w.]+)\s+cimport\b|cimport\s+ctdetect\.engine\.anomaly\.([\w.]+))", re.M)


def declarations(name: str) -> list[Path]:
    """The ``.pxd`` of accelerated module ``name`` and of every module it cimports, through
    their own ``.pxd`` files: a compiled module is built against all of them (its C calls
    follow their layouts), so an edit of any one makes it stale."""
    seen: list[str] = []
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        pxd = source_path(current, ".pxd")
        if pxd.exists():
            todo.extend(a or b for a, b in _CIMPORT.findall(pxd.read_text(encoding="utf-8")))
    return [p for p in (source_path(n, ".pxd") for n in seen) if p.exists()]


def stale_modules() -> list[str]:
    """In a source checkout, the compiled modules older than their ``.py``, their ``.pxd`` or
    the ``.pxd`` of a module they cimport (``declarations``).

    Python imports an extension before the ``.py`` beside it, so in an editable checkout an
    edited source would run its old code until rebuilt (``pip install -e .``); and a module
    built against another's old declarations would call it with the old layout. Only a
    checkout is checked: an installed wheel writes its files in any order, and nobody edits
    it."""
    if not (HERE.parents[3] / "pyproject.toml").exists():  # <checkout>/tooling/ctdetect/engine/anomaly
        return []
    out = []
    for name in ACCELERATED:
        built = _extension_file(name)
        if built is None:
            continue
        sources = [source_path(name, ".py"), *declarations(name)]
        if any(src.exists() and src.stat().st_mtime > built.stat().st_mtime for src in sources):
            out.append(name)
    return out


class SourceOnlyFinder(importlib.abc.MetaPathFinder):
    """Loads every accelerated module from its ``.py`` file, never from its extension, and
    hides ``_cspecial`` (``priors`` then calls scipy's ufuncs). All or none: a compiled
    module typed against another's compiled classes cannot take its pure-Python objects."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith(PACKAGE + "."):
            return None
        name = fullname[len(PACKAGE) + 1 :]
        if name == SPECIAL:
            raise ModuleNotFoundError(fullname)
        if name in ACCELERATED:
            return importlib.util.spec_from_file_location(fullname, source_path(name))
        return None


def choose_implementation() -> None:
    """Before any accelerated module is imported (the package's ``__init__``): run the
    ``.py`` sources when ``CTDETECT_PURE_PYTHON=1`` or when the extensions are stale (with
    one warning saying how to rebuild), else whatever Python finds (the extensions if built)."""
    if any(isinstance(f, SourceOnlyFinder) for f in sys.meta_path):
        return
    forced = os.environ.get(PURE_PYTHON_ENV) == "1"
    stale = [] if forced else stale_modules()
    if stale:
        warnings.warn(
            f"ctdetect: the compiled anomaly modules are older than their sources ({', '.join(stale)}): running "
            "the sources (same results, slower); `pip install -e .` rebuilds them",
            RuntimeWarning, stacklevel=2,
        )
    if forced or stale:
        sys.meta_path.insert(0, SourceOnlyFinder())
