"""The categorical model behind ``rare``: a decayed Dirichlet over by-field values.

Algorithm (ML-SEMANTICS §2.1–§2.2, written in our own words):

- Each category (a by-field value, or an attribute in population analysis) has a
  concentration ``a_i``. A bucket in which the value appears adds exactly 1 to it:
  presence, not event count ("the functions model whether something happens in a
  bucket at least once", Elastic's rare functions documentation).
- After a bucket with data, every concentration is multiplied by ``exp(−λ)`` with
  ``λ = 0.0005 · min(1, bucket_span / 1800 s)`` (Elastic's default decay per bucket).
- The probability reported for a value is the expected "probability of a category no
  more likely than this one" under the Dirichlet posterior:

  1. ``p_i = a_i / a0`` sorted ascending; ``C_i`` is the summed frequency of every
     category with ``p_j ≤ p_i`` (ties share the cumulative sum including all tied
     members, so two equally frequent values each get twice their own frequency).
  2. The marginal of ``p_i`` is ``Beta(a_i, a0 − a_i)``. It is cut into ``n``
     equal-probability strata (n = 7, 5, 3, 1 for a0 ≤ 100, 1000, 10000, above) and the
     conditional mean of each stratum is taken: stratum k's mean is
     ``E[p] · n · (F_{a+1,b}(x_k) − F_{a+1,b}(x_{k−1}))`` with ``x_k`` the Beta(a, b)
     quantile at k/n.
  3. Each stratum mean ``s`` is inflated by 5 % (``x = 1.05·s``) and the cumulative
     ``C`` is linearly interpolated at ``x`` between the neighbouring sorted
     frequencies. The strata results are averaged.

  A single category, or all categories tied, gives 1: the first bucket of any model
  can never be rare. A value seen once against one value present in N buckets gets
  about 1.05/N.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Iterable

from ctdetect.engine.anomaly import stats


def strata_count(total: float) -> int:
    """Number of strata used for the Beta marginal, from the total concentration."""
    if total <= 100.0:
        return 7
    if total <= 1000.0:
        return 5
    if total <= 10000.0:
        return 3
    return 1


def stratum_means(a: float, b: float, n: int) -> list[float]:
    """Conditional means of ``Beta(a, b)`` over ``n`` equal-probability strata."""
    mean = a / (a + b) if a + b > 0 else 0.0
    if n <= 1 or a <= 0.0 or b <= 0.0:
        return [mean]
    # one vectorised call for the n−1 inner quantiles and their Beta(a+1, b) CDFs
    cdfs = list(stats.beta_cdf_at_quantiles(a, b, n)) + [1.0]
    out: list[float] = []
    prev_f = 0.0
    for f in cdfs:
        out.append(mean * n * (f - prev_f))
        prev_f = f
    return out


def cumulative_less_likely(concentrations: dict[str, float]) -> dict[str, float]:
    """``C_i``: summed frequency of the categories no more frequent than each one.

    This is the exact "less likely categories" probability without sampling error
    (what the Dirichlet gives when its total concentration is very large).
    """
    total = sum(concentrations.values())
    if total <= 0:
        return {k: 1.0 for k in concentrations}
    ordered = sorted(concentrations.items(), key=lambda kv: kv[1])
    out: dict[str, float] = {}
    i = 0
    running = 0.0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j][1] == ordered[i][1]:
            running += ordered[j][1] / total
            j += 1
        for k in range(i, j):
            out[ordered[k][0]] = min(running, 1.0)
        i = j
    return out


class _Sorted:
    """Sorted frequencies and their tie-shared cumulative sums, built once per lookup batch."""

    __slots__ = ("freqs", "cums", "total")

    def __init__(self, values: Iterable[float]) -> None:
        vals = sorted(v for v in values if v > 0.0)
        self.total = sum(vals)
        self.freqs: list[float] = []
        self.cums: list[float] = []
        if self.total <= 0.0:
            return
        running = 0.0
        i = 0
        while i < len(vals):
            j = i
            while j < len(vals) and vals[j] == vals[i]:
                running += vals[j]
                j += 1
            f = vals[i] / self.total
            c = min(running / self.total, 1.0)
            for _ in range(i, j):
                self.freqs.append(f)
                self.cums.append(c)
            i = j

    def interpolate(self, x: float) -> float:
        """Cumulative less-likely mass at frequency ``x`` (linear between sorted points)."""
        freqs, cums = self.freqs, self.cums
        r = bisect_left(freqs, x)
        if r >= len(freqs):
            r = len(freqs) - 1
        p_prev = freqs[r - 1] if r > 0 else 0.0
        c_prev = cums[r - 1] if r > 0 else 0.0
        span = freqs[r] - p_prev
        alpha = 1.0 if span <= 0.0 else min((x - p_prev) / span, 1.0)
        alpha = max(alpha, 0.0)
        return (1.0 - alpha) * c_prev + alpha * cums[r]


INTERPOLATION_INFLATION = 1.05


def less_likely_probabilities(concentrations: dict[str, float], wanted: Iterable[str] | None = None) -> dict[str, float]:
    """The rarity probability of each wanted category (all by default), ML-SEMANTICS §2.2.

    Categories absent from ``concentrations`` get the smallest probability of any
    category (Elastic's fallback for a category missing from the prior).
    """
    keys = list(concentrations) if wanted is None else list(wanted)
    positive = {k: v for k, v in concentrations.items() if v > 0.0}
    if not positive:
        return {}
    table = _Sorted(positive.values())
    total = table.total
    n = strata_count(total)
    by_conc: dict[float, float] = {}
    out: dict[str, float] = {}
    missing: list[str] = []
    for key in keys:
        a = positive.get(key)
        if a is None:
            missing.append(key)
            continue
        p = by_conc.get(a)
        if p is None:
            if len(table.freqs) == 1 or table.freqs[0] == table.freqs[-1]:
                p = 1.0
            else:
                strata = stratum_means(a, total - a, n)
                p = sum(table.interpolate(INTERPOLATION_INFLATION * s) for s in strata) / len(strata)
                p = min(max(p, stats.SMALLEST_PROBABILITY), 1.0)
            by_conc[a] = p
        out[key] = p
    if missing:
        if len(by_conc) < len(set(positive.values())):
            every = less_likely_probabilities(positive)
            smallest = min(every.values())
        else:
            smallest = min(by_conc.values())
        for key in missing:
            out[key] = smallest
    return out


def decay_factor(bucket_span_s: int) -> float:
    """Per-bucket multiplicative decay of Elastic's default model (ML-SEMANTICS §1 defaults)."""
    return math.exp(-default_decay_rate(bucket_span_s))


def default_decay_rate(bucket_span_s: int) -> float:
    """``decayRate = 0.0005 · min(1, span / 1800 s)`` per bucket."""
    return 0.0005 * min(1.0, bucket_span_s / 1800.0)


class DecayedDirichlet:
    """Concentrations per category with presence updates and per-bucket decay.

    Also remembers each category's first and last bucket (for the first-occurrence
    explanation and for ``model_prune_window`` pruning).
    """

    __slots__ = ("conc", "first_seen", "last_seen", "total")

    def __init__(self) -> None:
        self.conc: dict[str, float] = {}
        self.first_seen: dict[str, int] = {}
        self.last_seen: dict[str, int] = {}

    def observe(self, present: Iterable[str], bucket_ms: int, decay: float) -> None:
        """Add one presence per value seen in this bucket, then age by one bucket."""
        conc = self.conc
        any_data = False
        for v in present:
            any_data = True
            conc[v] = conc.get(v, 0.0) + 1.0
            if v not in self.first_seen:
                self.first_seen[v] = bucket_ms
            self.last_seen[v] = bucket_ms
        if any_data and decay != 1.0:
            for k in conc:
                conc[k] *= decay

    def prune(self, older_than_ms: int) -> None:
        """Forget categories last seen before ``older_than_ms`` (they come back as new)."""
        for k in [k for k, t in self.last_seen.items() if t < older_than_ms]:
            self.conc.pop(k, None)
            self.first_seen.pop(k, None)
            self.last_seen.pop(k, None)

    def probabilities(self, wanted: Iterable[str]) -> dict[str, float]:
        return less_likely_probabilities(self.conc, wanted)

    def relative_rarity(self, value: str) -> float | None:
        """Median concentration over this value's: "occurs once every n buckets" (§2.3)."""
        a = self.conc.get(value)
        if not a:
            return None
        vals = sorted(self.conc.values())
        m = len(vals)
        median = vals[m // 2] if m % 2 else 0.5 * (vals[m // 2 - 1] + vals[m // 2])
        return median / a

    def to_state(self) -> dict:
        return {"conc": self.conc, "first": self.first_seen, "last": self.last_seen}

    @classmethod
    def from_state(cls, state: dict) -> "DecayedDirichlet":
        obj = cls()
        obj.conc = {k: float(v) for k, v in state["conc"].items()}
        obj.first_seen = {k: int(v) for k, v in state["first"].items()}
        obj.last_seen = {k: int(v) for k, v in state["last"].items()}
        return obj
