"""``ctdetect fmt [--check] [PATH]...``: Elastic's TOML layout for rules; exit 0/1/2."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctdetect.commands.options import package_option, resolve_package_or_exit


@click.command(name="fmt", help="Lay out rule TOML files as Elastic's detection-rules formatter does.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@package_option()
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if any rule file is not formatted.")
def command(paths: tuple[Path, ...], package: str | None, check: bool) -> None:
    """PATHS: rule files or folders; without them, the package's rules (--package, else the
    current folder when it is a package: never an unrelated tree).
    Exit status: 0 all formatted, 1 a file differs (--check) or cannot be formatted, 2 bad path."""
    from ctdetect.services.fmt import format_paths

    if paths and package is not None:
        raise click.UsageError("give PATHS or --package, not both")
    targets = paths or (resolve_package_or_exit(package, "fmt"),)
    missing = [p for p in targets if not p.exists()]
    if missing:
        click.echo(f"ctdetect fmt: {missing[0]}: no such file or folder", err=True)
        sys.exit(2)
    result = format_paths(targets, check=check)
    for path in result.changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {path}")
    for path, why in result.failed:
        click.echo(f"{path}: cannot format: {why}", err=True)
    total = len(result.changed) + len(result.unchanged)
    verb = "would be reformatted" if check else "reformatted"
    click.echo(f"{len(result.changed)} of {total} rule file(s) {verb}" + (f"; {len(result.failed)} could not be formatted" if result.failed else ""))
    sys.exit(result.exit_code(check))
