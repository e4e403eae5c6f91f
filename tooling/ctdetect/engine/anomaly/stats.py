"""Special functions the anomaly engine needs, with scipy imported lazily.

Why lazily: ``import ctdetect`` and every command that does not run ML jobs must stay
fast; scipy costs ~0.3 s to import, paid only when a job actually closes a bucket.

What is here and why (see ../shared/ML-SEMANTICS.md §6.1, §2.2):

- ``beta_ppf`` / ``beta_cdf``: the stratified posterior means of the Dirichlet
  marginals (a Beta distribution) in the "less likely categories" probability.
- ``joint_probability``: Elastic's joint of several probabilities, a chi-square
  survival function of the summed squared normal z-scores (``z = Φ⁻¹(1 − p/2)``) with
  ``Σw`` degrees of freedom. A single unit-weight p comes back unchanged.
- ``log_extreme_probability``: Elastic's "m from n extreme samples" probability, the
  chance that the m smallest of n two-sided p-values are as small as observed,
  calibrated and minimised over m in a range; Elastic mixes it with the joint when it
  aggregates a results hierarchy (§6.3). ``log_joint_upper_bound`` keeps the joint
  ordered below the smallest double.
"""

from __future__ import annotations

import math
import math as libm  # compiled: C's libm (the .pxd); see priors.LIBM_NOTE (``expm1`` too: CPython's is libm's)
from functools import lru_cache
from statistics import NormalDist
from typing import Any, Sequence

SMALLEST_PROBABILITY = 2.2250738585072014e-308  # the smallest normal double, as Elastic clamps to


@lru_cache(maxsize=1)
def ufunc_special() -> Any:
    """``scipy.special`` itself (its ufuncs, for array calls), imported on first use."""
    import scipy.special as special  # lazy: see module docstring

    return special


@lru_cache(maxsize=1)
def scalar_special() -> Any:
    """For calls on one value: ``scipy.special``, or its compiled twin ``_cspecial`` (the
    same C functions without the ufuncs' per-call cost, bit-identical) when setup.py built
    it. The array calls (``less_likely_probabilities`` of a large model) keep the ufuncs
    (``ufunc_special``)."""
    try:
        from ctdetect.engine.anomaly import _cspecial as special  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - not built, or built against another scipy: the ufuncs
        special = ufunc_special()
    return special


def beta_ppf(q: float, a: float, b: float) -> float:
    """Quantile of Beta(a, b) at ``q``."""
    return float(ufunc_special().betaincinv(a, b, q))


def beta_cdf(x: float, a: float, b: float) -> float:
    """CDF of Beta(a, b) at ``x``."""
    return float(ufunc_special().betainc(a, b, x))


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X > k) for X ~ Binomial(n, p) (boost's ``cdf(complement(binomial, k))``)."""
    return float(ufunc_special().bdtrc(k, n, p))


def beta_cdf_at_quantiles(a: float, b: float, n: int) -> list[float]:
    """``F_{a+1,b}(x_k)`` for the Beta(a, b) quantiles ``x_k`` at k/n, k = 1..n−1 (vectorised)."""
    special = ufunc_special()
    qs = _strata_quantiles(n)
    xs = special.betaincinv(a, b, qs)
    return special.betainc(a + 1.0, b, xs).tolist()


@lru_cache(maxsize=16)
def _strata_quantiles(n: int) -> Any:
    import numpy as np

    return np.arange(1, n) / n


_NORMAL = NormalDist()


def normal_z(p: float) -> float:
    """Two-sided z-score of a probability: ``Φ⁻¹(1 − p/2)``, 0 for p ≥ 1.

    ``statistics.NormalDist.inv_cdf`` (Wichura's AS241, double precision) avoids a
    scipy call per probability on the per-bucket path.
    """
    if p >= 1.0:
        return 0.0
    p = max(p, SMALLEST_PROBABILITY)
    return -_NORMAL.inv_cdf(p / 2.0)


def joint_probability(ps: Sequence[float], weights: Sequence[float] | None = None, correlation: float = 0.0) -> float:
    """Elastic's joint probability of p-values (ML-SEMANTICS §6.1), correlated by ``ρ``.

    ``P = Q(Σw/2, Σ w·z²/2)`` where Q is the regularised upper incomplete gamma
    function, i.e. a chi-square survival with Σw degrees of freedom. A single p with
    weight 1 is returned unchanged (the chi-square with one degree of freedom of z² is
    exactly the two-sided normal tail).
    """
    if not ps:
        return 1.0
    if weights is None:
        weights = [1.0] * len(ps)
    if len(ps) == 1 and weights[0] == 1.0:
        return min(max(ps[0], SMALLEST_PROBABILITY), 1.0)
    total_w = sum(weights)
    if total_w <= 0.0 or min(ps) >= 1.0:
        return 1.0
    zs = [normal_z(p) for p in ps]  # each z-score once: the same float both sums use
    stat = sum([w * z ** 2 for z, w in zip(zs, weights)])
    if correlation:  # the Mahalanobis distance of equally correlated z-scores
        rho = correlation
        total_z = sum([w * z for z, w in zip(zs, weights)])
        stat = (stat - rho * total_z * total_z / (total_w * rho + 1.0 - rho)) / (1.0 - rho)
    return max(float(scalar_special().gammaincc(total_w / 2.0, stat / 2.0)), SMALLEST_PROBABILITY)


def joint_probability_pair(p1: float, p2: float, correlation: float) -> float:
    """``joint_probability([p1, p2], correlation=correlation)``, the very same double, for the
    pair every scored count series joins each bucket (its single- and multi-bucket
    probabilities, ``timeseries.CountSeries.step``): the general form builds a weights list,
    two z-score lists and sums them, a tenth of a count step. Each operation is the general
    form's with unit weights, in its order: ``sum`` of two floats from 0 is ``a + b``
    (Python 3.12's compensated sum too: the rounding error of one addition added back
    rounds to the same sum), ``1.0 * z`` is ``z``, ``min`` keeps the first of equals, and the
    squares stay Python's float power (``z`` a Python float, as in ``joint_probability``).
    ``tests/anomaly/test_count_fastpaths.py`` compares the two."""
    smaller = p2 if p2 < p1 else p1  # ``min([p1, p2])``, NaN included
    if smaller >= 1.0:
        return 1.0
    z1 = normal_z(p1)
    z2 = normal_z(p2)
    total_w = 2.0
    stat = z1**2 + z2**2
    if correlation:
        rho = correlation
        total_z = z1 + z2
        stat = (stat - rho * total_z * total_z / (total_w * rho + 1.0 - rho)) / (1.0 - rho)
    return max(float(scalar_special().gammaincc(total_w / 2.0, stat / 2.0)), SMALLEST_PROBABILITY)


LOG_MAX_DOUBLE = math.log(1.7976931348623157e308)
LOG_MIN_DOUBLE = math.log(SMALLEST_PROBABILITY)
_GL3 = ((0.0, 0.8888888888888888), (-0.7745966692414834, 0.5555555555555556), (0.7745966692414834, 0.5555555555555556))


def _pow_one_minus(p: float, x: float) -> float:
    """``(1 − p)^x`` without losing small p."""
    return 0.0 if p >= 1.0 else libm.exp(x * libm.log1p(-p))


def _one_minus_pow_one_minus(p: float, x: float) -> float:
    """``1 − (1 − p)^x`` without cancellation for small p."""
    return 1.0 if p >= 1.0 else -libm.expm1(x * libm.log1p(-p))


def log_joint_upper_bound(ps: Sequence[float]) -> float:
    """log of the joint probability, or of an upper bound on it once it underflows.

    Below the smallest double the regularised upper incomplete gamma
    ``Q(s, x)`` (s = n/2, x = Σz²/2) is bounded by ``x^(s−1)·e^(−x)·Σ_j p!/(p−j)!/x^j / Γ(s)``
    with p = ⌈s − 1⌉, the sum bounded by a geometric series or by Lagrange's remainder
    (ml-cpp ``CLogJointProbabilityOfLessLikelySamples::calculateUpperBound``). This keeps
    several extreme leaves ordered instead of all reading as the smallest double.
    """
    if not ps:
        return 0.0
    if len(ps) == 1:
        return min(math.log(max(ps[0], SMALLEST_PROBABILITY)), 0.0)
    z2 = sum([normal_z(max(p, SMALLEST_PROBABILITY)) ** 2 for p in ps])
    n = float(len(ps))
    if z2 == 0.0 or z2 / n < 1e-8:
        return 0.0
    s, x = n / 2.0, z2 / 2.0
    prob = min(max(float(scalar_special().gammaincc(s, x)), 0.0), 1.0)
    if prob > 10.0 * SMALLEST_PROBABILITY:
        return math.log(prob)
    p = math.ceil(s - 1.0)
    log_double_max = math.log(0.10 * 1.7976931348623157e308)
    if p > 0 and (p + 1.0) * math.log(p / x) >= log_double_max:
        b1 = (p + 1.0) * math.log(p / x) - math.log(p / x - 1.0)
    elif p != x:
        r = 1.0 - p / x
        b1 = math.log(_one_minus_pow_one_minus(r, p + 1.0) / r)
    else:
        b1 = math.log(p + 1.0)
    b2 = math.lgamma(p + 1.0) - p * math.log(x) + x
    bound = (s - 1.0) * math.log(x) - x + min(b1, b2) - math.lgamma(s)
    return min(bound, 0.0)


def _log_gauss_legendre(f: Any, a: float, b: float) -> float:
    """log ∫ exp(f) over [a, b] by 3-point Gauss–Legendre, summed in the log domain."""
    if b < a:
        a, b = b, a
    centre, half = (a + b) / 2.0, (b - a) / 2.0
    fx = [f(centre + half * x) for x, _ in _GL3]
    top = max(fx)
    total = half * sum([w * math.exp(v - top) for (_, w), v in zip(_GL3, fx)])
    return LOG_MIN_DOUBLE if total <= 0.0 else top + math.log(total)


def _log_m_from_n_numerical(smallest: list[float], n: int) -> float:
    """Numerical integration fallback of ``log_m_from_n_extreme`` (at most 10 values):
    nested integrals over the ordered values, as ml-cpp falls back to when the closed
    form loses its precision to cancellation."""
    cutoff = (1.0e32, 1.0e16, 1.0e8, 1.0e4, 100.0)
    limits = [smallest[0]]
    corrections = [0.0]
    for i in range(1, min(len(smallest), 10)):
        limits.append(min(smallest[i], (100.0 if n >= len(cutoff) else cutoff[n]) * limits[i - 1]))
        corrections.append(0.0 if smallest[i] == smallest[i - 1] else math.log(smallest[i] - smallest[i - 1]) - math.log(limits[i] - limits[i - 1]))
    m = len(limits)

    def integrand(i: int) -> Any:
        def f(x: float) -> float:
            if i == m:
                return (n - m) * math.log1p(-x)
            return _log_gauss_legendre(integrand(i + 1), x, limits[i]) + corrections[i]

        return f

    return _log_gauss_legendre(integrand(1), 0.0, limits[0]) + math.lgamma(n + 1.0) - math.lgamma(n - m + 1.0)


def log_m_from_n_extreme(ps: Sequence[float], m: int) -> float:
    """log P(the m smallest of n less-likely probabilities are as small as observed).

    "Less likely" is two-sided, hence the halved probabilities: with pM the smallest and
    the others ordered, the probability is ``1 − (1 − pM)^n`` plus a sum over i of
    ``2^M·n!/(n−M)!·c(i)/(i+1)·(1 − (1 − pM/2)^(i+1))``; the coefficients c(i) follow a
    recurrence over the other M − 1 values and are kept normalised to their largest to
    avoid underflow (ml-cpp ``CLogProbabilityOfMFromNExtremeSamples::calculate``).
    """
    n = len(ps)
    if n == 0:
        return 0.0
    return _log_m_from_n_sorted(tuple(_ascending_clamped(ps)[: max(1, min(m, n))]), n)


def _ascending_clamped(ps: Sequence[float]) -> list[float]:
    """The probabilities clamped to [smallest double, 1], smallest first."""
    return sorted([min(max(p, SMALLEST_PROBABILITY), 1.0) for p in ps])


def _log_one_from_n(p_m: float, n: int) -> float:
    """``_log_m_from_n`` of one probability ``p_m`` (m = 1): the chance that the smallest of
    n is as small, ``1 − (1 − p)^n``. Cheap enough to compute at each call: the caller asks
    for it without the memo (``log_extreme_probability``), whose look-up costs about as
    much and whose entries are better kept for the m > 1 sums."""
    p_min = _one_minus_pow_one_minus(p_m, float(n))
    result = libm.log(p_min) if p_min > 0.0 else LOG_MIN_DOUBLE
    if not result < 0.001:
        result = _log_m_from_n_numerical([p_m], n)
        if not result < 0.001:
            result = 0.0
    return min(result, 0.0)


def _log_m_from_n(smallest: tuple[float, ...], n: int) -> float:
    """``log_m_from_n_extreme`` of the m smallest probabilities (ascending, clamped) out
    of n (memoised as ``_log_m_from_n_sorted``)."""
    big_m = len(smallest)
    if big_m == 1:
        return _log_one_from_n(smallest[0], n)
    # log, exp through libm compiled (priors.LIBM_NOTE): every log here is of a positive
    # number; only ``exp(logc - log_largest)`` could overflow (Python would raise, C gives inf),
    # which no input the engine makes comes near (the coefficients are kept normalised)
    logc = 0.0
    log_largest = 0.0
    coeffs: list[float] = []
    for k in range(1, big_m):
        p = smallest[big_m - k]
        logc -= libm.log(2.0 * (n - big_m + k))
        total = 0.0
        for i in range(len(coeffs)):
            index = float(len(coeffs) - i)
            coeffs[i] /= index
            total += coeffs[i] * _pow_one_minus(p / 2.0, index)
        q = min(max(_pow_one_minus(p, float(n - big_m + k)), 0.0), 1.0)
        coeffs.append(-total - q * libm.exp(logc - log_largest))
        cmax = max([abs(c) for c in coeffs if abs(c) > 1.0 / 1.7976931348623157e308], default=0.0)
        if cmax > 0.0:
            coeffs = [c / cmax for c in coeffs]
            log_largest += libm.log(cmax)
    cmax = max([abs(c) for c in coeffs], default=0.0)
    if 0.0 < cmax < 1.0 / 1.7976931348623157e308:
        log_largest = libm.log(cmax)
        coeffs = [c / cmax for c in coeffs]
    p_m = smallest[0]
    p_min = _one_minus_pow_one_minus(p_m, float(n))
    if big_m > 1:
        log_scale = big_m * libm.log(2.0) + math.lgamma(n + 1.0) - math.lgamma(n - big_m + 1.0) + log_largest
        terms = []
        for i, c in enumerate(coeffs):
            index = float(len(coeffs) - i)
            terms.append(c / index * _one_minus_pow_one_minus(p_m / 2.0, index))
        total = sum([abs(t) for t in terms])
        if total == 0.0:
            result = libm.log(p_min) if p_min > 0.0 else LOG_MIN_DOUBLE
        else:
            result = 0.0
            condition = 0.0
            log_p_min = libm.log(p_min) if p_min > 0.0 else -math.inf
            if log_p_min - log_scale > LOG_MAX_DOUBLE:
                result = libm.log(sum([abs(t) for t in terms]) * p_min / total)
            else:
                if log_p_min - log_scale < LOG_MIN_DOUBLE:
                    for t in terms:
                        result += t
                        condition = max(condition, abs(t))
                else:
                    scaled = p_min / libm.exp(log_scale)
                    for t in terms:
                        remainder = abs(t) * scaled / total + t
                        result += remainder
                        condition = max(condition, abs(t), abs(t * scaled / total), abs(remainder))
                if result <= 0.0 or condition > 1e6 * result:
                    result = _log_m_from_n_numerical(smallest, n)
                else:
                    result = log_scale + libm.log(result)
    else:
        result = libm.log(p_min) if p_min > 0.0 else LOG_MIN_DOUBLE
    if not result < 0.001:
        result = _log_m_from_n_numerical(smallest, n)
        if not result < 0.001:
            result = 0.0
    return min(result, 0.0)


# Pure, and memoised: a bucket's hierarchy asks for the same group at several nodes and for
# each m of the same sorted values, and quiet series repeat their probabilities bucket after
# bucket. (A module-level cached function, so that the compiled module keeps
# ``_log_m_from_n`` a typed C function: a decorated function cannot be one.)
_log_m_from_n_sorted = lru_cache(maxsize=65536)(_log_m_from_n)


def log_extreme_probability(ps: Sequence[float], min_m: int, max_m: int) -> float:
    """Smallest calibrated log m-from-n probability over m in [min_m, min(max_m, n)].

    The calibration divides log P by ``1 + ln(m)/2.1``: without it, a larger m finds an
    extreme set by chance more often than the probability says (ml-cpp
    ``CLogProbabilityOfMFromNExtremeSamples::calibrated``).
    """
    n = min(len(ps), max_m)
    if n == 0:
        return 0.0
    total = len(ps)
    ascending = _ascending_clamped(ps) if n > 1 else [min(max(min(ps), SMALLEST_PROBABILITY), 1.0)]
    best = 0.0
    for m in range(max(1, min(min_m, n)), n + 1):
        # as log_m_from_n_extreme(ps, m), the values sorted once for every m; m = 1 (every
        # people-style node, and the first m of every attribute group) computed, not memoised
        if m == 1:
            value = _log_one_from_n(ascending[0], total) / (1.0 + libm.log(min(m, total)) / 2.1)
        else:
            value = _log_m_from_n_sorted(tuple(ascending[: max(1, min(m, total))]), total) / (1.0 + libm.log(min(m, total)) / 2.1)
        best = min(best, value)
    return best
