"""The one ingest path: paths in, flat ECS events out (``hunt``, ``replay``, ``map``).

1. Files are put in CloudTrail delivery order (``ctdetect.readers.order``) unless the
   caller keeps its own order (a scenario lists its files on purpose).
2. ``ctdetect.readers`` reads every shape by content (delivery files, NDJSON, envelopes,
   ECS documents), reporting bad input as ``SkippedInput`` and going on.
3. Raw CloudTrail records go through ``CloudTrailMapper``; ECS documents are flattened. A
   record the mapper rejects is reported as a ``bad_record`` skip.
4. Repeats are dropped by ``event.id`` (CloudTrail's ``eventID``) within a bounded window
   (``EventIdWindow``): CloudTrail may deliver an event twice and archives overlap, and a
   repeated event would alert twice. ``keep_duplicates`` turns this off.

``fmt`` (a scenario's ``format``): ``auto``, ``cloudtrail`` or ``ecs``; the latter two
report events of the other kind as skips.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from pathlib import Path
from typing import Any, BinaryIO

from ctdetect.ecs.documents import ecs_event
from ctdetect.ecs.mapper import CloudTrailMapper, GeoLookup, MappingError, RecordMapper
from ctdetect.readers.model import BAD_RECORD, NOT_CLOUDTRAIL, RawItem, SkippedInput
from ctdetect.readers.order import DeliveryOrder, ordered_files
from ctdetect.readers.s3 import DayRange
from ctdetect.readers.stream import read_batches
from ctdetect.readers.texts import RecordText, TextBatch

FORMATS = ("auto", "cloudtrail", "ecs")
DEFAULT_ID_WINDOW = 200_000  # distinct event ids remembered (about 15 MB)


class EventIdWindow:
    """Remembers the last ``size`` distinct event ids; ``seen(id)`` says whether an id is
    a repeat, and ``dropped`` counts the repeats found.

    Memory is bounded by ``size`` whatever the input length: a repeat further apart than
    ``size`` events is not caught (CloudTrail's own repeats are minutes apart; overlapping
    archives hold the same files, read next to each other in delivery order). Ids are kept
    as their 64-bit hashes, a third of the memory of the strings; two different ids
    sharing a hash within one window (odds about 1 in 10^9 at the default size) would drop
    the second event.
    """

    def __init__(self, size: int = DEFAULT_ID_WINDOW) -> None:
        self.size = size
        self.dropped = 0
        self._ids: set[int] = set()
        self._order: deque[int] = deque()

    def __len__(self) -> int:
        return len(self._order)

    def seen(self, event_id: Any) -> bool:
        key = hash(event_id)
        ids = self._ids
        if key in ids:
            self.dropped += 1
            return True
        ids.add(key)
        self._order.append(key)
        if len(self._order) > self.size:
            ids.discard(self._order.popleft())
        return False


def iter_events(
    paths: list[str | Path],
    *,
    mapper: RecordMapper | None = None,
    geoip: GeoLookup | None = None,
    stdin: BinaryIO | None = None,
    on_skip: Callable[[SkippedInput], None] | None = None,
    fmt: str = "auto",
    order_files: bool = True,
    dedupe: EventIdWindow | None = None,
    days: DayRange | None = None,
    workers: int = 1,
) -> Iterator[dict[str, Any]]:
    """Flat ECS events of ``paths`` (``_ts`` set; ``s3://`` prefixes too). ``dedupe``: drop
    repeated ``event.id``s and count them in it (None: keep every event). ``days``: the
    delivery days of S3 prefixes to read (None: all). ``workers`` > 1: local files are
    decoded and mapped in that many worker processes (``ecs.parallel``), the events coming
    out in exactly the order one process gives. Raises ``S3Error`` when an S3 prefix cannot
    be listed."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    mapper = mapper or CloudTrailMapper(geoip=geoip)
    report = on_skip or (lambda _: None)
    files: list[str] | DeliveryOrder
    if order_files:  # walked as the files are read: never a list of the whole archive
        files = ordered_files(paths, report, days)
    else:
        files = [str(p) for p in paths]
    if workers > 1 and stdin is None:
        from ctdetect.ecs.parallel import mapped_in_workers, parallel_capable

        if parallel_capable(files):
            events = mapped_in_workers(files, mapper, fmt, report, days, workers, listed=order_files)
        else:
            events = mapped_events(files, mapper, fmt, report, stdin, days, listed=order_files)
    else:
        events = mapped_events(files, mapper, fmt, report, stdin, days, listed=order_files)
    if dedupe is None:
        yield from events
    else:
        yield from unrepeated(events, dedupe)


def unrepeated(events: Iterable[dict[str, Any]], window: EventIdWindow) -> Iterator[dict[str, Any]]:
    """``events`` without the repeats ``window`` has seen (by ``event.id``, when it is one
    value; counted in ``window.dropped``): ``iter_events``'s ``dedupe``, also applied by
    callers that hold events already read (replay's ``SharedInputs``)."""
    seen = window.seen
    for event in events:
        event_id = event.get("event.id")
        if event_id is not None and type(event_id) is not list and seen(event_id):
            continue
        yield event


def mapped_events(
    files: Iterable[str], mapper: RecordMapper, fmt: str, report: Callable[[SkippedInput], None],
    stdin: BinaryIO | None = None, days: DayRange | None = None, *, listed: bool = False,
) -> Iterator[dict[str, Any]]:
    """Read ``files`` (already ordered) and map each record: raw CloudTrail through
    ``mapper``, ECS documents flattened; each bad record is reported and skipped.
    ``listed``: ``files`` came from ``ordered_files`` (``read_events`` lists them no more)."""
    map_record = mapper.map
    map_text = mapper.map_text if mapper.maps_texts else None
    for batch in read_batches(files, stdin=stdin, on_skip=report, days=days, texts=map_text is not None, listed=listed):
        if type(batch) is TextBatch:
            if fmt == "ecs":
                batch = list(map(RawItem, repeat("cloudtrail"), map(RecordText, batch.texts, batch.heads),
                                 repeat(batch.file), batch.numbers))
            else:  # a delivery file's records, as texts: no object a record on the way (``TextBatch``)
                name = batch.file
                for number, text, head in zip(batch.numbers, batch.texts, batch.heads):
                    try:
                        yield map_text(text, head)  # type: ignore[misc]
                    except Exception as exc:  # noqa: BLE001 - one bad record never stops a hunt
                        report(_unmappable(name, number, exc))
                continue
        for item in batch:
            if fmt != "auto" and item.kind != fmt:
                report(SkippedInput(item.file, item.position, NOT_CLOUDTRAIL if fmt == "cloudtrail" else BAD_RECORD,
                                    f"{item.kind} event where {fmt} was asked for"))
                continue
            try:
                yield map_record(item.record) if item.kind == "cloudtrail" else ecs_event(item.record)
            except Exception as exc:  # noqa: BLE001 - one bad record never stops a hunt
                report(_unmappable(item.file, item.position, exc))


def _unmappable(file: str, number: int | None, exc: Exception) -> SkippedInput:
    """The report of a record the mapper refused: a ``MappingError`` says what is wrong in its
    own words, any other error is named as such (one message for both reading paths)."""
    detail = str(exc) if isinstance(exc, MappingError) else f"cannot be mapped ({exc!r})"
    return SkippedInput(file, number, BAD_RECORD, f"record {number}: {detail}")
