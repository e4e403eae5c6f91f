"""The count family's optimised paths (trend and residual prior) equal the plain code exactly.

Each test runs the optimised code and a plain reference (the code it replaced, kept here)
on the same seeded input and compares the resulting states with ``==``, bit for bit.
"""

from __future__ import annotations

import math
import random

import pytest

from ctdetect.engine.anomaly import priors, timeseries, trend
from ctdetect.engine.anomaly.multibucket import GEOMETRIC_WEIGHT, WINDOW, MultiBucketMean
from ctdetect.engine.anomaly.priors import INTEGER_JITTER, LOG_MAX_BAYES_FACTOR, VARIANCE_MISMATCH, OneOfNPrior
from ctdetect.engine.anomaly.timeseries import CountSeries
from ctdetect.engine.anomaly.trend import MIN_MODEL_WEIGHT, MODEL_WEIGHTS, TIME_SCALES, Regression, TrendComponent


def _plain_regression_add(r: Regression, t: float, y: float, w: float) -> None:
    """``Regression.add`` as a loop over a list of the eight statistics."""
    if w <= 0.0:
        return
    r.n += w
    a = w / r.n
    t2 = t * t
    s = r.s
    for i, v in enumerate((1.0, t, t2, t2 * t, t2 * t2, y, t * y, t2 * y)):
        s[i] += a * (v - s[i])
    r._set(s)


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


def _plain_condition_ok(eigenvalues: tuple[float, ...]) -> bool:
    lo, hi = min(eigenvalues), max(eigenvalues)
    return lo > 0.0 and hi <= trend.MAX_CONDITION * lo


@pytest.mark.parametrize("seed", range(6))
def test_condition_tests_equal_plain(seed: int) -> None:
    """The solve's condition test on three floats equals the tuple form it replaced (``min``
    and ``max``), bit for bit: on the normal equations of regressions with few samples at one time (singular),
    spread times and huge times (ill-conditioned), and on a 2x2 system's pair (one repeated)."""
    rng = random.Random(seed)
    outcomes = set()
    for _ in range(300):
        r = Regression()
        spread = rng.choice([0.0, 1e-7, 1e-3, 0.5, 3.0, 1e4])
        for _ in range(rng.randint(0, 12)):
            r.add(rng.uniform(-1.0, 1.0) * spread + rng.choice([0.0, 2.0]), rng.choice([0.0, rng.uniform(-50, 500)]),
                  rng.choice([1.0, rng.random()]))
        s = r.s
        m = (s[0], s[1], s[2], s[2], s[3], s[4])
        eigenvalues = trend._sym3_eigenvalues(*m)
        ok = _plain_condition_ok(tuple(eigenvalues))
        assert trend._condition_ok(*eigenvalues) == ok
        l1, l2 = rng.choice([(1.0, 1e-13), (2.0, 1.0), (0.0, 1.0), (math.nan, 1.0), (1.0, math.nan), (-1.0, 3.0)])
        assert trend._condition_ok(l1, l2, l2) == _plain_condition_ok((l1, l2))
        c0, c1, c2 = r.params()
        assert r.predict(0.7) == c0 + 0.7 * (c1 + 0.7 * c2)
        outcomes.add(ok)
    assert outcomes == {True, False}


def test_trend_value_kept_through_learning_equals_fresh() -> None:
    """``TrendComponent.add`` reuses the value kept for its time unless the origin moved: the
    same error variance as a trend asked afresh, across weeks (the origin moves weekly)."""
    rng = random.Random(5)
    kept, fresh = TrendComponent(0.024), TrendComponent(0.024)
    for i in range(6 * 7 * 48):
        t = 1_767_225_600.0 + i * 1800.0
        y = rng.choice([0.0, 0.0, 0.0, float(rng.randint(1, 9))])
        for tc in (kept, fresh):
            tc.age(1800.0)
        kept.value(t)  # as a series asks before it learns
        kept.add(t, y, 1.0)
        fresh.add(t, y, 1.0)
        assert kept.to_state() == fresh.to_state()


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


def _plain_mb_value(mb: MultiBucketMean) -> tuple[float, float] | None:
    """``MultiBucketMean.value`` with ``0.9 ** age`` computed per entry, twice."""
    if 4 * len(mb.window) < 3 * WINDOW:
        return None
    latest = mb.window[-1][0]
    num = den = cnt = 0.0
    for b, r, w in mb.window:
        g = GEOMETRIC_WEIGHT ** (latest - b)
        num += g * w * r
        den += g * w
        cnt += g * w
    if den <= 0.0:
        return None
    return num / den, cnt / sum(GEOMETRIC_WEIGHT ** (latest - b) for b, _, _ in mb.window)


@pytest.mark.parametrize("seed", range(4))
def test_multibucket_power_table_equals_pow(seed: int) -> None:
    rng = random.Random(seed)
    mb = MultiBucketMean()
    bucket = 0
    for _ in range(300):
        bucket += rng.choice([1, 1, 1, 2, 5])
        mb.add(bucket, rng.uniform(-20.0, 200.0), rng.choice([1.0, 0.3, 1e-6]))
        assert mb.value() == _plain_mb_value(mb)
    mb.window.append([bucket - 3, 1.5, 1.0])  # out of order: an age outside the table
    assert mb.value() == _plain_mb_value(mb)


def test_multibucket_correlation_table_equals_formula() -> None:
    """The correlation from the table of window lengths is the formula's float, and a window
    longer than the table (a state that was never ``add``-ed to) still gets the formula."""
    r = GEOMETRIC_WEIGHT * GEOMETRIC_WEIGHT
    mb = MultiBucketMean()
    for n in range(WINDOW + 4):
        mb.window = [[b, 0.0, 1.0] for b in range(n)]
        plain = 0.0 if n == 0 else math.sqrt((1.0 - r) / (1.0 - r**n))
        assert repr(mb.correlation()) == repr(plain)


def _pair_cases(seed: int) -> list[tuple[float, float, float]]:
    """(p1, p2, correlation) of the kinds a count series joins, and edges."""
    rng = random.Random(seed)
    edges = [1.0, 1.5, 0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 0.5, 0.999999, 1e-12, 0.1, math.nan]
    rhos = [0.0, MultiBucketMean().correlation(), 0.3122, 0.5, 0.99]
    cases = [(a, b, rho) for a in edges for b in edges for rho in rhos]
    for _ in range(3000):
        p1 = rng.choice([rng.random(), 10.0 ** -rng.uniform(0.0, 320.0), 1.0])
        p2 = rng.choice([rng.random(), 10.0 ** -rng.uniform(0.0, 320.0), 1.0])
        cases.append((p1, p2, rng.choice(rhos + [rng.random()])))
    return cases


@pytest.mark.parametrize("seed", range(3))
def test_joint_probability_pair_equals_general_form(seed: int) -> None:
    """``stats.joint_probability_pair`` gives ``joint_probability([p1, p2], correlation=ρ)``'s
    double (``repr``: the sign of a zero, NaN) for every pair, edges and NaN included."""
    from ctdetect.engine.anomaly import stats

    for p1, p2, rho in _pair_cases(seed):
        try:
            general = repr(stats.joint_probability([p1, p2], correlation=rho))
        except ValueError as exc:  # the z-score of a NaN: both forms must refuse it alike
            general = f"ValueError {exc}"
        try:
            pair = repr(stats.joint_probability_pair(p1, p2, rho))
        except ValueError as exc:
            pair = f"ValueError {exc}"
        assert pair == general, (p1, p2, rho)


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_low_high_in_one_pass_equals_each_side(integer: bool, seed: int) -> None:
    rng = random.Random(seed)
    prior = OneOfNPrior(integer)
    for k in range(300):
        x = float(rng.randrange(0, 20)) if k < 100 or integer and k % 2 else rng.uniform(-3.0, 25.0)
        prior.add(x, rng.choice([1.0, 0.4]))
        prior.age(math.exp(-0.001))
        for probe in (x, x + 3.0, x - 7.5, 0.0, 1e3):
            assert prior.probabilities_low_high(probe) == (prior.probability(probe, "low"), prior.probability(probe, "high"))


def test_integer_only_type_test_equals_class_attribute() -> None:
    """``priors._integer_only`` (a type test) says what each component's ``integer_only`` says."""
    for model in OneOfNPrior(True).models:
        assert priors._integer_only(model) == type(model).integer_only


def _plain_active(prior: OneOfNPrior) -> list[tuple[object, float]]:
    """``OneOfNPrior._active`` as written before the per-bucket callers walked it in place."""
    best = max(prior.log_weights)
    out = []
    total = 0.0
    for m, lw in zip(prior.models, prior.log_weights):
        if lw == -math.inf:
            continue
        w = math.exp(lw - best)
        total += w
        out.append((m, w))
    return [(m, w / total) for m, w in out if w / total >= priors.MIN_RELATIVE_WEIGHT]


def _plain_probabilities(prior: OneOfNPrior, x: float) -> tuple[float, ...]:
    """``probability`` (three sides), ``one_tail`` and the low/high pair over ``_plain_active``."""
    if not prior.informative():
        return (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    sides = []
    for side in ("two", "high", "low"):
        p = 0.0
        for m, w in _plain_active(prior):
            y = prior._read(m, x)
            p += w * priors.sided(m.cdf(y), m.sf(y), side)
        sides.append(min(max(p, 0.0), 1.0))
    lo = hi = 0.0
    for m, w in _plain_active(prior):
        y = prior._read(m, x)
        lo += w * m.cdf(y)
        hi += w * m.sf(y)
    low2 = high2 = 0.0
    for m, w in _plain_active(prior):
        y = prior._read(m, x)
        c, s = m.cdf(y), m.sf(y)
        low2 += w * priors.sided(c, s, "low")
        high2 += w * priors.sided(c, s, "high")
    return (*sides, min(lo, hi, 1.0), min(max(low2, 0.0), 1.0), min(max(high2, 0.0), 1.0))


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_probabilities_in_place_equal_active_lists(integer: bool, seed: int) -> None:
    """The probabilities that walk the component weights in place equal the list form, as
    the weights move from even to one dominant component (some left out under 1e-3)."""
    rng = random.Random(100 + seed)
    prior = OneOfNPrior(integer)
    for k in range(300):
        x = float(rng.choice([0, 0, 1, 2, rng.randrange(40)])) if integer or k < 80 else rng.uniform(-4.0, 30.0)
        prior.add(x, rng.choice([1.0, 0.3]))
        prior.age(math.exp(-0.002))
        assert prior._active() == _plain_active(prior)
        for probe in (x, x + 2.0, x - 6.5, 0.0, 500.0):
            got = (prior.probability(probe, "two"), prior.probability(probe, "high"), prior.probability(probe, "low"),
                   prior.one_tail(probe), *prior.probabilities_low_high(probe))
            assert got == _plain_probabilities(prior, probe)


def _plain_trend_significant(series: CountSeries) -> bool:
    """``CountSeries._trend_significant`` as written before the variance factor came first."""
    n1, _m1, m2_1 = series.err_with
    n0, _m0, m2_0 = series.err_without
    df0, df1 = n0 - 1.0, n1 - timeseries.TREND_PARAMETERS
    if df0 <= 0.0 or df1 <= 0.0 or m2_0 <= 0.0:
        return False
    v0, v1 = m2_0 / df0, m2_1 / max(n1 - 1.0, 1e-9)
    p_f = 0.0 if v1 == 0.0 else float(timeseries._fdtr(df1, df0, (df0 * v1) / (df1 * v0)))
    significance = math.log(max(p_f, 1e-300)) / math.log(0.001)
    vt = 0.6 * v0
    logistic = timeseries._logistic
    p = logistic(significance, 0.1, 1.0) * (logistic(vt / v1, 1.0, 1.0) if v1 > 0.0 and vt > v1 else logistic(v1 / vt, 0.1, 1.0, -1.0))
    return p >= 0.25


@pytest.mark.parametrize("seed", range(4))
def test_trend_test_without_the_f_cdf_when_it_cannot_pass_equals_plain(seed: int) -> None:
    """Error statistics from no trend (variances alike) to a strong one (with-trend variance
    a small share), degrees of freedom from 1 to 500: the same answer, both ways seen."""
    rng = random.Random(seed)
    series = CountSeries(0)
    seen = set()
    for _ in range(3000):
        n0 = rng.uniform(0.5, 500.0)
        n1 = n0 * rng.choice([1.0, rng.uniform(0.5, 1.0)])
        m2_0 = rng.choice([0.0, rng.uniform(0.0, 1e4)])
        m2_1 = m2_0 * rng.choice([0.0, 1.0, rng.uniform(0.0, 1.2), rng.uniform(0.0, 0.1)])
        series.err_without = [n0, 0.0, m2_0]
        series.err_with = [n1, 0.0, m2_1]
        got = series._trend_significant()
        assert got == _plain_trend_significant(series)
        seen.add(got)
    assert seen == {True, False}


@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_one_sided_tails_and_variance_equal_plain(integer: bool, seed: int) -> None:
    """A one-sided probability computes only the tail it reads (``_sided_tails``), and the
    predictive variance walks the weights in place: both equal the plain forms (both tails
    through ``sided``; ``_active()``'s list), bit for bit, with and without a variance scale."""
    rng = random.Random(200 + seed)
    prior = OneOfNPrior(integer)
    seen_high_below_one = False
    for k in range(250):
        x = float(rng.choice([0, 0, 1, 3, rng.randrange(30)])) if integer or k < 60 else rng.uniform(-3.0, 25.0)
        prior.add(x, rng.choice([1.0, 0.4]))
        prior.age(math.exp(-0.003))
        assert prior.variance() == (sum(w * m.variance() for m, w in _plain_active(prior)) if prior.informative() else 0.0)
        for probe in (x, x + 3.0, x - 5.5, 0.0, 400.0):
            for vs in (1.0, 0.4, 2.7):
                for side in ("high", "low", "two"):
                    for m in prior.models:
                        y = prior._read(m, probe)
                        assert priors._sided_tails(m, y, vs, side) == priors.sided(m.cdf(y, vs), m.sf(y, vs), side)
                    if not prior.informative():
                        continue
                    plain = 0.0
                    for m, w in _plain_active(prior):
                        y = prior._read(m, probe)
                        plain += w * priors.sided(m.cdf(y, vs), m.sf(y, vs), side)
                    got = prior.probability(probe, side, vs)
                    assert got == min(max(plain, 0.0), 1.0)
                    seen_high_below_one |= side == "high" and got < 1.0
    assert seen_high_below_one


def _plain_trend_value(tc: TrendComponent, t_s: float) -> float:
    """``TrendComponent._value`` with its loop over ``zip`` of the regressions and weights."""
    a = tc._weight_of_prediction(t_s)
    weights, cut = trend._prediction_weights(tc.rate, abs(t_s - tc.last_s))
    x = tc._scaled(t_s)
    num = den = 0.0
    for m, w in zip(tc.models, weights):
        if w > cut:
            num += w * m.predict(x)
            den += w
    fitted = num / den if den > 0.0 else tc.values_mean
    return a * fitted + (1.0 - a) * tc.values_mean


@pytest.mark.parametrize("seed", range(3))
def test_trend_value_index_loop_equals_zip(seed: int) -> None:
    rng = random.Random(300 + seed)
    tc = TrendComponent(0.024)
    t = 0.0
    for _ in range(400):
        t += rng.choice([900.0, 900.0, 3600.0, 86400.0 * rng.random()])
        tc.add(t, rng.choice([0.0, 0.0, rng.uniform(0.0, 40.0)]), rng.choice([1.0, 0.2]))
        tc.age(rng.choice([900.0, 450.0]))
        for probe in (t, t + 900.0, t + 86400.0 * 3, t - 5000.0):
            assert tc._value(probe) == _plain_trend_value(tc, probe)


@pytest.mark.parametrize("kind", ["seasonal", "sparse"])
def test_scale_variance_skipped_only_where_the_scale_does_not_read_it(kind: str) -> None:
    """A step asks the residual prior's variance only while a component is in use
    (``_scale_variance``): at every bucket, the variance scales at 0 and 50 % with the 0.0 it
    gives are those with the prior's variance, and both cases are seen (a sparse series has
    no component in use, a daily shape brings the profile and the trend into use)."""
    rng = random.Random(7 if kind == "seasonal" else 8)
    series = CountSeries(1_767_225_600_000)
    skipped = computed = 0
    for b in range(8 * 96):
        t_ms = 1_767_225_600_000 + b * 900_000 + 450_000
        hour = (b // 4) % 24
        if kind == "seasonal":
            x = float(max(0, round(20 + 15 * math.sin(2 * math.pi * hour / 24) + rng.gauss(0, 2))))
        else:
            x = float(rng.randint(1, 5)) if rng.random() < 0.03 else 0.0
        series.buckets += 1
        series.step(x, t_ms, b, 1.0, 900, 0.0005, 0.024, "high")
        if not series.prior.informative():
            continue
        probe = t_ms + 900_000
        full = series.prior.variance()
        lazy = series._scale_variance()
        if lazy == 0.0:
            skipped += 1
        else:
            assert lazy == full
            computed += 1
        for confidence in (0.0, timeseries.SEASONAL_CONFIDENCE):
            assert series.variance_scale(probe, confidence, lazy) == series.variance_scale(probe, confidence, full)
    assert skipped > 0 and (computed > 0 or kind == "sparse")
