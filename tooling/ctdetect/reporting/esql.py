"""``ctdetect esql`` results: a plain table (default), Elasticsearch's ES|QL response (json),
or one object a row (ndjson).

The table is plain text, columns cut at 60 characters, so it stays readable in a terminal
and greppable in a log; ``null`` is printed for missing values as Kibana's Discover does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports FORMATS at start-up; the service loads with the command
    from ctdetect.services.esql import EsqlRun

FORMATS = ("table", "json", "ndjson")
MAX_WIDTH = 60


def render_esql(run: EsqlRun, fmt: str) -> str:
    """The rows of ``run`` in ``fmt`` (one of ``FORMATS``), newline-terminated."""
    names = [n for n, _ in run.columns]
    if fmt == "json":
        doc = {
            "columns": [{"name": n, "type": t or "unsupported"} for n, t in run.columns],
            "values": run.values,
            "summary": {"events_read": run.events_read, "candidates": run.candidates, "rows": len(run.values), "skipped": dict(run.skips.counts)},
        }
        return json.dumps(doc, default=str) + "\n"
    if fmt == "ndjson":
        return "".join(json.dumps(dict(zip(names, row)), default=str) + "\n" for row in run.values)
    if fmt == "table":
        return _table(names, run.values)
    raise KeyError(fmt)


def esql_summary(run: EsqlRun) -> str:
    """One line for stderr under the table."""
    return f"{len(run.values)} row(s) from {run.events_read} event(s) ({run.skips.total} skipped)"


def _table(names: list[str], rows: list[list[object]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [min(MAX_WIDTH, max([len(n)] + [len(r[i]) for r in cells])) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths))]
    lines += ["  ".join(v[:w].ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)
