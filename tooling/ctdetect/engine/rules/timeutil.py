"""Time helpers of rule evaluation: the names the rule engine imports, from the one time
module (``ctdetect.timeutil``), plus ``event_ms`` (which time of an event a rule reads).

A rule's ``interval`` (``5m``), look-back ``from`` (``now-6m``) and new-terms
``history_window_start`` (``now-14d``) are read with the same functions validation uses.
An event's time is ``_ts`` (set by the ingest path) or its ``@timestamp``, parsed once per
*matching* event, never per event read.
"""

from __future__ import annotations

from ctdetect.timeutil import TimeSpecError, parse_iso_ms, to_datetime
from ctdetect.timeutil import iso_from_ms as iso_ms
from ctdetect.timeutil import rule_interval_ms as duration_ms
from ctdetect.timeutil import rule_lookback_ms as lookback_ms

__all__ = [
    "INGESTED",
    "TimeSpecError",
    "duration_ms",
    "event_ms",
    "ingested_ms",
    "iso_ms",
    "lookback_ms",
    "parse_iso_ms",
    "to_datetime",
]

INGESTED = "event.ingested"


def event_ms(event: dict, field: str | None = None, *, fallback: bool = True) -> int | None:
    """Epoch ms of an event: ``field`` if given and present, else ``_ts``, else ``@timestamp``.

    ``fallback=False`` (a rule's ``timestamp_override_fallback_disabled``) returns ``None``
    for an event without ``field``: Kibana then does not search it at all.
    """
    if field and field != "@timestamp":
        ms = parse_iso_ms(event.get(field))
        if ms is not None:
            return ms
        if not fallback:
            return None
    ts = event.get("_ts")
    if isinstance(ts, int) and not isinstance(ts, bool):
        return ts
    return parse_iso_ms(event.get("@timestamp"))


def ingested_ms(event: dict) -> int | None:
    """When Elasticsearch indexed the event (``event.ingested``), or ``None`` when not recorded."""
    return parse_iso_ms(event.get(INGESTED))
