"""Time, once for the whole package: epoch milliseconds, ISO-8601 text, durations.

Bottom layer (imports nothing of ctdetect): validation, the ECS mapper, the query
evaluator, both engines and the backends all read times here, so a rule that validates is
a rule the engine runs with the same meaning.

- ``parse_event_time(text) -> (iso, epoch_ms)``: CloudTrail's ``eventTime`` and any
  ISO-8601 date-time, as ``@timestamp`` text with milliseconds (Elasticsearch's output
  form) plus epoch ms. The minute prefix of the common ``YYYY-MM-DDTHH:MM:SSZ`` form is
  cached (events arrive roughly in time order), which makes it cheap per event.
- ``parse_iso_ms(value)``: lenient reading of a document's time (ISO text, epoch-ms
  number or digit string; naive means UTC); None when unreadable.
- ``iso_from_ms(ms)`` / ``to_datetime(ms)``: the other way.
- Durations, by what they are written in:

  - Elasticsearch time values (``bucket_span: 15m``, ``query_delay``, EQL ``maxspan``):
    a whole number and one of ``nanos micros ms s m h d`` (``es_time_nanos``,
    ``es_time_seconds``, ``es_time_ms``);
  - a Kibana rule's ``interval``: ``s m h d`` (``rule_interval_ms``);
  - a Kibana rule's ``from`` and new-terms ``history_window_start``: date math ``now``
    or ``now-<n><unit>`` with Elasticsearch's date-math units ``y M w d h H m s``
    (``rule_lookback_ms``; a month is 30 days and a year 365, a rounding suffix
    ``/d`` is accepted and ignored: it only moves the start to a boundary).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)

ES_TIME_UNITS_NS = {
    "nanos": 1,
    "micros": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
}
DATE_MATH_UNITS_MS = {
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "H": 3_600_000,
    "d": 86_400_000,
    "w": 7 * 86_400_000,
    "M": 30 * 86_400_000,  # calendar month approximated as 30 days for a look-back
    "y": 365 * 86_400_000,
}
RULE_INTERVAL_UNITS = ("s", "m", "h", "d")

_ES_TIME = re.compile(r"^\s*(\d+)\s*(nanos|micros|ms|s|m|h|d)\s*$")
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_NOW_MINUS = re.compile(r"^\s*now\s*-\s*(\d+)\s*([yMwdhHms])\s*(?:/\s*[yMwdhHms])?\s*$")


class TimeSpecError(ValueError):
    """A duration or date-math string that is not one of the accepted forms."""


class BadTimestamp(ValueError):
    """The value is not an ISO-8601 date-time."""


# --------------------------------------------------------------------------- durations


def es_time_nanos(text: Any) -> int | None:
    """Nanoseconds of an Elasticsearch time value (``15m``), or None when it is not one."""
    m = _ES_TIME.match(text) if isinstance(text, str) else None
    return int(m.group(1)) * ES_TIME_UNITS_NS[m.group(2)] if m else None


def es_time_seconds(text: Any) -> float | None:
    """Seconds of an Elasticsearch time value (may be fractional), or None."""
    nanos = es_time_nanos(text)
    return None if nanos is None else nanos / 1_000_000_000


def es_time_ms(text: Any) -> int:
    """Milliseconds of an Elasticsearch time value; raises ``TimeSpecError``."""
    nanos = es_time_nanos(text)
    if nanos is None:
        raise TimeSpecError(f"not an Elasticsearch time value: {text!r} (expected e.g. 15m, 1h, 500ms)")
    return nanos // 1_000_000


def rule_interval_ms(text: Any) -> int:
    """Milliseconds of a Kibana rule ``interval`` (``5m``); raises ``TimeSpecError``."""
    m = _INTERVAL.match(text) if isinstance(text, str) else None
    if not m:
        raise TimeSpecError(f"not a rule interval: {text!r} (expected a whole number and s, m, h or d, e.g. 5m)")
    return int(m.group(1)) * DATE_MATH_UNITS_MS[m.group(2)]


def rule_lookback_ms(text: Any) -> int:
    """How far before an execution a rule's window starts (``now-6m`` -> 360000);
    raises ``TimeSpecError``."""
    if isinstance(text, str) and text.strip() == "now":
        return 0
    m = _NOW_MINUS.match(text) if isinstance(text, str) else None
    if not m:
        raise TimeSpecError(f"not a relative date: {text!r} (expected now-<n><unit>, unit one of y M w d h H m s, e.g. now-6m)")
    return int(m.group(1)) * DATE_MATH_UNITS_MS[m.group(2)]


# --------------------------------------------------------------------------- instants

# epoch ms of "YYYY-MM-DDTHH:MM" prefixes seen; the mapper reads it inline on its hot path
MINUTE_MS: dict[str, int] = {}
_MINUTES = MINUTE_MS


def _minute_epoch_ms(prefix: str) -> int:
    cached = _MINUTES.get(prefix)
    if cached is None:
        try:
            dt = datetime.strptime(prefix, "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
        except ValueError as exc:
            raise BadTimestamp(prefix) from exc
        if len(_MINUTES) > 100_000:
            _MINUTES.clear()
        cached = _MINUTES[prefix] = int(dt.timestamp()) * 1000
    return cached


def parse_event_time(value: str) -> tuple[str, int]:
    """``(@timestamp text with milliseconds, epoch ms)`` of an ISO-8601 date-time.

    Raises ``BadTimestamp`` when the value cannot be read (the pipeline's date processor
    would also fail on it)."""
    if isinstance(value, str) and len(value) == 20 and value[19] == "Z" and value[16] == ":" and value[10] == "T":
        sec = value[17:19]
        if sec.isdigit():
            return value[:19] + ".000Z", _minute_epoch_ms(value[:16]) + int(sec) * 1000
    if not isinstance(value, str) or len(value) < 16 or value[10] not in "Tt ":
        raise BadTimestamp(str(value))
    try:
        dt = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise BadTimestamp(value) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    ms = (dt - EPOCH) // _ONE_MS
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z", ms


def parse_iso_ms(value: Any) -> int | None:
    """Epoch ms of a document time: ISO-8601 text (naive means UTC), an epoch-ms number
    or digit string, the first of a list; None when unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, list):
        return parse_iso_ms(value[0]) if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return int(text) if text.lstrip("-").isdigit() else None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt - EPOCH) // _ONE_MS


def iso_from_ms(ms: int) -> str:
    """``2024-07-30T21:31:10.000Z``: epoch ms as Elasticsearch prints a date."""
    dt = EPOCH + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def to_datetime(ms: int) -> datetime:
    """An aware UTC ``datetime`` of epoch ms."""
    return EPOCH + timedelta(milliseconds=ms)
