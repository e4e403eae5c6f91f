"""The count family's optimised paths (trend and residual prior) equal the plain code exactly.

Each test runs the optimised code and a plain reference (the code it replaced, kept here)
on the same seeded input and compares the resulting states with ``==``, bit for bit.
"""

from __future__ import annotations

import math
import random

import pytest

from ctdetect.engine.anomaly import trend
from ctdetect.engine.anomaly.priors import INTEGER_JITTER, LOG_MAX_BAYES_FACTOR, VARIANCE_MISMATCH, OneOfNPrior
from ctdetect.engine.anomaly.trend import MIN_MODEL_WEIGHT, MODEL_WEIGHTS, TIME_SCALES, Regression, TrendComponent


def _plain_regression_add(r: Regression, t: float, y: float, w: float) -> None:
    """``Regression.add`` as a loop over the eight statistics."""
    if w <= 0.0:
        return
    r.n += w
    a = w / r.n
    t2 = t * t
    for i, v in enumerate((1.0, t, t2, t2 * t, t2 * t2, y, t * y, t2 * y)):
        r.s[i] += a * (v - r.s[i])


@pytest.mark.parametrize("seed", range(5))
def test_unrolled_regression_add_equals_loop(seed: int) -> None:
    rng = random.Random(seed)
    fast, plain = Regression(), Regression()
    for _ in range(500):
        t, y, w = rng.uniform(-2.0, 2.0), rng.choice([0.0, rng.uniform(-50, 500)]), rng.choice([0.0, 1.0, rng.random()])
        fast.add(t, y, w)
        _plain_regression_add(plain, t, y, w)
        assert fast.n == plain.n and fast.s == plain.s


@pytest.mark.parametrize("rate", [0.024, 0.1, 0.003])
def test_memoised_weights_and_ageing_equal_plain(rate: float) -> None:
    rng = random.Random(int(rate * 1000))
    for dt in [0.0, 300.0, 900, 3600.0, 86400.0, *(rng.uniform(0, 1e6) for _ in range(50))]:
        weights = [w * math.exp(-s * rate * abs(dt) / trend.DAY_S) for s, w in zip(TIME_SCALES, MODEL_WEIGHTS)]
        got, cut = trend._prediction_weights(rate, abs(dt))
        assert list(got) == weights and cut == MIN_MODEL_WEIGHT * sum(weights)
        assert list(trend._age_factors(rate, dt)) == [math.exp(-s * rate * dt / trend.DAY_S) for s in TIME_SCALES]


def test_trend_component_ages_each_regression_by_its_factor() -> None:
    tc = TrendComponent(0.024)
    for k in range(40):
        tc.add(k * 900.0, float(k % 7), 1.0)
    before = [m.n for m in tc.models]
    tc.age(1234.5)
    assert [m.n for m in tc.models] == [n * math.exp(-s * 0.024 * 1234.5 / trend.DAY_S) for n, s in zip(before, TIME_SCALES)]


def _plain_prior_add(self: OneOfNPrior, x: float, w: float) -> None:
    """``OneOfNPrior.add`` as written before its names were hoisted and ``_read`` inlined."""
    if w <= 0.0:
        return
    if self.integer and (x != math.floor(x)) and self.log_weights[3] > -math.inf:
        self.log_weights[3] = -math.inf
    self._adjust_offset(x)
    was_informative = self.informative()
    logls: list[float | None] = []
    best_ratio = -math.inf
    for m, lw in zip(self.models, self.log_weights):
        if lw == -math.inf or not was_informative:
            logls.append(None)
            continue
        y = self._read(m, x)
        ll = m.logpdf(y)
        mode_ll = m.logpdf(self._read(m, m.mode()) if m.integer_only else m.mode())
        best_ratio = max(best_ratio, ll - max(mode_ll, ll))
        logls.append(w * ll)
    self.n += w
    d = x - self.mean
    self.mean += w * d / self.n
    self.m2 += w * d * (x - self.mean)
    jitter = INTEGER_JITTER if self.integer else 0.0
    for m, lw in zip(self.models, self.log_weights):
        if lw > -math.inf:
            m.add(self._read(m, x), w, jitter)
    if not was_informative:
        return
    scored = [ll for ll in logls if ll is not None]
    if not scored:
        return
    floor = max(scored) - (w * LOG_MAX_BAYES_FACTOR + best_ratio)
    var = self.sample_variance()
    for i, (m, ll) in enumerate(zip(self.models, logls)):
        if ll is None:
            continue
        mv = m.variance()
        penalty = -w * LOG_MAX_BAYES_FACTOR * max(1.0 - VARIANCE_MISMATCH * var / mv, 0.0) if mv > 0 else 0.0
        self.log_weights[i] += max(ll, floor) + penalty
    top = max(self.log_weights)
    self.log_weights = [lw - top if lw > -math.inf else lw for lw in self.log_weights]


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_prior_add_equals_plain(integer: bool, seed: int) -> None:
    """Counts, then non-integer and negative residuals (the Poisson drops out, the offset
    moves), with ageing in between: every state is the plain one."""
    rng = random.Random(seed)
    fast, plain = OneOfNPrior(integer), OneOfNPrior(integer)
    for k in range(400):
        if k < 150:
            x = float(rng.choice([0, 0, 1, 2, rng.randrange(50)]))
        else:
            x = rng.choice([float(rng.randrange(-5, 30)), rng.uniform(-10.0, 40.0)])
        w = rng.choice([1.0, 0.5, 0.01, 0.0])
        fast.add(x, w)
        _plain_prior_add(plain, x, w)
        assert fast.to_state() == plain.to_state()
        alpha = math.exp(-0.0005)
        fast.age(alpha)
        plain.age(alpha)
        assert fast.to_state() == plain.to_state()
