"""The validate service: load each path, run every check, merge into one result.

Used by ``ctdetect validate`` and by anything else that wants the same verdict (a language
server, a pre-commit hook). It never prints or exits; the CLI renders the result and turns
it into an exit code (0 no errors, 1 errors, 2 bad usage or an unreadable path).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ctdetect.content.model import LoadProblem, Package


class UnreadablePath(ValueError):
    """A path given to validate does not exist or cannot be read."""


class NoContent(UnreadablePath):
    """A path given to validate holds no content at all: nothing was checked, which must
    not read as "no problems"."""


@dataclass(slots=True)
class ValidationResult:
    problems: list[LoadProblem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # every content file looked at

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def _content_files(package: Package) -> list[Path]:
    files: list[Path] = []
    for group in (package.rules, package.jobs, package.datafeeds, package.playbooks, package.hunting_queries, package.scenarios):
        files.extend(obj.source.path for obj in group)
    files.extend(p.file for p in package.problems)
    return sorted(set(files), key=str)


def check_path(path: Path) -> None:
    """Raise ``UnreadablePath`` unless ``path`` is an existing, readable file or folder."""
    if not path.exists():
        raise UnreadablePath(f"{path}: no such file or folder")
    if not os.access(path, os.R_OK) or (path.is_dir() and not os.access(path, os.X_OK)):
        raise UnreadablePath(f"{path}: permission denied")


def validate_paths(
    paths: Iterable[Path | str],
    *,
    strict: bool = False,
    catalogue: Any = None,
    attack: Any = None,
    profile: str = "default",
    progress: Callable[[str, int, int], None] | None = None,
) -> ValidationResult:
    """Validate every path (a package, a folder of rules, or one rule file).

    ``strict`` turns warnings into errors; ``profile`` ``elastic`` adds the checks meant
    for rules shipped in Elastic's own repository. ``catalogue``/``attack`` replace the shipped
    reference data (tests use small ones); by default they are loaded on first use.
    Raises ``UnreadablePath`` for a path that cannot be read and ``NoContent`` for one
    holding no content file. ``progress(check_id, done, total)`` follows the checks.
    """
    from ctdetect.content.loaders import load_package
    from ctdetect.validate.context import _UNSET
    from ctdetect.validate.runner import run_checks, sort_key

    paths = [Path(p) for p in paths]
    for path in paths:
        check_path(path)
    result = ValidationResult()
    targets = []
    for path in paths:
        package = load_package(path)
        if not _content_files(package):
            raise NoContent(f"{path}: no content to validate (no rule TOML, ML job, datafeed, playbook, hunting query or scenario)")
        report = run_checks(
            package, catalogue=catalogue if catalogue is not None else _UNSET, attack=attack if attack is not None else _UNSET,
            profile=profile, progress=progress,
        )
        result.problems.extend(report.problems)
        result.files.extend(_content_files(package))
        targets.append(report.summary)
    if strict:
        for problem in result.problems:
            if problem.severity == "warning":
                problem.severity = "error"
    result.problems.sort(key=sort_key)
    counts = {sev: sum(1 for p in result.problems if p.severity == sev) for sev in ("error", "warning", "info")}
    result.summary = {
        "errors": counts["error"],
        "warnings": counts["warning"],
        "infos": counts["info"],
        "files": len(set(result.files)),
        "strict": strict,
        "profile": profile,
        "targets": targets,
    }
    return result
