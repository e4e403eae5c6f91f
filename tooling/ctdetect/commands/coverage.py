"""``ctdetect coverage``: print the coverage table, or write it into README.md.

Thin: options in, one service call (``ctdetect.services.coverage``), text out. ``--run``
replays the quiet-month scenario first and refreshes its results file, the only input of the
table that needs a run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command(name="coverage")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="Package root.")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Quiet-month results file (default: scenarios/quiet-month/results.json under the root).")
@click.option("--run", "run_quiet_month", is_flag=True, help="Replay the quiet-month scenario first and rewrite the results file.")
@click.option("--write-readme", is_flag=True, help="Write the table between the coverage markers of README.md.")
@click.option("--check", is_flag=True, help="Exit 1 when README.md's table is not what the content gives.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
def command(root: Path, results: Path | None, run_quiet_month: bool, write_readme: bool, check: bool, fmt: str) -> None:
    """Print the package's coverage table (rules, jobs, ATT&CK, scenarios, quiet-month volume)."""
    from ctdetect.reporting.coverage import as_json, render_markdown
    from ctdetect.services import coverage as svc

    results_path = results if results is not None else root / svc.RESULTS_FILE
    if run_quiet_month:
        from ctdetect.services import quiet_month

        try:
            outcome = quiet_month.run_detailed(root)
        except quiet_month.QuietMonthError as exc:
            click.echo(f"ctdetect coverage: {exc}", err=True)
            sys.exit(2)
        volumes = outcome.volumes
        svc.write_volumes(volumes, results_path)
        click.echo(
            f"quiet month: {outcome.events} events, {volumes.total_alerts} alerts in {volumes.days} days "
            f"({volumes.alerts_per_day:.2f}/day); wrote {results_path}",
            err=True,
        )
        for line in outcome.unmet:
            click.echo(f"quiet month: unmet expectation: {line}", err=True)
    _, coverage = svc.coverage_for_root(root, results_path)
    section = render_markdown(coverage)
    readme = root / "README.md"
    if check:
        try:
            current = svc.current_section(readme.read_text(encoding="utf-8"))
        except OSError as exc:
            click.echo(f"ctdetect coverage: cannot read {readme}: {exc.strerror}", err=True)
            sys.exit(2)
        if current != section:
            click.echo(f"{readme}: the coverage table is out of date; run `ctdetect coverage --write-readme`", err=True)
            sys.exit(1)
        click.echo(f"{readme}: coverage table up to date", err=True)
        return
    if write_readme:
        try:
            text = readme.read_text(encoding="utf-8") if readme.exists() else "# README\n"
            readme.write_text(svc.replace_section(text, section), encoding="utf-8")
        except OSError as exc:
            click.echo(f"ctdetect coverage: cannot write {readme}: {exc.strerror}", err=True)
            sys.exit(2)
        click.echo(f"wrote the coverage table to {readme}", err=True)
        return
    if fmt == "json":
        click.echo(json.dumps(as_json(coverage), indent=2))
    else:
        click.echo(section, nl=False)
