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
from typing import Any, Iterable

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


INTERPOLATION_INFLATION = 1.05
SMALL_MODEL = 12  # up to this many categories plain Python beats numpy's per-call overhead


def _table(vals: list[float]) -> tuple[list[float], list[float], float]:
    """Sorted frequencies and tie-shared cumulative sums of the concentrations ``vals``."""
    vals = sorted(vals)
    total = sum(vals)
    freqs: list[float] = []
    cums: list[float] = []
    running = 0.0
    i = 0
    while i < len(vals):
        j = i
        while j < len(vals) and vals[j] == vals[i]:
            running += vals[j]
            j += 1
        c = min(running / total, 1.0)
        for _ in range(i, j):
            freqs.append(vals[i] / total)
            cums.append(c)
        i = j
    return freqs, cums, total


def _interpolated_mean(freqs: list[float], cums: list[float], strata: Iterable[float]) -> float:
    """Average over strata of the cumulative less-likely mass at 1.05 × each stratum mean."""
    last = len(freqs) - 1
    acc = 0.0
    k = 0
    for s_k in strata:
        x = INTERPOLATION_INFLATION * s_k
        r = min(bisect_left(freqs, x), last)
        p_prev = freqs[r - 1] if r > 0 else 0.0
        c_prev = cums[r - 1] if r > 0 else 0.0
        span = freqs[r] - p_prev
        alpha = 1.0 if span <= 0.0 else min(max((x - p_prev) / span, 0.0), 1.0)
        acc += (1.0 - alpha) * c_prev + alpha * cums[r]
        k += 1
    return min(max(acc / k, stats.SMALLEST_PROBABILITY), 1.0)


def _less_likely_small(positive: dict[str, float], keys: list[str]) -> dict[str, float]:
    """The same computation as ``less_likely_probabilities`` for a handful of categories."""
    freqs, cums, total = _table(list(positive.values()))
    if freqs[0] == freqs[-1]:
        return {k: 1.0 for k in keys}
    n = strata_count(total)
    by_conc: dict[float, float] = {}
    out: dict[str, float] = {}
    for k in keys:
        a = positive[k]
        p = by_conc.get(a)
        if p is None:
            p = by_conc[a] = _interpolated_mean(freqs, cums, stratum_means(a, total - a, n))
        out[k] = p
    return out


def _strata(a: float, total: float, n: int, special: Any) -> list[float]:
    """The ``n`` stratum means of the marginal ``Beta(a, total − a)`` of a category with
    concentration ``a`` (``stratum_means`` with the total as given, not ``a + b``): scipy's
    Beta quantiles at k/n and the ``Beta(a + 1, b)`` c.d.f. there, one value at a time.

    ``special`` is ``stats.scalar_special()``: compiled, scipy's C functions (the ones its
    ufuncs run, so bit-identical) without a numpy array per call, which for the few pairs
    a bucket's partitions have cost more than the maths; pure Python, the ufuncs on scalars.
    Each operation is the one the former vectorised form made elementwise, in its order:
    ``mean · n · (F_k − F_{k−1})`` with ``F_0 = 0`` and ``F_n = 1``."""
    mean = a / total
    if n == 1:
        return [mean]
    b = total - a
    out: list[float] = []
    prev_f = 0.0
    for k in range(1, n):
        f = float(special.betainc(a + 1.0, b, float(special.betaincinv(a, b, k / n))))
        out.append(mean * n * (f - prev_f))
        prev_f = f
    out.append(mean * n * (1.0 - prev_f))
    return out


def batch_less_likely(requests: list[tuple[dict[str, float], list[str]]]) -> list[dict[str, float]]:
    """``less_likely_probabilities`` for many models at once (every partition of a bucket).

    Partitions often share (concentration, total) pairs (entities seen in the same
    buckets): each distinct pair's strata (``_strata``) are computed once per bucket; the
    interpolation stays per model. Same values as calling the function per model.
    """
    out: list[dict[str, float]] = [{} for _ in requests]
    pending: list[tuple[int, float, float, list[float], list[float]]] = []
    to_fill: list[int] = []
    for i, (conc, keys) in enumerate(requests):
        positive = {k: v for k, v in conc.items() if v > 0.0}
        if not positive:
            continue
        if any(k not in positive for k in keys):  # rare fallback path: compute this one alone
            out[i] = less_likely_probabilities(conc, keys)
            continue
        freqs, cums, total = _table(list(positive.values()))
        if freqs[0] == freqs[-1]:
            out[i] = {k: 1.0 for k in keys}
            continue
        for a in {positive[k] for k in keys}:
            pending.append((i, a, total, freqs, cums))
        out[i] = {k: positive[k] for k in keys}  # concentrations, replaced below
        to_fill.append(i)
    special = stats.scalar_special()
    rows: dict[tuple[float, float], list[float]] = {}
    results: dict[tuple[int, float], float] = {}
    for i, a, t, freqs, cums in pending:
        row = rows.get((a, t))
        if row is None:
            row = rows[(a, t)] = _strata(a, t, strata_count(t), special)
        results[(i, a)] = _interpolated_mean(freqs, cums, row)
    for i in to_fill:
        out[i] = {k: results[(i, a)] for k, a in out[i].items()}
    return out


def less_likely_probabilities(concentrations: dict[str, float], wanted: Iterable[str] | None = None) -> dict[str, float]:
    """The rarity probability of each wanted category (all by default), ML-SEMANTICS §2.2.

    Vectorised over the wanted categories and their strata (one numpy pass per call).
    Categories absent from ``concentrations`` get the smallest probability of any
    category (Elastic's fallback for a category missing from the prior).
    """
    keys = list(concentrations) if wanted is None else list(wanted)
    positive = {k: v for k, v in concentrations.items() if v > 0.0}
    if not positive:
        return {}
    if len(positive) <= SMALL_MODEL and all(k in positive for k in keys):
        return _less_likely_small(positive, keys)
    import numpy as np

    order = np.sort(np.fromiter(positive.values(), dtype=float, count=len(positive)))
    total = float(order.sum())
    if order[0] == order[-1]:  # one category, or all tied: nothing is less likely
        return {k: 1.0 for k in keys}
    freqs = order / total
    cums = np.minimum((np.cumsum(order) / total)[np.searchsorted(order, order, side="right") - 1], 1.0)
    present = [k for k in keys if k in positive]
    missing = len(present) < len(keys)
    distinct = sorted({positive[k] for k in present}) if not missing else sorted(set(positive.values()))
    a = np.asarray(distinct, dtype=float)
    n = strata_count(total)
    mean = a / total
    if n == 1:
        strata = mean[:, None]
    else:
        b = total - a
        qs = np.arange(1, n) / n
        special = stats.ufunc_special()
        xk = special.betaincinv(a[:, None], b[:, None], qs[None, :])
        f = special.betainc(a[:, None] + 1.0, b[:, None], xk)
        f = np.concatenate([np.zeros((len(a), 1)), f, np.ones((len(a), 1))], axis=1)
        strata = mean[:, None] * n * np.diff(f, axis=1)
    x = INTERPOLATION_INFLATION * strata
    r = np.minimum(np.searchsorted(freqs, x, side="left"), len(freqs) - 1)
    has_prev = r > 0
    rp = np.maximum(r - 1, 0)
    p_prev = np.where(has_prev, freqs[rp], 0.0)
    c_prev = np.where(has_prev, cums[rp], 0.0)
    span = freqs[r] - p_prev
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(span > 0.0, np.clip((x - p_prev) / np.where(span > 0.0, span, 1.0), 0.0, 1.0), 1.0)
    probs = ((1.0 - alpha) * c_prev + alpha * cums[r]).mean(axis=1)
    probs = np.clip(probs, stats.SMALLEST_PROBABILITY, 1.0)
    by_conc = dict(zip(distinct, probs.tolist()))
    out = {k: by_conc[positive[k]] for k in present}
    if missing:
        smallest = min(by_conc.values())
        for k in keys:
            if k not in positive:
                out[k] = smallest
    return out


def decay_factor(bucket_span_s: int) -> float:
    """Per-bucket multiplicative decay of Elastic's default model (ML-SEMANTICS §1 defaults)."""
    return math.exp(-default_decay_rate(bucket_span_s))


def default_decay_rate(bucket_span_s: int) -> float:
    """``decayRate = 0.0005 · min(1, span / 1800 s)`` per bucket."""
    return 0.0005 * min(1.0, bucket_span_s / 1800.0)


class DecayedDirichlet:
    """Concentrations per category with presence updates and per-bucket decay.

    Decay multiplies every concentration by the same factor, so it is kept as one
    running scale (true concentration = stored × scale): a bucket costs O(values
    present), not O(values known). Also remembers each category's first and last
    bucket (for the first-occurrence explanation and ``model_prune_window`` pruning).
    """

    __slots__ = ("stored", "scale", "first_seen", "last_seen")

    def __init__(self) -> None:
        self.stored: dict[str, float] = {}
        self.scale = 1.0
        self.first_seen: dict[str, int] = {}
        self.last_seen: dict[str, int] = {}

    @property
    def conc(self) -> dict[str, float]:
        """True (decayed) concentrations."""
        sc = self.scale
        return {k: v * sc for k, v in self.stored.items()}

    def observe(self, present: Iterable[str], bucket_ms: int, decay: float) -> None:
        """Add one presence per value seen in this bucket, then age by one bucket."""
        stored = self.stored
        inc = 1.0 / self.scale
        any_data = False
        for v in present:
            any_data = True
            stored[v] = stored.get(v, 0.0) + inc
            if v not in self.first_seen:
                self.first_seen[v] = bucket_ms
            self.last_seen[v] = bucket_ms
        if any_data and decay != 1.0:
            self.scale *= decay
            if self.scale < 1e-200:  # fold the scale back in long before it underflows
                for k in stored:
                    stored[k] *= self.scale
                self.scale = 1.0

    def prune(self, older_than_ms: int) -> None:
        """Forget categories last seen before ``older_than_ms`` (they come back as new)."""
        for k in [k for k, t in self.last_seen.items() if t < older_than_ms]:
            self.stored.pop(k, None)
            self.first_seen.pop(k, None)
            self.last_seen.pop(k, None)

    def forget(self, values: Iterable[str]) -> None:
        """Forget these categories (pruned by their owner: they come back as new)."""
        for k in values:
            self.stored.pop(k, None)
            self.first_seen.pop(k, None)
            self.last_seen.pop(k, None)

    def probabilities(self, wanted: Iterable[str]) -> dict[str, float]:
        return less_likely_probabilities(self.conc, wanted)

    def relative_rarity(self, value: str) -> float | None:
        """Median concentration over this value's: "occurs once every n buckets" (§2.3)."""
        a = self.stored.get(value)
        if not a:
            return None
        vals = sorted(self.stored.values())
        m = len(vals)
        median = vals[m // 2] if m % 2 else 0.5 * (vals[m // 2 - 1] + vals[m // 2])
        return median / a

    def to_state(self) -> dict:
        return {"conc": self.stored, "scale": self.scale, "first": self.first_seen, "last": self.last_seen}

    @classmethod
    def from_state(cls, state: dict) -> "DecayedDirichlet":
        obj = cls()
        obj.stored = {k: float(v) for k, v in state["conc"].items()}
        obj.scale = float(state["scale"])
        obj.first_seen = {k: int(v) for k, v in state["first"].items()}
        obj.last_seen = {k: int(v) for k, v in state["last"].items()}
        return obj
