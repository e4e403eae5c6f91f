"""Write generated records as NDJSON or as CloudTrail's own S3 layout.

S3 layout: ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 chars>.json.gz``, one
``{"Records": [...]}`` file per region per 5-minute delivery window, as CloudTrail
delivers them. The timestamp in the name is the end of the window; the random part is
drawn from the seed and gzip headers carry no time, so output is byte-identical.
Only the current window's records are held in memory.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import orjson

WINDOW_SECONDS = 300
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def write_ndjson(records: Iterable[dict[str, Any]], out: BinaryIO, *, batch: int = 2000) -> int:
    """One record per line; returns the number written."""
    count = 0
    buffer: list[bytes] = []
    dumps = orjson.dumps
    for record in records:
        buffer.append(dumps(record))
        count += 1
        if len(buffer) >= batch:
            out.write(b"\n".join(buffer) + b"\n")
            buffer.clear()
    if buffer:
        out.write(b"\n".join(buffer) + b"\n")
    return count


def write_s3_layout(records: Iterable[dict[str, Any]], root: Path, *, account_id: str, seed: int,
                    compresslevel: int = 6) -> tuple[int, int]:
    """Write the S3 export tree under ``root``; returns (records, files) written."""
    names = random.Random(f"ctdetect-synth/{seed}/files")
    window: int | None = None
    pending: dict[str, list[bytes]] = {}
    count = files = 0
    minute_cache: dict[str, int] = {}
    for record in records:
        stamp = record["eventTime"]
        minute = minute_cache.get(stamp[:16])
        if minute is None:
            minute = int(datetime.strptime(stamp[:16], "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc).timestamp())
            if len(minute_cache) > 10_000:
                minute_cache.clear()
            minute_cache[stamp[:16]] = minute
        current = minute - minute % WINDOW_SECONDS
        if window is not None and current != window:
            files += _flush(root, account_id, window, pending, names, compresslevel)
        window = current
        pending.setdefault(record["awsRegion"], []).append(orjson.dumps(record))
        count += 1
    if window is not None:
        files += _flush(root, account_id, window, pending, names, compresslevel)
    return count, files


def _flush(root: Path, account: str, window: int, pending: dict[str, list[bytes]], names: random.Random,
           compresslevel: int) -> int:
    written = 0
    delivered = datetime.fromtimestamp(window + WINDOW_SECONDS, tz=timezone.utc)
    day = datetime.fromtimestamp(window, tz=timezone.utc)
    for region in sorted(pending):
        lines = pending[region]
        folder = root / "AWSLogs" / account / "CloudTrail" / region / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = "".join(names.choice(_ALPHABET) for _ in range(16))
        name = f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%M}Z_{suffix}.json.gz"
        body = b'{"Records":[' + b",".join(lines) + b"]}"
        (folder / name).write_bytes(gzip.compress(body, compresslevel=compresslevel, mtime=0))
        written += 1
    pending.clear()
    return written
