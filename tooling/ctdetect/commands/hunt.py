"""``ctdetect hunt PATH ...``: run every rule and ML job over logs and rank the findings."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

FORMATS = ("table", "ndjson", "json")


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date or date-time (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)", param_hint=name) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@click.command(name="hunt")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.option("--rule", "rule_filters", multiple=True, help="Only this rule (rule_id or name); repeatable.")
@click.option("--job", "job_filters", multiple=True, help="Only this ML job (job_id); repeatable.")
@click.option("--since", help="Only findings at or after this time (ISO-8601).")
@click.option("--until", help="Only findings at or before this time (ISO-8601).")
@click.option("--min-score", type=float, help="Only findings scoring at least this (alerts: risk_score; anomalies: record_score).")
@click.option("--rules", "rules_path", type=click.Path(exists=True), help="Rules file or folder replacing the package's rules.")
@click.option("--jobs", "jobs_path", type=click.Path(exists=True), help="Jobs folder (package or Elastic module layout) replacing the package's jobs.")
@click.option("--package", "package_root", default=".", show_default=True, type=click.Path(file_okay=False), help="Package root.")
@click.option("--geoip-db", type=click.Path(exists=True, dir_okay=False), envvar="CTDETECT_GEOIP_DB", help="MaxMind .mmdb for source.geo.* (default: the shipped database).")
@click.option("--backend", default="embedded", show_default=True, help="Backend that runs the content.")
@click.option("--strict", is_flag=True, help="Exit 1 if any input was skipped.")
@click.option("--keep-duplicates", is_flag=True, help="Keep repeated events (same eventID); by default each is read once.")
@click.option("--limit", type=int, default=50, show_default=True, help="Rows of the table (0: all).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal).")
def command(paths, fmt, rule_filters, job_filters, since, until, min_score, rules_path, jobs_path, package_root, geoip_db, backend, strict, keep_duplicates, limit, progress):  # type: ignore[no-untyped-def]
    """Run every rule and ML job over CloudTrail archives (files, folders, - for stdin)
    and print the findings ranked by score, then time."""
    from ctdetect.backends import BackendUnavailable
    from ctdetect.services.hunt import HuntOptions, path_exists, run_hunt
    from ctdetect.reporting.hunt import HuntRenderer

    missing = [p for p in paths if not path_exists(p)]
    if missing:
        click.echo(f"ctdetect hunt: no such file or directory: {', '.join(missing)}", err=True)
        sys.exit(2)
    opts = HuntOptions(
        paths=list(paths),
        package_root=package_root,
        rules_path=rules_path,
        jobs_path=jobs_path,
        geoip_db=geoip_db,
        rule_filters=list(rule_filters),
        job_filters=list(job_filters),
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        min_score=min_score,
        backend=backend,
        stdin=sys.stdin.buffer if "-" in paths else None,
        keep_duplicates=keep_duplicates,
    )
    renderer = HuntRenderer(fmt=fmt, limit=limit)
    show_progress = sys.stderr.isatty() if progress is None else progress
    try:
        with renderer.progress(show_progress) as tick:
            opts.progress = tick
            result = run_hunt(opts)
    except BackendUnavailable as exc:
        click.echo(f"ctdetect hunt: {exc}", err=True)
        sys.exit(2)
    except (OSError, ValueError) as exc:
        click.echo(f"ctdetect hunt: {exc}", err=True)
        sys.exit(2)
    renderer.render(result)
    if strict and result.stats.events_skipped:
        sys.exit(1)
