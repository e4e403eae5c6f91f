"""``ctdetect synth``: write deterministic benign CloudTrail history."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ctdetect.commands.options import deprecated_alias
from ctdetect.synth import SynthParamError, SynthParams, generate


@click.command(name="synth", help="Generate deterministic benign CloudTrail history (raw records).")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same output (byte for byte).")
@click.option("--start", default="2026-03-01T00:00:00Z", show_default=True, help="Start time, ISO-8601 (UTC if no offset).")
@click.option("--days", type=float, default=None, help="Length in days (fractions allowed); default 1.")
@click.option("--end", default=None, help="End time, ISO-8601 (instead of --days).")
@click.option("--principals", type=int, default=12, show_default=True, help="Human users plus service roles.")
@click.option("--events-per-day", type=float, default=2000, show_default=True, help="Approximate volume.")
@click.option("--account-id", default="111122223333", show_default=True)
@click.option("--org", default="example", show_default=True, help="Organisation name used in resource names.")
@deprecated_alias("--root", new_flag="--root-logins", dest="include_root", is_flag=True)
@click.option("--root-logins", "include_root", is_flag=True, help="Add the account's root user: a weekly console login (with MFA) and billing reads.")
@click.option("--travel-rate", type=float, default=0.03, show_default=True, help="Share of user-days away from home.")
@click.option("--format", "fmt", type=click.Choice(["s3", "ndjson"]), default="ndjson", show_default=True,
              help="s3: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz; ndjson: one record a line.")
@click.option("--output", "-o", default="-", show_default=True, help="Folder (s3) or file (ndjson); '-' is stdout (ndjson only).")
def command(seed: int, start: str, days: float | None, end: str | None, principals: int, events_per_day: float,
            account_id: str, org: str, include_root: bool, travel_rate: float, fmt: str, output: str) -> None:
    try:
        params = SynthParams(seed=seed, start=start, days=days, end=end, principals=principals,
                             events_per_day=int(events_per_day) if float(events_per_day).is_integer() else events_per_day,
                             account_id=account_id, org=org, include_root=include_root, travel_rate=travel_rate)
    except SynthParamError as exc:
        option = "--" + exc.key.replace("_", "-")
        raise click.UsageError(f"{option}: {str(exc).split(': ', 1)[1]}") from None
    began = time.perf_counter()
    records = generate(params)
    if fmt == "s3":
        if output == "-":
            raise click.UsageError("--output: the s3 format writes a folder tree; give a folder, not '-'")
        from ctdetect.synth.writers import write_s3_layout

        count, files = write_s3_layout(records, Path(output), account_id=params.account_id, seed=params.seed)
        where = f"{files} files under {output}"
    else:
        from ctdetect.synth.writers import write_ndjson

        if output == "-":
            count = write_ndjson(records, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            where = "stdout"
        else:
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            with open(output, "wb") as handle:
                count = write_ndjson(records, handle)
            where = output
    elapsed = time.perf_counter() - began
    click.echo(f"synth: {count} records ({params.start_time:%Y-%m-%dT%H:%M:%SZ} to {params.end_time:%Y-%m-%dT%H:%M:%SZ}) "
               f"written to {where} in {elapsed:.1f} s", err=True)
