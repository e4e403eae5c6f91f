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
from collections import deque
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
    """``events`` re-ordered by time, holding at most ``horizon_ms`` of events in memory.

    The order is that of one heap of ``(time, arrival)``; but most events come no earlier
    than every event before them (files in delivery order), and those are already sorted:
    they wait in a queue (``run``), only the events that go back in time in a heap, and each
    event leaves from whichever of the two holds the smaller ``(time, arrival)``. A queue's
    append and popleft cost less than a heap's push and pop through its tuple comparisons."""
    run: deque[tuple[int, int, dict]] = deque()  # events no earlier than any before them: sorted
    heap: list[tuple[int, int, dict]] = []  # the others
    push, pop = heapq.heappush, heapq.heappop
    append, popleft = run.append, run.popleft
    newest = None
    seq = 0
    for event in events:
        ts = event.get("_ts")
        if ts.__class__ is not int:
            ts = event_time(event)
        if newest is None or ts >= newest:
            newest = ts
            append((ts, seq, event))
        else:
            push(heap, (ts, seq, event))
        seq += 1
        limit = newest - horizon_ms
        while run:
            first = run[0]
            if first[0] >= limit:
                break
            yield (pop(heap) if heap and heap[0] < first else popleft())[2]
        while heap and heap[0][0] < limit:
            yield pop(heap)[2]
    while run:
        yield (pop(heap) if heap and heap[0] < run[0] else popleft())[2]
    while heap:
        yield pop(heap)[2]
