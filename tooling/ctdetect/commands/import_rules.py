"""``ctdetect import kibana FILE``: rules exported from Kibana into TOML rules and playbooks."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group(name="import")
def command() -> None:
    """Bring detection content made elsewhere into the package."""


@command.command(name="kibana")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--package", "package_root", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Package root to write into.")
def kibana(source: Path, package_root: Path) -> None:
    """Write each rule of SOURCE (Kibana's rules.ndjson, from Security > Rules > Export or
    `ctdetect export`) as rules/<name>.toml, and its note as playbooks/<name>.md. Kibana's
    fields are kept; what Kibana manages itself (ids, timestamps, revision) is not. Exit 1
    if a line could not be imported (the others are), 2 if SOURCE cannot be read."""
    from ctdetect.services.import_kibana import import_kibana

    try:
        report = import_kibana(source, package_root)
    except OSError as exc:
        click.echo(f"ctdetect import kibana: cannot read {source}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    for rule in report.imported:
        click.echo(f"{rule.rule_path}  {rule.name}")
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    stubs = sum(1 for r in report.imported if r.stub_note)
    click.echo(f"imported {len(report.imported)} rules into {package_root} ({stubs} with a stub playbook); {len(report.errors)} not imported")
    sys.exit(report.exit_code)
