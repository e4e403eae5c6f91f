"""``ctdetect replay [SCENARIO ...]``: run scenarios, check their expectations."""

from __future__ import annotations

import os
import sys

import click

from ctdetect.commands.options import backend_option, fail, format_option, output_option, package_option, resolve_package_or_exit


@click.command(name="replay")
@click.argument("scenarios", nargs=-1)
@format_option(("text", "json", "junit"), "text")
@output_option()
@package_option()
@backend_option("Backend that runs the package.")
@click.option("--geoip-db", type=click.Path(exists=True, dir_okay=False), envvar="CTDETECT_GEOIP_DB", help="MaxMind .mmdb for source.geo.*.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Scenarios run in parallel processes (default: one per CPU).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal and CI is not set).")
@click.option("--compare", is_flag=True, help="Run both backends (embedded and elasticsearch) and report where they disagree.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True), help="Also write a self-contained HTML report (expectations, timeline, anomaly swimlane, top entities, events and triage per finding).")
def command(scenarios, fmt, output, package, backend, geoip_db, workers, progress, compare, report_path):  # type: ignore[no-untyped-def]
    """Run scenarios (default: every scenario of the package) and check that the expected
    alerts and anomalies fire and the others stay silent. Exit 1 if any expectation is
    unmet or a scenario reads no events; 2 for bad usage. With --compare: exit 1 when the
    two backends disagree."""
    from ctdetect.backends import BackendUnavailable

    package_root = str(resolve_package_or_exit(package, "replay", bundled=True))
    if compare:
        _compare(list(scenarios), fmt, output, package_root, geoip_db, workers)
    from ctdetect.reporting.junit import replay_junit
    from ctdetect.reporting.replay import render_replay_table, replay_dict, replay_progress
    from ctdetect.services.replay import ReplayUsageError, ReplayWorkerError, run_replay

    show_progress = (sys.stderr.isatty() and not os.environ.get("CI")) if progress is None else progress
    try:
        with replay_progress(show_progress, sys.stderr) as tick:
            result = run_replay(list(scenarios), package_root=package_root, backend=backend, geoip_db=geoip_db, workers=workers, progress=tick)
    except (ReplayUsageError, ReplayWorkerError, BackendUnavailable, ValueError, OSError) as exc:
        fail("replay", str(exc))
    stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "json":
            import orjson

            stream.write(orjson.dumps(replay_dict(result), default=str, option=orjson.OPT_INDENT_2).decode() + "\n")
        elif fmt == "junit":
            stream.write(replay_junit(result))
        else:
            render_replay_table(result, stream)
    finally:
        if output:
            stream.close()
    if report_path:
        from ctdetect.reporting.html import write_report
        from ctdetect.services.report import replay_report

        try:
            write_report(replay_report(result, package_root, geoip_db), report_path)
        except OSError as exc:
            fail("replay", f"cannot write the report {report_path}: {exc.strerror or exc}")
        click.echo(f"wrote the report {report_path}", err=True)
    if fmt != "text":
        s = result.summary()
        click.echo(f"{s['met']} met, {s['unmet']} unmet, {s['waiting']} waiting in {s['scenarios']} scenario{'' if s['scenarios'] == 1 else 's'}", err=True)
    sys.exit(0 if result.ok else 1)


def _compare(scenarios: list[str], fmt: str, output: str | None, package_root: str, geoip_db: str | None, workers: int | None) -> None:
    from ctdetect.backends import BackendUnavailable
    from ctdetect.reporting.compare import compare_dict, render_compare
    from ctdetect.services.compare import run_compare
    from ctdetect.services.replay import ReplayUsageError, ReplayWorkerError

    try:
        result = run_compare(scenarios, package_root=package_root, geoip_db=geoip_db, workers=workers)
    except (ReplayUsageError, ReplayWorkerError, BackendUnavailable, ValueError, OSError) as exc:
        fail("replay --compare", str(exc))
    stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "json":
            import json

            stream.write(json.dumps(compare_dict(result), indent=2, default=str) + "\n")
        else:
            render_compare(result, stream)
    finally:
        if output:
            stream.close()
    sys.exit(0 if result.agree else 1)
