"""The two-week seasonality window of the count family (``seasonality``) on generated hours."""

from __future__ import annotations

import random

from ctdetect.engine.anomaly.seasonality import (
    SIGNIFICANT_P,
    WEEKEND_DAYS,
    SeasonalityWindow,
    _loo,
    _slot_sums,
    daily_amplitude_p_value,
    find_seasonality,
)

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


def _spike(t: int) -> float:
    return 4.0 if (t // HOUR_MS) % 24 == 1 else 0.0


def test_the_amplitude_test_finds_a_daily_spike_and_not_noise() -> None:
    """ml-cpp's amplitude test (``daily_amplitude_p_value``): a one-hour spike of four standard
    deviations every day is significant (p < 5e-3); noise alone, a spike on one day of the
    window, and a spike missing from the first four days are not (every group must show it)."""
    assert _window(_spike).daily_amplitude() < SIGNIFICANT_P
    for seed in range(5):
        assert _window(lambda t: 0.0, seed=seed).daily_amplitude() > SIGNIFICANT_P
    once = _window(lambda t: 20.0 if (t - T0) // HOUR_MS == 5 * 24 + 1 else 0.0)
    assert once.daily_amplitude() > SIGNIFICANT_P
    late = _window(lambda t: _spike(t) if t - T0 >= 4 * 24 * HOUR_MS else 0.0)
    assert late.daily_amplitude() > SIGNIFICANT_P


def test_the_amplitude_test_wants_four_days_and_reads_the_residual_deviation() -> None:
    """Under four days (ml-cpp: four repeats of the period) there is nothing to test; an
    amplitude under two residual standard deviations counts for nothing."""
    assert _window(_spike, days=3).daily_amplitude() == 1.0
    assert _window(lambda t: 1.0 if (t // HOUR_MS) % 24 == 1 else 0.0).daily_amplitude() > SIGNIFICANT_P
    assert daily_amplitude_p_value([], HOUR_MS) == 1.0


def _dict_of_groups(values: list[float], keys: list[int], weights: list[float]) -> dict[int, list[float]]:
    """The oracle: per group, [weighted sum of values, sum of weights, number of values], in a
    dict by key (how the window test summed groups before they were numbered)."""
    groups: dict[int, list[float]] = {}
    for v, key, w in zip(values, keys, weights):
        g = groups.get(key)
        if g is None:
            groups[key] = [w * v, w, 1.0]
        else:
            g[0] += w * v
            g[1] += w
            g[2] += 1.0
    return groups


def test_group_sums_by_number_equal_the_dict_of_groups_and_the_loo_error_follows_them() -> None:
    """``_slot_sums`` (groups numbered, in lists) gives each group exactly the dict of groups'
    sums (first value first: a group of -0.0 values keeps its sign), and ``_loo`` is the
    leave-one-out error of those groups; groups without values stay at zero."""
    rng = random.Random(7)
    for _case in range(300):
        n = rng.randint(1, 40)
        size = rng.randint(1, 6)
        values = [rng.choice([-0.0, 0.0, 1.0, rng.gauss(0.0, 5.0)]) for _ in range(n)]
        keys = [rng.randrange(size) for _ in range(n)]
        weights = [rng.choice([0.0, 1.0, rng.random()]) for _ in range(n)]
        sums, weight_sums, counts = _slot_sums(values, keys, weights, size)
        groups = _dict_of_groups(values, keys, weights)
        for key in range(size):
            expected = groups.get(key, [0.0, 0.0, 0.0])
            assert repr([sums[key], weight_sums[key], counts[key]]) == repr(expected)
        total = used = 0.0
        for v, key, w in zip(values, keys, weights):
            g = groups[key]
            if g[2] < 2.0 or g[1] - w == 0.0:
                continue
            total += w * (v - (g[0] - w * v) / (g[1] - w)) ** 2
            used += w
        if all(groups[key][2] < 2.0 or groups[key][1] - w != 0.0 for key, w in zip(keys, weights)):
            assert repr(_loo(values, keys, weights, size)) == repr(total / used if used else 0.0)
