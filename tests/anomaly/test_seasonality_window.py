"""The two-week seasonality window of the count family (``seasonality``) on generated hours."""

from __future__ import annotations

import random

from ctdetect.engine.anomaly.seasonality import WEEKEND_DAYS, SeasonalityWindow, find_seasonality

HOUR_MS = 3600 * 1000
T0 = 1_767_225_600_000  # a Thursday 00:00 UTC, as the epoch's first day


def _window(shape, days: int = 15, seed: int = 1) -> SeasonalityWindow:
    rng = random.Random(seed)
    w = SeasonalityWindow(HOUR_MS)
    for h in range(days * 24):
        t = T0 + h * HOUR_MS
        w.add(t, shape(t) + rng.gauss(0.0, 1.0))
    return w


def _weekend(t: int) -> bool:
    return (t // (24 * HOUR_MS)) % 7 in WEEKEND_DAYS


def test_trading_days_are_split_and_seed_a_weekend_dip() -> None:
    finding = _window(lambda t: (10.0 if 8 <= (t // HOUR_MS) % 24 < 18 else 0.0) * (0.1 if _weekend(t) else 1.0)).test()
    assert finding.daily and finding.weekly == "partition"
    saturday_noon = (2 * 24 + 12)  # slot of the week (weeks start on the epoch's Thursday)
    thursday_noon = 12
    assert finding.offsets[saturday_noon] < -5.0 < 0.0 < finding.offsets[thursday_noon]
    assert finding.var_with < 0.7 * finding.var_without


def test_noise_and_a_daily_shape_have_no_weekly_period() -> None:
    noise = _window(lambda t: 0.0).test()
    assert not noise.daily and noise.weekly is None
    daily = _window(lambda t: 10.0 if 8 <= (t // HOUR_MS) % 24 < 18 else 0.0).test()
    assert daily.daily and daily.weekly is None


def test_the_window_keeps_two_weeks_and_wants_three_quarters_filled() -> None:
    w = _window(lambda t: 0.0, days=30)
    assert w.latest - w.slots + 1 == (T0 // HOUR_MS) + 30 * 24 - w.slots
    assert sum(1 for c in w.counts if c > 0) == w.slots
    short = find_seasonality([(k, 0.0) for k in range(100)], HOUR_MS, 336)
    assert not short.daily and short.weekly is None
