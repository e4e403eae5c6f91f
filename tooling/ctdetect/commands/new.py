"""``ctdetect new rule|job|hunt NAME``: scaffold one item into a content package."""

from __future__ import annotations

import sys
from pathlib import Path

import click

PACKAGE_OPTION = click.option(
    "--package", "package_root", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Package root."
)
PROVIDER_OPTION = click.option("--provider", help="CloudTrail event source the query watches (default: s3.amazonaws.com).")
ACTION_OPTION = click.option("--action", help="CloudTrail event name the query watches (default: DeleteBucket).")


@click.group(name="new")
def command() -> None:
    """Scaffold a rule, ML job or hunting query, with a fresh UUID, its playbook and (rules
    and jobs) a scenario where it must fire and one where it must stay silent; the result
    passes `ctdetect validate` and `ctdetect replay` as written. Exit 2 if a file would be
    overwritten or the folder is not a package."""


def _run(kind: str, name: str, package_root: Path, **where: str | None) -> None:
    from ctdetect.content.scaffold import ScaffoldError
    from ctdetect.services.scaffold import new_item

    try:
        written = new_item(kind, name, package_root, **where)
    except (ScaffoldError, OSError) as exc:
        click.echo(f"ctdetect new {kind}: {exc}", err=True)
        sys.exit(2)
    for line in written.summary:
        click.echo(f"created {line}")
    for path in written.files:
        click.echo(f"  {path}")


def _query_item(kind: str, help_text: str) -> None:
    """Register ``new rule`` / ``new hunt``: both watch one CloudTrail call (--provider, --action)."""

    @command.command(name=kind, help=help_text)
    @click.argument("name")
    @PROVIDER_OPTION
    @ACTION_OPTION
    @PACKAGE_OPTION
    def item(name: str, provider: str | None, action: str | None, package_root: Path) -> None:
        _run(kind, name, package_root, provider=provider, action=action)


_query_item("rule", "A query rule NAME on one CloudTrail call (edit its query), its playbook and two scenarios.")
_query_item("hunt", "A hunting query NAME on one CloudTrail call (deployed as a Kibana saved query).")


@command.command(name="job")
@click.argument("name")
@PACKAGE_OPTION
def job(name: str, package_root: Path) -> None:
    """An anomaly-detection job NAME (rare region per account: edit its detector), its datafeed,
    the machine_learning rule alerting on it, its playbook and two scenarios."""
    _run("job", name, package_root)
