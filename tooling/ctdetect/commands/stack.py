"""``ctdetect stack up|status|down``: the docker-compose Elasticsearch + Kibana, via the Docker SDK."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctdetect.commands.options import package_option


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
    """Start, inspect or stop the single-node Elasticsearch + Kibana of the package's
    docker-compose.yml (trial licence, security on; .env beside it). --package is the
    folder holding docker-compose.yml (default: the current folder). Needs a Docker engine and the stack extra
    (pip install 'ctdetect[stack]'); without an engine it says so and exits 2."""


@command.command(name="up")
@package_option("--project-dir")
@click.option("--wait", "wait_seconds", default=600, show_default=True, type=click.IntRange(10, 3600), help="Seconds to wait for each service to be healthy.")
def up(package: str | None, wait_seconds: int) -> None:
    """Generate .env secrets if needed, start the stack, wait until healthy, install the aws integration."""
    from ctdetect.services.stack import up as do_up

    _run(do_up, Path(package or "."), float(wait_seconds))


@command.command(name="status")
@package_option("--project-dir")
def status(package: str | None) -> None:
    """State and health of each service."""
    from ctdetect.services.stack import status as do_status

    _run(do_status, Path(package or "."))


@command.command(name="down")
@package_option("--project-dir")
@click.option("--volumes", is_flag=True, help="Also delete the Elasticsearch data volume.")
def down(package: str | None, volumes: bool) -> None:
    """Stop and remove the containers (and the data volume with --volumes)."""
    from ctdetect.services.stack import down as do_down

    _run(do_down, Path(package or "."), volumes)
