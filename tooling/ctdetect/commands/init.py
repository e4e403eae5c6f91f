"""``ctdetect init DIR [--from-bundled]``: start a content repository of your own."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(name="init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from-bundled", is_flag=True, help="Start from a copy of the rules, jobs, playbooks and scenarios shipped with ctdetect instead of one example rule.")
def command(directory: Path, from_bundled: bool) -> None:
    """Create DIR as a content repository (rules/, ml_jobs/, datafeeds/, playbooks/, scenarios/,
    a CI workflow and pre-commit hooks) that passes `ctdetect validate` and `ctdetect replay`.
    Exit 2 if DIR exists and is not empty."""
    from ctdetect.content.scaffold import ScaffoldError
    from ctdetect.services.scaffold import init_repository

    try:
        written = init_repository(directory, from_bundled=from_bundled)
    except (ScaffoldError, OSError) as exc:
        click.echo(f"ctdetect init: {exc}", err=True)
        sys.exit(2)
    click.echo(f"created {directory}:")
    for line in written.summary:
        click.echo(f"  {line}")
    click.echo(f"next: cd {directory} && ctdetect new rule \"My first rule\" && ctdetect validate && ctdetect replay")
