"""``ctdetect schema NAME``: print one of the shipped JSON Schemas (for editors and CI)."""

from __future__ import annotations

import click

from ctdetect.schemas import SCHEMAS


@click.command(name="schema", help="Print the JSON Schema of a content format (rule, job, datafeed, scenario, hunting-query).")
@click.argument("name", type=click.Choice(sorted(SCHEMAS)))
def command(name: str) -> None:
    from ctdetect.schemas import schema_path

    click.echo(schema_path(name).read_text(encoding="utf-8"), nl=False)
