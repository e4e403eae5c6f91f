"""A per-series time-series model for the count family and distinct counts.

Reference: ML-SEMANTICS §5 (what Elastic models and how it gates, weights and sides
its probabilities) and §5.4 (what an emulator can realistically match). Elastic's
model is a trend/seasonality decomposition plus a one-of-N residual prior; a faithful
port is tens of thousands of lines. This is the cheaper design §5.4 recommends, in our
words:

- **Level**: an exponentially weighted mean that follows the trend with Elastic's trend
  decay rate ``min(48·λ / min(1, span/1800) / max(span/(24·1800), 1), 0.1)`` per bucket.
- **Spread**: an exponentially weighted variance of the one-step prediction errors,
  with the slow model decay λ (``0.0005·min(1, span/1800)``).
- **Seasonality**: residual profiles over the day (from 3 days of data on) and the week
  (from 3 weeks on), each kept only while it removes at least 30 % of the error variance
  — Elastic tests daily/weekly components only after days/weeks of data.
- **Predictive**: an over-dispersed count (negative binomial with the model's mean and
  variance; Poisson when the variance does not exceed the mean), so tail probabilities
  of integer counts are exact for that distribution.
- **Sides**: two-sided ``2·min(F(x), 1 − F(x⁻))``; ``high_`` ``min(1, 2·P(X ≥ x))``;
  ``low_`` ``min(1, 2·P(X ≤ x))``.
- **Learning**: p = 1 until the model holds 3.5 weighted samples. Sample weights are
  the learn rate ``min(1, span/1800)`` × the empty-bucket weight × an outlier weight —
  1 when the one-tailed p ≥ 1e-3, ``0.01 + 0.49·derate`` when p ≤ 1e-5 (derate fades
  from 1 to 0 over the first three weeks), log-interpolated in between — so a spike
  barely moves the model that flagged it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

MIN_INFORMATIVE_WEIGHT = 3.5
SEASONAL_GAIN = 0.3  # a profile must remove 30 % of the error variance to be used
THREE_WEEKS_MS = 21 * 86400 * 1000
DAY_MS = 86400 * 1000
WEEK_MS = 7 * DAY_MS


@lru_cache(maxsize=1)
def _special() -> Any:
    import scipy.special as special  # lazy, see stats.py

    return special


def trend_decay_rate(span_s: int, decay_rate: float) -> float:
    """Elastic's trend decay rate per bucket (ML-SEMANTICS §1 defaults)."""
    return min(48.0 * decay_rate / min(1.0, span_s / 1800.0) / max(span_s / (24 * 1800.0), 1.0), 0.1)


def count_cdf(k: float, mean: float, var: float) -> float:
    """P(X ≤ k) for an over-dispersed count with this mean and variance."""
    if k < 0:
        return 0.0
    k = int(math.floor(k))
    if mean <= 0.0:
        return 1.0
    if var <= mean * 1.0001:
        if k == 0:  # empty buckets are common: keep them off scipy
            return math.exp(-mean)
        return float(_special().pdtr(k, mean))
    r = mean * mean / (var - mean)
    q = r / (r + mean)
    if k == 0:
        return q**r
    return float(_special().betainc(r, k + 1, q))  # P(X ≤ k) = I_q(r, k + 1), real r


def count_sf(k: float, mean: float, var: float) -> float:
    """P(X ≥ k), computed on the upper tail directly so tiny tails keep their precision."""
    k = int(math.ceil(k))
    if k <= 0:
        return 1.0
    if mean <= 0.0:
        return 0.0
    if var <= mean * 1.0001:
        return max(float(_special().pdtrc(k - 1, mean)), 0.0)
    r = mean * mean / (var - mean)
    q = r / (r + mean)
    return max(float(_special().betainc(k, r, 1.0 - q)), 0.0)  # P(X ≥ k) = I_{1−q}(k, r)


def sided_probability(x: float, mean: float, var: float, side: str) -> float:
    """Elastic's sided probability of value ``x`` (see module docstring)."""
    if side == "high":
        if x <= mean:
            return 1.0
        return min(1.0, 2.0 * count_sf(x, mean, var))
    if side == "low":
        if x >= mean:
            return 1.0
        return min(1.0, 2.0 * count_cdf(x, mean, var))
    lower = count_cdf(x, mean, var)
    upper = count_sf(x, mean, var)
    return min(1.0, 2.0 * min(lower, upper))


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

    __slots__ = ("weight", "level", "var", "first_ms", "present_buckets", "buckets", "daily", "weekly", "last_ms")

    def __init__(self, first_ms: int) -> None:
        self.weight = 0.0
        self.level = 0.0
        self.var = 0.0
        self.first_ms = first_ms
        self.last_ms = first_ms
        self.present_buckets = 0
        self.buckets = 0
        self.daily: _Profile | None = None
        self.weekly: _Profile | None = None

    # ------------------------------------------------------------------ prediction
    def baseline(self, t_ms: int) -> float:
        b = self.level
        if self.daily is not None and self.daily.useful():
            b += self.daily.offset(t_ms)
        if self.weekly is not None and self.weekly.useful():
            b += self.weekly.offset(t_ms)
        return max(b, 0.0)

    def informative(self) -> bool:
        return self.weight >= MIN_INFORMATIVE_WEIGHT

    def predictive(self, t_ms: int, base: float | None = None) -> tuple[float, float]:
        """Mean and variance of the next value (with parameter uncertainty).

        ``base``: ``baseline(t_ms)`` when the caller has it already.
        """
        mean = max(self.baseline(t_ms) if base is None else base, 0.05)
        var = self.var * (1.0 + 1.0 / max(self.weight, 1.0))
        return mean, max(var, mean * 1.05, 0.1)

    def probability(self, x: float, t_ms: int, side: str) -> float:
        if not self.informative():
            return 1.0
        mean, var = self.predictive(t_ms)
        return sided_probability(x, mean, var, side)

    # ------------------------------------------------------------------ update
    def update(
        self,
        x: float,
        t_ms: int,
        weight: float,
        span_s: int,
        decay_rate: float,
        p_one_tail: float,
        base: float | None = None,
        trend: float | None = None,
    ) -> None:
        """Learn one sample with Elastic's weights (learn rate × empty bucket × outlier).

        ``base``: ``baseline(t_ms)`` before this update, when the caller has it already
        (it depends on the level and the profiles only, which nothing above changes);
        ``trend``: ``trend_decay_rate(span_s, decay_rate)``, when the caller has it.
        """
        age = t_ms - self.first_ms
        derate = max(1.0 - age / THREE_WEEKS_MS, 0.0)
        if p_one_tail >= 1e-3:
            ow = 1.0
        else:
            floor = 0.01 + 0.49 * derate
            if p_one_tail <= 1e-5:
                ow = floor
            else:
                frac = (math.log(p_one_tail) - math.log(1e-5)) / (math.log(1e-3) - math.log(1e-5))
                ow = math.exp(math.log(floor) + frac * (0.0 - math.log(floor)))
        w = weight * ow
        decay = math.exp(-decay_rate)
        self.weight = self.weight * decay + w
        if trend is None:
            trend = trend_decay_rate(span_s, decay_rate)
        if base is None:
            base = self.baseline(t_ms)
        err = x - base
        if self.weight <= w + 1e-12:  # first sample
            self.level = x
            self.var = 0.0
        else:
            a_var = min(w / self.weight, 1.0)
            self.var = (1 - a_var) * self.var + a_var * err * err
            a_lvl = min(max(trend * w, w / self.weight), 1.0)
            self.level += a_lvl * (x - base)
        if age >= 3 * DAY_MS:
            if self.daily is None:
                self.daily = _Profile(DAY_MS, max(span_s * 1000, 3600 * 1000) if DAY_MS % (span_s * 1000) else span_s * 1000)
            self.daily.update(t_ms, x - self.level, w)
        if age >= 3 * WEEK_MS:
            if self.weekly is None:
                self.weekly = _Profile(WEEK_MS, max(span_s * 1000, 3600 * 1000))
            self.weekly.update(t_ms, x - self.level - (self.daily.offset(t_ms) if self.daily and self.daily.useful() else 0.0), w)
        self.last_ms = t_ms

    # ------------------------------------------------------------------ state
    def to_state(self) -> list[Any]:
        return [
            self.weight, self.level, self.var, self.first_ms, self.last_ms, self.present_buckets, self.buckets,
            self.daily.to_state() if self.daily else None,
            self.weekly.to_state() if self.weekly else None,
        ]

    @classmethod
    def from_state(cls, s: list[Any], span_s: int) -> "CountSeries":
        obj = cls(int(s[3]))
        obj.weight, obj.level, obj.var = float(s[0]), float(s[1]), float(s[2])
        obj.last_ms, obj.present_buckets, obj.buckets = int(s[4]), int(s[5]), int(s[6])
        if s[7] is not None:
            obj.daily = _Profile(DAY_MS, max(span_s * 1000, 3600 * 1000) if DAY_MS % (span_s * 1000) else span_s * 1000)
            obj.daily.load(s[7])
        if s[8] is not None:
            obj.weekly = _Profile(WEEK_MS, max(span_s * 1000, 3600 * 1000))
            obj.weekly.load(s[8])
        return obj
