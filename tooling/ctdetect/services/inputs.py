"""From paths to flat ECS events in time order, with bounded memory: the input side of
``hunt`` and ``replay``.

1. Files are listed (folders recursively) and ordered by the delivery time CloudTrail
   writes into each log file's name (``<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_
   <id>.json.gz``), so an S3 export spanning several regions is read roughly in time
   order rather than region after region. Other files keep their path order.
2. Each record is mapped (raw CloudTrail through ``CloudTrailMapper``; ECS documents
   flattened); a record that cannot be mapped is reported once as a ``SkippedInput``
   with its file and record number, and the rest goes on.
3. ``time_ordered`` puts events in time order through a heap holding only the events of
   a sliding ``horizon`` (CloudTrail delivers an event within about 15 minutes of its
   time, so the disorder left after step 1 is short). Events later than the horizon are
   passed on as they come; the anomaly engine counts them as out of order, as a datafeed
   would.

Why order matters: Elastic ML processes a datafeed in time order and drops late data;
rules do not care (each rule sorts its own matches).
"""

from __future__ import annotations

import heapq
import re
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from ctdetect.readers import SkippedInput, read_events

SkipCallback = Callable[[SkippedInput], None]

_CT_NAME = re.compile(r"_(\d{8}T\d{4}Z)_")
DEFAULT_HORIZON_MS = 30 * 60_000


def ordered_files(paths: list[str | Path], on_skip: SkipCallback) -> list[str]:
    """Every input file (``-`` kept in place) ordered by CloudTrail delivery time."""
    from ctdetect.readers.sources import STDIN, expand

    out: list[tuple[tuple, str]] = []
    for i, entry in enumerate(paths):
        if str(entry) == STDIN:
            out.append(((i, "", ""), STDIN))
            continue
        files: list[str] = []
        for name, _ in expand([entry], None, on_skip):
            files.append(name)
        for name in files:
            match = _CT_NAME.search(Path(name).name)
            # group per argument; within it CloudTrail files by delivery time, others by path
            out.append(((i, match.group(1) if match else "", name), name))
    out.sort(key=lambda item: item[0])
    return [name for _, name in out]


def make_mapper(geoip_db: str | None = None) -> Any:
    """A ``CloudTrailMapper`` with GeoIP from ``geoip_db`` (or the default database)."""
    from ctdetect.ecs import CloudTrailMapper

    geo = None
    try:
        from ctdetect.geoip import GeoIP  # type: ignore[attr-defined]
    except ImportError:
        GeoIP = None  # noqa: N806
    if GeoIP is not None:
        try:
            geo = GeoIP.open(geoip_db)
        except Exception as exc:  # noqa: BLE001 - GeoIPError and friends: one line for the user
            raise ValueError(str(exc)) from None
    elif geoip_db:
        raise ValueError("GeoIP support is not available in this installation")
    return CloudTrailMapper(geo)


def flat_events(
    paths: list[str | Path],
    *,
    mapper: Any,
    on_skip: SkipCallback,
    stdin: BinaryIO | None = None,
    order_files: bool = True,
) -> Iterator[dict]:
    """Flat ECS events of ``paths``; unmappable records are reported and skipped."""
    from ctdetect.ecs import MappingError, ecs_event

    files = ordered_files(paths, on_skip) if order_files else [str(p) for p in paths]
    map_record = mapper.map
    for item in read_events(files, stdin=stdin, on_skip=on_skip):
        try:
            if item.kind == "cloudtrail":
                yield map_record(item.record)
            else:
                yield ecs_event(item.record)
        except MappingError as exc:
            on_skip(SkippedInput(item.file, item.position, "bad_record", f"record {item.position}: {exc}"))
        except Exception as exc:  # noqa: BLE001 - one bad record never stops a hunt
            on_skip(SkippedInput(item.file, item.position, "bad_record", f"record {item.position}: cannot be mapped ({exc!r})"))


def event_time(event: dict) -> int:
    ts = event.get("_ts")
    if ts.__class__ is int:
        return ts  # type: ignore[return-value]
    from ctdetect.engine.rules.timeutil import parse_iso_ms

    parsed = parse_iso_ms(event.get("@timestamp"))
    return parsed if parsed is not None else 0


def time_ordered(events: Iterable[dict], horizon_ms: int = DEFAULT_HORIZON_MS) -> Iterator[dict]:
    """``events`` re-ordered by time, holding at most ``horizon_ms`` of events in memory."""
    heap: list[tuple[int, int, dict]] = []
    push, pop = heapq.heappush, heapq.heappop
    newest = None
    seq = 0
    for event in events:
        ts = event_time(event)
        push(heap, (ts, seq, event))
        seq += 1
        if newest is None or ts > newest:
            newest = ts
        limit = newest - horizon_ms
        while heap and heap[0][0] < limit:
            yield pop(heap)[2]
    while heap:
        yield pop(heap)[2]
