"""``ctdetect map``: write the ECS documents of CloudTrail input as NDJSON."""

from __future__ import annotations

import sys

import click


@click.command(name="map", help="Write the ECS documents of CloudTrail input (any shape) as the aws integration would index them.")
@click.argument("paths", nargs=-1, required=True)
@click.option("--output", "-o", default="-", show_default=True, help="NDJSON file to write; '-' is stdout.")
@click.option("--geoip-db", type=click.Path(exists=True, dir_okay=False), envvar="CTDETECT_GEOIP_DB",
              help="MaxMind .mmdb for source.geo.* (default: the shipped database).")
@click.option("--preserve-original", is_flag=True, help="Keep event.original (the integration's preserve_original_event).")
@click.option("--keep-duplicates", is_flag=True, help="Keep repeated events (same eventID); by default each is written once.")
@click.option("--strict", is_flag=True, help="Exit 1 if any input was skipped.")
def command(paths: tuple[str, ...], output: str, geoip_db: str | None, preserve_original: bool, keep_duplicates: bool,
            strict: bool) -> None:
    from ctdetect.services.hunt import path_exists
    from ctdetect.services.map import MapOptions, MapResult, document_lines

    missing = [p for p in paths if not path_exists(p)]
    if missing:
        click.echo(f"ctdetect map: no such file or directory: {', '.join(missing)}", err=True)
        sys.exit(2)
    opts = MapOptions(paths=list(paths), geoip_db=geoip_db, preserve_original=preserve_original,
                      keep_duplicates=keep_duplicates, stdin=sys.stdin.buffer if "-" in paths else None)
    result = MapResult()
    try:
        if output == "-":
            sink = sys.stdout.buffer
            sink.writelines(document_lines(opts, result))
            sink.flush()
        else:
            with open(output, "wb") as handle:
                handle.writelines(document_lines(opts, result))
    except ValueError as exc:
        click.echo(f"ctdetect map: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"ctdetect map: {output}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    for example in result.skips.examples[:10]:
        click.echo(f"skipped: {example}", err=True)
    click.echo(f"documents: {result.documents:,}; duplicates dropped: {result.duplicates:,}; skipped: {result.skips.total:,}", err=True)
    if strict and result.skips.total:
        sys.exit(1)
