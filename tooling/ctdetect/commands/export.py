"""``ctdetect export --output DIR``: Kibana import files, an ML bundle and an ATT&CK layer."""

from __future__ import annotations

import sys

import click

from ctdetect.commands.options import package_option, resolve_package_or_exit


@click.command(name="export")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False), help="Folder to write (created if needed; files in it are replaced).")
@package_option()
@click.option("--include-development", is_flag=True, help="Also export rules with maturity = \"development\" (production rules only by default).")
def command(output, package, include_development):  # type: ignore[no-untyped-def]
    """Write the package as files Elastic's own tools load, with no cluster needed:
    kibana/rules.ndjson (rules import), kibana/saved_queries.ndjson (saved objects
    import), ml/requests.json and ml/console.txt (jobs and datafeeds),
    attack-navigator-layer.json, and a README saying how to load each. Only production
    rules, as deploy ships them. Exit 2 when nothing was written: the package has errors
    (validate's checks run first) or the output cannot be written; 1 when a written file
    carries a problem (a saved query id without the ctdetect- prefix)."""
    from ctdetect.services.export import ExportError, run_export

    package_root = resolve_package_or_exit(package, "export", bundled=True)
    try:
        result = run_export(package_root, output, include_development)
    except ExportError as exc:
        click.echo(f"ctdetect export: {exc}", err=True)
        sys.exit(2)
    for name, count in result.files.items():
        click.echo(f"{result.output / name}: {count}")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    for problem in result.problems:
        click.echo(f"problem: {problem}", err=True)
    sys.exit(1 if result.problems else 0)
