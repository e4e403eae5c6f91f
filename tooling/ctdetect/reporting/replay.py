"""A replay result as text (default) or JSON; JUnit XML is ``reporting.junit``.

The text has a line per expectation under its scenario (and per scenario that failed
before its expectations could be checked), then the totals and the notes. Rules are named
by name, not UUID, and lines are never wrapped.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, TextIO

from ctdetect.services.expectations import Outcome, plural
from ctdetect.services.replay import Progress, ReplayResult


@contextlib.contextmanager
def replay_progress(enabled: bool, err: TextIO) -> Iterator[Progress | None]:
    """A ``tick(done, total, name)`` callback drawing a progress bar of scenarios on ``err``.

    The bar is transient (erased when the replay ends), so the report that follows is
    the same with or without it.
    """
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

    with Bar(TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
             console=Console(file=err), transient=True) as bar:
        task = bar.add_task("", total=None)

        def tick(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=name)

        yield tick


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
                        "target": o.label,
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
    return {"scenarios": scenarios, "summary": result.summary(), "content": result.content_source,
            "scenario_errors": result.scenario_errors, "problems": result.problems}


def expectation_text(o: Outcome) -> str:
    """``fires: <rule name> user.name=x``: the target by name, never by UUID."""
    e = o.expectation
    what = f"{'fires' if e.fires else 'silent'}: {o.label or e.rule or e.job}"
    if e.entity:
        what += " " + " ".join(f"{k}={v}" for k, v in e.entity.items())
    return what


def render_replay_table(result: ReplayResult, out: TextIO) -> None:
    """One line per expectation under its scenario, never wrapped (a long line stays one
    line, so it can be read in a log and searched with grep): status, what is expected of
    which rule or job (by name), and the detail (what fired instead when unmet)."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=out, soft_wrap=True, highlight=False)
    style = {"met": "green", "unmet": "bold red", "waiting": "yellow"}

    def line(status: str, what: str, detail: str) -> None:
        console.print(f"  [{style[status]}]{status:<7}[/] {escape(what)}" + (f"  [dim]{escape(detail)}[/]" if detail else ""))

    if result.scenario_errors:
        console.print("[bold](scenario files not loaded)[/]")
        for error in result.scenario_errors:
            line("unmet", "(scenario file)", error)
    for s in result.scenarios:
        console.print(f"[bold]{escape(s.scenario.name)}[/] ({plural(s.events, 'event')})")
        if s.zero_events:
            line("unmet", "(scenario)", "reads zero events")
        for error in s.errors:
            line("unmet", "(scenario)", error)
        for o in s.outcomes:
            line(o.status, expectation_text(o), o.detail)
    summary = result.summary()
    console.print(
        f"{plural(summary['scenarios'], 'scenario')} ({summary['scenarios_failed']} failed); "
        f"{plural(summary['expectations'], 'expectation')}: {summary['met']} met, {summary['unmet']} unmet, {summary['waiting']} waiting"
    )
    console.print(f"content: {result.content_source}", markup=False)
    for problem in result.problems:
        console.print(f"note: {problem}", markup=False)
    for s in result.scenarios:
        for example in s.skips.examples[:5]:
            console.print(f"{s.scenario.name}: skipped {example}", markup=False)
