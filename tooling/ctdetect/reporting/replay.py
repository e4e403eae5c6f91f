"""A replay result as a rich table (default) or JSON; JUnit XML is ``reporting.junit``.

The table has a row per expectation (and per scenario that failed before its expectations
could be checked), then the totals and the notes.
"""

from __future__ import annotations

from typing import Any, TextIO

from ctdetect.services.replay import ReplayResult


def replay_dict(result: ReplayResult) -> dict[str, Any]:
    """The replay result as plain data (``--format json``)."""
    scenarios = []
    for s in result.scenarios:
        scenarios.append(
            {
                "name": s.scenario.name,
                "path": str(s.scenario.source.path),
                "events": s.events,
                "skipped": s.skips.total,
                "skipped_examples": [str(e) for e in s.skips.examples[:20]],
                "status": "passed" if s.ok else "failed",
                "reason": "reads zero events" if s.zero_events else ("; ".join(s.errors) if s.errors else None),
                "errors": s.errors,
                "findings": len(s.findings),
                "expectations": [
                    {
                        "index": o.expectation.index,
                        "rule": o.expectation.rule,
                        "job": o.expectation.job,
                        "fires": o.expectation.fires,
                        "entity": o.expectation.entity,
                        "description": o.expectation.description,
                        "line": o.expectation.source.line_of(f"expect.{o.expectation.index}"),
                        "status": o.status,
                        "count": o.count,
                        "detail": o.detail,
                    }
                    for o in s.outcomes
                ],
            }
        )
    return {"scenarios": scenarios, "summary": result.summary(), "scenario_errors": result.scenario_errors, "problems": result.problems}


def render_replay_table(result: ReplayResult, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=max(120, Console(file=out).width))
    table = Table(title="replay: expectations")
    for col in ("scenario", "expectation", "status", "detail"):
        table.add_column(col, overflow="fold")
    style = {"met": "green", "unmet": "bold red", "waiting": "yellow"}
    for error in result.scenario_errors:
        table.add_row("(not loaded)", "(scenario file)", "[bold red]unmet[/]", error)
    for s in result.scenarios:
        if s.zero_events:
            table.add_row(s.scenario.name, "(scenario)", "[bold red]unmet[/]", "reads zero events")
        for error in s.errors:
            table.add_row(s.scenario.name, "(scenario)", "[bold red]unmet[/]", error)
        for o in s.outcomes:
            e = o.expectation
            what = f"{'fires' if e.fires else 'silent'}: {e.rule or e.job}"
            if e.entity:
                what += " " + " ".join(f"{k}={v}" for k, v in e.entity.items())
            table.add_row(s.scenario.name, what, f"[{style[o.status]}]{o.status}[/]", o.detail)
    console.print(table)
    summary = result.summary()
    console.print(
        f"{summary['scenarios']} scenarios ({summary['scenarios_failed']} failed); "
        f"{summary['expectations']} expectations: {summary['met']} met, {summary['unmet']} unmet, {summary['waiting']} waiting"
    )
    for problem in result.problems:
        console.print(f"note: {problem}", markup=False)
    for s in result.scenarios:
        for example in s.skips.examples[:5]:
            console.print(f"{s.scenario.name}: skipped {example}", markup=False)
