"""``ctdetect coverage``: print the coverage table, or write it into README.md.

Thin: options in, service calls (``ctdetect.services.coverage`` for the table and README,
``ctdetect.services.quiet_month`` for ``--run``), ``ctdetect.reporting.coverage`` renders. ``--run`` replays the
quiet-month scenario first and refreshes its results file, the only input of the table that
needs a run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ctdetect.commands.options import fail, format_option, open_output, output_option, package_option, resolve_package_or_exit


@click.command(name="coverage")
@package_option("--root")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Quiet-month results file (default: scenarios/quiet-month/results.json in the package).")
@click.option("--run", "run_quiet_month", is_flag=True, help="Replay the quiet-month scenario first and rewrite the results file.")
@click.option("--write-readme", is_flag=True, help="Write the table between the coverage markers of the package's README.md.")
@click.option("--check", is_flag=True, help="Exit 1 when README.md's table is not what the content gives.")
@format_option(("markdown", "json"), "markdown")
@output_option("Write the table to this file instead of standard output.")
@click.option("--progress/--no-progress", default=None, help="Progress on stderr during --run (default: when stderr is a terminal).")
def command(package: str | None, results: Path | None, run_quiet_month: bool, write_readme: bool, check: bool, fmt: str, output: Path | None, progress: bool | None) -> None:
    """Print the package's coverage table (rules, jobs, ATT&CK, scenarios, quiet-month volume)."""
    from ctdetect.reporting.coverage import as_json, render_markdown
    from ctdetect.services import coverage as svc

    root = resolve_package_or_exit(package, "coverage", bundled=True)
    results_path = results if results is not None else root / svc.RESULTS_FILE
    if run_quiet_month:
        _run_quiet_month(root, results_path, sys.stderr.isatty() if progress is None else progress)
    _, coverage = svc.coverage_for_root(root, results_path)
    section = render_markdown(coverage)
    try:
        if check:
            if not svc.readme_is_current(root, section):
                fail("coverage", f"{root / 'README.md'}: the coverage table is out of date; run `ctdetect coverage --write-readme`", 1)
            click.echo(f"{root / 'README.md'}: coverage table up to date", err=True)
            return
        if write_readme:
            click.echo(f"wrote the coverage table to {svc.write_readme(root, section)}", err=True)
            return
    except svc.CoverageFileError as exc:
        fail("coverage", str(exc))
    with open_output(output, "coverage") as stream:
        stream.write(json.dumps(as_json(coverage), indent=2) + "\n" if fmt == "json" else section)


def _run_quiet_month(root: Path, results_path: Path, show_progress: bool) -> None:
    from ctdetect.commands.progress import spinner
    from ctdetect.services import quiet_month

    try:
        with spinner(show_progress, "replaying the quiet month (30 days of benign activity)"):
            outcome = quiet_month.refresh(root, results_path)
    except quiet_month.QuietMonthError as exc:
        fail("coverage", str(exc))
    volumes = outcome.volumes
    click.echo(
        f"quiet month: {outcome.events} events, {volumes.total_alerts} alerts in {volumes.days} days "
        f"({volumes.alerts_per_day:.2f}/day); wrote {results_path}",
        err=True,
    )
    for line in outcome.unmet:
        click.echo(f"quiet month: unmet expectation: {line}", err=True)
