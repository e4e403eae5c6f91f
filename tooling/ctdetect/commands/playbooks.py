"""``ctdetect playbooks sync [--check]`` and ``ctdetect playbooks list``: options in,
``ctdetect.services.playbooks`` does the work, text out."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctdetect.commands.options import package_option, resolve_package_or_exit, warn


@click.group(name="playbooks", help="Regenerate rule notes from playbooks, and list hunting queries.")
def command() -> None:
    """Playbooks are the source of truth for rule notes."""


def _root(path: str | None, package: str | None, bundled: bool = False) -> Path:
    """The package: ``--package``, or the deprecated positional PATH (with a warning);
    ``bundled``: listing may fall back to the shipped content, syncing (which writes) may not."""
    if path is not None:
        warn("the PATH argument of `ctdetect playbooks` is deprecated; use --package PATH")
        if package is not None:
            raise click.UsageError("give --package or PATH, not both")
        package = path
    return resolve_package_or_exit(package, "playbooks", bundled=bundled)


def _report_problems(problems) -> None:  # type: ignore[no-untyped-def]
    for problem in problems:
        where = f"{problem.file}:{problem.line}" if problem.line else str(problem.file)
        click.echo(f"{where}: {problem.severity}: {problem.message} [{problem.check}]", err=True)


@command.command(name="sync", help="Write each rule's note from its playbook (only the note string changes).")
@click.argument("path", required=False, default=None, metavar="[PATH (deprecated)]")
@package_option()
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if any note is out of sync.")
def sync(path: str | None, package: str | None, check_only: bool) -> None:
    from ctdetect.services.playbooks import sync as do_sync

    run = do_sync(_root(path, package), check_only=check_only)
    _report_problems(run.problems)
    for change in run.changes:
        if change.error:
            click.echo(f"{change.rule_file}: cannot update note: {change.error}", err=True)
        elif change.written:
            click.echo(f"updated {change.rule_file} from {change.playbook_file}")
        else:
            click.echo(f"out of sync: {change.rule_file} (playbook {change.playbook_file})")
    if check_only:
        n = len(run.changes)
        click.echo(f"{n} rule note{'' if n == 1 else 's'} out of sync" if n else "all rule notes match their playbooks")
        sys.exit(1 if n else 0)
    n = sum(c.written for c in run.changes)
    click.echo(f"{n} rule note{'' if n == 1 else 's'} updated")
    sys.exit(1 if run.failed else 0)


@command.command(name="list", help="List the package's hunting queries (Kibana saved queries).")
@click.argument("path", required=False, default=None, metavar="[PATH (deprecated)]")
@package_option()
def list_queries(path: str | None, package: str | None) -> None:
    from ctdetect.services.playbooks import hunting_queries

    run = hunting_queries(_root(path, package, bundled=True))
    _report_problems(run.problems)
    for hunt in run.queries:
        click.echo(f"{hunt.id}\t{hunt.name}\t{hunt.language}: {hunt.query}")
    if not run.queries:
        click.echo("no hunting queries (playbooks/hunting/*.toml)")
