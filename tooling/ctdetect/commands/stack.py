"""``ctdetect stack up|status|down``: the docker-compose Elasticsearch + Kibana, via the Docker SDK."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _run(action, *args):  # type: ignore[no-untyped-def]
    from ctdetect.services.stack import StackError

    try:
        report = action(*args)
    except StackError as exc:
        click.echo(f"ctdetect stack: {exc}", err=True)
        sys.exit(exc.code)
    for line in report.lines:
        click.echo(line)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.group(name="stack")
def command() -> None:
    """Start, inspect or stop the single-node Elasticsearch + Kibana of docker-compose.yml
    (trial licence, security on). Needs a Docker engine and the stack extra
    (pip install 'ctdetect[stack]'); without an engine it says so and exits 2."""


@command.command(name="up")
@click.option("--project-dir", default=".", show_default=True, type=click.Path(file_okay=False, exists=True), help="Folder holding docker-compose.yml and .env.")
@click.option("--wait", "wait_seconds", default=600, show_default=True, type=click.IntRange(10, 3600), help="Seconds to wait for each service to be healthy.")
def up(project_dir: str, wait_seconds: int) -> None:
    """Generate .env secrets if needed, start the stack, wait until healthy, install the aws integration."""
    from ctdetect.services.stack import up as do_up

    _run(do_up, Path(project_dir), float(wait_seconds))


@command.command(name="status")
@click.option("--project-dir", default=".", show_default=True, type=click.Path(file_okay=False, exists=True))
def status(project_dir: str) -> None:
    """State and health of each service."""
    from ctdetect.services.stack import status as do_status

    _run(do_status, Path(project_dir))


@command.command(name="down")
@click.option("--project-dir", default=".", show_default=True, type=click.Path(file_okay=False, exists=True))
@click.option("--volumes", is_flag=True, help="Also delete the Elasticsearch data volume.")
def down(project_dir: str, volumes: bool) -> None:
    """Stop and remove the containers (and the data volume with --volumes)."""
    from ctdetect.services.stack import down as do_down

    _run(do_down, Path(project_dir), volumes)
