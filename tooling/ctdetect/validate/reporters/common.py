"""Helpers shared by reporters: display paths and problem dictionaries."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ctdetect.content.model import LoadProblem


def display_path(path: Path | str) -> str:
    """``path`` relative to the working directory when it is under it, else absolute; '/' separators."""
    p = Path(path)
    try:
        absolute = p.resolve()
        rel = absolute.relative_to(Path.cwd().resolve())
        return rel.as_posix()
    except (ValueError, OSError):
        return p.as_posix() if not p.is_absolute() else os.path.normpath(str(p)).replace(os.sep, "/")


def problem_dict(p: LoadProblem) -> dict[str, Any]:
    """The JSON shape of a problem: file, line, column, check, severity, message."""
    return {"file": display_path(p.file), "line": p.line, "column": p.column, "check": p.check, "severity": p.severity, "message": p.message}
