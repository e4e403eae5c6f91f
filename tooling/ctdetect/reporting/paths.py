"""How a report names a file: relative to the working directory when under it, '/' separators.

Every report (text, JSON, JUnit, SARIF) names files the same way, so a path printed by
one can be searched for in another.
"""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path | str) -> str:
    """``path`` relative to the working directory when it is under it, else absolute; '/' separators."""
    p = Path(path)
    try:
        absolute = p.resolve()
        rel = absolute.relative_to(Path.cwd().resolve())
        return rel.as_posix()
    except (ValueError, OSError):
        return p.as_posix() if not p.is_absolute() else os.path.normpath(str(p)).replace(os.sep, "/")
