"""``ctdetect validate [PATH]...``: check a package or folders of rules; exit 0/1/2."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctdetect.validate.checks import PROFILES
from ctdetect.reporting.validation import FORMATS


@click.command(name="validate", help="Check a content package (or a folder of rule TOML files) for problems.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="default",
    show_default=True,
    help="'elastic' adds the checks for rules shipped in Elastic's own repository (file names, tag vocabulary, guide headings).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to this file instead of standard output.")
@click.option("--color/--no-color", default=None, help="Colour the text report (default: when writing to a terminal).")
def command(paths: tuple[Path, ...], fmt: str, strict: bool, profile: str, output: Path | None, color: bool | None) -> None:
    """Exit status: 0 no errors, 1 errors found, 2 bad usage or unreadable path."""
    from ctdetect.services.validate import UnreadablePath, validate_paths
    from ctdetect.reporting.validation import render_validation

    try:
        result = validate_paths(paths or (Path("."),), strict=strict, profile=profile)
    except UnreadablePath as exc:
        click.echo(f"ctdetect validate: {exc}", err=True)
        sys.exit(2)
    use_color = fmt == "text" and (color if color is not None else (output is None and sys.stdout.isatty()))
    text = render_validation(result, fmt, color=use_color)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(f"ctdetect validate: cannot write {output}: {exc.strerror or exc}", err=True)
            sys.exit(2)
    else:
        click.echo(text, nl=False, color=use_color or None)
    sys.exit(result.exit_code)
