"""Golden tests of the count family's decomposition (``timeseries.CountSeries``) against
ml-cpp's time-series unit tests, on their real data files
(../shared/anchors/ml-cpp-golden/time_series, elastic/ml-cpp commit 7a29b4b34).

The test sources are not in ../shared, so their constants are carried here with file and
line (``lib/maths/time_series/unittest/``):

- ``CTimeSeriesDecompositionTest.cc`` feeds each file to a decomposition with decay rate
  0.01 and the file's bucket length (``spikey_data`` and ``diurnal``: 5 minutes, lines 1085
  and 1218; ``thirty_minute_samples``: 30 minutes, line 1317). At the end of each week
  (after the first week for ``spikey_data``, the first two for the others) it predicts
  every value of the week just seen and requires the summed absolute error under a share
  of the summed values and the largest error under a share of the largest value (lines
  1163-1164, 1279-1280, 1380-1381), and a 70 % interval error (1165, 1281, 1382).
- ``CTimeSeriesTestForSeasonalityTest.cc`` tests windows of the same files for periodic
  components: ``spikey_data`` has the daily period only (line 357, 3-day and 2-week
  windows); ``thirty_minute_samples`` and ``diurnal`` have daily and weekly components,
  split into weekend and weekdays (lines 399 and 440, 2-week windows).

Our decomposition (``timeseries.CountSeries``) is a trend that is a function of time
(``trend.TrendComponent``, ml-cpp's ``CTrendComponent``) with daily and weekly profiles on
the detrended values, used while they explain 30 % of the error variance; its 70 %
interval (``CountSeries.interval``) is checked as ml-cpp checks its decomposition's. It
has no weekday/weekend split and no seasonal variance scale, so the split and
``testSpikeyDataProblemCase``'s scaled-probability check (line 1194, and
``testVeryLargeValuesProblemCase``'s mean variance scale, line 1292) are not reproduced.
Where our figures fall short of ml-cpp's bound the test is an ``xfail(strict=True)``: it
states the gap and fails the day the gap closes, so the table (``bench/golden_table.py``)
is updated. Each test records its figures (``record_property``) for that table.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import pytest
from conftest import shared_path
from helpers import record_golden

from ctdetect.engine.anomaly.timeseries import CountSeries

DECAY_RATE = 0.01  # CTimeSeriesDecomposition(0.01, ...) in each test
WEEK_S = 7 * 86400
DAY_S = 86400
DEC = "CTimeSeriesDecompositionTest.cc"
SEAS = "CTimeSeriesTestForSeasonalityTest.cc"

# file: (bucket length s, weeks before the error is counted, ml-cpp test and line,
#        (sum-error share, line), (max-error share, line))
# 70 % interval error share and its line, per file
INTERVAL_CASES = {"spikey_data.csv": (0.12, 1165), "diurnal.csv": (0.24, 1281), "thirty_minute_samples.csv": (0.09, 1382)}
PREDICTION_CASES = {
    "spikey_data.csv": (300, 1, f"{DEC}:1064 testSpikeyDataProblemCase", (0.17, 1163), (0.25, 1164)),
    "diurnal.csv": (300, 2, f"{DEC}:1197 testVeryLargeValuesProblemCase", (0.34, 1279), (0.74, 1280)),
    "thirty_minute_samples.csv": (1800, 2, f"{DEC}:1294 testMixedSmoothAndSpikeyDataProblemCase", (0.20, 1380), (0.47, 1381)),
}


@dataclass
class Run:
    """Figures of one file fed to a ``CountSeries`` as ml-cpp's decomposition test feeds it."""

    sum_share: float
    max_share: float
    interval_share: float  # summed distance of the values outside the 70 % interval / summed values
    # (window end s, daily profile in use, weekly profile in use) at each seasonality-test window end
    windows: dict[int, list[tuple[int, bool, bool]]] = field(default_factory=dict)


def _series(name: str) -> list[tuple[int, float]]:
    out = []
    with shared_path("anchors", "ml-cpp-golden", "time_series", name).open(newline="") as fh:
        for row in csv.reader(fh):
            stamp = row[0]
            t = int(stamp) if stamp.isdigit() else int(datetime.fromisoformat(stamp).timestamp())
            out.append((t, float(row[1])))
    return out


@lru_cache(maxsize=None)
def run(name: str, window_lengths: tuple[int, ...] = (3 * DAY_S, 2 * WEEK_S)) -> Run:
    """Feed ``name``'s values in order, one bucket each; at each week's end predict the
    week just seen with the current state (ml-cpp's ``decomposition.value(t)``, ours
    ``CountSeries.typical``); at each seasonality-test window end note the profiles in use."""
    span, warm_weeks = PREDICTION_CASES[name][:2]
    data = _series(name)
    start = data[0][0]
    series = CountSeries(start * 1000, integer=False)
    last_week = (start // WEEK_S + 1) * WEEK_S
    week: list[tuple[int, float]] = []
    sums = [0.0, 0.0, 0.0, 0.0, 0.0]  # sum |error|, sum of week max |error|, sum |value|, sum of week max |value|, 70 % error
    last_test = {w: start for w in window_lengths}
    windows: dict[int, list[tuple[int, bool, bool]]] = {w: [] for w in window_lengths}
    for t, value in data:
        if t > last_week + WEEK_S:
            errors = [abs(v - series.typical(tt * 1000)) for tt, v in week]
            outside = 0.0
            for tt, v in week:
                lo, hi = series.interval(tt * 1000, 70.0)
                outside += max(lo - v, v - hi, 0.0)
            if t >= start + warm_weeks * WEEK_S and errors:
                sums[4] += outside
                sums[0] += sum(errors)
                sums[1] += max(errors)
                sums[2] += sum(abs(v) for _, v in week)
                sums[3] += max(abs(v) for _, v in week)
            week = []
            last_week += WEEK_S
        if t > last_week:
            week.append((t, value))
        for w in window_lengths:
            if t > last_test[w] + w:
                daily = series.daily is not None and series.daily.useful()
                weekly = series.weekly is not None and series.weekly.useful()
                windows[w].append((t, daily, weekly))
                last_test[w] = t
        series.buckets += 1
        series.step(value, t * 1000, (t - start) // span, 1.0, span, DECAY_RATE, DECAY_RATE, "two")
    return Run(sums[0] / sums[2], sums[1] / sums[3], sums[4] / sums[2], windows)


MATCHED = [
    ("spikey_data.csv", "sum"),
    ("spikey_data.csv", "max"),
    ("diurnal.csv", "max"),
]
GAPS = [
    ("diurnal.csv", "sum"),
    ("thirty_minute_samples.csv", "sum"),
    ("thirty_minute_samples.csv", "max"),
]


def _check_prediction_error(record_property, name: str, measure: str) -> None:
    _span, _warm, source, sum_case, max_case = PREDICTION_CASES[name]
    bound, line = sum_case if measure == "sum" else max_case
    result = run(name)
    got = result.sum_share if measure == "sum" else result.max_share
    record_golden(record_property, f"{source} (line {line})", f"{measure} error / {measure} value < {bound}", f"{got:.3f}")
    assert got < bound


@pytest.mark.parametrize("name,measure", MATCHED, ids=[f"{n.split('.')[0]}-{m}" for n, m in MATCHED])
def test_prediction_error_within_mlcpp_bound(record_property, name: str, measure: str) -> None:
    _check_prediction_error(record_property, name, measure)


@pytest.mark.xfail(strict=True, reason="weekly profile learnt only from 3 weeks of data (ml-cpp finds the weekly period and the "
                   "weekday/weekend split in a 2-week window), so the weeks before miss the weekend (see bench/golden_table.py)")
@pytest.mark.parametrize("name,measure", GAPS, ids=[f"{n.split('.')[0]}-{m}" for n, m in GAPS])
def test_prediction_error_beyond_mlcpp_bound(record_property, name: str, measure: str) -> None:
    _check_prediction_error(record_property, name, measure)


INTERVAL_MATCHED = ["spikey_data.csv"]
INTERVAL_GAPS = ["diurnal.csv", "thirty_minute_samples.csv"]


def _check_interval_error(record_property, name: str) -> None:
    """The 70 % interval of ``CountSeries.interval`` (ml-cpp ``decomposition.value(time, 70.0)``):
    the summed distance of each value outside it, over the summed values."""
    source = PREDICTION_CASES[name][2]
    bound, line = INTERVAL_CASES[name]
    got = run(name).interval_share
    record_golden(record_property, f"{source} (line {line})", f"70% interval error / sum value < {bound}", f"{got:.3f}")
    assert got < bound


@pytest.mark.parametrize("name", INTERVAL_MATCHED, ids=[n.split(".")[0] for n in INTERVAL_MATCHED])
def test_interval_error_within_mlcpp_bound(record_property, name: str) -> None:
    _check_interval_error(record_property, name)


@pytest.mark.xfail(strict=True, reason="the weeks before our weekly profile is learnt miss the weekend, and the interval of a "
                   "component's estimated value is narrow, so those weeks fall outside it (see bench/golden_table.py)")
@pytest.mark.parametrize("name", INTERVAL_GAPS, ids=[n.split(".")[0] for n in INTERVAL_GAPS])
def test_interval_error_beyond_mlcpp_bound(record_property, name: str) -> None:
    _check_interval_error(record_property, name)


def test_spikey_data_has_the_daily_period(record_property) -> None:
    """testRealSpikeyDaily (line 322): every 3-day and 2-week window is ``[86400]`` (line 357).
    Our daily profile starts after 3 days of data, so the first 3-day window cannot have it;
    every later window end must find the daily component."""
    windows = run("spikey_data.csv").windows
    ends = [w for wl in windows.values() for w in wl]
    daily = [end for end in ends if end[1]]
    record_golden(record_property, f"{SEAS}:322 testRealSpikeyDaily (line 357)",
            f"86400 in {len(ends)}/{len(ends)} windows", f"daily in {len(daily)}/{len(ends)} (the first: 3 days of data)")
    assert not windows[3 * DAY_S][0][1]  # 3 days of data: our profile is not yet tested
    assert len(daily) == len(ends) - 1


def test_spikey_data_has_no_weekly_period(record_property) -> None:
    """testRealSpikeyDaily (line 357): no window finds a weekly component."""
    ends = [w for wl in run("spikey_data.csv").windows.values() for w in wl]
    weekly = [end for end in ends if end[2]]
    record_golden(record_property, f"{SEAS}:322 testRealSpikeyDaily (line 357)", f"604800 in 0/{len(ends)} windows",
            f"weekly in {len(weekly)}/{len(ends)}")
    assert not weekly


@pytest.mark.xfail(strict=True, reason="our daily/weekly profiles are not both in use at every 2-week window end")
@pytest.mark.parametrize(
    "name,source",
    [("thirty_minute_samples.csv", f"{SEAS}:365 testRealTradingDays (line 399)"),
     ("diurnal.csv", f"{SEAS}:407 testRealTradingDaysPlusOutliers (line 440)")],
    ids=["thirty_minute_samples", "diurnal"],
)
def test_trading_days_have_daily_and_weekly_periods(record_property, name: str, source: str) -> None:
    """ml-cpp finds the daily and the weekly period in every 2-week window, each split into
    weekend and weekdays. We have no split; this requires both periods in use at every
    2-week window end."""
    ends = run(name).windows[2 * WEEK_S]
    daily = sum(1 for end in ends if end[1])
    weekly = sum(1 for end in ends if end[2])
    record_golden(record_property, source, f"86400 and 604800 (split weekend/weekdays) in {len(ends)}/{len(ends)} 2-week windows",
            f"daily in {daily}/{len(ends)}, weekly in {weekly}/{len(ends)}; no split")
    assert daily == weekly == len(ends)
