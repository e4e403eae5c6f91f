"""A validation result as text (default) or JSON, and the choice among every validate format.

Text: problems grouped by file, one line each (``LINE:COL  severity  check  message``),
then a summary. Plain (no colour codes) unless ``color`` is asked for, so logs and pipes
stay clean; with colour, rich styles severities. JSON:
``{"problems": [{file, line, column, check, severity, message}], "summary": {...}}``.
JUnit and SARIF live in their own modules (``reporting.junit``, ``reporting.sarif``).
"""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from typing import TYPE_CHECKING

from ctdetect.reporting.paths import display_path

if TYPE_CHECKING:  # the CLI imports FORMATS at start-up; the service loads with the command
    from ctdetect.content.model import LoadProblem
    from ctdetect.services.validate import ValidationResult

FORMATS = ("text", "json", "junit", "sarif")

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_validation(result: ValidationResult, fmt: str, *, color: bool = False) -> str:
    """The report of ``result`` in format ``fmt`` (one of ``FORMATS``); ``color`` applies to text."""
    if fmt == "text":
        return render_text(result, color=color)
    if fmt == "json":
        return render_json(result)
    if fmt == "junit":
        from ctdetect.reporting.junit import validation_junit

        return validation_junit(result)
    if fmt == "sarif":
        from ctdetect.reporting.sarif import render_sarif

        return render_sarif(result)
    raise KeyError(fmt)


def problem_dict(p: LoadProblem) -> dict[str, Any]:
    """The JSON shape of a problem: file, line, column, check, severity, message."""
    return {"file": display_path(p.file), "line": p.line, "column": p.column, "check": p.check, "severity": p.severity, "message": p.message}


def render_json(result: ValidationResult) -> str:
    doc = {"problems": [problem_dict(p) for p in result.problems], "summary": result.summary}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_text(result: ValidationResult, *, color: bool = False) -> str:
    lines: list[str] = []
    problems = list(result.problems)
    for file, group in groupby(problems, key=lambda p: display_path(p.file)):
        lines.append(file)
        for p in group:
            where = f"{p.line or '-'}:{p.column}" if p.column else f"{p.line or '-'}"
            lines.append(f"  {where:<8} {p.severity:<8} {p.check:<28} {p.message}")
        lines.append("")
    summary = result.summary
    counts = f"{summary.get('errors', 0)} error(s), {summary.get('warnings', 0)} warning(s), {summary.get('infos', 0)} note(s)"
    reasons: dict[str, list[str]] = {}
    for target in summary.get("targets", []):
        what = ", ".join(f"{target[k]} {k.replace('_', ' ')}" for k in ("rules", "jobs", "datafeeds", "playbooks", "hunting_queries", "scenarios") if target.get(k))
        lines.append(f"checked {target['path']} ({target['kind']}): {what or 'no content loaded'}")
        for check, reason in target.get("checks_skipped", {}).items():
            if check not in reasons.setdefault(reason, []):
                reasons[reason].append(check)
    for reason, checks in reasons.items():
        lines.append(f"skipped {', '.join(checks)}: {reason}")
    if summary.get("strict"):
        lines.append("strict mode: warnings count as errors")
    lines.append(counts)
    text = "\n".join(lines) + "\n"
    if not color:
        return text
    return _colour(text)


def _colour(text: str) -> str:
    """Style severities with rich (imported only when colour is on)."""
    from io import StringIO

    from rich.console import Console
    from rich.text import Text

    buffer = StringIO()
    console = Console(file=buffer, force_terminal=True, width=10_000, highlight=False, soft_wrap=True)
    for line in text.rstrip("\n").split("\n"):
        rich_line = Text(line)
        for severity, style in _STYLE.items():
            start = line.find(f" {severity} ")
            if start >= 0:
                rich_line.stylize(style, start + 1, start + 1 + len(severity))
                break
        if line and not line.startswith(" ") and not line.startswith(("checked", "skipped", "strict")) and "error(s)" not in line:
            rich_line.stylize("bold")
        console.print(rich_line)
    return buffer.getvalue()
