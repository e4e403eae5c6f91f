"""Which of several content files came first, by git history, else by path order.

Why: when a rule file is copied to start a new rule, both files carry the same
``rule_id`` and name. The problem belongs to the copy, the file someone just added, not to
the original that has been in the repository for months; reporting it on the original sends
the author to the wrong file. git knows which file was added first; files git does not
track (the new copy, before ``git add``) are the newest of all. Outside a git checkout, or
when git is not installed, path order decides, which is at least stable.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

_UNTRACKED = float("inf")  # not in git history: added after everything committed


def _added_at(path: Path) -> float | None:
    """Commit time (epoch s) of the commit that added ``path`` under its current name;
    ``inf`` for a file git does not track; None when git cannot tell (no git, no repo).
    Renames are not followed: following would trace an identical copy back to the
    original's commit, the one case this exists for (a moved file counts as added then)."""
    try:
        run = subprocess.run(
            ["git", "log", "--no-renames", "--diff-filter=A", "--format=%ct", "--", path.name],
            cwd=path.parent, capture_output=True, text=True, timeout=20, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if run.returncode != 0:
        return None
    times = [int(line) for line in run.stdout.split() if line.isdigit()]
    return float(min(times)) if times else _UNTRACKED


def oldest_first(paths: list[Path]) -> list[Path]:
    """``paths`` ordered by when they were added: git history, untracked files last, path
    order between files git cannot tell apart."""
    if shutil.which("git") is None:
        return sorted(paths, key=str)
    added = {p: _added_at(p.resolve()) for p in paths}
    if any(t is None for t in added.values()):
        return sorted(paths, key=str)
    return sorted(paths, key=lambda p: (added[p], str(p)))
