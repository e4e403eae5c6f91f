"""Special functions the anomaly engine needs, with scipy imported lazily.

Why lazily: ``import ctdetect`` and every command that does not run ML jobs must stay
fast; scipy costs ~0.3 s to import, paid only when a job actually closes a bucket.

What is here and why (see ../shared/ML-SEMANTICS.md §6.1, §2.2):

- ``beta_ppf`` / ``beta_cdf``: the stratified posterior means of the Dirichlet
  marginals (a Beta distribution) in the "less likely categories" probability.
- ``joint_probability``: Elastic's joint of several probabilities, a chi-square
  survival function of the summed squared normal z-scores (``z = Φ⁻¹(1 − p/2)``) with
  ``Σw`` degrees of freedom. A single unit-weight p comes back unchanged.
- ``extreme_probability``: the chance that the m-th smallest of n independent uniform
  p-values is at most the observed m-th smallest, minimised over m in a range. This is
  the "m from n extreme samples" aggregation that Elastic mixes with the joint when it
  aggregates a results hierarchy (§6.3); we use the order-statistic (Beta) form.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist
from typing import Any, Sequence

SMALLEST_PROBABILITY = 2.2250738585072014e-308  # the smallest normal double, as Elastic clamps to


@lru_cache(maxsize=1)
def _special() -> Any:
    import scipy.special as special  # lazy: see module docstring

    return special


def beta_ppf(q: float, a: float, b: float) -> float:
    """Quantile of Beta(a, b) at ``q``."""
    return float(_special().betaincinv(a, b, q))


def beta_cdf(x: float, a: float, b: float) -> float:
    """CDF of Beta(a, b) at ``x``."""
    return float(_special().betainc(a, b, x))


def beta_cdf_at_quantiles(a: float, b: float, n: int) -> list[float]:
    """``F_{a+1,b}(x_k)`` for the Beta(a, b) quantiles ``x_k`` at k/n, k = 1..n−1 (vectorised)."""
    special = _special()
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


def joint_probability(ps: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Elastic's joint probability of independent p-values (ML-SEMANTICS §6.1, ρ = 0).

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
    stat = sum(w * normal_z(p) ** 2 for p, w in zip(ps, weights))
    return max(float(_special().gammaincc(total_w / 2.0, stat / 2.0)), SMALLEST_PROBABILITY)


def _binomial_upper_tail(n: int, m: int, x: float) -> float:
    """P(at least m of n uniforms ≤ x) = P(Binomial(n, x) ≥ m), cheaply and precisely.

    The m lower terms are summed when the tail is not small (few terms, no
    cancellation to fear); otherwise the upper terms are summed until they stop
    mattering (they shrink fast when x is small).
    """
    q = 1.0 - x
    lower = 0.0
    for j in range(m):
        lower += math.comb(n, j) * x**j * q ** (n - j)
    if lower < 0.9:
        return 1.0 - lower
    total = 0.0
    for j in range(m, n + 1):
        term = math.comb(n, j) * x**j * q ** (n - j)
        total += term
        if term < 1e-17 * total:
            break
    return total


def extreme_probability(ps: Sequence[float], min_m: int, max_m: int) -> float:
    """Smallest, over m in [min_m, min(max_m, n)], of P(U_(m) ≤ p_(m)) for n uniforms.

    ``P(U_(m) ≤ x)`` is the regularised incomplete beta ``I_x(m, n − m + 1)``; for m = 1
    it is ``1 − (1 − p_min)^n``, the "minimum of n" rule of ML-SEMANTICS §6.3.
    """
    n = len(ps)
    if n == 0:
        return 1.0
    ordered = sorted(ps)
    lo = max(1, min(min_m, n))
    hi = max(lo, min(max_m, n))
    best = 1.0
    for m in range(lo, hi + 1):
        x = ordered[m - 1]
        if m == 1:
            p = -math.expm1(n * math.log1p(-min(x, 1.0))) if x < 1.0 else 1.0
        elif x >= 1.0:
            p = 1.0
        else:
            p = _binomial_upper_tail(n, m, x)
        best = min(best, p)
    return max(best, SMALLEST_PROBABILITY)
