"""``ctdetect validate [PATH]...``: check a package or folders of rules; exit 0/1/2."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctdetect.commands.options import fail, format_option, open_output, output_option, package_option, resolve_package_or_exit
from ctdetect.validate.checks import PROFILES
from ctdetect.reporting.validation import FORMATS


@click.command(name="validate", help="Check a content package (or a folder of rule TOML files) for problems.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@package_option()
@format_option(FORMATS, "text")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="default",
    show_default=True,
    help="'elastic' adds the checks for rules shipped in Elastic's own repository (file names, tag vocabulary, guide headings).",
)
@output_option()
@click.option("--color/--no-color", default=None, help="Colour the text report (default: when writing to a terminal).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal).")
def command(paths: tuple[Path, ...], package: str | None, fmt: str, strict: bool, profile: str, output: Path | None, color: bool | None, progress: bool | None) -> None:
    """PATHS: folders or files of content (any folder of detection-rules TOML); without
    them, the package (--package, else the current folder when it is one). Exit status: 0
    no errors, 1 errors found, 2 bad usage, an unreadable path or a path with no content."""
    from ctdetect.commands.progress import steps
    from ctdetect.services.validate import UnreadablePath, validate_paths
    from ctdetect.reporting.validation import render_validation

    if paths and package is not None:
        fail("validate", "give PATHS or --package, not both")
    targets = paths or (resolve_package_or_exit(package, "validate"),)
    try:
        with steps(sys.stderr.isatty() if progress is None else progress, "validate") as tick:
            result = validate_paths(targets, strict=strict, profile=profile, progress=tick)
    except UnreadablePath as exc:
        fail("validate", str(exc))
    use_color = fmt == "text" and (color if color is not None else (output is None and sys.stdout.isatty()))
    text = render_validation(result, fmt, color=use_color)
    if output is not None:
        with open_output(output, "validate") as stream:
            stream.write(text)
    else:
        click.echo(text, nl=False, color=use_color or None)
    sys.exit(result.exit_code)
