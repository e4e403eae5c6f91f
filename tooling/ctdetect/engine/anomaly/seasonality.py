"""A test for weekly seasonality on a window of recent values, before the model uses it.

ml-cpp does not let a seasonal component emerge from running averages: it keeps windows of
recent values and tests them (``CTimeSeriesTestForSeasonality``, elastic/ml-cpp 7a29b4b34,
``lib/maths/time_series/CTimeSeriesTestForSeasonality.cc``) for the daily and the weekly
period and for the trading-day partition (one daily shape on weekdays, another at the
weekend), adds what the window supports and initialises the new component from the
window. So two weeks of data are enough to model a weekend, where a profile that learns as
it goes needs a week to fill and another to prove itself.

Our test, in our words. The window holds the last two weeks of values at the resolution
of the weekly profile (an hour, or the bucket when longer); the test first removes the
window's own least-squares straight line (as ml-cpp's test removes a trend of its own, so
a trend the model took in cannot hide the shape). Each hypothesis is then judged by how
well it predicts each hour of the window from the *other* hours (leave-one-out), so a
model with more parameters gains nothing from fitting noise:

- none: the mean of the other hours (against which the daily period is judged);
- daily: the mean of the same hour of day on the other days;
- trading days: the same, over days of the same kind (weekday or weekend);
- weekly: the same hour of the other week.

Each hypothesis is fitted robustly first, as ml-cpp's test fits it
(``CSignal::fitSeasonalComponentsRobust``): the values its fit explains worst lose weight
(``robust.outlier_weights``), and a richer hypothesis is judged against the simpler one
with the weights of its own robust fit, so a burst that does not recur decides nothing.

The daily period is found when its error variance is at most 0.7 of none's (in a window
of two days or more); the trading-day split, in a window of two weeks, when its error
variance is at most 0.7 of the daily hypothesis' (the 30 % gain our profiles must show),
and the weekly period instead when it shows the same gain over the split; at least three
quarters of the window's slots must have values. What is found seeds the weekly profile
(each of its slots takes the offset of the hour it lies in): its offsets are the
hour-of-week means less the hour-of-day means (the daily profile models those), weighted by the robust fit of the hypothesis found, or for the weekly
period by the trading-day fit's (two values per slot cannot tell which week is the
outlier, a day among its kind can: a one-off holiday), with the two error variances as the profile's test statistics; and the
model refits its trend to the window less the shape found (ml-cpp refits its trend from
the window when it adds components).

The window also carries ml-cpp's amplitude test of the daily period
(``daily_amplitude_p_value``): a spike at the same time of day in every part of the window
puts the daily profile in use even when it removes less than 30 % of the error variance
(ml-cpp accepts a component by its variance test or by this one).
Not modelled: ml-cpp's other periods (it tests any period the window supports), its
multiple resolutions and its test of already modelled components.
"""

from __future__ import annotations

import math
from array import array
from typing import Any, NamedTuple

from ctdetect.engine.anomaly.robust import outlier_weights
from ctdetect.engine.anomaly.stats import SMALLEST_PROBABILITY, binomial_upper_tail

DAY_MS = 86400 * 1000
WEEK_MS = 7 * DAY_MS
WINDOW_WEEKS = 2
GAIN = 0.3
WEEKEND_DAYS = (2, 3)  # days since the epoch's Thursday: Saturday and Sunday


class SeasonalFinding(NamedTuple):
    """What a window supports. ``daily``: the daily period; ``weekly``: ``"partition"``
    (a weekday and a weekend daily shape), ``"weekly"`` or None; ``offsets``: the weekly
    offsets per slot of the week (hour-of-week means less hour-of-day means); ``var_with``
    and ``var_without``: the weekly hypothesis' error variance and the daily one's."""

    daily: bool
    weekly: str | None
    offsets: dict[int, float]
    var_with: float
    var_without: float
    samples: float
    seasonal: dict[int, float] = {}  # slot of the week -> its (detrended) mean: daily mean plus weekly offset


def _slot_sums(values: list[float], keys: list[int], weights: list[float],
               size: int) -> tuple[list[float], list[float], list[float]]:
    """Per group numbered ``0 .. size - 1``: (weighted sums of values, sums of weights,
    numbers of values), each a list by group number. The weekly test
    groups the window's values by hour of day, of the trading day and of the week about
    eight times a day per series; small integers index a list where a tuple key (made,
    hashed and compared per value) cost most of the test, and compiled (``seasonality.pxd``)
    the sums are C doubles. Each group's sums start at its first value (a group of -0.0
    values keeps its sign)."""
    sums = [0.0] * size
    weight_sums = [0.0] * size
    counts = [0.0] * size
    for i in range(len(values)):
        v = values[i]
        w = weights[i]
        key = keys[i]
        c = counts[key]
        if c == 0.0:
            sums[key] = w * v
            weight_sums[key] = w
        else:
            total = sums[key]
            weight = weight_sums[key]
            sums[key] = total + w * v
            weight_sums[key] = weight + w
        counts[key] = c + 1.0
    return sums, weight_sums, counts


def _loo(values: list[float], keys: list[int], weights: list[float], size: int) -> float:
    """Weighted mean squared error of predicting each value by the weighted mean of the
    other values of its group (``keys``: each value's group number, below ``size``).
    The error is squared by Python's float power (``error`` stays a Python float when
    compiled: a C double's square would be ``x * x``, not glibc's ``pow``)."""
    sums, weight_sums, counts = _slot_sums(values, keys, weights, size)
    total = n = 0.0
    for i in range(len(values)):
        key = keys[i]
        c = counts[key]
        if c < 2.0:
            continue
        v = values[i]
        w = weights[i]
        group_sum = sums[key]
        group_weight = weight_sums[key]
        error = v - (group_sum - w * v) / (group_weight - w)
        total += w * error ** 2
        n += w
    return total / n if n else 0.0


def _robust_weights(values: list[float], keys: list[int], size: int) -> list[float]:
    """The values' weights after the hypothesis ``keys`` (group numbers below ``size``) is
    fitted (its group means) and its outliers reweighted (``robust.outlier_weights``), as
    ml-cpp fits each hypothesis robustly before it judges it."""
    sums, weight_sums, _counts = _slot_sums(values, keys, [1.0] * len(values), size)
    return outlier_weights(values, [sums[key] / weight_sums[key] for key in keys])


def _detrended(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The points less their least-squares straight line (the test removes a trend of its own)."""
    n = float(len(points))
    mk = sum(k for k, _ in points) / n
    mv = sum(v for _, v in points) / n
    skk = sum((k - mk) ** 2 for k, _ in points)
    slope = sum((k - mk) * (v - mv) for k, v in points) / skk if skk > 0.0 else 0.0
    return [(k, v - mv - slope * (k - mk)) for k, v in points]


def _trading_hour(k: int, per_day: int) -> int:
    """Slot ``k``'s group in the trading-day hypothesis: its slot of the day, numbered on
    from ``per_day`` at the weekend (one number per (weekend, slot of day) pair)."""
    return k % per_day + per_day if (k // per_day) % 7 in WEEKEND_DAYS else k % per_day


def find_seasonality(points: list[tuple[int, float]], slot_ms: int, slots: int) -> SeasonalFinding:
    """Test the values ``points`` (absolute slot number, mean value), from a window of
    ``slots`` slots of ``slot_ms``, for the daily period and a weekly shape (see module).
    Each hypothesis numbers its groups (slot of day, ``_trading_hour``, slot of week)."""
    per_day = DAY_MS // slot_ms
    per_week = WEEK_MS // slot_ms
    none = SeasonalFinding(False, None, {}, 0.0, 0.0, float(len(points)))
    if DAY_MS % slot_ms or not points or 4 * len(points) < 3 * slots:
        return none
    points = _detrended(points)
    values = [v for _, v in points]
    by_hour = [k % per_day for k, _ in points]
    daily_w = _robust_weights(values, by_hour, per_day)
    flat = _loo(values, [0] * len(values), daily_w, 1)
    daily_err = _loo(values, by_hour, daily_w, per_day)
    daily = slots >= 2 * per_day and flat > 0.0 and daily_err <= (1.0 - GAIN) * flat
    if slots < WINDOW_WEEKS * per_week or daily_err <= 0.0:
        return none._replace(daily=daily)
    by_kind = [_trading_hour(k, per_day) for k, _ in points]
    by_week = [k % per_week for k, _ in points]
    # each richer hypothesis is judged against the simpler one on the weights of its own robust fit
    partition_w = _robust_weights(values, by_kind, 2 * per_day)
    weekly_w = _robust_weights(values, by_week, per_week)
    partition = _loo(values, by_kind, weekly_w, 2 * per_day)
    weekly = _loo(values, by_week, weekly_w, per_week)
    # the simpler hypothesis unless the richer one shows the same gain over it
    if weekly <= (1.0 - GAIN) * partition:
        kind, err, weights = "weekly", weekly, weekly_w
    else:
        kind, err, weights = "partition", _loo(values, by_kind, partition_w, 2 * per_day), partition_w
    base = _loo(values, by_hour, weights, per_day)
    if err > (1.0 - GAIN) * base:
        return none._replace(daily=daily)
    if kind == "weekly":
        # the weekly fit has two values per slot and cannot tell which week is the outlier;
        # the trading-day fit pools each hour over the days of a kind and can (a one-off
        # holiday): the shape is taken with its weights
        weights = partition_w
    shape_keys, shape_size = (by_kind, 2 * per_day) if kind == "partition" else (by_week, per_week)
    # per group: [weighted sum, sum of weights], from 0.0; None for a group without values
    day_sums: list[list[float] | None] = [None] * per_day
    shape_sums: list[list[float] | None] = [None] * shape_size
    for v, w, hour, shape in zip(values, weights, by_hour, shape_keys):
        for sums, key in ((day_sums, hour), (shape_sums, shape)):
            acc = sums[key]
            if acc is None:
                acc = sums[key] = [0.0, 0.0]
            acc[0] += w * v
            acc[1] += w
    first = points[0][0]
    offsets: dict[int, float] = {}
    seasonal: dict[int, float] = {}
    for s in range(per_week):
        # the weekly profile's slots start at the epoch's week, as absolute slot numbers do
        k = first + ((s - first) % per_week)
        wk = shape_sums[_trading_hour(k, per_day) if kind == "partition" else s]
        dk = day_sums[s % per_day]
        if wk is not None and dk is not None:
            offsets[s] = wk[0] / wk[1] - dk[0] / dk[1]
            seasonal[s] = wk[0] / wk[1]
    return SeasonalFinding(daily, kind, offsets, err, base, float(len(points)), seasonal)


# ml-cpp's amplitude test (CTimeSeriesTestForSeasonality::SHypothesisStats::testAmplitude and
# amplitudeTestResult, elastic/ml-cpp 7a29b4b34), at full bucket occupancy
AMPLITUDE_MIN_REPEATS = 5.0  # m_MinimumRepeatsPerSegmentToTestAmplitude: interpolateOnBucketOccupancy(5, 10, 1)
AMPLITUDE_MIN_GROUPS = 4  # CMinAmplitude::MINIMUM_REPEATS: groups of repeats the offset must stand out in
AMPLITUDE_SIGMAS = 2.0  # an offset's amplitude counts from two residual standard deviations
SIGNIFICANT_P = 5e-3  # m_SignificantPValue
EVICT_P = 0.4  # m_PValueToEvict: a component is dropped only when its p-value is above this
LOW_AUTOCORRELATION = 0.3  # m_LowAutocorrelation: interpolateOnBucketOccupancy(0.3, 0.5, 1)


def _daily_autocorrelation(points: list[tuple[int, float]], per_day: int) -> float:
    """The larger of the autocorrelations at a lag of one day of the values and of their
    absolute values (ml-cpp's amplitude test reads the upper bound of its cyclic
    autocorrelations, of the values and of their absolute values). Ours pairs each value
    with the one a day later when both are in the window (ml-cpp wraps the window)."""
    best = 0.0
    for absolute in (False, True):
        by_slot = {k: abs(v) if absolute else v for k, v in points}
        n = float(len(by_slot))
        mean = sum(by_slot.values()) / n
        variance = sum((v - mean) ** 2 for v in by_slot.values()) / n
        if variance <= 0.0:
            continue
        cov = pairs = 0.0
        for k, v in by_slot.items():
            u = by_slot.get(k + per_day)
            if u is not None:
                cov += (v - mean) * (u - mean)
                pairs += 1.0
        if pairs:
            best = max(best, cov / pairs / variance)
    return best


def daily_amplitude_p_value(points: list[tuple[int, float]], slot_ms: int) -> float:
    """The p-value of ml-cpp's amplitude test of the daily period on ``points`` (absolute
    slot number, mean value; ``slot_ms`` divides a day), 1.0 when the window cannot be
    tested. ml-cpp accepts a seasonal component by a variance test (the variance the
    component explains, with an autocorrelation at the period of at least 0.5) or by this
    one, which finds a spike at the same time of day in every part of the window however
    little of the day's variance it explains (a one-hour spike of 5 over a level of 1
    explains about a quarter, with an autocorrelation near 0.3: only this test finds it).

    In our words: the window (at least four days, five repeats) is cut into
    ``max(ceil(repeats / 3), 4)`` groups of consecutive values. A time of day's amplitude
    is the smaller, over the groups, of its largest value above the window's level (or
    below it, whichever side is larger): every group must show it. An amplitude of at least
    two residual standard deviations (the values less their time-of-day means) is
    significant when ``groups`` or more of the time of day's values would reach it by
    chance with the binomial tail probability of ``2·Φ(−amplitude/σ)`` each; the smallest
    over the times of day, corrected for the number of times with an amplitude
    (``1 − (1 − p)^k``), is the test's p-value. ml-cpp also asks an autocorrelation of 0.3
    at the period (fuzzily); ours asks it plainly, and the p-value is 1 without it."""
    per_day = DAY_MS // slot_ms
    if DAY_MS % slot_ms or len(points) < 2:
        return 1.0
    points = _detrended(points)
    first, last = points[0][0], points[-1][0]
    if last - first + 1 < AMPLITUDE_MIN_GROUPS * per_day:
        return 1.0
    values = [v for _, v in points]
    hours = [k % per_day for k, _ in points]
    sums, weight_sums, counts = _slot_sums(values, hours, [1.0] * len(values), per_day)
    present = [h for h in range(per_day) if counts[h]]
    repeats = len(values) / float(len(present))
    if repeats < AMPLITUDE_MIN_REPEATS or _daily_autocorrelation(points, per_day) < LOW_AUTOCORRELATION:
        return 1.0
    level = sum(values) / len(values)
    residual = sum((v - sums[h] / weight_sums[h]) ** 2 for v, h in zip(values, hours)) / len(values)
    groups = max(math.ceil(repeats / 3.0), AMPLITUDE_MIN_GROUPS)
    group_length = (last - first + 1) // groups
    # per time of day, per group: [largest value above the level, largest below it]
    extremes: dict[int, list[list[float] | None]] = {h: [None] * groups for h in present}
    for (k, _), v, h in zip(points, values, hours):
        g = (k - first) // group_length
        if g >= groups:
            continue
        acc = extremes[h][g]
        if acc is None:
            extremes[h][g] = [v - level, level - v]
        else:
            acc[0] = max(acc[0], v - level)
            acc[1] = max(acc[1], level - v)
    sigma = math.sqrt(residual)
    p_value = 1.0
    amplitudes = 0
    for h, by_group in extremes.items():
        if any(acc is None for acc in by_group):
            continue
        amplitude = max(max(min(acc[0] for acc in by_group if acc is not None), 0.0),
                        max(min(acc[1] for acc in by_group if acc is not None), 0.0))
        if amplitude <= 0.0:
            continue
        amplitudes += 1
        if sigma <= 0.0:
            p_value = 0.0
        elif amplitude >= AMPLITUDE_SIGMAS * sigma:
            two_tail = math.erfc(amplitude / sigma / math.sqrt(2.0))  # 2·Φ(−amplitude/σ)
            # P(at least ``groups`` of the time's values reach the amplitude by chance)
            p_value = min(p_value, binomial_upper_tail(groups - 1, int(counts[h]), two_tail))
    if amplitudes == 0:
        return 1.0
    return max(-math.expm1(amplitudes * math.log1p(-p_value)) if p_value < 1.0 else 1.0, SMALLEST_PROBABILITY)


class SeasonalityWindow:
    """The last two weeks of one series' detrended values, one mean per slot of ``slot_ms``."""

    __slots__ = ("slot_ms", "slots", "sums", "counts", "latest")

    def __init__(self, slot_ms: int) -> None:
        self.slot_ms = slot_ms
        self.slots = WINDOW_WEEKS * WEEK_MS // slot_ms
        self.sums = array("d", bytes(8 * self.slots))
        self.counts = array("d", bytes(8 * self.slots))
        self.latest = -1  # absolute slot number of the newest value

    def add(self, t_ms: int, value: float) -> None:
        k = t_ms // self.slot_ms
        if k > self.latest:
            # clear the slots the window moves over
            for j in range(max(self.latest + 1, k - self.slots + 1), k + 1):
                self.sums[j % self.slots] = 0.0
                self.counts[j % self.slots] = 0.0
            self.latest = k
        elif k <= self.latest - self.slots:
            return
        self.sums[k % self.slots] += value
        self.counts[k % self.slots] += 1.0

    def test(self) -> SeasonalFinding:
        """``find_seasonality`` on the window's slot means."""
        return find_seasonality(self._points(), self.slot_ms, self.slots)

    def _points(self) -> list[tuple[int, float]]:
        """The window's slot means: (absolute slot number, mean), oldest first."""
        points = []
        for k in range(max(self.latest - self.slots + 1, 0), self.latest + 1):
            c = self.counts[k % self.slots]
            if c > 0.0:
                points.append((k, self.sums[k % self.slots] / c))
        return points

    def daily_amplitude(self) -> float:
        """``daily_amplitude_p_value`` on the window's slot means."""
        return daily_amplitude_p_value(self._points(), self.slot_ms)

    def to_state(self) -> list[Any]:
        return [self.latest, list(self.sums), list(self.counts)]

    def load(self, state: list[Any]) -> None:
        self.latest = int(state[0])
        self.sums = array("d", state[1])
        self.counts = array("d", state[2])
