"""Readers and mapping in one pass: paths in, flat ECS events out.

Raw CloudTrail records go through ``CloudTrailMapper``; ECS documents are flattened.
A record the mapper rejects is reported as a ``bad_record`` skip, like any other bad
input, and the stream goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ctdetect.ecs.documents import ecs_event
from ctdetect.ecs.mapper import CloudTrailMapper, GeoLookup, MappingError
from ctdetect.readers.model import BAD_RECORD, SkippedInput
from ctdetect.readers.stream import read_events


def iter_events(
    paths: list[str | Path],
    *,
    mapper: CloudTrailMapper | None = None,
    geoip: GeoLookup | None = None,
    stdin: BinaryIO | None = None,
    on_skip: Callable[[SkippedInput], None] | None = None,
    fmt: str = "auto",
) -> Iterator[dict[str, Any]]:
    """Flat ECS events from ``paths``. ``fmt``: ``auto``, ``cloudtrail`` or ``ecs``
    (the latter two skip events of the other kind, as ``not_cloudtrail`` skips)."""
    mapper = mapper or CloudTrailMapper(geoip=geoip)
    map_record = mapper.map
    report = on_skip or (lambda _: None)
    for item in read_events(paths, stdin=stdin, on_skip=report):
        if fmt != "auto" and item.kind != fmt:
            report(SkippedInput(item.file, item.position, "not_cloudtrail" if fmt == "cloudtrail" else "bad_record",
                                f"{item.kind} event where {fmt} was asked for"))
            continue
        try:
            if item.kind == "cloudtrail":
                yield map_record(item.record)
            else:
                yield ecs_event(item.record)
        except MappingError as exc:
            report(SkippedInput(item.file, item.position, BAD_RECORD, str(exc)))
