"""CloudTrail timestamps -> ECS ``@timestamp`` strings and epoch milliseconds.

CloudTrail writes ``eventTime`` as ``YYYY-MM-DDTHH:MM:SSZ``. Parsing it with ``datetime``
for every event is a large share of the mapping cost, so the minute prefix is cached
(events arrive roughly in time order, so the cache hit rate is very high) and the
seconds are added by hand. Anything else ISO-8601 falls back to ``datetime``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_MINUTES: dict[str, int] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


class BadTimestamp(ValueError):
    """The value is not an ISO-8601 date-time."""


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
    """``(@timestamp ISO string with milliseconds, epoch ms)`` for an ISO-8601 time.

    Raises ``BadTimestamp`` when the value cannot be read (the pipeline's date processor
    would also fail on it).
    """
    if len(value) == 20 and value[19] == "Z" and value[16] == ":" and value[10] == "T":
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
    ms = (dt - _EPOCH) // _ONE_MS
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z", ms


def iso_from_ms(ms: int) -> str:
    """ECS ``@timestamp`` string for epoch milliseconds."""
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
