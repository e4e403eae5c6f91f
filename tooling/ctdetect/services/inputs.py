"""Input-side helpers of ``hunt`` and ``replay`` around the one ingest path
(``ctdetect.ecs.stream.iter_events``): the mapper with GeoIP, and time order.

``time_ordered`` puts events in time order through a heap holding only the events of a
sliding ``horizon`` (CloudTrail delivers an event within about 15 minutes of its time, and
files are read in delivery order, so the disorder left is short). Events later than the
horizon are passed on as they come; the anomaly engine counts them as out of order, as a
datafeed would.

Why order matters: Elastic ML processes a datafeed in time order and drops late data;
rules do not care (each rule sorts its own matches).
"""

from __future__ import annotations

import heapq
from pathlib import Path
from typing import Any, Iterable, Iterator

DEFAULT_HORIZON_MS = 30 * 60_000


def make_mapper(geoip_db: str | None = None, **options: Any) -> Any:
    """A ``CloudTrailMapper`` with GeoIP from ``geoip_db`` (or the default database);
    ``options`` go to the mapper (``preserve_original``, ``actor_target_mapping``...)."""
    from ctdetect.ecs import CloudTrailMapper

    from ctdetect.geoip import GeoIP

    try:
        geo = GeoIP.open(geoip_db)
    except Exception as exc:  # noqa: BLE001 - GeoIPError and friends: one line for the user
        raise ValueError(str(exc)) from None
    return CloudTrailMapper(geo, **options)


def event_time(event: dict) -> int:
    ts = event.get("_ts")
    if ts.__class__ is int:
        return ts  # type: ignore[return-value]
    from ctdetect.timeutil import parse_iso_ms

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
