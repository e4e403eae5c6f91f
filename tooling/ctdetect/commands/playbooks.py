"""``ctdetect playbooks sync [--check]`` and ``ctdetect playbooks list``."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group(name="playbooks", help="Regenerate rule notes from playbooks, and list hunting queries.")
def command() -> None:
    """Playbooks are the source of truth for rule notes."""


def _load(path: Path):  # type: ignore[no-untyped-def]
    from ctdetect.content.loaders import load_package
    from ctdetect.services.validate import UnreadablePath, check_path

    try:
        check_path(path)
    except UnreadablePath as exc:
        click.echo(f"ctdetect playbooks: {exc}", err=True)
        sys.exit(2)
    package = load_package(path)
    for problem in package.problems:
        where = f"{problem.file}:{problem.line}" if problem.line else str(problem.file)
        click.echo(f"{where}: {problem.severity}: {problem.message} [{problem.check}]", err=True)
    return package


@command.command(name="sync", help="Write each rule's note from its playbook (only the note string changes).")
@click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if any note is out of sync.")
def sync(path: Path, check_only: bool) -> None:
    from ctdetect.content.note_sync import sync_notes

    package = _load(path)
    changes = sync_notes(package, check_only=check_only)
    failed = [c for c in changes if c.error]
    for change in changes:
        if change.error:
            click.echo(f"{change.rule_file}: cannot update note: {change.error}", err=True)
        elif change.written:
            click.echo(f"updated {change.rule_file} from {change.playbook_file}")
        else:
            click.echo(f"out of sync: {change.rule_file} (playbook {change.playbook_file})")
    if check_only:
        click.echo(f"{len(changes)} rule note(s) out of sync" if changes else "all rule notes match their playbooks")
        sys.exit(1 if changes else 0)
    click.echo(f"{sum(c.written for c in changes)} rule note(s) updated")
    sys.exit(1 if failed else 0)


@command.command(name="list", help="List the package's hunting queries (Kibana saved queries).")
@click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
def list_queries(path: Path) -> None:
    package = _load(path)
    for hunt in sorted(package.hunting_queries, key=lambda h: h.id):
        click.echo(f"{hunt.id}\t{hunt.name}\t{hunt.language}: {hunt.query}")
    if not package.hunting_queries:
        click.echo("no hunting queries (playbooks/hunting/*.toml)")
