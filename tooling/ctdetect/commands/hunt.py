"""``ctdetect hunt PATH ...``: run every rule and ML job over logs and rank the findings."""

from __future__ import annotations

import sys

import click

from ctdetect.commands.options import (
    backend_option,
    check_time_bounds,
    fail,
    format_option,
    open_output,
    output_option,
    package_option,
    time_bounds_options,
)

FORMATS = ("text", "ndjson", "json")


@click.command(name="hunt")
@click.argument("paths", nargs=-1, required=True)
@format_option(FORMATS, "text")
@output_option("Write the findings to this file instead of standard output (the summary stays on stderr).")
@click.option("--rule", "rule_filters", multiple=True, help="Only this rule (rule_id or name); repeatable.")
@click.option("--job", "job_filters", multiple=True, help="Only this ML job (job_id); repeatable.")
@time_bounds_options()
@click.option("--min-score", type=click.FloatRange(min=0), default=None,
              help="Only findings scoring at least this (alerts: risk_score; anomalies: record_score). "
                   "Default: anomaly records below their job's floor are left out (the lowest anomaly_threshold "
                   "of the machine_learning rules using the job, else 50, Kibana Security's default anomaly "
                   "threshold); 0 shows everything.")
@click.option("--rules", "rules_path", type=click.Path(exists=True), help="A rules file or folder used instead of the package's rules (not a filter: see --rule).")
@click.option("--jobs", "jobs_path", type=click.Path(exists=True), help="A jobs folder (package or Elastic module layout) used instead of the package's jobs (not a filter: see --job).")
@package_option()
@click.option("--geoip-db", type=click.Path(exists=True, dir_okay=False), envvar="CTDETECT_GEOIP_DB", help="MaxMind .mmdb for source.geo.* (default: the shipped database).")
@backend_option()
@click.option("--strict", is_flag=True, help="Exit 1 if any input was skipped.")
@click.option("--keep-duplicates", is_flag=True, help="Keep repeated events (same eventID); by default each is read once.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="Rows of the table (0: all).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes: N decode and map local files, N-1 run the ML jobs while the rules run in the main process (default: every core; 1: everything in one process). Results do not depend on it.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True), help="Also write a self-contained HTML report (timeline, anomaly swimlane, top entities, events and triage per finding).")
def command(paths, fmt, output, rule_filters, job_filters, since, until, min_score, rules_path, jobs_path, package, geoip_db, backend, strict, keep_duplicates, limit, progress, report_path, workers):  # type: ignore[no-untyped-def]
    """Run every rule and ML job over CloudTrail archives (files, folders, - for stdin)
    and print the findings ranked by score, then time. Exit 2 when nothing can run: no
    content loaded, a --rule/--job naming nothing, --since later than --until."""
    from ctdetect.backends import BackendUnavailable
    from ctdetect.backends.job_workers import JobWorkerError
    from ctdetect.commands.progress import counter
    from ctdetect.reporting.hunt import HuntRenderer
    from ctdetect.services.hunt import HuntOptions, HuntUsageError, path_exists, run_hunt

    missing = [p for p in paths if not path_exists(p)]
    if missing:
        fail("hunt", f"no such file or directory: {', '.join(missing)}")
    check_time_bounds(since, until, "hunt")
    opts = HuntOptions(
        paths=list(paths),
        package_root=package,
        rules_path=rules_path,
        jobs_path=jobs_path,
        geoip_db=geoip_db,
        rule_filters=list(rule_filters),
        job_filters=list(job_filters),
        since=since,
        until=until,
        min_score=min_score,
        backend=backend,
        stdin=sys.stdin.buffer if "-" in paths else None,
        keep_duplicates=keep_duplicates,
        workers=workers,
    )
    show_progress = sys.stderr.isatty() if progress is None else progress
    with open_output(output, "hunt") as stream:
        renderer = HuntRenderer(fmt=fmt, limit=limit, out=stream)
        try:
            with counter(show_progress, "events read") as tick:
                opts.progress = tick
                result = run_hunt(opts)
        except (HuntUsageError, BackendUnavailable, JobWorkerError, OSError, ValueError) as exc:
            fail("hunt", str(exc))
        renderer.render(result)
    if report_path:
        from ctdetect.reporting.html import write_report
        from ctdetect.services.report import hunt_report

        try:
            write_report(hunt_report(result, opts), report_path)
        except OSError as exc:
            fail("hunt", f"cannot write the report {report_path}: {exc.strerror or exc}")
        click.echo(f"wrote the report {report_path}", err=True)
    if strict and result.stats.events_skipped:
        sys.exit(1)
