"""``ctdetect esql QUERY PATHS...``: run an ES|QL hunting query over CloudTrail archives."""

from __future__ import annotations

import sys
import time

import click

from ctdetect.reporting.esql import FORMATS
from ctdetect.timeutil import parse_iso_ms


@click.command(name="esql")
@click.argument("query")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="table; json = Elasticsearch's ES|QL response shape (columns, values); ndjson = one object a row.")
@click.option("--now", help="The time NOW() returns (ISO-8601; default: the current time).")
@click.option("--geoip-db", type=click.Path(exists=True, dir_okay=False), envvar="CTDETECT_GEOIP_DB", help="MaxMind .mmdb for source.geo.* (default: the shipped database).")
def command(query, paths, fmt, now, geoip_db):  # type: ignore[no-untyped-def]
    """Run the ES|QL QUERY (FROM logs-aws.cloudtrail-* | ...) over CloudTrail files, folders or - (stdin).

    The query is checked first, as Elasticsearch does: a syntax error, unknown column or
    function, or a command the embedded evaluator does not run exits 2 with the reason."""
    from ctdetect.reporting.esql import esql_summary, render_esql
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
    click.echo(render_esql(run, fmt), nl=False)
    if fmt == "table":
        click.echo(esql_summary(run), err=True)
