"""A per-series time-series model for the count family and distinct counts.

Elastic's model (ML-SEMANTICS §5.3; elastic/ml-cpp ``CUnivariateTimeSeriesModel``) in our
words, one per series:

- **Decomposition.** A level follows the series with Elastic's trend decay rate
  ``min(48·λ / min(1, span/1800) / max(span/(24·1800), 1), 0.1)``; daily (from 3 days of
  data) and weekly (from 3 weeks) residual profiles. Like ml-cpp's tested components, each
  is used only while it removes at least 30 % of the error variance; the level's
  departure from the long-run mean is the trend, used on the same test. A stationary
  series is therefore modelled as it is, as ml-cpp does before it finds a trend.
- **Residual prior.** The value less the components in use is learnt by a one-of-n prior
  (``priors.OneOfNPrior``: gamma, log-normal, normal, Poisson) and scored by it: p = 1
  until every component is informative (the gamma needs 3.5 weighted samples).
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
from typing import Any, NamedTuple

from ctdetect.engine.anomaly.anomaly_model import LARGEST_ANOMALY_P, AnomalyModel
from ctdetect.engine.anomaly.multibucket import MultiBucketMean
from ctdetect.engine.anomaly.priors import OneOfNPrior
from ctdetect.engine.anomaly.stats import joint_probability



class SeriesResult(NamedTuple):
    """A bucket's overall probability, and its single- and multi-bucket parts (None: not computed)."""

    probability: float
    single: float | None
    multi: float | None


SEASONAL_GAIN = 0.3  # a profile must remove 30 % of the error variance to be used
THREE_WEEKS_MS = 21 * 86400 * 1000
DAY_MS = 86400 * 1000
WEEK_MS = 7 * DAY_MS


def trend_decay_rate(span_s: int, decay_rate: float) -> float:
    """Elastic's trend decay rate per bucket (ML-SEMANTICS §1 defaults)."""
    return min(48.0 * decay_rate / min(1.0, span_s / 1800.0) / max(span_s / (24 * 1800.0), 1.0), 0.1)


class _Profile:
    """Residual means per slot of a period, and the error variance with and without it."""

    __slots__ = ("period_ms", "slot_ms", "means", "var_with", "var_without", "weight")

    def __init__(self, period_ms: int, slot_ms: int) -> None:
        self.period_ms = period_ms
        self.slot_ms = slot_ms
        self.means: dict[int, float] = {}
        self.var_with = 0.0
        self.var_without = 0.0
        self.weight = 0.0

    def slot(self, t_ms: int) -> int:
        return (t_ms % self.period_ms) // self.slot_ms

    def offset(self, t_ms: int) -> float:
        return self.means.get(self.slot(t_ms), 0.0)

    def useful(self) -> bool:
        return self.weight >= 3.0 and self.var_with < (1.0 - SEASONAL_GAIN) * self.var_without

    def update(self, t_ms: int, residual: float, w: float) -> None:
        s = self.slot(t_ms)
        prev = self.means.get(s)
        err_with = residual - (prev if prev is not None else 0.0)
        a = 0.05 * w
        self.var_with = (1 - a) * self.var_with + a * err_with * err_with
        self.var_without = (1 - a) * self.var_without + a * residual * residual
        self.weight += w
        self.means[s] = residual if prev is None else prev + 0.15 * w * (residual - prev)

    def to_state(self) -> list[Any]:
        return [self.means, self.var_with, self.var_without, self.weight]

    def load(self, s: list[Any]) -> None:
        self.means = {int(k): float(v) for k, v in s[0].items()}
        self.var_with, self.var_without, self.weight = float(s[1]), float(s[2]), float(s[3])


class CountSeries:
    """One modelled series (a person, an attribute, or the whole partition)."""

    __slots__ = (
        "level", "longrun", "trend_var_with", "trend_var_without", "first_ms", "last_ms",
        "present_buckets", "buckets", "daily", "weekly", "prior", "mb", "mb_prior", "anomaly", "last_residual",
    )

    def __init__(self, first_ms: int, integer: bool = True) -> None:
        self.level: float | None = None
        self.longrun: float | None = None
        self.trend_var_with = 0.0
        self.trend_var_without = 0.0
        self.first_ms = first_ms
        self.last_ms = first_ms
        self.present_buckets = 0
        self.buckets = 0
        self.daily: _Profile | None = None
        self.weekly: _Profile | None = None
        self.prior = OneOfNPrior(integer)
        self.mb = MultiBucketMean()
        self.mb_prior = OneOfNPrior(integer)  # ml-cpp gives the feature model the data's type
        self.anomaly = AnomalyModel()
        self.last_residual: float | None = None  # of the last bucket, for influence

    # ------------------------------------------------------------------ decomposition
    def _trend_useful(self) -> bool:
        return self.buckets >= 48 and self.trend_var_with < (1.0 - SEASONAL_GAIN) * self.trend_var_without

    def components(self, t_ms: int) -> float:
        """What the tested components predict above the residual prior's own mean."""
        c = 0.0
        if self.level is not None and self.longrun is not None and self._trend_useful():
            c += self.level - self.longrun
        if self.daily is not None and self.daily.useful():
            c += self.daily.offset(t_ms)
        if self.weekly is not None and self.weekly.useful():
            c += self.weekly.offset(t_ms)
        return c

    def informative(self) -> bool:
        return self.prior.informative()

    def typical(self, t_ms: int) -> float:
        """The value the model expects at ``t_ms``."""
        return max(self.prior.mean_value() + self.components(t_ms), 0.0)

    def _update_components(self, x: float, t_ms: int, w: float, w_raw: float, span_s: int, trend: float) -> None:
        """``w``: the outlier-weighted sample weight, for the level; ``w_raw``: without the
        outlier weight, for the profiles, which (like ml-cpp's seasonality test over its
        window of raw values) must learn a burst that recurs at the same time."""
        if self.level is None or self.longrun is None:
            self.level = self.longrun = x
            return
        err_level = x - self.level
        err_long = x - self.longrun
        a = min(0.05 * w, 1.0)
        self.trend_var_with = (1 - a) * self.trend_var_with + a * err_level * err_level
        self.trend_var_without = (1 - a) * self.trend_var_without + a * err_long * err_long
        self.level += min(trend * w, 1.0) * err_level
        self.longrun += min(w / max(self.buckets, 1), 1.0) * err_long
        age = t_ms - self.first_ms
        if age >= 3 * DAY_MS:
            if self.daily is None:
                self.daily = _Profile(DAY_MS, daily_slot_ms(span_s))
            self.daily.update(t_ms, x - self.level, w_raw)
        if age >= 3 * WEEK_MS:
            if self.weekly is None:
                self.weekly = _Profile(WEEK_MS, max(span_s * 1000, 3600 * 1000))
            self.weekly.update(t_ms, x - self.level - (self.daily.offset(t_ms) if self.daily and self.daily.useful() else 0.0), w_raw)

    # ------------------------------------------------------------------ one bucket
    def step(self, x: float, t_ms: int, bucket: int, weight: float, span_s: int, decay_rate: float, trend: float, side: str) -> SeriesResult:
        """Learn value ``x`` of bucket number ``bucket``, then score it (see module)."""
        age = t_ms - self.first_ms
        residual = x - self.components(t_ms)
        ow = outlier_weight(self.prior.one_tail(residual), max(1.0 - age / THREE_WEEKS_MS, 0.0))
        w = weight * ow
        self._update_components(x, t_ms, w, weight, span_s, trend)
        residual = x - self.components(t_ms)
        self.prior.add(residual, w)
        self.last_residual = residual
        self.mb.add(bucket, residual, w)
        feature = self.mb.value()
        if feature is not None:
            self.mb_prior.add(feature[0], feature[1] * ow)
        alpha = math.exp(-decay_rate)
        self.prior.age(alpha)
        self.mb_prior.age(alpha)
        self.anomaly.age(math.exp(-LARGEST_ANOMALY_P * decay_rate / 2.0))
        self.last_ms = t_ms
        if not self.prior.informative():
            return SeriesResult(1.0, None, None)
        p_single = self.prior.probability(residual, side)
        p_multi: float | None = None
        p = p_single
        if feature is not None and self.mb_prior.informative():
            sides = ("low", "high") if side == "two" else (side,)
            p_multi = min(self.mb_prior.probability(feature[0], s) for s in sides)
            p = joint_probability([p_single, p_multi], correlation=self.mb.correlation())
        error = residual - self.prior.mean_value()
        self.anomaly.sample(bucket, error, p_single, p)
        p, _pa = self.anomaly.temper(p_single, p)
        return SeriesResult(p, p_single, p_multi)

    # ------------------------------------------------------------------ state
    def to_state(self) -> list[Any]:
        return [
            self.level, self.longrun, self.trend_var_with, self.trend_var_without, self.first_ms, self.last_ms,
            self.present_buckets, self.buckets,
            self.daily.to_state() if self.daily else None,
            self.weekly.to_state() if self.weekly else None,
            self.prior.to_state(), self.mb.to_state(), self.mb_prior.to_state(), self.anomaly.to_state(),
        ]

    @classmethod
    def from_state(cls, s: list[Any], span_s: int) -> "CountSeries":
        obj = cls(int(s[4]))
        obj.level = None if s[0] is None else float(s[0])
        obj.longrun = None if s[1] is None else float(s[1])
        obj.trend_var_with, obj.trend_var_without = float(s[2]), float(s[3])
        obj.last_ms, obj.present_buckets, obj.buckets = int(s[5]), int(s[6]), int(s[7])
        if s[8] is not None:
            obj.daily = _Profile(DAY_MS, daily_slot_ms(span_s))
            obj.daily.load(s[8])
        if s[9] is not None:
            obj.weekly = _Profile(WEEK_MS, max(span_s * 1000, 3600 * 1000))
            obj.weekly.load(s[9])
        obj.prior = OneOfNPrior.from_state(s[10])
        obj.mb.load(s[11])
        obj.mb_prior = OneOfNPrior.from_state(s[12])
        obj.anomaly.load(s[13])
        return obj


def daily_slot_ms(span_s: int) -> int:
    """The daily profile's slot: the bucket, or an hour when buckets do not divide a day."""
    return max(span_s * 1000, 3600 * 1000) if DAY_MS % (span_s * 1000) else span_s * 1000


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
    lmin, lmax = math.log(MIN_OUTLIER_P), math.log(MAX_OUTLIER_P)
    c = -math.log(floor) / lmin / (lmin - lmax)
    lp = math.log(p_one_tail)
    return math.exp(-c * lp * (lp - lmax))
