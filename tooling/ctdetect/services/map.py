"""``map``: the ECS documents of any CloudTrail input, as Elastic's aws integration would
index them, one NDJSON line each.

Why: users inspect the mapping, diff it against the documents in their cluster, or
bulk-load it. The input goes through the one ingest path (every shape, delivery order,
exactly once by eventID unless ``keep_duplicates``); each flat event is nested back
(``ctdetect.ecs.nest``) without ctdetect's internal ``_ts``, keys sorted so two runs and
two versions diff cleanly. Bad input is reported as for ``hunt`` and the rest is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from ctdetect.ecs import nest
from ctdetect.ecs.stream import EventIdWindow, iter_events
from ctdetect.readers import SkipCounter
from ctdetect.services.inputs import make_mapper

INTERNAL_FIELDS = ("_ts",)


@dataclass
class MapOptions:
    paths: list[str]
    geoip_db: str | None = None
    preserve_original: bool = False  # keep event.original, as the integration's preserve_original_event tag does
    keep_duplicates: bool = False
    stdin: BinaryIO | None = None
    mapper: Any = None  # a ready CloudTrailMapper (then geoip_db and preserve_original are not used)


@dataclass
class MapResult:
    documents: int = 0
    duplicates: int = 0
    skips: SkipCounter = field(default_factory=SkipCounter)


def document_lines(opts: MapOptions, result: MapResult) -> Iterable[bytes]:
    """One NDJSON line (with its newline) per ECS document; counts go into ``result``.
    Raises ``ValueError`` for an unusable GeoIP database."""
    mapper = opts.mapper or make_mapper(opts.geoip_db, preserve_original=opts.preserve_original)
    window = None if opts.keep_duplicates else EventIdWindow()
    for event in iter_events(opts.paths, mapper=mapper, on_skip=result.skips, stdin=opts.stdin, dedupe=window):
        flat = {k: v for k, v in event.items() if k not in INTERNAL_FIELDS}
        result.documents += 1
        yield orjson.dumps(nest(flat), option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    result.duplicates = window.dropped if window is not None else 0
