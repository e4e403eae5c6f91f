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
- ``parse_datetime(text)``: strict reading of a date or date-time a person wrote (an
  option, a scenario's ``after``, a ``[[synth]]`` start) as an aware UTC ``datetime``;
  ``BadTimestamp`` names what was expected.
- ``parse_es_date(value, round_up=, now_ms=)``: a date as Elasticsearch reads a range
  query value, in epoch ms: ISO-8601 with any trailing parts missing, epoch millis, or
  date math: an anchor (``now`` or a date followed by ``||``) then ``+<n><unit>`` /
  ``-<n><unit>`` steps and ``/<unit>`` rounding, units ``y M w d h H m s``. Months and
  years are calendar steps here, unlike a rule's look-back above. With ``round_up`` (an
  ``lte``/``gt`` bound) missing parts and rounding go to the period's last millisecond.
  ``DateError``. The query evaluator, ES|QL and the options all read dates through it.
- ``parse_date_math(text, now=, round_up=)``: the same for a time bound a person wrote
  (``--since now-7d/d``, ``--until 2026-03-01``, the whole day), as a UTC ``datetime``.
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

import calendar
import re
from datetime import date, datetime, timedelta, timezone
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

# epoch ms of "YYYY-MM-DDTHH:MM" prefixes seen; the mapper reads it inline on its hot path.
# Emptied when it passes a week of minutes: a trail is read in delivery order, so only the
# last minutes are met again, and a larger cache only grew with the archive's length (the
# 100,000 it held before were ~11 MB of a long hunt's peak, 190 kB a day of trail)
MINUTE_MS: dict[str, int] = {}
MINUTES_KEPT = 7 * 24 * 60
_MINUTES = MINUTE_MS
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _minute_epoch_ms(prefix: str) -> int:
    """Epoch ms of a ``YYYY-MM-DDTHH:MM`` prefix (cached); raises ``BadTimestamp``.

    Every new minute of a trail comes here (43,200 in a month): the plain shape, ASCII
    digits at their places, is read by slicing, a quarter of ``strptime``'s cost; anything
    else goes to ``strptime``. Both refuse the same values (month 13, 30 February, hour 24,
    year 0) and read the others alike (``tests/test_timeutil.py``)."""
    cached = _MINUTES.get(prefix)
    if cached is None:
        try:
            if (len(prefix) == 16 and prefix[4] == "-" and prefix[7] == "-" and prefix[10] == "T" and prefix[13] == ":"
                    and prefix.isascii() and (prefix[:4] + prefix[5:7] + prefix[8:10] + prefix[11:13] + prefix[14:]).isdigit()):
                hour, minute = int(prefix[11:13]), int(prefix[14:])
                if hour > 23 or minute > 59:
                    raise ValueError(prefix)
                # ``date`` checks the day (30 February); its ordinal counts days from 0001-01-01
                ms = ((date(int(prefix[:4]), int(prefix[5:7]), int(prefix[8:10])).toordinal() - _EPOCH_ORDINAL) * 86_400_000
                      + hour * 3_600_000 + minute * 60_000)
            else:
                ms = int(datetime.strptime(prefix, "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc).timestamp()) * 1000
        except ValueError as exc:
            raise BadTimestamp(prefix) from exc
        if len(_MINUTES) >= MINUTES_KEPT:
            _MINUTES.clear()
        cached = _MINUTES[prefix] = ms
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


def parse_datetime(value: Any) -> datetime:
    """An aware UTC ``datetime`` of a date (``2026-03-01``, midnight UTC) or ISO-8601
    date-time (naive means UTC; ``Z`` or an offset honoured). Raises ``BadTimestamp``."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
        except ValueError:
            raise BadTimestamp(f"{value!r} is not an ISO-8601 date or date-time (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)") from None
    else:
        raise BadTimestamp(f"{value!r} is not an ISO-8601 date or date-time (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def parse_date_math(text: str, *, now: datetime | None = None, round_up: bool = False) -> datetime:
    """A time bound a person wrote (an option): Elastic's date math (``now-7d/d``,
    ``2026-03-01||+1M``) or an ISO-8601 date/date-time, as an aware UTC ``datetime``, read
    exactly as a range query reads it (``parse_es_date``). Raises ``BadTimestamp`` naming
    the accepted forms."""
    now_ms = None if now is None else (now - EPOCH) // _ONE_MS
    raw = text.strip() if isinstance(text, str) else ""
    try:
        if not raw or (raw.isdigit() and len(raw) > 4):  # epoch millis are for queries, not people
            raise DateError(raw)
        return to_datetime(parse_es_date(raw, round_up=round_up, now_ms=now_ms))
    except DateError:
        raise BadTimestamp(
            f"{text!r} is not a date or date math (e.g. 2026-03-01, 2026-03-01T12:00:00Z, now-7d, now-7d/d, "
            "2026-03-01||+1M/M; units y M w d h H m s)"
        ) from None


# --------------------------------------------------------------------------- dates as Elasticsearch reads them

_ISO = re.compile(
    r"(?P<y>[+-]?\d{4,9})(?:-(?P<mo>\d{1,2})(?:-(?P<d>\d{1,2})(?:[T ](?P<h>\d{1,2})(?::(?P<mi>\d{1,2})"
    r"(?::(?P<s>\d{1,2})(?:[.,](?P<f>\d{1,9}))?)?)?)?)?)?"
    r"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
_MATH_OP = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


class DateError(BadTimestamp):
    """A value that is not a date Elasticsearch would accept."""


def _iso_to_ms(text: str, round_up: bool) -> int:
    m = _ISO.fullmatch(text)
    if not m:
        raise DateError(f"cannot parse date {text!r}")
    year = int(m["y"])
    month = int(m["mo"]) if m["mo"] else (12 if round_up else 1)
    if not 1 <= month <= 12:
        raise DateError(f"month out of range in {text!r}")
    last_day = calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else 31
    day = int(m["d"]) if m["d"] else (last_day if round_up else 1)
    hour = int(m["h"]) if m["h"] else (23 if round_up else 0)
    minute = int(m["mi"]) if m["mi"] else (59 if round_up else 0)
    second = int(m["s"]) if m["s"] else (59 if round_up else 0)
    # A given fraction is a value; a missing one is the period's start, or its end when rounding up.
    millis = int((m["f"] + "000")[:3]) if m["f"] else (999 if round_up else 0)
    try:
        dt = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError as exc:
        raise DateError(f"invalid date {text!r}: {exc}") from None
    ms = calendar.timegm(dt.utctimetuple()) * 1000 + millis
    tz = m["tz"]
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
        ms -= sign * offset * 60_000
    return ms


def _add_months_ms(ms: int, months: int) -> int:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    total = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    new = dt.replace(year=year, month=month, day=day, microsecond=0)
    return calendar.timegm(new.utctimetuple()) * 1000 + ms % 1000


def _round_ms(ms: int, unit: str, round_up: bool) -> int:
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    if unit == "y":
        start = datetime(dt.year, 1, 1, tzinfo=timezone.utc)
        end_ms = _add_months_ms(calendar.timegm(start.utctimetuple()) * 1000, 12)
    elif unit == "M":
        start = datetime(dt.year, dt.month, 1, tzinfo=timezone.utc)
        end_ms = _add_months_ms(calendar.timegm(start.utctimetuple()) * 1000, 1)
    else:
        if unit == "w":
            size = DATE_MATH_UNITS_MS["w"]
            # ISO weeks start on Monday; the epoch (1970-01-01) was a Thursday.
            base = ms - ((ms + 3 * 86_400_000) % size)
        else:
            size = DATE_MATH_UNITS_MS[unit]
            base = ms - ms % size
        return base + size - 1 if round_up else base
    start_ms = calendar.timegm(start.utctimetuple()) * 1000
    return end_ms - 1 if round_up else start_ms


def parse_es_date(value: Any, round_up: bool = False, now_ms: int | None = None) -> int:
    """Epoch milliseconds for a date query value (ISO, epoch millis, or date math).

    ``round_up`` applies to inclusive upper bounds and exclusive lower bounds, as in
    Elasticsearch: missing date parts and ``/unit`` rounding go to the end of the period.
    Raises ``DateError`` for anything else.
    """
    if isinstance(value, bool):
        raise DateError(f"cannot use {value!r} as a date")
    if isinstance(value, (int, float)):
        return int(value)
    if not isinstance(value, str):
        raise DateError(f"cannot use {value!r} as a date")
    text = value.strip()
    if text.startswith("now"):
        if now_ms is None:
            now_ms = int(datetime.now(tz=timezone.utc).timestamp() * 1000)
        base, math = now_ms, text[3:]
    elif "||" in text:
        anchor, math = text.split("||", 1)
        base = es_date_anchor_ms(anchor, round_up and not math)
    else:
        return es_date_anchor_ms(text, round_up)
    pos = 0
    while pos < len(math):
        m = _MATH_OP.match(math, pos)
        if not m:
            raise DateError(f"bad date math {math[pos:]!r} in {value!r}")
        if m.group(4):
            base = _round_ms(base, m.group(4), round_up)
        else:
            amount = int(m.group(2)) * (1 if m.group(1) == "+" else -1)
            unit = m.group(3)
            if unit == "y":
                base = _add_months_ms(base, 12 * amount)
            elif unit == "M":
                base = _add_months_ms(base, amount)
            else:
                base += amount * DATE_MATH_UNITS_MS[unit]
        pos = m.end()
    return base


def es_date_anchor_ms(text: str, round_up: bool = False) -> int:
    """Epoch ms of a date without math (ISO-8601, parts may be missing, or epoch millis)."""
    if text.isdigit() and len(text) > 4:
        return int(text)
    return _iso_to_ms(text, round_up)




def iso_from_ms(ms: int) -> str:
    """``2024-07-30T21:31:10.000Z``: epoch ms as Elasticsearch prints a date."""
    dt = EPOCH + timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def to_datetime(ms: int) -> datetime:
    """An aware UTC ``datetime`` of epoch ms."""
    return EPOCH + timedelta(milliseconds=ms)
