"""The count family's seasonal variance scale (``timeseries.CountSeries.variance_scale``, ml-cpp
``varianceScaleWeight``): a quiet hour is scored against its own spread, not the day's mean
spread; the variance is kept per bucket of 1/36 of the period over the bucket's whole count and
survives a state round trip; its interval uses the exact chi-squared quantiles and the bucket's
count, and the mean-variance scale is a running mean, as ml-cpp keeps them."""

from __future__ import annotations

import math
import random

from ctdetect.engine.anomaly.timeseries import (DAY_MS, PROFILE_SAMPLES, VARIANCE_BUCKETS, CountSeries, _Profile,
                                                chi2_ratios)

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


def test_a_profile_state_keeps_the_amplitude_tests_finding() -> None:
    """``spike_found`` is saved with the profile; a state saved before it reads false (the
    window's next daily test sets it again)."""
    profile = _fed_series().daily
    assert profile is not None
    state = profile.to_state()
    state[11] = True
    again = _Profile(DAY_MS, HOUR_S * 1000, HOUR_S * 1000)
    again.load(state)
    assert again.spike_found
    older = _Profile(DAY_MS, HOUR_S * 1000, HOUR_S * 1000)
    older.spike_found = True
    older.load(state[:11])
    assert not older.spike_found


def test_a_profile_state_keeps_its_buckets_and_an_older_one_pools_its_slots() -> None:
    series = _fed_series()
    profile = series.daily
    assert profile is not None
    state = profile.to_state()
    again = _Profile(DAY_MS, HOUR_S * 1000, HOUR_S * 1000)
    again.load(state)
    assert again.samples == profile.samples and again.period_index == profile.period_index
    assert again.counts == profile.counts and again.variances == profile.variances
    # an older state of the same version keeps a variance and a count per slot: each bucket
    # takes its slots' summed count and count-weighted mean variance
    slot_counts = [1.0 + k for k in range(24)]
    spreads = {k: [n, 2.0 + k] for k, n in profile.samples.items()}
    older = _Profile(DAY_MS, 1800 * 1000, 1800 * 1000)  # 48 slots, 36 buckets: some hold two slots
    older.load(state[:4] + [spreads, state[5], 0.0, state[7], slot_counts + [0.0] * 24])
    assert older.buckets == VARIANCE_BUCKETS and older.samples == profile.samples
    pairs = [b for b in range(VARIANCE_BUCKETS) if [older.bucket(k) for k in range(24)].count(b) == 2]
    assert pairs
    for b in pairs:
        k0, k1 = [k for k in range(24) if older.bucket(k) == b]
        assert older.counts[b] == slot_counts[k0] + slot_counts[k1]
        want = (slot_counts[k0] * (2.0 + k0) + slot_counts[k1] * (2.0 + k1)) / older.counts[b]
        assert abs(older.variances[b] - want) <= 1e-12 * want
    # a state from before the counts: each slot's effective samples stand in for its count
    oldest = _Profile(DAY_MS, HOUR_S * 1000, HOUR_S * 1000)
    oldest.load(state[:6])
    assert all(oldest.counts[oldest.bucket(k)] == n for k, n in profile.samples.items()) and oldest.period_index == -1


def test_a_bucket_pools_its_slots_and_keeps_a_mean_over_its_whole_count() -> None:
    """ml-cpp's bucket variance is the maximum-likelihood variance of its moments about the
    prediction joined with each value at weight w²: with weight 1 and slot means held at 0,
    the mean square of the values over the bucket's whole count, each square shrunk by the
    prediction's share of the error variance (``samples / (samples + 1)``)."""
    profile = _Profile(DAY_MS, 600 * 1000, 600 * 1000)  # 144 slots, 36 buckets of 4 slots
    assert profile.buckets == VARIANCE_BUCKETS and profile.bucket(7) == 1 and profile.bucket(8) == 2
    values = [(-1.0) ** i * (1.0 + i % 3) for i in range(40)]
    for i, x in enumerate(values):
        slot = 4 + i % 4
        profile.means[slot] = 0.0  # the slot means held at 0: the errors are the values
        profile.samples[slot] = PROFILE_SAMPLES
        profile.update(slot * 600 * 1000, x, 1.0, 0.0)
    want = sum(x * x for x in values) / len(values) * PROFILE_SAMPLES / (PROFILE_SAMPLES + 1.0)
    assert profile.counts[1] == len(values) and profile.counts[2] == 0.0
    assert abs(profile.variances[1] - want) <= 1e-12 * want
    assert profile.mean_variance() == profile.variances[1]  # the only bucket seen


def test_chi2_ratios_are_the_exact_quantiles() -> None:
    """ml-cpp asks boost for the chi-squared quantiles; ours are scipy's, checked against
    scipy.stats' distribution (another code path) and a value known to four places."""
    from scipy.stats import chi2

    for df in (1.0, 1.5, 11.3, 40.0, 500.0):
        for confidence in (50.0, 70.0, 98.0):
            lo, hi = chi2_ratios(df, confidence)
            assert abs(lo - chi2.ppf((100.0 - confidence) / 200.0, df) / df) <= 1e-9 * lo
            assert abs(hi - chi2.ppf((100.0 + confidence) / 200.0, df) / df) <= 1e-9 * hi
    assert abs(chi2_ratios(1.0, 50.0)[1] - 1.3233) < 1e-4  # the 75th percentile of chi-squared(1)
    assert chi2_ratios(5.0, 0.0) == (1.0, 1.0)


def test_a_bucket_counts_its_weights_uncapped_and_ages_them_by_whole_periods() -> None:
    """A bucket's count (its variance's degrees of freedom + 1) is the sum of the weights its
    slots learnt, past the moving mean's effective samples, aged by ``exp(−rate · periods /
    6)`` at each whole period (ml-cpp's seasonal bucket count)."""
    rate = 0.06
    profile = _Profile(DAY_MS, HOUR_S * 1000, HOUR_S * 1000)
    b = profile.bucket(5)
    for day in range(30):
        profile.update(day * DAY_MS + 5 * HOUR_S * 1000, 1.0, 0.5, rate)
    # a slot's first value has no prediction to differ from: it is not counted
    expected = sum(0.5 * math.exp(-rate * (29 - day) / 6.0) for day in range(1, 30))
    assert profile.samples[5] == PROFILE_SAMPLES  # the mean's effective samples stay capped
    assert abs(profile.counts[b] - expected) <= 1e-12 * expected and expected > PROFILE_SAMPLES
    # a value later the same day does not age the counts; one two days later ages them by two
    profile.update(29 * DAY_MS + 6 * HOUR_S * 1000, 1.0, 0.5, rate)
    assert abs(profile.counts[b] - expected) <= 1e-12 * expected
    profile.update(31 * DAY_MS + 6 * HOUR_S * 1000, 1.0, 0.5, rate)
    assert abs(profile.counts[b] - expected * math.exp(-rate * 2 / 6.0)) <= 1e-12 * expected


def test_the_counts_set_the_interval_of_a_bucket_variance() -> None:
    """More samples, a narrower interval: the 50 % upper end is chi-squared's for the
    bucket's count less one."""
    series = _fed_series()
    profile = series.daily
    assert profile is not None
    t_ms = 21 * DAY_MS + 12 * HOUR_S * 1000
    b = profile.bucket(profile.slot(t_ms))
    variance = profile.variances[b]
    lo, hi = profile.variance(t_ms, 50.0)
    want_lo, want_hi = chi2_ratios(profile.counts[b] - 1.0, 50.0)
    assert profile.counts[b] > PROFILE_SAMPLES
    assert (lo, hi) == (want_lo * variance, want_hi * variance)


def test_the_mean_variance_scale_is_a_running_mean() -> None:
    """ml-cpp keeps the running mean of the components' variance bias ``Z/(m + 1)`` over the
    values learnt (weighted, decayed): with the daily profile in use for two of three weeks
    it lies between the bias without a profile (1) and with one (the current value)."""
    series = _fed_series()
    assert series.daily is not None and series.daily.useful()
    current = 1.0 / (series.gain.share(1) * 2)
    running = series._mean_variance_scale(1)
    assert series.mvs[0] > 0.0
    assert min(current, 1.0) < running < max(current, 1.0), (running, current)
    # kept by a state round trip; an older state (without it) uses the current value
    state = series.to_state()
    again = CountSeries.from_state(state, HOUR_S)
    assert again.mvs == series.mvs and again._mean_variance_scale(1) == running
    older = CountSeries.from_state(state[:17], HOUR_S)
    assert older._mean_variance_scale(1) == current


def test_the_golden_spike_case_uses_its_daily_profile_by_the_amplitude_test() -> None:
    """The golden ``testVarianceScale`` spike case: the daily profile's gain stays under
    ``SEASONAL_GAIN`` (the spike explains about a quarter of the ten-minute error variance),
    the window's amplitude test accepts it, and the scale at the spike's hour is high."""
    from test_mlcpp_variance_scale_golden import DAY_S, MEAN_VARIANCE, _fed

    from ctdetect.engine.anomaly.timeseries import SEASONAL_GAIN

    series = _fed("spike")
    daily = series.daily
    assert daily is not None and daily.spike_found and daily.useful()
    assert daily.var_with > (1.0 - SEASONAL_GAIN) * daily.var_without
    assert series.variance_scale((49 * DAY_S + 5400) * 1000, 70.0, MEAN_VARIANCE)[1] > 3.0


def test_the_upper_end_alone_is_the_upper_end_of_the_interval() -> None:
    """``seasonal_weight`` asks for the upper end only (one quantile, not two): the same value
    as the whole interval's upper end, at every hour and confidence."""
    series = _fed_series()
    variance = series.prior.variance()
    for hour in range(24):
        t_ms = 21 * DAY_MS + hour * HOUR_S * 1000
        for confidence in (0.0, 50.0, 70.0):
            lo, hi = series.variance_scale(t_ms, confidence, variance)
            assert series.variance_scale(t_ms, confidence, variance, False) == (hi, hi)
            assert series.seasonal_weight(t_ms, confidence, variance) == max(hi, 0.4)
    assert chi2_ratios(7.5, 50.0, False) == (chi2_ratios(7.5, 50.0)[1],) * 2
