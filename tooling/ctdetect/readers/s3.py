"""Read CloudTrail straight from S3: ``s3://bucket/prefix`` as an input path.

Objects are listed through boto3 (optional dependency ``ctdetect[s3]``); credentials,
region and endpoint come from the usual AWS chain (environment, profile, SSO, instance
role; ``AWS_ENDPOINT_URL_S3`` for an S3-compatible server). Each object is read whole
(a CloudTrail log file is a few MB) and then goes through the readers like a local file.

Date pruning: CloudTrail delivers to
``AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz``. When a
``DayRange`` is given, the listing walks the key tree one level at a time (``Delimiter=/``)
and, below each ``CloudTrail/<region>/`` prefix, descends only into the years, months and
days of the range, so a month of data costs a month of listings whatever the bucket
holds. ``CloudTrail-Digest/`` trees hold digest files, not events, and are not read.
Without a range everything under the prefix is listed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

SCHEME = "s3://"
_DIGEST = "CloudTrail-Digest/"


class S3Error(ValueError):
    """S3 cannot be read (no boto3, no credentials, no such bucket, access denied)."""


def is_s3(path: str) -> bool:
    return path.startswith(SCHEME)


@dataclass(frozen=True)
class DayRange:
    """Days (UTC) whose delivery prefixes are read, both ends included."""

    first: date
    last: date

    @classmethod
    def around(cls, since: date | None, until: date | None) -> DayRange | None:
        """The days to read for findings in [since, until]: the day after ``until`` too,
        since an event late in a day may be delivered after midnight. None: no bound."""
        if since is None and until is None:
            return None
        return cls(since or date.min, (until + timedelta(days=1)) if until and until < date.max else date.max)

    def has_year(self, year: int) -> bool:
        return self.first.year <= year <= self.last.year

    def has_month(self, year: int, month: int) -> bool:
        return (self.first.year, self.first.month) <= (year, month) <= (self.last.year, self.last.month)

    def has_day(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass
class S3Listing:
    """What a listing read: the prefixes it listed (for tests and ``--verbose`` figures)."""

    prefixes: list[str] = field(default_factory=list)


def parse(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of an ``s3://bucket/prefix`` URL."""
    rest = url[len(SCHEME):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise S3Error(f"{url}: no bucket name (expected s3://bucket/prefix)")
    return bucket, prefix


def client() -> Any:
    """An S3 client from the default AWS chain."""
    try:
        import boto3
    except ImportError:
        raise S3Error("reading s3:// needs boto3: pip install 'ctdetect[s3]'") from None
    return boto3.client("s3")


def list_objects(url: str, days: DayRange | None = None, *, s3: Any = None,
                 listing: S3Listing | None = None) -> Iterator[str]:
    """``s3://bucket/key`` of every object under ``url`` (only the requested days when
    ``days`` is given), in key order. An URL naming one object yields that object."""
    bucket, prefix = parse(url)
    s3 = s3 or client()
    listing = listing if listing is not None else S3Listing()
    try:
        yield from _walk(s3, bucket, prefix, days, listing)
    except S3Error:
        raise
    except Exception as exc:  # botocore's ClientError, NoCredentialsError, EndpointConnectionError...
        raise S3Error(f"{url}: {_reason(exc)}") from None


def open_object(url: str, *, s3: Any = None) -> io.BytesIO:
    bucket, key = parse(url)
    s3 = s3 or client()
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        return io.BytesIO(body.read())
    except Exception as exc:  # noqa: BLE001 - one line for the user, see list_objects
        raise S3Error(f"{url}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc) or type(exc).__name__


def _pages(s3: Any, bucket: str, prefix: str, delimiter: bool) -> Iterator[dict[str, Any]]:
    args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        args["Delimiter"] = "/"
    yield from s3.get_paginator("list_objects_v2").paginate(**args)


def _walk(s3: Any, bucket: str, prefix: str, days: DayRange | None, listing: S3Listing) -> Iterator[str]:
    """Objects below ``prefix``, descending only into the date prefixes of ``days``."""
    listing.prefixes.append(prefix)
    if days is None:  # no pruning: one flat listing
        for page in _pages(s3, bucket, prefix, delimiter=False):
            for obj in page.get("Contents", ()):
                if _DIGEST not in obj["Key"]:
                    yield f"{SCHEME}{bucket}/{obj['Key']}"
        return
    children: list[str] = []
    for page in _pages(s3, bucket, prefix, delimiter=True):
        for obj in page.get("Contents", ()):
            yield f"{SCHEME}{bucket}/{obj['Key']}"
        children.extend(p["Prefix"] for p in page.get("CommonPrefixes", ()))
    for child in children:
        if not child.endswith(_DIGEST) and _in_range(child, days):
            yield from _walk(s3, bucket, child, days, listing)


def _date_parts(prefix: str) -> list[int] | None:
    """The year, month and day a delivery-tree prefix names (``.../CloudTrail/<region>/
    YYYY/MM/DD/``: as many as it has); None outside the date levels."""
    parts = prefix.rstrip("/").split("/")
    if "CloudTrail" not in parts:
        return None
    after = parts[len(parts) - 1 - parts[::-1].index("CloudTrail") + 1:]
    dated = after[1:4]  # after the region
    if not dated or len(after) > 4:
        return None
    widths = (4, 2, 2)
    if not all(len(p) == w and p.isdigit() for p, w in zip(dated, widths)):
        return None
    return [int(p) for p in dated]


def _in_range(prefix: str, days: DayRange) -> bool:
    parts = _date_parts(prefix)
    if parts is None:
        return True
    if len(parts) == 1:
        return days.has_year(parts[0])
    if len(parts) == 2:
        return days.has_month(parts[0], parts[1])
    try:
        return days.has_day(date(parts[0], parts[1], parts[2]))
    except ValueError:
        return True  # not a real date: read it rather than drop it silently
