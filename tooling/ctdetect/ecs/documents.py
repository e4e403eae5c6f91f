"""ECS documents read as such (NDJSON of host events, or exports from Elasticsearch).

They only need flattening and the ``_ts`` epoch-ms field the engines use for speed.
"""

from __future__ import annotations

from typing import Any

from ctdetect.ecs.flat import flatten
from ctdetect.ecs.mapper import MappingError
from ctdetect.timeutil import BadTimestamp, iso_from_ms, parse_event_time


def ecs_event(document: dict[str, Any]) -> dict[str, Any]:
    """A flat event (dotted keys, ``@timestamp`` normalised to ms, ``_ts`` set).

    Raises ``MappingError`` when ``@timestamp`` is missing or unreadable.
    """
    flat = flatten(document)
    stamp = flat.get("@timestamp")
    if type(stamp) is int or type(stamp) is float:
        ms = int(stamp)

        flat["@timestamp"] = iso_from_ms(ms)
    elif type(stamp) is str and stamp:
        try:
            flat["@timestamp"], ms = parse_event_time(stamp)
        except BadTimestamp:
            raise MappingError(f"@timestamp {stamp!r} is not an ISO-8601 date-time") from None
    else:
        raise MappingError("document has no @timestamp")
    flat["_ts"] = ms
    return flat
