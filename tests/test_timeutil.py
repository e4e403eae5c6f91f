"""One time module: validation and the engines read the same strings the same way."""

from __future__ import annotations

import pytest

from ctdetect.content.durations import es_time_seconds, rule_from_seconds, rule_interval_seconds
from ctdetect.engine.anomaly.config import parse_seconds
from ctdetect.engine.anomaly.errors import JobConfigError
from ctdetect.engine.rules.timeutil import TimeSpecError, duration_ms, lookback_ms
from ctdetect.timeutil import BadTimestamp, iso_from_ms, parse_event_time, parse_iso_ms, to_datetime

INTERVALS = ["5m", "1h", "30s", "2d", "1w", "1M", "5 minutes", "", "m5", "1H"]
LOOKBACKS = ["now-6m", "now-14d", "now-1w", "now-1M", "now-2y", "now-1d/d", "now", "now+5m", "yesterday", "now-5ms"]
ES_TIMES = ["15m", "1h", "500ms", "90s", "1d", "3w", "15", "1.5h", "10micros"]


def _engine_ms(read, text: str) -> int | None:
    try:
        return read(text)
    except TimeSpecError:
        return None


@pytest.mark.parametrize(("validate", "engine", "text"),
                         [(rule_interval_seconds, duration_ms, t) for t in INTERVALS]
                         + [(rule_from_seconds, lookback_ms, t) for t in LOOKBACKS])
def test_rule_times_validation_and_engine_agree(validate, engine, text: str) -> None:
    seconds, ms = validate(text), _engine_ms(engine, text)
    assert (seconds is None) == (ms is None), text
    if ms is not None:
        assert seconds * 1000 == ms


@pytest.mark.parametrize("text", ES_TIMES)
def test_bucket_span_validation_and_engine_agree(text: str) -> None:
    seconds = es_time_seconds(text)
    try:
        engine = parse_seconds(text, "bucket_span")
    except JobConfigError:
        engine = None
    if seconds is None:
        assert engine is None, text
    elif seconds >= 1:
        assert engine == int(seconds), text


def test_instants_round_trip() -> None:
    assert parse_event_time("2024-07-30T21:31:10Z") == ("2024-07-30T21:31:10.000Z", 1722375070000)
    assert parse_event_time("2024-07-30T23:31:10.25+02:00") == ("2024-07-30T21:31:10.250Z", 1722375070250)
    with pytest.raises(BadTimestamp):
        parse_event_time("30/07/2024")
    assert parse_iso_ms("2024-07-30T21:31:10.250Z") == 1722375070250
    assert parse_iso_ms("1722375070250") == 1722375070250
    assert parse_iso_ms(["2024-07-30T21:31:10Z"]) == 1722375070000
    assert parse_iso_ms("not a time") is None and parse_iso_ms(True) is None
    assert iso_from_ms(1722375070250) == "2024-07-30T21:31:10.250Z"
    assert to_datetime(1722375070250).isoformat() == "2024-07-30T21:31:10.250000+00:00"


MINUTES = ["2026-04-01T00:00", "1970-01-01T00:00", "1969-12-31T23:59", "2024-02-29T12:30", "0001-01-01T00:00", "9999-12-31T23:59",
           "2023-02-29T12:30", "2026-02-30T00:00", "2026-13-01T00:00", "2026-00-10T00:00", "2026-12-31T24:00", "2026-04-01T00:60",
           "0000-01-01T00:00", "2026-04-01t00:00", "2026-04-1 T00:00"]


@pytest.mark.parametrize("minute", MINUTES)
def test_minute_prefix_read_as_strptime_reads_it(minute: str) -> None:
    # parse_event_time reads each new minute by slicing (a quarter of strptime's cost): it must
    # give strptime's epoch, and refuse what strptime refuses (out of range days, hours, years)
    from datetime import datetime, timezone

    try:
        expected: int | None = int(datetime.strptime(minute, "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc).timestamp()) * 1000
    except ValueError:
        expected = None
    try:
        got: int | None = parse_event_time(minute + ":07Z")[1] - 7000
    except BadTimestamp:
        got = None
    assert got == expected


def test_minute_cache_stays_bounded_and_right() -> None:
    # a long archive meets a new minute every minute: the cache is emptied at MINUTES_KEPT
    # (a week), not kept for the whole archive, and what it gives is still every minute's epoch
    from ctdetect.timeutil import MINUTE_MS, MINUTES_KEPT

    start = parse_iso_ms("2026-01-01T00:00:00Z")
    assert start is not None
    for i in range(MINUTES_KEPT + 500):
        ms = start + i * 60_000
        assert parse_event_time(iso_from_ms(ms)[:17] + "00Z")[1] == ms
        assert len(MINUTE_MS) <= MINUTES_KEPT
