"""A per-series time-series model for the count family and distinct counts.

Elastic's model (ML-SEMANTICS §5.3; elastic/ml-cpp ``CUnivariateTimeSeriesModel``) in our
words, one per series:

- **Decomposition.** A trend that is a function of time (``trend.TrendComponent``, ml-cpp's
  ``CTrendComponent``), ageing at the decomposition's decay rate per day
  ``min(48·λ / min(1, span/1800) / max(span/(24·1800), 1), 0.1)``, and daily (from 3 days
  of data) and weekly (from 3 weeks) profiles learnt on the detrended values, one slot per
  bucket (per hour when buckets do not divide a day; the weekly profile's slot is at
  least half an hour, ``weekly_slot_ms``); a slot's mean is the plain mean of
  its values until it holds as many as the moving mean's effective samples, then moves by
  ``PROFILE_RATE`` (ml-cpp's seasonal buckets are count-weighted means). Each value
  is split as ml-cpp splits it: the trend learns its prediction plus the share
  ``1 / max((1 + profiles in use) / gain, 1)`` of the error, the gain ml-cpp's gain
  controller's (``gain``: 3, so the whole error, unless the profiles' summed amplitude
  grows; each profile learns, at its own rate, the value less the trend and the other
  profile in use, as ml-cpp's components learn the value less the others). A profile is
  used while it removes at least 30 % of the error variance, measured out of sample over
  its last two periods, or, for the daily profile, while the two-week window's amplitude
  test finds a spike at the same time of day in every part of it (ml-cpp accepts a
  component by its variance test or its amplitude test); once a day, while no weekly profile is in use, the last two
  weeks are tested for a weekly shape (``seasonality``: the weekday/weekend split or the weekly period, our counterpart of
  ml-cpp's ``CTimeSeriesTestForSeasonality``); what is found seeds the weekly profile,
  and the trend is refitted to the window less that shape (the residual models move by
  the trend's change), as ml-cpp refits its trend when it adds components. The trend is always fitted but
  predicts only once it is in use: after ml-cpp's test (an F-test of the error variance
  with against without it, on the error statistics kept since the trend has spanned six
  buckets) or once a profile is in use (ml-cpp uses its trend as soon as it has a
  seasonal component); the residual models then move down by the trend's value. A
  stationary series is therefore modelled as it is, as ml-cpp does before it finds a
  trend. ``interval`` is the decomposition's prediction interval: each component's
  interval of its estimated value, summed.
- **Residual prior.** The value less the components in use is learnt by a one-of-n prior
  (``priors.OneOfNPrior``: gamma, log-normal, normal, Poisson) and scored by it: p = 1
  until every component is informative (the gamma needs 3.5 weighted samples).
- **Seasonal variance scale** (``variance_scale``, ml-cpp ``varianceScaleWeight``). Each
  profile keeps, per bucket of 1/36 of its period (ml-cpp's seasonal component buckets),
  the variance of its values about their slots' means over the bucket's whole decayed
  count; at a time ``t`` the components' variances there (the trend's error variance, each
  profile's bucket variance, as the upper end of an exact chi-squared interval for the
  bucket's count) over their mean variances is the scale, pulled toward 1 by ``bias = min(2·mean
  variance · mean-variance scale / residual variance, 1)`` (the scale's running mean,
  ``_mean_variance_scale``; times ``(m + 1)/m`` with the trend in use, which dilutes the m
  profiles' ratio). It is 1 without a component in use. A value is scored with the residual prior's
  spread times it (its upper end at 50 %, at least 0.4, ml-cpp's minimum for event
  rates), weighted as an outlier with the scale at its estimate, and enters the
  multi-bucket window and the anomaly model in units of that spread: a count at a quiet
  hour is measured against the quiet hour's spread, a burst at a busy one against the
  busy hour's. Not modelled: ml-cpp's smoothing of the scale across the edges of
  weekday/weekend windows (our weekly profile covers the whole week).
- **Update before score.** The bucket is learnt first, then scored, as ml-cpp samples a
  bucket before computing its probability. Sample weights are the learn rate
  ``min(1, span/1800)`` × the empty-bucket weight × the outlier weight: 1 when the
  one-tailed p ≥ 1e-3, ``0.01 + 0.49·derate`` when p ≤ 1e-5 (derate fades from 1 to 0
  over the first three weeks), and ``exp(−c·ln p·(ln p − ln 1e-3))`` in between, the
  exponent c making it continuous, so a spike barely moves the model that flags it.
- **Multi-bucket feature** (``multibucket``) and **anomaly model** (``anomaly_model``):
  the 12-bucket mean has its own prior and its probability is joined with the bucket's;
  recurring anomalies are tempered.
- **Decay.** Every model ages by ``e^−λ`` a bucket (λ: the job's decay rate).
"""

from __future__ import annotations

import math
import math as libm  # compiled: C's libm (the .pxd); see priors.LIBM_NOTE
from array import array
from typing import Any, NamedTuple

from ctdetect.engine.anomaly.anomaly_model import LARGEST_ANOMALY_P, AnomalyModel
from ctdetect.engine.anomaly.gain import GainController
from ctdetect.engine.anomaly.multibucket import MultiBucketMean
from ctdetect.engine.anomaly.priors import OneOfNPrior
from ctdetect.engine.anomaly.stats import joint_probability_pair, scalar_special
from ctdetect.engine.anomaly.seasonality import EVICT_P, SIGNIFICANT_P, WINDOW_WEEKS, SeasonalityWindow
from ctdetect.engine.anomaly.trend import TrendComponent, normal_interval



class SeriesResult(NamedTuple):
    """A bucket's overall probability, and its single- and multi-bucket parts (None: not computed)."""

    probability: float
    single: float | None
    multi: float | None


MIN_SEASONAL_VARIANCE_SCALE = 0.4  # ml-cpp CEventRateModelFactory::minimumSeasonalVarianceScale
SEASONAL_CONFIDENCE = 50.0  # ml-cpp DEFAULT_SEASONAL_CONFIDENCE_INTERVAL: the scale scored with
SEASONAL_GAIN = 0.3  # a profile must remove 30 % of the error variance to be used
PROFILE_RATE = 0.15  # a slot mean moves at least this share of the way to each new residual
PROFILE_SAMPLES = (2.0 - PROFILE_RATE) / PROFILE_RATE  # effective samples of such a moving mean
VARIANCE_BUCKETS = 36  # ml-cpp COMPONENT_SIZE: a seasonal component's buckets a period
COUNT_AGE_PERIODS = 6.0  # ml-cpp ages a seasonal component's bucket counts by rate × periods / 6
DAILY_START_MS = 3 * 86400 * 1000
WEEKLY_SLOT_MS = 30 * 60 * 1000  # the weekly profile's finest slot (``weekly_slot_ms``)
WEEKLY_START_MS = 21 * 86400 * 1000
TREND_PARAMETERS = 3.0  # ml-cpp CTrendComponent::parameters(): a quadratic
THREE_WEEKS_MS = 21 * 86400 * 1000
DAY_MS = 86400 * 1000
WEEK_MS = 7 * DAY_MS


def trend_decay_rate(span_s: int, decay_rate: float) -> float:
    """Elastic's decomposition (trend) decay rate, per day as the decomposition ages
    (ML-SEMANTICS §1 defaults: 0.024 for buckets up to 12 hours)."""
    return min(48.0 * decay_rate / min(1.0, span_s / 1800.0) / max(span_s / (24 * 1800.0), 1.0), 0.1)


class _Profile:
    """Means per slot of a period, the variance of the values about them per variance
    bucket, and the error variance with and without the profile. Slot means are kept raw;
    ``bias`` is the level already handed to the trend (ml-cpp's canonical form: the
    seasonal components have mean zero, the trend holds the level), so a slot's offset is
    its raw mean less ``bias``.

    The variance is kept per bucket of ``1/VARIANCE_BUCKETS`` of the period (ml-cpp's
    ``COMPONENT_SIZE`` buckets of ``CSeasonalComponentAdaptiveBucketing``; per slot when the
    period has fewer slots), a mean over the bucket's whole decayed count: a slot's own
    values are too few for it (a 15-minute slot sees one value a day) and a variance over
    one slot, read every other slot, follows noise (bench/README.md, issue-12-s33)."""

    __slots__ = ("period_ms", "slot_ms", "span_ms", "slots", "means", "total", "bias", "samples", "var_with", "var_without",
                 "weight", "period_index", "buckets", "counts", "variances", "spike_found")

    def __init__(self, period_ms: int, slot_ms: int, span_ms: int, buckets: int = VARIANCE_BUCKETS) -> None:
        self.period_ms = period_ms
        self.slot_ms = slot_ms
        self.span_ms = span_ms
        self.slots = period_ms // slot_ms
        self.means: dict[int, float] = {}
        self.total = 0.0  # sum of the raw slot means
        self.bias = 0.0
        # slot -> effective samples of its mean (at most PROFILE_SAMPLES): its learn rate
        self.samples: dict[int, float] = {}
        self.var_with = 0.0
        self.var_without = 0.0
        self.weight = 0.0
        self.period_index = -1  # the period of the last value learnt (t // period), -1 before any
        self.buckets = min(buckets, self.slots)
        # per variance bucket, the decayed sum of the weights learnt (ml-cpp's bucket count,
        # the degrees of freedom + 1 of its variance's interval) and the variance of its
        # values about the slot means (0 until a bucket holds two values; a bucket with a
        # count of 0 has not been seen)
        self.counts = array("d", bytes(8 * self.buckets))
        self.variances = array("d", bytes(8 * self.buckets))
        # the window's amplitude test found a spike at the same time in every part of it
        # (``seasonality.daily_amplitude_p_value``): the profile is used whatever its gain
        self.spike_found = False

    def slot(self, t_ms: int) -> int:
        return (t_ms % self.period_ms) // self.slot_ms

    def bucket(self, slot: int) -> int:
        """The variance bucket of ``slot``."""
        return slot * self.buckets // self.slots

    def offset(self, t_ms: int) -> float:
        raw = self.means.get(self.slot(t_ms))
        return 0.0 if raw is None else raw - self.bias

    def interval(self, t_ms: int, confidence: float) -> tuple[float, float]:
        """The ``confidence`` % interval of the slot's mean: its bucket's variance over the
        mean's effective samples (ml-cpp's seasonal component: the bucket's variance over
        its count)."""
        s = self.slot(t_ms)
        n = self.samples.get(s)
        mean = self.offset(t_ms)
        if n is None:
            return mean, mean
        return normal_interval(mean, self.variances[self.bucket(s)] / max(n, 1.0), confidence)

    def mean_variance(self) -> float:
        """The mean of the variances of the buckets seen (ml-cpp
        ``CSeasonalComponent::meanVariance``, the mean of its variance spline)."""
        total = 0.0
        seen = 0
        for b in range(self.buckets):
            if self.counts[b] > 0.0:
                total += self.variances[b]
                seen += 1
        return total / seen if seen else 0.0

    def variance(self, t_ms: int, confidence: float, lower: bool = True) -> tuple[float, float]:
        """The ``confidence`` % interval of the variance about the slot means at ``t_ms``
        (ml-cpp ``CSeasonalComponent::variance``): its bucket's, a sample variance of ``n``
        values, about chi-squared with ``n − 1`` degrees of freedom, ``n`` the bucket's count
        (at least 2). A bucket not yet seen has the mean variance. Not followed: ml-cpp reads
        the variance from a spline through its buckets (ours is constant across a bucket).
        ``lower``: see ``chi2_ratios``."""
        b = self.bucket(self.slot(t_ms))
        n = self.counts[b]
        if n <= 0.0:
            v = self.mean_variance()
            return v, v
        v = self.variances[b]
        lo, hi = chi2_ratios(max(n, 2.0) - 1.0, confidence, lower)
        return lo * v, hi * v

    def _age_counts(self, t_ms: int, decay_rate: float) -> None:
        """Age every bucket's count by ``exp(−decay_rate · periods / 6)`` for the whole
        periods since the last value (ml-cpp ages its seasonal buckets stepwise, whole periods
        from the epoch, at the decomposition's decay rate over six)."""
        p = t_ms // self.period_ms
        if p > self.period_index >= 0:
            factor = libm.exp(-decay_rate * (p - self.period_index) / COUNT_AGE_PERIODS)
            counts = self.counts
            for i in range(len(counts)):
                counts[i] *= factor
        if p > self.period_index:
            self.period_index = p

    def useful(self) -> bool:
        """In use once it has learnt a weight of 3, when it removes ``SEASONAL_GAIN`` of the
        error variance out of sample (ml-cpp's variance test, in our words) or the window's
        amplitude test found its spike (ml-cpp accepts a component by either test)."""
        return self.weight >= 3.0 and (self.spike_found or self.var_with < (1.0 - SEASONAL_GAIN) * self.var_without)

    def update(self, t_ms: int, residual: float, w: float, decay_rate: float) -> None:
        """Learn ``residual`` with weight ``w`` at ``t_ms``; ``decay_rate``: the decomposition's,
        per day, which ages the buckets' counts (``_age_counts``)."""
        self._age_counts(t_ms, decay_rate)
        s = self.slot(t_ms)
        prev = self.means.get(s)
        err_with = residual - (prev - self.bias if prev is not None else 0.0)
        if prev is not None:
            # out of sample: the slot's mean before it learns the value; the error variances
            # average over the last two periods (all values until then)
            self.weight += w
            a = w / min(self.weight, 2.0 * self.period_ms / self.span_ms)
            self.var_with = (1 - a) * self.var_with + a * err_with * err_with
            self.var_without = (1 - a) * self.var_without + a * residual * residual
        n = self.samples.get(s)
        # the bucket's variance about the slot's mean before this value (ml-cpp: about the
        # component's prediction); a slot's first value has no prediction to differ from
        if prev is not None and n is not None:
            b = self.bucket(s)
            count = self.counts[b]
            self.variances[b] = _pooled_variance(count, self.variances[b], err_with, w, n)
            self.counts[b] = count + w
        # a slot's mean is the plain mean of its values until it holds the moving mean's
        # effective samples, then moves by PROFILE_RATE (ml-cpp's seasonal buckets are
        # count-weighted means, so a new or freshly seeded slot learns at once)
        rate = PROFILE_RATE * w if n is None else max(PROFILE_RATE * w, w / (n + w))
        new = residual + self.bias if prev is None else prev + rate * err_with
        self.means[s] = new
        self.total += new - (prev if prev is not None else 0.0)
        self.samples[s] = w if n is None else min(n + w, PROFILE_SAMPLES)

    def seed(self, offsets: dict[int, float], var_with: float, var_without: float, weight: float, t_ms: int) -> None:
        """Start from a tested window's offsets (``seasonality.SeasonalityWindow``) at ``t_ms``.
        A slot starts with one sample a week of the window, and adds as much to its bucket's
        count: a week of a slot holds a learn weight of about one (``min(1, span/1800)`` for
        each of the slot's buckets), as ml-cpp's buckets start with the weights of the
        window's values; every seeded bucket starts at the window's error variance."""
        self.means = dict(offsets)
        self.total = sum(self.means.values())
        self.bias = 0.0
        self.period_index = t_ms // self.period_ms
        self.samples = {s: float(WINDOW_WEEKS) for s in offsets}
        self.counts = array("d", bytes(8 * self.buckets))
        self.variances = array("d", bytes(8 * self.buckets))
        for s in offsets:
            b = self.bucket(s)
            self.counts[b] += float(WINDOW_WEEKS)
            self.variances[b] = var_with
        self.var_with, self.var_without, self.weight = var_with, var_without, weight

    def canonicalise(self) -> float:
        """Hand the profile's mean level over a full period to the trend: returns it."""
        if len(self.means) < self.slots:
            return 0.0
        level = self.total / len(self.means) - self.bias
        self.bias += level
        return level

    def to_state(self) -> list[Any]:
        # positions 4, 6 and 8 as an older reader of this version reads them (each slot with
        # its bucket's variance and count), the buckets themselves after them
        spreads = {k: [n, self.variances[self.bucket(k)]] for k, n in self.samples.items()}
        slot_counts = [self.counts[self.bucket(k)] for k in range(self.slots)]
        return [self.means, self.var_with, self.var_without, self.weight, spreads, self.bias,
                sum(v[1] for v in spreads.values()), self.period_index, slot_counts, list(self.counts), list(self.variances),
                self.spike_found]

    def load(self, s: list[Any]) -> None:
        self.means = {int(k): float(v) for k, v in s[0].items()}
        self.total = sum(self.means.values())
        self.var_with, self.var_without, self.weight = float(s[1]), float(s[2]), float(s[3])
        spreads = {int(k): (float(v[0]), float(v[1])) for k, v in s[4].items()}
        self.samples = {k: v[0] for k, v in spreads.items()}
        self.bias = float(s[5])
        self.period_index = int(s[7]) if len(s) > 7 else -1
        self.spike_found = bool(s[11]) if len(s) > 11 else False
        if len(s) > 10:
            self.counts = array("d", s[9])
            self.variances = array("d", s[10])
            return
        # an older state keeps a variance and a count per slot: each bucket takes its
        # slots' summed count and their count-weighted mean variance (a state without
        # counts: the effective samples stand in)
        self.counts = array("d", bytes(8 * self.buckets))
        self.variances = array("d", bytes(8 * self.buckets))
        sums = array("d", bytes(8 * self.buckets))
        for k, (n, v) in spreads.items():
            c = float(s[8][k]) if len(s) > 8 else n
            b = self.bucket(k)
            self.counts[b] += c
            sums[b] += c * v
        for b in range(self.buckets):
            if self.counts[b] > 0.0:
                self.variances[b] = sums[b] / self.counts[b]


class CountSeries:
    """One modelled series (a person, an attribute, or the whole partition)."""

    __slots__ = (
        "trend", "using_trend", "err_with", "err_without", "first_ms", "last_ms",
        "present_buckets", "buckets", "daily", "weekly", "window", "weekly_kind", "prior", "mb", "mb_prior", "anomaly", "last_residual",
        "gain", "mvs",
    )

    def __init__(self, first_ms: int, integer: bool = True) -> None:
        self.trend: TrendComponent | None = None
        self.using_trend = False
        # decayed [weight, mean, m2] of the prediction errors with and without the trend
        self.err_with = [0.0, 0.0, 0.0]
        self.err_without = [0.0, 0.0, 0.0]
        self.first_ms = first_ms
        self.last_ms = first_ms
        self.present_buckets = 0
        self.buckets = 0
        self.daily: _Profile | None = None
        self.weekly: _Profile | None = None
        self.window: SeasonalityWindow | None = None
        self.weekly_kind: str | None = None  # what the last window test found: "partition" or "weekly"
        self.prior = OneOfNPrior(integer)
        self.mb = MultiBucketMean()
        self.mb_prior = OneOfNPrior(integer)  # ml-cpp gives the feature model the data's type
        self.anomaly = AnomalyModel()
        self.last_residual: float | None = None  # of the last bucket, for influence
        self.gain = GainController()  # the share of each error the components learn
        # decayed [weight, mean] of the mean-variance scale (``_mean_variance_scale``)
        self.mvs = [0.0, 0.0]

    # ------------------------------------------------------------------ decomposition
    def _seasonal(self, t_ms: int) -> tuple[float, int]:
        """(sum of the seasonal profiles in use at ``t_ms``, how many are in use)."""
        c, m = 0.0, 0
        for profile in (self.daily, self.weekly):
            if profile is not None and profile.useful():
                c += profile.offset(t_ms)
                m += 1
        return c, m

    def components(self, t_ms: int) -> float:
        """What the decomposition predicts at ``t_ms``: the trend once it is in use, plus
        the seasonal profiles in use (the residual prior learns what is left)."""
        c, _m = self._seasonal(t_ms)
        if self.using_trend and self.trend is not None:
            c += self.trend.value(t_ms / 1000.0)
        return c

    def interval(self, t_ms: int, confidence: float) -> tuple[float, float]:
        """The decomposition's ``confidence`` % interval at ``t_ms`` (ml-cpp
        ``CTimeSeriesDecomposition::value(time, confidence)``): each component's interval
        of its estimated value, summed end by end; the residual prior's level is added
        to both ends as ``typical`` adds it."""
        base = self.prior.mean_value()
        lo = hi = base
        if self.using_trend and self.trend is not None:
            a, b = self.trend.interval(t_ms / 1000.0, confidence)
            lo, hi = lo + a, hi + b
        for profile in (self.daily, self.weekly):
            if profile is not None and profile.useful():
                a, b = profile.interval(t_ms, confidence)
                lo, hi = lo + a, hi + b
        return lo, hi

    def confidence_interval(self, t_ms: int, confidence: float) -> tuple[float, float, float]:
        """(lower, median, upper) of the value the model expects at ``t_ms``, floored at 0:
        the decomposition's value plus the residual prior's interval and median (ml-cpp
        ``CUnivariateTimeSeriesModel::confidenceInterval``; Elastic's anomaly explanation
        shows the 95 % one as typical value and bounds)."""
        base = self.components(t_ms)
        median = self.prior.interval(0.0)[0]
        lo, hi = self.prior.interval(confidence)
        return max(base + lo, 0.0), max(base + median, 0.0), max(base + hi, 0.0)

    def informative(self) -> bool:
        return self.prior.informative()

    def mean_variance(self) -> float:
        """The decomposition's mean variance (ml-cpp ``CTimeSeriesDecomposition::meanVariance``):
        the trend's error variance while it is in use plus each profile's mean bucket variance,
        times the mean-variance scale (``_mean_variance_scale``); 0 without a component in use."""
        mean, m = 0.0, 0
        for profile in (self.daily, self.weekly):
            if profile is not None and profile.useful():
                mean += profile.mean_variance()
                m += 1
        if self.using_trend and self.trend is not None:
            mean += self.trend.error_variance
        return mean * self._mean_variance_scale(m)

    def _mean_variance_scale(self, in_use: int) -> float:
        """ml-cpp's ``meanVarianceScale``: each component learns the share ``1/Z`` of the error
        (``gain.GainController.share``) rather than ``1/(m + 1)``, which biases the components'
        variances by ``Z/(m + 1)``. Like ml-cpp, the running mean of that bias over the values
        learnt (``mvs``: each value's bias weighted by its sample weight, ageing at the
        decomposition's rate), so a profile just come into use does not halve the mean
        variance at once; the current value (``in_use`` components) only before any value
        was learnt (a state saved before the running mean was kept)."""
        if self.mvs[0] > 0.0:
            return self.mvs[1]
        return 1.0 / (self.gain.share(in_use) * (in_use + 1))

    def variance_scale(self, t_ms: int, confidence: float, variance: float, lower: bool = True) -> tuple[float, float]:
        """The seasonal variance scale at ``t_ms`` (ml-cpp
        ``CTimeSeriesDecomposition::varianceScaleWeight``): the components' variances at that
        time (each as its ``confidence`` % interval) over their mean variances, pulled toward 1
        by ``bias = min(2·mean variance / variance, 1)`` (``variance``: the residual model's),
        which the trend in use raises by ``(m + 1)/m`` (it dilutes the m profiles' ratio);
        floored at 0. (1, 1) until the decomposition has a component in use. ``lower`` False:
        the upper end only (the lower is returned as the upper; see ``chi2_ratios``)."""
        lo = hi = mean = 0.0
        m = 0
        for profile in (self.daily, self.weekly):
            if profile is not None and profile.useful():
                a, b = profile.variance(t_ms, confidence, lower)
                lo += a
                hi += b
                mean += profile.mean_variance()
                m += 1
        trend = self.trend if self.using_trend else None
        if trend is not None:
            v = trend.error_variance
            if v > 0.0:
                if confidence > 0.0:
                    a, b = chi2_ratios(max(trend.count(), 2.0) - 1.0, confidence, lower)
                else:  # chi2_ratios' (1, 1) at confidence 0, without the trend's count (3 logs, an exp)
                    a = b = 1.0
                lo += a * v
                hi += b * v
            mean += v
        elif m == 0:
            return 1.0, 1.0
        if mean <= 0.0 or variance <= 0.0 or variance - variance != 0.0:
            return 1.0, 1.0
        bias = min(2.0 * mean * self._mean_variance_scale(m) / variance, 1.0)
        if trend is not None:
            bias *= (m + 1.0) / max(m, 1.0)
        lo = max(1.0 + bias * (lo / mean - 1.0), 0.0)
        hi = max(1.0 + bias * (hi / mean - 1.0), 0.0)
        if lo - lo != 0.0 or hi - hi != 0.0:  # an overflow (inf − inf is NaN): do not scale
            return 1.0, 1.0
        return lo, hi

    def _scale_variance(self) -> float:
        """The residual prior's variance for ``variance_scale``, or 0.0 while no component
        is in use: the scale is then (1, 1) before it reads the variance (and at a variance
        of 0 too), so a step of a series without trend or seasonal profile in use (most
        series, most buckets) does not compute the mixture's variance twice for nothing."""
        if (self.using_trend and self.trend is not None) or (self.daily is not None and self.daily.useful()) or (
                self.weekly is not None and self.weekly.useful()):
            return self.prior.variance()
        return 0.0

    def seasonal_weight(self, t_ms: int, confidence: float, variance: float) -> float:
        """The variance scale a value at ``t_ms`` is scored (``confidence`` 50) or weighted
        as an outlier (0) with (ml-cpp ``CUnivariateTimeSeriesModel::seasonalWeight``): the
        upper end of ``variance_scale`` against ``variance``, the residual prior's
        (``prior.variance()``, passed in: a step asks it once for several weights), at
        least ``MIN_SEASONAL_VARIANCE_SCALE``."""
        return max(self.variance_scale(t_ms, confidence, variance, False)[1], MIN_SEASONAL_VARIANCE_SCALE)

    def typical(self, t_ms: int) -> float:
        """The value the model expects at ``t_ms``."""
        return max(self.prior.mean_value() + self.components(t_ms), 0.0)

    def _age(self, t_ms: int, trend_rate: float) -> None:
        """Let the time since the last bucket pass for the trend and its error statistics."""
        dt_s = (t_ms - self.last_ms) / 1000.0
        if dt_s <= 0.0:
            return
        if self.trend is not None:
            self.trend.age(dt_s)
        factor = libm.exp(-trend_rate * dt_s / 86400.0)
        self.err_with[0] *= factor
        self.err_with[2] *= factor
        self.err_without[0] *= factor
        self.err_without[2] *= factor
        self.gain.age(factor)
        self.mvs[0] *= factor

    def _update_components(self, x: float, t_ms: int, w: float, w_raw: float, span_s: int, trend_rate: float) -> None:
        """ml-cpp's split of a value between its components: the trend learns its own
        value plus its share of the error (``gain.GainController.share``); each profile learns
        the value less the trend and the other profile. ``w``: the outlier-weighted sample
        weight, for the trend; ``w_raw``: without the outlier weight, for the profiles,
        which (like ml-cpp's seasonality test over its window of raw values) must learn a
        burst that recurs at the same time."""
        t_s = t_ms / 1000.0
        if self.trend is None:
            self.trend = TrendComponent(trend_rate)
        x0 = self.trend.value(t_s)
        seasonal, m = self._seasonal(t_ms)
        error = x - x0 - seasonal
        trend = self.trend
        test_for_trend = (not self.using_trend and trend.first_s is not None and trend.last_s is not None
                          and trend.last_s - trend.first_s > 6 * span_s)
        share = self.gain.share(m)
        predictions = self._predictions(t_ms)
        trend.add(t_s, x0 + error * share, w)
        _add_mean(self.mvs, 1.0 / (share * (m + 1)), w)
        if trend.last_s is not None and trend.first_s is not None and trend.last_s > trend.first_s:
            _add_moment(self.err_with, error, w)
            _add_moment(self.err_without, error + x0, w)
        age = t_ms - self.first_ms
        window_slot = max(span_s * 1000, 3600 * 1000)
        if self.window is None:
            self.window = SeasonalityWindow(window_slot)
        if age >= WINDOW_WEEKS * WEEK_MS and t_ms // DAY_MS != self.last_ms // DAY_MS:
            self._test_window(window_slot, span_s, t_ms)
        self.window.add(t_ms, x)
        # each profile learns the value less the trend and the other profile in use, both
        # as they predicted before this value (ml-cpp's decomposition at its default gain)
        d0 = self.daily.offset(t_ms) if self.daily is not None and self.daily.useful() else 0.0
        w0 = self.weekly.offset(t_ms) if self.weekly is not None and self.weekly.useful() else 0.0
        if age >= DAILY_START_MS:
            if self.daily is None:
                self.daily = _Profile(DAY_MS, daily_slot_ms(span_s), span_s * 1000)
            self.daily.update(t_ms, x - x0 - w0, w_raw, trend_rate)
        if age >= WEEKLY_START_MS:
            if self.weekly is None:
                self.weekly = _Profile(WEEK_MS, weekly_slot_ms(span_s), span_s * 1000)
            self.weekly.update(t_ms, x - x0 - d0, w_raw, trend_rate)
        self.gain.add(t_s, predictions)
        if not self.using_trend and ((test_for_trend and self._trend_significant()) or self._seasonal(t_ms)[1] > 0):
            self._use_trend(t_ms)
        for profile in (self.daily, self.weekly):
            if self.using_trend and profile is not None and profile.useful():
                trend.shift_level(profile.canonicalise())

    def _predictions(self, t_ms: int) -> list[float]:
        """The seasonal profiles in use at ``t_ms``, each less its mean (its offset)."""
        return [p.offset(t_ms) for p in (self.daily, self.weekly) if p is not None and p.useful()]

    def _seed_gain(self, start_ms: int, t_ms: int, span_s: int, trend_rate: float) -> None:
        """Clear the gain controller and seed it with the profiles' predictions over the
        window the new components were fitted to, a bucket at a time (ml-cpp reinitialises
        its gain controller when it adds components)."""
        self.gain.clear()
        factor = math.exp(-trend_rate * span_s / 86400.0)
        for b_ms in range(start_ms, t_ms, span_s * 1000):
            self.gain.seed(self._predictions(b_ms))
            self.gain.age(factor)

    def _test_window(self, window_slot: int, span_s: int, t_ms: int) -> None:
        """Once a day, test the last two weeks for a spike at the same time each day (the
        daily profile's amplitude test), and for a weekly shape while none is in use, seeding
        the weekly profile with what the test finds."""
        assert self.window is not None
        if self.daily is not None:
            p_value = self.window.daily_amplitude()
            if p_value < SIGNIFICANT_P:
                self.daily.spike_found = True
            elif p_value > EVICT_P:  # ml-cpp drops a component only on weak evidence
                self.daily.spike_found = False
        if self.weekly is not None and self.weekly.useful():
            return
        finding = self.window.test()
        self.weekly_kind = finding.weekly
        if finding.weekly is not None:
            if self.weekly is None:
                self.weekly = _Profile(WEEK_MS, weekly_slot_ms(span_s), span_s * 1000)
            offsets = _at_resolution(finding.offsets, window_slot, self.weekly)
            self.weekly.seed(offsets, finding.var_with, finding.var_without, finding.samples, t_ms)
            self._refit_trend(finding.seasonal, t_ms)
            start_ms = max((self.window.latest - self.window.slots + 1) * self.window.slot_ms, self.first_ms)
            assert self.trend is not None
            self._seed_gain(start_ms, t_ms, span_s, self.trend.rate)

    def _refit_trend(self, seasonal: dict[int, float], t_ms: int) -> None:
        """Fit the trend again to the window's values less the seasonal shape just found
        (ml-cpp refits its trend from its window when it adds components), and move the
        residual models by the change of the trend at ``t_ms``."""
        assert self.window is not None and self.trend is not None
        w = self.window
        per_week = WEEK_MS // w.slot_ms
        new = TrendComponent(self.trend.rate)
        last_s: float | None = None
        for k in range(max(w.latest - w.slots + 1, 0), w.latest + 1):
            c = w.counts[k % w.slots]
            if c <= 0.0 or k % per_week not in seasonal:
                continue
            t_s = (k * w.slot_ms + w.slot_ms / 2) / 1000.0
            if last_s is not None:
                new.age(t_s - last_s)
            new.add(t_s, w.sums[k % w.slots] / c - seasonal[k % per_week], c)
            last_s = t_s
        if last_s is None:
            return
        new.age(t_ms / 1000.0 - last_s)
        new.error_variance = self.trend.error_variance
        old_value = self.trend.value(t_ms / 1000.0) if self.using_trend else 0.0
        self.trend = new
        self.using_trend = True
        delta = old_value - new.value(t_ms / 1000.0)
        self.prior.shift(delta)
        self.mb_prior.shift(delta)
        self.mb.shift(delta)

    def _trend_significant(self) -> bool:
        """ml-cpp's test for using the trend: an F-test of the prediction error variance
        with the trend against without it, and a variance at most 0.6 of it."""
        n1, _m1, m2_1 = self.err_with
        n0, _m0, m2_0 = self.err_without
        df0, df1 = n0 - 1.0, n1 - TREND_PARAMETERS
        if df0 <= 0.0 or df1 <= 0.0 or m2_0 <= 0.0:
            return False
        v0, v1 = m2_0 / df0, m2_1 / max(n1 - 1.0, 1e-9)
        vt = 0.6 * v0
        # the variance factor first: the F-test's factor is a logistic, at most 1.0, so a
        # product with a variance factor under 0.25 is under 0.25 too (rounding is monotone:
        # f·v ≤ 1.0·v = v), and the F c.d.f. is not computed for the answer it cannot change
        # (a series without trend: v1 ≈ v0, a factor of ~0.001)
        variance_factor = _logistic(vt / v1, 1.0, 1.0) if v1 > 0.0 and vt > v1 else _logistic(v1 / vt, 0.1, 1.0, -1.0)
        if variance_factor < 0.25:
            return False
        p_f = 0.0 if v1 == 0.0 else float(_fdtr(df1, df0, (df0 * v1) / (df1 * v0)))
        significance = libm.log(max(p_f, 1e-300)) / libm.log(0.001)
        p = _logistic(significance, 0.1, 1.0) * variance_factor
        return p >= 0.25

    def _use_trend(self, t_ms: int) -> None:
        """Start predicting with the trend: the residual models, which learnt values
        around the level, are moved down by the trend's value (ml-cpp re-initialises them
        from the residuals of its window)."""
        self.using_trend = True
        assert self.trend is not None
        delta = -self.trend.value(t_ms / 1000.0)
        self.prior.shift(delta)
        self.mb_prior.shift(delta)
        self.mb.shift(delta)

    # ------------------------------------------------------------------ one bucket
    def step(self, x: float, t_ms: int, bucket: int, weight: float, span_s: int, decay_rate: float, trend: float, side: str) -> SeriesResult:
        """Learn value ``x`` of bucket number ``bucket``, then score it (see module);
        ``trend``: the decomposition's decay rate per day."""
        self._age(t_ms, trend)
        age = t_ms - self.first_ms
        residual = x - self.components(t_ms)
        vs = self.seasonal_weight(t_ms, 0.0, self._scale_variance()) if self.prior.informative() else 1.0
        ow = outlier_weight(self.prior.one_tail(residual, vs), max(1.0 - age / THREE_WEEKS_MS, 0.0))
        w = weight * ow
        self._update_components(x, t_ms, w, weight, span_s, trend)
        residual = x - self.components(t_ms)
        self.prior.add(residual, w)
        self.last_residual = residual
        # the seasonal weight after learning the value, for the multi-bucket window and the
        # anomaly model (ml-cpp ``seasonalWeight(0.0, time)`` in ``addSamples`` and ``probability``)
        variance = self._scale_variance()
        vs = self.seasonal_weight(t_ms, 0.0, variance)
        # the window holds residuals in units of their time's spread (ml-cpp divides each by
        # √(seasonal scale)), so a burst at a time that always bursts does not shift its mean
        self.mb.add(bucket, residual / libm.sqrt(vs), w)
        feature = self.mb.value()
        if feature is not None:
            self.mb_prior.add(feature[0], feature[1] * ow)
        alpha = libm.exp(-decay_rate)
        self.prior.age(alpha)
        self.mb_prior.age(alpha)
        self.anomaly.age(libm.exp(-LARGEST_ANOMALY_P * decay_rate / 2.0))
        self.last_ms = t_ms
        if not self.prior.informative():
            return SeriesResult(1.0, None, None)
        p_single = self.prior.probability(residual, side, self.seasonal_weight(t_ms, SEASONAL_CONFIDENCE, variance))
        p_multi: float | None = None
        p = p_single
        if feature is not None and self.mb_prior.informative():
            if side == "two":
                p_multi = min(self.mb_prior.probabilities_low_high(feature[0]))
            else:
                p_multi = self.mb_prior.probability(feature[0], side)
            p = joint_probability_pair(p_single, p_multi, self.mb.correlation())
        # the anomaly model's error in units of the time's spread (ml-cpp divides by
        # √(seasonal weight) where it exceeds 1)
        error = (residual - self.prior.mean_value()) / max(libm.sqrt(vs), 1.0)
        self.anomaly.sample(bucket, error, p_single, p)
        p, _pa = self.anomaly.temper(p_single, p)
        return SeriesResult(p, p_single, p_multi)

    # ------------------------------------------------------------------ state
    def to_state(self) -> list[Any]:
        return [
            self.trend.to_state() if self.trend else None, self.using_trend, self.err_with, self.err_without,
            self.first_ms, self.last_ms, self.present_buckets, self.buckets,
            self.daily.to_state() if self.daily else None,
            self.weekly.to_state() if self.weekly else None,
            self.prior.to_state(), self.mb.to_state(), self.mb_prior.to_state(), self.anomaly.to_state(),
            self.window.to_state() if self.window else None, self.weekly_kind, self.gain.to_state(), self.mvs,
        ]

    @classmethod
    def from_state(cls, s: list[Any], span_s: int) -> "CountSeries":
        obj = cls(int(s[4]))
        obj.trend = None if s[0] is None else TrendComponent.from_state(s[0])
        obj.using_trend = bool(s[1])
        obj.err_with = [float(v) for v in s[2]]
        obj.err_without = [float(v) for v in s[3]]
        obj.last_ms, obj.present_buckets, obj.buckets = int(s[5]), int(s[6]), int(s[7])
        if s[8] is not None:
            obj.daily = _Profile(DAY_MS, daily_slot_ms(span_s), span_s * 1000)
            obj.daily.load(s[8])
        if s[9] is not None:
            obj.weekly = _Profile(WEEK_MS, weekly_slot_ms(span_s), span_s * 1000)
            obj.weekly.load(s[9])
        obj.prior = OneOfNPrior.from_state(s[10])
        obj.mb.load(s[11])
        obj.mb_prior = OneOfNPrior.from_state(s[12])
        obj.anomaly.load(s[13])
        if s[14] is not None:
            obj.window = SeasonalityWindow(max(span_s * 1000, 3600 * 1000))
            obj.window.load(s[14])
        obj.weekly_kind = s[15]
        obj.gain = GainController.from_state(s[16])
        if len(s) > 17:  # an older state has none: the current value is used until a value is learnt
            obj.mvs = [float(v) for v in s[17]]
        return obj


def _pooled_variance(count: float, variance: float, error: float, w: float, samples: float) -> float:
    """A bucket's variance after a value ``error`` from its prediction with weight ``w``: the
    maximum-likelihood variance of the bucket's moments (its decayed ``count`` of values
    about the prediction, with ``variance``) joined with the value at weight ``w²`` (ml-cpp
    ``CSeasonalComponentAdaptiveBucketing::add``): a mean over the bucket's whole count.

    The square of the error enters shrunk by ``samples / (samples + w²)``: the error's
    variance is the noise's plus the prediction's, ``1/samples`` of it for a mean of
    ``samples`` values. ml-cpp's moments shrink it by ``count / (count + w²)``, its bucket
    being one regression over its whole count; ours pools several slots, each predicted by
    its own moving mean (``samples``: its effective samples), so the shrink is the slot's."""
    total = count + w * w
    if total <= 0.0:
        return variance
    w2 = w * w
    return (count * variance + w2 * samples / (samples + w2) * error * error) / total


def _add_moment(acc: list[float], x: float, w: float) -> None:
    """Add ``x`` with weight ``w`` to a decayed ``[weight, mean, m2]``."""
    acc[0] += w
    d = x - acc[1]
    acc[1] += w * d / acc[0]
    acc[2] += w * d * (x - acc[1])


def _add_mean(acc: list[float], x: float, w: float) -> None:
    """Add ``x`` with weight ``w`` to a decayed ``[weight, mean]``."""
    if w <= 0.0:
        return
    acc[0] += w
    acc[1] += w * (x - acc[1]) / acc[0]


def _logistic(x: float, width: float, x0: float, sign: float = 1.0) -> float:
    z = -libm.copysign(1.0, sign) * (x - x0) / width
    return 0.0 if z > 700.0 else 1.0 / (1.0 + libm.exp(z))


def _fdtr(dfn: float, dfd: float, x: float) -> float:
    """The F distribution's cdf: ``_cspecial``'s (scipy's C function without the ufunc's
    per-call cost, bit-identical) when built, else scipy's ufunc; ``stats.scalar_special``
    picks and imports it once (an import statement here ran the import machinery every call)."""
    return float(scalar_special().fdtr(dfn, dfd, x))


def _at_resolution(offsets: dict[int, float], slot_ms: int, profile: _Profile) -> dict[int, float]:
    """The window's offsets per slot of ``slot_ms`` as offsets per slot of ``profile``
    (each of its slots takes the offset of the window slot it lies in)."""
    if profile.slot_ms == slot_ms:
        return offsets
    return {j: offsets[k] for j in range(profile.slots) if (k := j * profile.slot_ms // slot_ms) in offsets}


def daily_slot_ms(span_s: int) -> int:
    """The daily profile's slot: the bucket, or an hour when buckets do not divide a day."""
    return max(span_s * 1000, 3600 * 1000) if DAY_MS % (span_s * 1000) else span_s * 1000


def weekly_slot_ms(span_s: int) -> int:
    """The weekly profile's slot: the daily slot, but never finer than ``WEEKLY_SLOT_MS``.

    Why a cap: one slot per 15-minute bucket is 672 slots a week (two means and a spread
    each), which doubled the memory of every count series; the weekly shapes the window
    test finds are hourly (``seasonality``), and a weekly slot sees a value only once a
    week, so half-hour slots lose little shape for half the memory."""
    return max(daily_slot_ms(span_s), WEEKLY_SLOT_MS)


def chi2_ratios(df: float, confidence: float, lower: bool = True) -> tuple[float, float]:
    """The central ``confidence`` % interval of a sample variance over the variance, for
    ``df`` degrees of freedom: the chi-squared quantiles at ``(100 ∓ confidence)/200`` over
    ``df``, exact (scipy's ``chdtri``, the inverse of the upper tail, as ml-cpp asks boost
    for ``quantile(chi_squared(df), ·)``). (1, 1) at confidence 0. ``lower`` False: the
    lower end is not computed and is returned as the upper one, for callers that use the
    upper end only (``CountSeries.seasonal_weight``, every bucket: a quantile costs 1.5 µs)."""
    if confidence <= 0.0 or df <= 0.0:
        return 1.0, 1.0
    special = scalar_special()
    hi = float(special.chdtri(df, (100.0 - confidence) / 200.0)) / df
    if not lower:
        return hi, hi
    return float(special.chdtri(df, (100.0 + confidence) / 200.0)) / df, hi


MIN_OUTLIER_WEIGHT = 0.01
MAX_OUTLIER_P = 1e-3
MIN_OUTLIER_P = 1e-5


def outlier_weight(p_one_tail: float, derate: float) -> float:
    """ml-cpp's outlier weight of a sample with this one-tailed p (see module docstring)."""
    if p_one_tail >= MAX_OUTLIER_P:
        return 1.0
    floor = MIN_OUTLIER_WEIGHT + (0.5 - MIN_OUTLIER_WEIGHT) * min(max(derate, 0.0), 1.0)
    if p_one_tail <= MIN_OUTLIER_P:
        return floor
    lmin, lmax = libm.log(MIN_OUTLIER_P), libm.log(MAX_OUTLIER_P)
    c = -libm.log(floor) / lmin / (lmin - lmax)
    lp = libm.log(p_one_tail)
    return libm.exp(-c * lp * (lp - lmax))
