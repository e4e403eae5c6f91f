"""The count family's seasonal variance scale (``timeseries.CountSeries.variance_scale``, ml-cpp
``varianceScaleWeight``): a quiet hour is scored against its own spread, not the day's mean
spread, and the scale's running sum survives a state round trip."""

from __future__ import annotations

import random

from ctdetect.engine.anomaly.timeseries import DAY_MS, CountSeries, _Profile

HOUR_S = 3600


def _fed_series() -> CountSeries:
    """Three weeks of hourly counts: busy hours (9-17) about 100 ± 20, quiet hours 5 ± 1."""
    rng = random.Random(7)
    series = CountSeries(0, integer=False)
    for b in range(21 * 24):
        busy = 9 <= b % 24 < 17
        value = max(rng.gauss(100.0, 20.0) if busy else rng.gauss(5.0, 1.0), 0.0)
        series.buckets += 1
        series.step(value, b * HOUR_S * 1000, b, 1.0, HOUR_S, 0.01, 0.01, "two")
    return series


def test_quiet_hours_scale_down_and_busy_hours_up() -> None:
    series = _fed_series()
    assert series.daily is not None and series.daily.useful()
    variance = series.prior.variance()
    day0 = 21 * DAY_MS
    quiet = series.variance_scale(day0 + 3 * HOUR_S * 1000, 0.0, variance)[1]
    busy = series.variance_scale(day0 + 12 * HOUR_S * 1000, 0.0, variance)[1]
    assert quiet < 0.75 and busy > 1.25, (quiet, busy)
    # scored: 30 counts over the usual level is less likely at a quiet hour than the day's
    # mean spread says, and more likely at a busy one
    for hour, lower in ((3, True), (12, False)):
        t_ms = day0 + hour * HOUR_S * 1000
        residual = series.typical(t_ms) + 30.0 - series.components(t_ms)
        scaled = series.prior.probability(residual, "two", series.seasonal_weight(t_ms, 50.0, variance))
        unscaled = series.prior.probability(residual, "two")
        assert (scaled < 0.5 * unscaled) if lower else (scaled > 2.0 * unscaled), (hour, scaled, unscaled)


def test_a_profile_state_keeps_its_variance_sum_and_an_older_one_sums_its_slots() -> None:
    series = _fed_series()
    profile = series.daily
    assert profile is not None
    state = profile.to_state()
    again = _Profile(DAY_MS, HOUR_S * 1000, HOUR_S * 1000)
    again.load(state)
    assert again.var_total == profile.var_total
    older = _Profile(DAY_MS, HOUR_S * 1000, HOUR_S * 1000)
    older.load(state[:6])
    assert abs(older.var_total - sum(v[1] for v in profile.spreads.values())) <= 1e-9 * max(profile.var_total, 1.0)
