"""Rendering of hunt and replay results: rich tables, NDJSON, JSON, JUnit XML.

Kept apart from the services (which return data) and the commands (which parse
arguments) so each output format is tested on its own. Machine formats write only the
data to stdout; summaries and problems go to stderr, so ``hunt --format ndjson`` pipes
cleanly into another tool.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator, TextIO

import orjson

from ctdetect.findings import Finding

ENTITY_FIELDS = ("user.name", "source.ip", "event.action", "cloud.account.id", "process.name", "host.name")


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def finding_summary(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "source_id": f.source_id,
        "name": f.name,
        "timestamp": f.timestamp.isoformat().replace("+00:00", "Z"),
        "score": round(f.score, 3),
        "entity": {k: v for k, v in f.entity.items() if k in ENTITY_FIELDS or f.kind == "anomaly"},
    }


def entity_text(f: Finding) -> str:
    parts = []
    for name in ENTITY_FIELDS:
        value = f.get(name)
        if value not in (None, [], ""):
            if isinstance(value, list):
                value = ",".join(str(v) for v in value[:3])
            parts.append(f"{name}={value}")
    return " ".join(parts)


class HuntRenderer:
    def __init__(self, fmt: str = "table", limit: int = 50, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.fmt = fmt
        self.limit = limit
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    @contextlib.contextmanager
    def progress(self, enabled: bool) -> Iterator[Callable[[int], None] | None]:
        """A ``tick(events_read)`` callback driving a rich progress line on stderr."""
        if not enabled:
            yield None
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(file=self.err)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("reading events", total=None)

            def tick(n: int) -> None:
                bar.update(task, description=f"{n:,} events read")

            yield tick

    def render(self, result: Any) -> None:
        if self.fmt == "ndjson":
            write = self.out.write
            for f in result.findings:
                write(_dumps(f.document) + "\n")
                for related in f.related:
                    write(_dumps(related) + "\n")
            self._summary(result, self.err)
        elif self.fmt == "json":
            payload = {
                "findings": [dict(finding_summary(f), document=f.document, related=f.related) for f in result.findings],
                "summary": summary_dict(result),
            }
            self.out.write(_dumps(payload) + "\n")
        else:
            self._table(result)
            self._summary(result, self.out)

    def _table(self, result: Any) -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=self.out, width=max(120, Console(file=self.out).width))
        rows = result.findings if not self.limit else result.findings[: self.limit]
        table = Table(title=f"{len(result.findings)} findings" + (f" (top {len(rows)})" if len(rows) < len(result.findings) else ""))
        for col in ("score", "time", "kind", "rule / job", "entity"):
            table.add_column(col, overflow="fold")
        for f in rows:
            table.add_row(
                f"{f.score:.0f}",
                f.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
                f.kind,
                f.name,
                entity_text(f),
            )
        console.print(table)

    def _summary(self, result: Any, stream: TextIO) -> None:
        s = summary_dict(result)
        lines = [
            f"events read: {s['events_read']:,}; duplicates dropped: {s['events_duplicate']:,}; skipped: {s['events_skipped']:,}"
            + (" (" + ", ".join(f"{n} {r}" for r, n in s["skipped_reasons"].items()) + ")" if s["skipped_reasons"] else ""),
            f"content: {s['rules_run']} rules, {s['jobs_run']} ML jobs; findings: {len(result.findings)}",
        ]
        if s["hidden_below_floor"]:
            lines.append(
                f"{s['hidden_below_floor']:,} anomaly record(s) below their job's score floor not shown "
                "(the ML rules' anomaly_threshold, else 50; --min-score 0 shows all)"
            )
        from ctdetect.services.hunt import source_names

        for (kind, name), n in sorted(source_names(result.findings).items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:6d}  {kind:4s}  {name}")
        for example in result.skips.examples[:10]:
            lines.append(f"skipped: {example}")
        if result.skips.total > 10:
            lines.append(f"skipped: ... {result.skips.total - 10} more")
        for note in result.notes:
            lines.append(f"note: {note}")
        for problem in result.problems[:20]:
            lines.append(f"note: {problem}")
        if len(result.problems) > 20:
            lines.append(f"note: ... {len(result.problems) - 20} more")
        stream.write("\n".join(lines) + "\n")


def summary_dict(result: Any) -> dict[str, Any]:
    from ctdetect.readers import REASONS
    from ctdetect.services.hunt import source_names

    by_source = source_names(result.findings)
    return {
        "events_read": result.stats.events_read,
        "events_skipped": result.stats.events_skipped,
        "events_duplicate": result.stats.events_duplicate,
        "skipped_reasons": {REASONS.get(k, k): v for k, v in result.stats.skipped_reasons.items()},
        "skipped_examples": [str(e) for e in result.skips.examples[:50]],
        "rules_run": result.rules_run,
        "jobs_run": result.jobs_run,
        "findings_by_rule": {name: n for (kind, name), n in by_source.items() if kind == "rule"},
        "findings_by_job": {name: n for (kind, name), n in by_source.items() if kind == "job"},
        "problems": result.problems,
        "anomaly_floors": result.floors,
        "hidden_below_floor": result.hidden_below_floor,
        "notes": result.notes,
    }


# --------------------------------------------------------------------------- replay


def replay_dict(result: Any) -> dict[str, Any]:
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


def render_replay_table(result: Any, out: TextIO) -> None:
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


def render_replay_junit(result: Any) -> str:
    """JUnit XML: one testsuite per scenario, one testcase per expectation."""
    from xml.etree import ElementTree as ET

    root = ET.Element("testsuites", name="ctdetect replay")
    total = failures = skipped = 0
    if result.scenario_errors:
        suite = ET.SubElement(root, "testsuite", name="scenario files", tests=str(len(result.scenario_errors)), failures=str(len(result.scenario_errors)), skipped="0", errors="0")
        for error in result.scenario_errors:
            case = ET.SubElement(suite, "testcase", name=error.split(": ", 1)[0], classname="scenario files")
            ET.SubElement(case, "failure", message=error).text = error
        total += len(result.scenario_errors)
        failures += len(result.scenario_errors)
    for s in result.scenarios:
        suite = ET.SubElement(root, "testsuite", name=s.scenario.name, file=str(s.scenario.source.path))
        cases = 0
        fails = skips = 0
        if s.zero_events:
            case = ET.SubElement(suite, "testcase", name="reads events", classname=s.scenario.name)
            ET.SubElement(case, "failure", message="scenario reads zero events").text = "A scenario that reads zero events fails."
            cases += 1
            fails += 1
        for error in s.errors:
            case = ET.SubElement(suite, "testcase", name="generates its [[synth]] baseline", classname=s.scenario.name)
            ET.SubElement(case, "failure", message=error).text = error
            cases += 1
            fails += 1
        for o in s.outcomes:
            e = o.expectation
            name = f"[{e.index}] {'fires' if e.fires else 'silent'}: {e.rule or e.job}"
            if e.entity:
                name += " " + " ".join(f"{k}={v}" for k, v in e.entity.items())
            case = ET.SubElement(suite, "testcase", name=name, classname=s.scenario.name)
            cases += 1
            if o.status == "unmet":
                ET.SubElement(case, "failure", message=o.detail).text = e.description or o.detail
                fails += 1
            elif o.status == "waiting":
                ET.SubElement(case, "skipped", message=o.detail)
                skips += 1
        suite.set("tests", str(cases))
        suite.set("failures", str(fails))
        suite.set("skipped", str(skips))
        suite.set("errors", "0")
        total, failures, skipped = total + cases, failures + fails, skipped + skips
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("skipped", str(skipped))
    root.set("errors", "0")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
