"""Run checks over a loaded package and collect a ``Report``.

A check that does not apply (its folder is absent, e.g. job existence when validating a
bare folder of rules) or whose reference data cannot be loaded is skipped and listed in
the summary with the reason, so a green run never hides what was not checked. A check
that crashes becomes one ``internal.error`` problem instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ctdetect.content.model import LoadProblem, Package
from ctdetect.validate.checks import ALL_CHECKS, Check
from ctdetect.validate.context import _UNSET, Context

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(slots=True)
class Report:
    """Problems of one validation run and a summary of what was looked at."""

    problems: list[LoadProblem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")


def sort_key(p: LoadProblem) -> tuple:
    return (str(p.file), p.line or 0, p.column or 0, SEVERITY_ORDER.get(p.severity, 3), p.check, p.message)


def run_checks(
    package: Package,
    *,
    checks: Iterable[type[Check]] = ALL_CHECKS,
    catalogue: Any = _UNSET,
    attack: Any = _UNSET,
    profile: str = "default",
    progress: Callable[[str, int, int], None] | None = None,
) -> Report:
    """Run ``checks`` over ``package``; load problems come first in the same list.

    A check with a ``profile`` runs only when that profile is asked for (``elastic``).
    ``progress(check_id, done, total)`` is called before each check (a front end's bar).
    """
    ctx = Context(package, catalogue=catalogue, attack=attack)
    problems: list[LoadProblem] = list(package.problems)
    ran: list[str] = []
    skipped: dict[str, str] = {}
    checks = list(checks)
    for done, check_class in enumerate(checks):
        check = check_class()
        if progress is not None:
            progress(check.id, done, len(checks))
        if check.profile is not None and check.profile != profile:
            skipped[check.id] = f"only with --profile {check.profile}"
            continue
        if "package" in check.requires and not package.is_package:
            skipped[check.id] = "not applicable: needs a whole package (this is a folder or file of content)"
            continue
        absent = [name for name in check.requires if name != "package" and name not in package.components]
        if absent:
            what = "a bare folder or file of content" if not package.is_package else "this package"
            skipped[check.id] = f"not applicable: {what} has no {', '.join(n + '/' for n in absent)} folder"
            continue
        missing = [name for name in check.uses if ctx.resource(name) is None]
        if missing:
            skipped[check.id] = "; ".join(ctx.unavailable.get(name, f"{name} unavailable") for name in missing)
            continue
        try:
            problems.extend(check.run(ctx))
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            problems.append(LoadProblem(package.root, None, None, "internal.error", "error", f"check {check.id} failed ({type(exc).__name__}: {exc}); please report it"))
        ran.append(check.id)
    problems.sort(key=sort_key)
    pkg = package
    summary: dict[str, Any] = {
        "path": str(pkg.root),
        "kind": "package" if pkg.is_package else "rules",
        "rules": len(pkg.rules),
        "jobs": len(pkg.jobs),
        "datafeeds": len(pkg.datafeeds),
        "playbooks": len(pkg.playbooks),
        "hunting_queries": len(pkg.hunting_queries),
        "scenarios": len(pkg.scenarios),
        "checks_run": ran,
        "checks_skipped": skipped,
    }
    return Report(problems=problems, summary=summary)
