"""Golden tests of the count family's seasonal variance scale (``timeseries.CountSeries.
variance_scale``, ml-cpp ``CTimeSeriesDecomposition::varianceScaleWeight``) against ml-cpp's
``testVarianceScale`` (``lib/maths/time_series/unittest/CTimeSeriesDecompositionTest.cc``,
line 917, elastic/ml-cpp commit 7a29b4b34), its constants carried here with their lines.

The test feeds a decomposition (decay rate 0.01, ten-minute buckets) fifty days of normal
values whose variance is 1 except from 1 to 2 am, where it is 10 (and the mean 5: "Variance
Spike", lines 921-972; on a daily sine of amplitude 5: "Smoothly Varying Variance", lines
973-1023), then asks for the 70 % scale every ten minutes of the last day against the mean
variance ``(23 · 1 + 10) / 24``: the mean distance of the interval's midpoint from the true
ratio ``variance / mean variance`` under 0.4 (0.3 for the sine), the mean distance of the
true ratio outside the interval under 0.1 (0.15), and the mean scale 1 within 0.02. "Long Term
Trend" (lines 1024-1061): 120 days of half-hourly values on a slow trend and a daily sine
(decay rate 0.048), the mean 70 % scale over the next day against the decomposition's own
mean variance 1 within 0.06.

``CSeasonalComponentTest.cc:742 testVariance`` checks one seasonal component's variance
alone: ten days of ten normal values each half hour, of variance ``80 + 20·sin(2π·i/48)``,
the 98 % interval of each half hour's variance must hold the true one, its midpoint within
50 % of it (line 773), their mean relative error under 0.12 (line 780). Ours is a profile of
half-hour slots with ml-cpp's 24 buckets (hour-wide, about 200 values each): each bucket's
variance is a mean over its whole count, as ml-cpp's. The bound is a draw's: on 20 seeds
of Python's generator, every point is inside its 98 % interval for 11 (the others miss one to
six of the 48: each misses with about 2 %), the mean relative error is under 0.12 for 19
(bench/README.md, issue-12-s33); ml-cpp reads the variance from a spline through its buckets,
which ours does not.

The scale depends on what the decomposition learnt and on the interval of each slot's
variance: its chi-squared quantiles (exact, as boost's), the degrees of freedom (the count of
ml-cpp's bucket) and the running mean of the mean-variance scale. ml-cpp draws the noise from
its own generator (``generateNormalSamples``: boost's normal on its xorshift), which
``mlcpp_random`` does not reproduce; the noise here is Python's (seeded), so the figures are
the same test on another draw of the same distribution, held to ml-cpp's bounds.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache

import pytest
from helpers import record_golden

from ctdetect.engine.anomaly.timeseries import DAY_MS, CountSeries, _Profile

DEC = "CTimeSeriesDecompositionTest.cc:917 testVarianceScale"
DAY_S = 86400
TEN_MINS = 600
HALF_HOUR = 1800
MEAN_VARIANCE = (1.0 * 23.0 + 10.0 * 1.0) / 24.0  # line 944
# case: (mean error bound, line), (70 % error bound, line), (mean scale tolerance, line)
CASES = {
    "spike": ((0.4, 968), (0.1, 969), (0.02, 971)),
    "sine": ((0.3, 1019), (0.15, 1020), (0.02, 1022)),
}


def _variance_at(t: int) -> float:
    return 10.0 if 3600 <= t < 7200 else 1.0


@lru_cache(maxsize=None)
def _fed(case: str) -> CountSeries:
    """Fifty days of ten-minute values (lines 924-940 and 975-991), fed as ml-cpp's test
    feeds ``addPoint`` (weight 1)."""
    rng = random.Random(917)
    series = CountSeries(0, integer=False)
    for day in range(50):
        for t in range(0, DAY_S, TEN_MINS):
            if case == "spike":
                mean = 5.0 if 3600 <= t < 7200 else 1.0
            else:
                mean = 5.0 * math.sin(2.0 * math.pi * t / DAY_S)
            value = rng.gauss(mean, math.sqrt(_variance_at(t)))
            time = day * DAY_S + t
            series.buckets += 1
            series.step(value, time * 1000, time // TEN_MINS, 1.0, TEN_MINS, 0.01, 0.01, "two")
    return series


@lru_cache(maxsize=None)
def _figures(case: str) -> tuple[float, float, float]:
    """(mean |midpoint − true ratio|, mean distance of the true ratio outside the interval,
    mean midpoint) over the last day (lines 943-963)."""
    series = _fed(case)
    last_day = 49 * DAY_S
    error = outside = scale = 0.0
    n = 0
    for t in range(0, DAY_S, TEN_MINS):
        expected = _variance_at(t) / MEAN_VARIANCE
        lo, hi = series.variance_scale((last_day + t) * 1000, 70.0, MEAN_VARIANCE)
        mid = (lo + hi) / 2.0
        error += abs(mid - expected)
        outside += max(lo - expected, expected - hi, 0.0)
        scale += mid
        n += 1
    return error / n, outside / n, scale / n


# "Variance Spike": the spike hour's mean (5 against 1) removes about 27 % of the ten-minute
# error variance, under the 30 % our gain test asks (``timeseries.SEASONAL_GAIN``); the daily
# profile is used because the window's amplitude test (``seasonality.daily_amplitude_p_value``,
# ml-cpp's ``testAmplitude``) finds the spike at the same hour in every part of the last two
# weeks (p about 1e-110). Without that acceptance the scale was 1 everywhere: 0.523 and 0.499
# (bench/README.md, issue-12b-s33)
CASE_PARAMS = sorted(CASES)


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_scale_error_within_mlcpp_bound(record_property, case: str) -> None:
    (bound, line), _pct, _mean = CASES[case]
    got = _figures(case)[0]
    record_golden(record_property, f"{DEC} {case} (line {line})", f"mean |scale - expected| < {bound}", f"{got:.3f}")
    assert got < bound


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_scale_interval_error_within_mlcpp_bound(record_property, case: str) -> None:
    _err, (bound, line), _mean = CASES[case]
    got = _figures(case)[1]
    record_golden(record_property, f"{DEC} {case} (line {line})", f"mean 70% error < {bound}", f"{got:.3f}")
    assert got < bound


@pytest.mark.parametrize("case", sorted(CASES))
def test_mean_scale_is_one(record_property, case: str) -> None:
    _err, _pct, (tolerance, line) = CASES[case]
    got = _figures(case)[2]
    record_golden(record_property, f"{DEC} {case} (line {line})", f"mean scale = 1 +/- {tolerance}", f"{got:.3f}")
    assert abs(got - 1.0) <= tolerance


def test_long_term_trend_mean_scale_is_one(record_property) -> None:
    """Lines 1024-1061: 120 days of half-hourly ``150 + 100·sin(2π x / 240 d / (1 − x / 240 d))
    + 10·sin(2π x / 1 d)`` plus 0.3 × normal noise of variance 4, decay rate 0.048; the mean
    70 % scale over the day after the last value against the decomposition's mean variance."""
    rng = random.Random(1024)
    length = 120 * DAY_S
    series = CountSeries(0, integer=False)
    last = 0
    for time in range(0, length, HALF_HOUR):
        x = float(time)
        value = (150.0 + 100.0 * math.sin(2.0 * math.pi * x / (240 * DAY_S) / (1.0 - x / (2 * length)))
                 + 10.0 * math.sin(2.0 * math.pi * x / DAY_S) + 0.3 * rng.gauss(0.0, 2.0))
        series.buckets += 1
        series.step(value, time * 1000, time // HALF_HOUR, 1.0, HALF_HOUR, 0.048, 0.048, "two")
        last = time
    variance = series.mean_variance()
    scales = []
    for t in range(0, DAY_S, TEN_MINS):
        lo, hi = series.variance_scale((last + t) * 1000, 70.0, variance)
        scales.append((lo + hi) / 2.0)
    got = sum(scales) / len(scales)
    record_golden(record_property, f"{DEC} long term trend (line 1060)", "mean scale = 1 +/- 0.06", f"{got:.3f}")
    assert abs(got - 1.0) <= 0.06


def test_seasonal_component_variance_within_mlcpp_bounds(record_property) -> None:
    """``CSeasonalComponentTest.cc:742 testVariance`` (lines 745-781) on a ``_Profile`` of
    half-hour slots and 24 variance buckets (ml-cpp: a component of 24 buckets, decay rate 0)."""
    rng = random.Random(742)
    slot_ms = DAY_MS // 48
    profile = _Profile(DAY_MS, slot_ms, slot_ms, 24)

    def true_variance(i: int) -> float:
        return 80.0 + 20.0 * math.sin(2.0 * math.pi * (i % 48) / 48.0)

    for i in range(481):
        for _ in range(10):
            profile.update(i * slot_ms, rng.gauss(0.0, math.sqrt(true_variance(i))), 1.0, 0.0)
    errors, inside, close = [], 0, 0
    for i in range(48):
        lo, hi = profile.variance(i * slot_ms, 98.0)
        v, v_ = (lo + hi) / 2.0, true_variance(i)
        errors.append(abs(v - v_) / v_)
        inside += lo < v_ < hi
        close += abs(v - v_) <= 0.5 * v_
    mean_error = sum(errors) / len(errors)
    record_golden(record_property, "CSeasonalComponentTest.cc:742 testVariance (lines 773-780)",
                  "48/48 in the 98% interval, 48/48 within 50%, mean relative error < 0.12",
                  f"{inside}/48 in, {close}/48 within 50%, mean relative error {mean_error:.3f}")
    assert inside == 48 and close == 48 and mean_error < 0.12
