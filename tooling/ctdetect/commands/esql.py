"""``ctdetect esql QUERY PATHS...``: run an ES|QL hunting query over CloudTrail archives."""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

import click

from ctdetect.commands.options import format_option, open_output, output_option
from ctdetect.timeutil import parse_iso_ms


@click.command(name="esql")
@click.argument("query")
@click.argument("paths", nargs=-1, required=True)
@format_option(("text", "json", "ndjson"), "text", "text: a table; json: Elasticsearch's ES|QL response shape (columns, values); ndjson: one object a row.")
@output_option()
@click.option("--now", help="The time NOW() returns (ISO-8601; default: the current time).")
@click.option("--geoip-db", type=click.Path(exists=True, dir_okay=False), envvar="CTDETECT_GEOIP_DB", help="MaxMind .mmdb for source.geo.* (default: the shipped database).")
def command(query, paths, fmt, output, now, geoip_db):  # type: ignore[no-untyped-def]
    """Run the ES|QL QUERY (FROM logs-aws.cloudtrail-* | ...) over CloudTrail files, folders or - (stdin).

    The query is checked first, as Elasticsearch does: a syntax error, unknown column or
    function, or a command the embedded evaluator does not run exits 2 with the reason."""
    from ctdetect.services.esql import EsqlQueryError, run_esql
    from ctdetect.services.hunt import path_exists

    missing = [p for p in paths if not path_exists(p)]
    if missing:
        click.echo(f"ctdetect esql: no such file or directory: {', '.join(missing)}", err=True)
        sys.exit(2)
    now_ms = parse_iso_ms(now) if now else int(time.time() * 1000)
    if now_ms is None:
        click.echo(f"ctdetect esql: --now {now!r} is not an ISO-8601 time", err=True)
        sys.exit(2)
    try:
        run = run_esql(query, list(paths), now_ms=now_ms, geoip_db=geoip_db, stdin=sys.stdin.buffer if "-" in paths else None)
    except (EsqlQueryError, OSError) as exc:
        click.echo(f"ctdetect esql: {exc}", err=True)
        sys.exit(2)
    names = [n for n, _ in run.columns]
    with open_output(output, "esql") as stream:
        if fmt == "json":
            click.echo(json.dumps({"columns": [{"name": n, "type": t or "unsupported"} for n, t in run.columns], "values": run.values,
                                   "summary": {"events_read": run.events_read, "candidates": run.candidates, "rows": len(run.values), "skipped": dict(run.skips.counts)}}, default=str), file=stream)
        elif fmt == "ndjson":
            for row in run.values:
                click.echo(json.dumps(dict(zip(names, row)), default=str), file=stream)
        else:
            _table(names, run.values, stream)
    if fmt == "text":
        click.echo(f"{len(run.values)} row(s) from {run.events_read} event(s) ({run.skips.total} skipped)", err=True)


def _table(names: list[str], rows: list[list], stream: TextIO) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [min(60, max([len(n)] + [len(r[i]) for r in cells])) for i, n in enumerate(names)]
    click.echo("  ".join(n.ljust(w) for n, w in zip(names, widths)), file=stream)
    for row in cells:
        click.echo("  ".join(v[:w].ljust(w) for v, w in zip(row, widths)), file=stream)


def _cell(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)
