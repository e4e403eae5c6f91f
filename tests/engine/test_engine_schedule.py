"""Rule schedule emulation: executions every interval, look-back windows, no gaps."""

from ctdetect.engine.rules.schedule import Schedule
from ctdetect.engine.rules.timeutil import TimeSpecError, duration_ms, lookback_ms, parse_iso_ms

import pytest

M = 60_000


def test_durations_and_lookbacks():
    assert duration_ms("5m") == 5 * M
    assert duration_ms("1h") == 60 * M
    assert lookback_ms("now-6m") == 6 * M
    assert lookback_ms("now-14d") == 14 * 24 * 60 * M
    with pytest.raises(TimeSpecError):
        duration_ms("five minutes")
    with pytest.raises(TimeSpecError):
        lookback_ms("yesterday")


def test_iso_parsing_accepts_z_and_epoch():
    assert parse_iso_ms("1970-01-01T00:00:01.500Z") == 1500
    assert parse_iso_ms(42) == 42
    assert parse_iso_ms("garbage") is None


def test_windows_are_aligned_inclusive_and_overlapping():
    s = Schedule.of("5m", "now-6m")
    # events at 4m, 5m (on an execution boundary) and 5m30s
    times = [4 * M, 5 * M, 5 * M + 30_000]
    windows = list(s.windows(times))
    # execution at 5m sees [-1m, 5m]: 4m and 5m (inclusive end)
    assert windows[0] == (5 * M, 0, 2)
    # execution at 10m sees [4m, 10m]: all three (overlap of one minute)
    assert windows[1] == (10 * M, 0, 3)
    assert len(windows) == 2


def test_empty_executions_are_skipped():
    s = Schedule.of("5m", "now-5m")
    windows = list(s.windows([1 * M, 601 * M]))
    assert [w[0] for w in windows] == [5 * M, 605 * M]


def test_lookback_shorter_than_interval_leaves_no_gap():
    s = Schedule.of("10m", "now-2m")
    assert s.lookback_ms == 10 * M
    # an event at 3m would fall in Kibana's gap (window [8m,10m]); we still see it
    assert list(s.windows([3 * M])) == [(10 * M, 0, 1)]
