"""Render a validation result: ``text`` (default, grouped by file), ``json``, ``junit``, ``sarif``.

Each reporter is ``render(result) -> str`` in its own module; the CLI picks one by name.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

FORMATS = ("text", "json", "junit", "sarif")


def get_reporter(name: str) -> Callable[..., str]:
    """The ``render`` function of reporter ``name`` (one of ``FORMATS``)."""
    if name not in FORMATS:
        raise KeyError(name)
    module: Any = importlib.import_module(f"ctdetect.validate.reporters.{name}_report")
    return module.render
