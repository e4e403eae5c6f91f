"""``ctdetect replay [SCENARIO ...]``: run scenarios, check their expectations."""

from __future__ import annotations

import sys

import click


@click.command(name="replay")
@click.argument("scenarios", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "junit"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report to this file instead of stdout.")
@click.option("--package", "package_root", default=".", show_default=True, type=click.Path(file_okay=False), help="Package root.")
@click.option("--backend", default="embedded", show_default=True, help="Backend that runs the package (embedded, elasticsearch).")
@click.option("--geoip-db", type=click.Path(exists=True, dir_okay=False), envvar="CTDETECT_GEOIP_DB", help="MaxMind .mmdb for source.geo.*.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Scenarios run in parallel processes (default: one per CPU, at most 4).")
@click.option("--compare", is_flag=True, help="Run both backends (embedded and elasticsearch) and report where they disagree.")
def command(scenarios, fmt, output, package_root, backend, geoip_db, workers, compare):  # type: ignore[no-untyped-def]
    """Run scenarios (default: every scenario of the package) and check that the expected
    alerts and anomalies fire and the others stay silent. Exit 1 if any expectation is
    unmet or a scenario reads no events; 2 for bad usage. With --compare: exit 1 when the
    two backends disagree."""
    from ctdetect.backends import BackendUnavailable

    if compare:
        _compare(list(scenarios), fmt, output, package_root, geoip_db, workers)
    from ctdetect.reporting.junit import replay_junit
    from ctdetect.reporting.replay import render_replay_table, replay_dict
    from ctdetect.services.replay import ReplayUsageError, run_replay

    try:
        result = run_replay(list(scenarios), package_root=package_root, backend=backend, geoip_db=geoip_db, workers=workers)
    except (ReplayUsageError, BackendUnavailable, ValueError, OSError) as exc:
        click.echo(f"ctdetect replay: {exc}", err=True)
        sys.exit(2)
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
    if fmt != "table":
        s = result.summary()
        click.echo(f"{s['met']} met, {s['unmet']} unmet, {s['waiting']} waiting in {s['scenarios']} scenarios", err=True)
    sys.exit(0 if result.ok else 1)


def _compare(scenarios: list[str], fmt: str, output: str | None, package_root: str, geoip_db: str | None, workers: int | None) -> None:
    from ctdetect.backends import BackendUnavailable
    from ctdetect.reporting.compare import compare_dict, render_compare
    from ctdetect.services.compare import run_compare
    from ctdetect.services.replay import ReplayUsageError

    try:
        result = run_compare(scenarios, package_root=package_root, geoip_db=geoip_db, workers=workers)
    except (ReplayUsageError, BackendUnavailable, ValueError, OSError) as exc:
        click.echo(f"ctdetect replay --compare: {exc}", err=True)
        sys.exit(2)
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
