"""Time helpers for rule evaluation: Kibana durations, date math offsets, event times.

Why here and not in ``query``: the rule engine needs only three things, cheaply and
without a general date-math parser: a rule's ``interval`` (``"5m"``), its look-back
``from`` (``"now-6m"``) and a new-terms ``history_window_start`` (``"now-14d"``), each as
a number of milliseconds; and an event's time as epoch milliseconds (readers set ``_ts``;
otherwise ``@timestamp`` is parsed once per *matching* event, never per event read).

Kibana's rule schedule accepts ``s``, ``m``, ``h`` and ``d`` units for ``interval``; date
math (``now-6m``, ``now-14d``, ``now-1M``) uses Elasticsearch's units (``y M w d h H m
s ms``). Rounding (``now-1d/d``) is ignored for a look-back, as it only shifts the start
to a boundary; we document that rather than guess which boundary a user meant.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

_UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "H": 3_600_000,
    "d": 86_400_000,
    "w": 7 * 86_400_000,
    "M": 30 * 86_400_000,  # calendar month approximated as 30 days (documented)
    "y": 365 * 86_400_000,
}

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|H|d|w|M|y)\s*$")
_NOW_MINUS = re.compile(r"^\s*now\s*-\s*(\d+)\s*(ms|s|m|h|H|d|w|M|y)\s*(?:/\s*[smhHdwMy])?\s*$")


class TimeSpecError(ValueError):
    """A duration or date-math string the engine cannot read."""


def duration_ms(text: str) -> int:
    """``"5m"`` -> 300000. Raises ``TimeSpecError`` on anything else."""
    match = _DURATION.match(str(text))
    if not match:
        raise TimeSpecError(f"not a duration: {text!r} (expected e.g. 5m, 1h, 30s)")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def lookback_ms(text: str) -> int:
    """``"now-6m"`` -> 360000: how far before the execution time a window starts."""
    if str(text).strip() == "now":
        return 0
    match = _NOW_MINUS.match(str(text))
    if not match:
        raise TimeSpecError(f"not a relative date: {text!r} (expected e.g. now-6m, now-14d)")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_iso_ms(value: Any) -> int | None:
    """ISO-8601 string (or epoch ms number) -> epoch milliseconds; ``None`` if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        if value.isdigit():
            return int(value)
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1000)


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


def iso_ms(ms: int) -> str:
    """Epoch ms -> ``2024-07-30T21:31:10.000Z`` (Elasticsearch's date output)."""
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
