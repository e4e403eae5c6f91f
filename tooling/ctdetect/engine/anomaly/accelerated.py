"""Which anomaly modules run compiled: the count-series hot path, built by Cython when it can.

The modules named in ``ACCELERATED`` are compiled from their own ``.py`` source, typed by
the Cython ``.pxd`` file beside each (``setup.py`` builds them; a failed build leaves the
pure-Python modules, which give the same results). The ``.py`` files stay the one source
of truth: the compiled module is that code with C-typed attributes and locals, so every
result is bit-identical (``tests/anomaly/test_compiled_agrees.py`` checks it).
"""

from __future__ import annotations

import importlib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

# read by setup.py (ast.literal_eval): keep it a literal tuple of module names
ACCELERATED = ("priors", "trend", "multibucket", "anomaly_model", "timeseries")
PACKAGE = "ctdetect.engine.anomaly"


# compiled from its own .pyx: scipy's special functions called as C (priors._special)
SPECIAL = "_cspecial"


def compiled_modules() -> list[str]:
    """The names in ``ACCELERATED`` whose imported module is a compiled extension, and
    ``SPECIAL`` when ``priors`` calls scipy through it."""
    out = []
    for name in ACCELERATED:
        path = getattr(importlib.import_module(f"{PACKAGE}.{name}"), "__file__", "") or ""
        if path.endswith(tuple(EXTENSION_SUFFIXES)):
            out.append(name)
    if getattr(importlib.import_module(f"{PACKAGE}.priors")._special(), "__name__", "") == f"{PACKAGE}.{SPECIAL}":
        out.append(SPECIAL)
    return out


def stale_modules() -> list[str]:
    """The compiled modules older than their ``.py`` or ``.pxd``: in an editable checkout,
    Python imports the extension, so an edited source runs its old code until rebuilt
    (``pip install -e .`` or ``python setup.py build_ext --inplace``)."""
    out = []
    for name in ACCELERATED:
        path = Path(getattr(importlib.import_module(f"{PACKAGE}.{name}"), "__file__", "") or "")
        if not path.name.endswith(tuple(EXTENSION_SUFFIXES)):
            continue
        sources = [path.with_name(f"{name}{suffix}") for suffix in (".py", ".pxd")]
        if any(src.exists() and src.stat().st_mtime > path.stat().st_mtime for src in sources):
            out.append(name)
    return out
