"""The count family's trend (``trend.TrendComponent``) and its intervals: the decomposition's
(``CountSeries.interval``) and the model's (``CountSeries.confidence_interval``, the
explanation's typical value and bounds)."""

from __future__ import annotations

import random

import pytest

from ctdetect.engine.anomaly.priors import OneOfNPrior
from ctdetect.engine.anomaly.timeseries import CountSeries, daily_slot_ms, weekly_slot_ms
from ctdetect.engine.anomaly.trend import Regression, TrendComponent

DAY_S = 86400
SPAN_S = 1800


def test_regression_recovers_a_quadratic_and_survives_a_shift_of_origin() -> None:
    r = Regression()
    for i in range(200):
        t = i / 20.0
        r.add(t, 3.0 + 2.0 * t - 0.5 * t * t, 1.0)
    assert r.params() == pytest.approx((3.0, 2.0, -0.5), abs=1e-6)
    r.shift_abscissa(-2.0)  # t' = t - 2
    assert r.params() == pytest.approx((5.0, 0.0, -0.5), abs=1e-6)
    r.shift_level(1.5)
    assert r.predict(0.0) == pytest.approx(6.5, abs=1e-6)


def test_trend_follows_a_linear_rise_and_its_interval_narrows_with_data() -> None:
    rng = random.Random(3)
    trend = TrendComponent(0.024)
    widths = []
    t0 = 1_767_225_600
    for i in range(20 * 48):  # 20 days of 30-minute buckets, rising 10 a day
        t = t0 + i * SPAN_S
        trend.age(SPAN_S)
        trend.add(t, 100.0 + 10.0 * (i * SPAN_S / DAY_S) + rng.gauss(0.0, 2.0), 1.0)
        if i in (48, 20 * 48 - 1):
            lo, hi = trend.interval(t, 95.0)
            widths.append(hi - lo)
    end = t0 + (20 * 48 - 1) * SPAN_S
    assert trend.value(end) == pytest.approx(100.0 + 10.0 * (20 * 48 - 1) * SPAN_S / DAY_S, abs=1.5)
    assert 0.0 < widths[1] < widths[0]


def test_prior_interval_covers_its_share_of_the_data() -> None:
    rng = random.Random(5)
    prior = OneOfNPrior(integer=False)
    xs = [rng.lognormvariate(2.0, 0.5) for _ in range(2000)]
    for x in xs:
        prior.add(x, 1.0)
    lo, hi = prior.interval(90.0)
    inside = sum(1 for x in xs if lo <= x <= hi) / len(xs)
    assert 0.87 <= inside <= 0.93
    median = prior.interval(0.0)
    assert median[0] == pytest.approx(median[1]) and lo < median[0] < hi


def test_series_intervals_hold_the_typical_value() -> None:
    rng = random.Random(7)
    t0 = 1_767_225_600_000
    series = CountSeries(t0)
    for i in range(10 * 48):
        t = t0 + i * SPAN_S * 1000
        series.buckets += 1
        series.step(float(rng.randint(8, 12)), t, i, 1.0, SPAN_S, 0.0005, 0.024, "two")
    t = t0 + 10 * 48 * SPAN_S * 1000
    lower, median, upper = series.confidence_interval(t, 95.0)
    assert lower < median < upper and 6.0 <= lower and upper <= 14.0
    lo, hi = series.interval(t, 70.0)
    assert lo <= series.typical(t) <= hi


@pytest.mark.parametrize(("span_s", "daily_min", "weekly_min"), [(300, 5, 30), (900, 15, 30), (1800, 30, 30), (3600, 60, 60), (5400, 90, 90)])
def test_weekly_profile_is_never_finer_than_half_an_hour(span_s: int, daily_min: int, weekly_min: int) -> None:
    """The daily profile keeps a slot per bucket; the weekly one at most one per 30 minutes
    (or per bucket when buckets are longer), which halves a 15-minute series' memory."""
    assert daily_slot_ms(span_s) == daily_min * 60_000
    assert weekly_slot_ms(span_s) == weekly_min * 60_000


def test_a_fifteen_minute_series_keeps_a_weekly_slot_per_half_hour() -> None:
    rng = random.Random(11)
    t0 = 1_767_225_600_000
    span_s = 900
    series = CountSeries(t0)
    for i in range(29 * 96):  # 29 days: the weekly profile starts at 3 weeks
        t = t0 + i * span_s * 1000
        series.buckets += 1
        series.step(float(rng.randint(8, 12) + (20 if (i // 96) % 7 < 5 and 36 <= i % 96 < 68 else 0)), t, i, 1.0, span_s, 0.0005, 0.024, "two")
    assert series.daily is not None and series.weekly is not None
    assert len(series.daily.means) == 96
    assert len(series.weekly.means) == 7 * 48
