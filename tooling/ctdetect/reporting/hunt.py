"""A hunt result as a rich table (default), NDJSON or JSON, and the progress line while it runs.

Machine formats write only the data to stdout; summaries and problems go to stderr, so
``hunt --format ndjson`` pipes cleanly into another tool.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator, TextIO

import orjson

from ctdetect.findings import Finding
from ctdetect.readers import REASONS
from ctdetect.services.hunt import HuntResult, source_names

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

    def render(self, result: HuntResult) -> None:
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

    def _table(self, result: HuntResult) -> None:
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

    def _summary(self, result: HuntResult, stream: TextIO) -> None:
        s = summary_dict(result)
        lines = [
            f"events read: {s['events_read']:,}; duplicates dropped: {s['events_duplicate']:,}; skipped: {s['events_skipped']:,}"
            + (" (" + ", ".join(f"{n} {r}" for r, n in s["skipped_reasons"].items()) + ")" if s["skipped_reasons"] else ""),
            f"content: {s['rules_run']} rules, {s['jobs_run']} ML jobs; findings: {len(result.findings)}",
        ]
        for (kind, name), n in sorted(source_names(result.findings).items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:6d}  {kind:4s}  {name}")
        for example in result.skips.examples[:10]:
            lines.append(f"skipped: {example}")
        if result.skips.total > 10:
            lines.append(f"skipped: ... {result.skips.total - 10} more")
        for problem in result.problems[:20]:
            lines.append(f"note: {problem}")
        if len(result.problems) > 20:
            lines.append(f"note: ... {len(result.problems) - 20} more")
        stream.write("\n".join(lines) + "\n")


def summary_dict(result: HuntResult) -> dict[str, Any]:
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
    }
