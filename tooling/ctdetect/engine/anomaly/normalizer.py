"""Normalisation of raw anomaly scores to 0–100 over the history seen so far.

Reference: ML-SEMANTICS §6.4; Elastic blogs "Machine Learning Anomaly Scoring and
Elasticsearch – How it Works" and "Changes to Elastic Machine Learning Anomaly Scoring
in 6.5". Algorithm, in our words:

- Every bucket, each node of the results feeds its raw score into the normalisers it
  belongs to — the raw score when the node's probability is ≤ 0.035, else 0, so normal
  buckets and entities enter the history as zeros. Scores are discretised as
  ``round(1000·raw)``; ``countPerSample = 3600 / clamp(2·span, 300, 3600)`` consecutive
  updates are merged by their maximum before entering the history.
- The history is a weighted histogram (Elastic keeps q-digests; an exact histogram of
  discretised scores is the same distribution without the digest's compression error).
  Every 20 buckets its weights age by ``exp(−20·decayRate)``.
- A per-scope maximum raw score (scope = partition name and value, person name and
  value; shared for population analyses) ages by ``exp(−2·decayRate')`` per bucket with
  ``decayRate' = decayRate · max(span/1800, 1)`` and is forgotten after 50 buckets
  without an update.
- The normalised score is the minimum of four ceilings, each at most 100:

  1. noise: ``max(1 + 10·(raw − median raw), 0) + 100·max(2·min(F(0)/0.5, 1) − 1, 0)``
     (inactive while at least half of the history is zeros);
  2. percentile: the 70 % credible interval of the score's percentile (the fraction of
     history strictly below it, widened with Beta(nF + 1/3, n(1 − F) + 1/3) quantiles at
     15 % and 85 %) mapped through the knots (0,0) (70,1) (85,1.2) (90,1.5) (95,3)
     (97,20) (99,50) (99.9,90) (100,100), the two ends averaged;
  3. max score: ``100·min(1.5·r, 0.5 + 0.5·r)`` with ``r = raw / scope max``;
  4. the absolute cap of ``scores.absolute_cap(p)``.
"""

from __future__ import annotations

import math
from typing import Any

from ctdetect.engine.anomaly import stats
from ctdetect.engine.anomaly.scores import MAXIMUM_ANOMALOUS_PROBABILITY, absolute_cap

KNOTS = ((0.0, 0.0), (70.0, 1.0), (85.0, 1.2), (90.0, 1.5), (95.0, 3.0), (97.0, 20.0), (99.0, 50.0), (99.9, 90.0), (100.0, 100.0))
DISCRETISATION = 1000.0
QUANTILE_DECAY_BUCKETS = 20
MAX_SCORE_FORGET_BUCKETS = 50
CONFIDENCE_LOW, CONFIDENCE_HIGH = 0.15, 0.85


def count_per_sample(bucket_span_s: int) -> int:
    """How many consecutive updates are merged (by max) into one history sample."""
    return max(1, int(3600 // min(max(2 * bucket_span_s, 300), 3600)))


def _knot_score(percentile: float) -> float:
    percentile = min(max(percentile, 0.0), 100.0)
    for (x0, y0), (x1, y1) in zip(KNOTS, KNOTS[1:]):
        if percentile <= x1:
            return y0 + (y1 - y0) * (percentile - x0) / (x1 - x0)
    return 100.0


class Normalizer:
    """One normaliser: a score history plus per-scope maximum scores."""

    def __init__(self, bucket_span_s: int, decay_rate: float) -> None:
        self.bucket_span_s = bucket_span_s
        self.decay_rate = decay_rate
        self.max_decay = math.exp(-2.0 * decay_rate * max(bucket_span_s / 1800.0, 1.0))
        self.per_sample = count_per_sample(bucket_span_s)
        self.hist: dict[int, float] = {}
        self.pending: int | None = None
        self.pending_count = 0
        self.max_scores: dict[str, list[float]] = {}  # scope -> [max raw, set at, last updated]
        self.to_decay = QUANTILE_DECAY_BUCKETS
        self.now = 0  # buckets aged so far

    # ------------------------------------------------------------------ updates
    def age(self) -> None:
        """Advance by one bucket: age max scores and, every 20 buckets, the history.

        Max scores age lazily (value × decay^(buckets since it was set)), so a bucket
        costs the same however many scopes there are; stale scopes are swept every
        50 buckets.
        """
        self.now += 1
        if self.now % MAX_SCORE_FORGET_BUCKETS == 0:
            now = self.now
            stale = [k for k, e in self.max_scores.items() if now - e[2] > MAX_SCORE_FORGET_BUCKETS]
            for k in stale:
                del self.max_scores[k]
        self.to_decay -= 1
        if self.to_decay <= 0:
            factor = math.exp(-self.decay_rate * QUANTILE_DECAY_BUCKETS)
            for k in self.hist:
                self.hist[k] *= factor
            self.to_decay = QUANTILE_DECAY_BUCKETS

    def _scope_max(self, scope: str) -> float | None:
        entry = self.max_scores.get(scope)
        if entry is None or self.now - entry[2] > MAX_SCORE_FORGET_BUCKETS:
            return None
        return entry[0] * self.max_decay ** (self.now - entry[1])

    def update(self, raw: float, p: float, scope: str) -> None:
        """Feed one node's score (0 when p > 0.035) into the history and its scope max."""
        score = raw if p <= MAXIMUM_ANOMALOUS_PROBABILITY else 0.0
        d = int(round(DISCRETISATION * score))
        if self.per_sample == 1:
            self.hist[d] = self.hist.get(d, 0.0) + 1.0
        else:
            self.pending = d if self.pending is None else max(self.pending, d)
            self.pending_count += 1
            if self.pending_count >= self.per_sample:
                self.hist[self.pending] = self.hist.get(self.pending, 0.0) + 1.0
                self.pending = None
                self.pending_count = 0
        if score <= 0.0:
            return  # a zero never raises a scope's maximum nor keeps it alive
        entry = self.max_scores.get(scope)
        now = self.now
        if entry is None:
            # [max raw when set, bucket it was set, bucket of the last non-zero update]
            self.max_scores[scope] = [score, now, now]
            return
        current = self._scope_max(scope)
        if current is None or score > current:
            entry[0] = score
            entry[1] = now
        entry[2] = now

    def update_many(self, items: "list[tuple[float, float, str]]") -> None:
        """``update(raw, p, scope)`` for each item, in order, in one call (same state after).

        A bucket feeds thousands of influencer values to one normaliser, nearly all with
        a zero score: the history sample and the scope-maximum bookkeeping are inlined
        here so each costs a few operations instead of a method call.
        """
        cut = MAXIMUM_ANOMALOUS_PROBABILITY
        hist = self.hist
        per_sample = self.per_sample
        pending = self.pending
        pending_count = self.pending_count
        max_scores = self.max_scores
        now = self.now
        for raw, p, scope in items:
            score = raw if p <= cut else 0.0
            d = int(round(DISCRETISATION * score))
            if per_sample == 1:
                hist[d] = hist.get(d, 0.0) + 1.0
            else:
                pending = d if pending is None else max(pending, d)
                pending_count += 1
                if pending_count >= per_sample:
                    hist[pending] = hist.get(pending, 0.0) + 1.0
                    pending = None
                    pending_count = 0
            if score <= 0.0:
                continue
            entry = max_scores.get(scope)
            if entry is None:
                max_scores[scope] = [score, now, now]
                continue
            current = self._scope_max(scope)
            if current is None or score > current:
                entry[0] = score
                entry[1] = now
            entry[2] = now
        self.pending = pending
        self.pending_count = pending_count

    # ------------------------------------------------------------------ queries
    def normalize(self, raw: float, p: float, scope: str, use_max: bool = True) -> float:
        """The 0–100 score of a node with raw score ``raw`` and probability ``p``."""
        if raw <= 0.0:
            return 0.0
        total = sum(self.hist.values())
        if self.pending is not None:
            total_with_pending = total + 1.0
        else:
            total_with_pending = total
        if total_with_pending <= 0.0:
            return 0.0
        hist = dict(self.hist)
        if self.pending is not None:  # the current bucket always counts towards itself
            hist[self.pending] = hist.get(self.pending, 0.0) + 1.0
        total = total_with_pending
        d = int(round(DISCRETISATION * raw))
        ceilings = [100.0]
        # 1. noise
        acc = 0.0
        median = 0
        for k in sorted(hist):
            acc += hist[k]
            if acc >= 0.5 * total:
                median = k
                break
        f_zero = hist.get(0, 0.0) / total
        signal = 10.0 / DISCRETISATION * (d - median)
        ceilings.append(max(1.0 + signal, 0.0) + 100.0 * max(2.0 * min(f_zero / 0.5, 1.0) - 1.0, 0.0))
        # 2. percentile credible interval through the knots
        below = sum(w for k, w in hist.items() if k < d)
        f = below / total
        a, b = total * f + 1.0 / 3.0, total * (1.0 - f) + 1.0 / 3.0
        lo = stats.beta_ppf(CONFIDENCE_LOW, a, b)
        hi = stats.beta_ppf(CONFIDENCE_HIGH, a, b)
        ceilings.append(0.5 * (_knot_score(100.0 * lo) + _knot_score(100.0 * hi)))
        # 3. scope maximum
        if use_max:
            top = self._scope_max(scope)
            if top is not None and top > 0.0:
                r = min(raw / top, 1.0)
                ceilings.append(100.0 * min(1.5 * r, 0.5 + 0.5 * r))
        # 4. absolute cap
        ceilings.append(absolute_cap(p))
        return max(min(ceilings), 0.0)

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        return {
            "hist": {str(k): v for k, v in self.hist.items()},
            "pending": self.pending,
            "pending_count": self.pending_count,
            "max_scores": self.max_scores,
            "to_decay": self.to_decay,
            "now": self.now,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.hist = {int(k): float(v) for k, v in state["hist"].items()}
        self.pending = state["pending"]
        self.pending_count = int(state["pending_count"])
        self.max_scores = {k: [float(v[0]), int(v[1]), int(v[2])] for k, v in state["max_scores"].items()}
        self.to_decay = int(state["to_decay"])
        self.now = int(state["now"])
