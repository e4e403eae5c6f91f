"""Normalisation of raw anomaly scores to 0–100 over the history seen so far.

References: ML-SEMANTICS §6.4; elastic/ml-cpp ``CAnomalyScore::CNormalizer`` (commit
7a29b4b34, ``lib/model/CAnomalyScore.cc``), read and re-implemented in our words.

- Every bucket, each node of the results feeds its raw score into the normalisers it
  belongs to — the raw score when the node's probability is ≤ 0.035, else 0, so normal
  buckets and entities enter the history as zeros. ``countPerSample = 3600 /
  clamp(2·span, 300, 3600)`` consecutive updates are merged by their maximum, discretised
  as ``int(1000·raw + 0.5)`` and added to a q-digest (``qdigest``, k = 201).
- Once the digest holds 200 samples, the scores above its 90th percentile are also kept
  in a second, finer digest, so the highest scores are told apart (ties with many equal
  scores would otherwise share one coarse range).
- A score's percentile is an interval: from the digest's c.d.f. lower bound minus the
  density upper bound at the score (the history certainly below it) to the upper bound
  minus the density lower bound, each widened by the Beta(nF + 1/3, n(1 − F) + 1/3)
  quantile at 15 % / 85 % (a 70 % credible interval).
- Each bucket the per-scope maxima (scope = partition name and value, person name and
  value; one shared scope for population analyses) age by ``exp(−2·decayRate')``, with
  ``decayRate' = decayRate · max(span/1800, 1)``; a scope is forgotten after 50 buckets
  without any update, zero scores included. The digests age by ``exp(−decayRate)`` once
  every ``20·countPerSample`` buckets (counts rounded, never below 1).
- The normalised score is the minimum of four ceilings, each at most 100:

  1. noise: ``max(1 + 10·(d − median d)/1000, 0) + 100·max(2·min(F_lo(0) + F_hi(0), 1) − 1, 0)``
     (inactive while at least half of the history is zeros);
  2. percentile: the ends of the percentile interval mapped through the knots (0,0)
     (70,1) (85,1.2) (90,1.5) (95,3) (97,20) (99,50) (99.9,90) (100,100), averaged;
  3. max score: ``100·min(1.5·r, 0.5 + 0.5·r)`` with ``r = raw / scope max``;
  4. the absolute cap ``scores.absolute_cap`` of the probability the raw score stands for.
"""

from __future__ import annotations

import math
from typing import Any

from ctdetect.engine.anomaly.qdigest import QDigest, cdf_quantile
from ctdetect.engine.anomaly.scores import MAXIMUM_ANOMALOUS_PROBABILITY, absolute_cap, inverse_raw_score

KNOTS = ((0.0, 0.0), (70.0, 1.0), (85.0, 1.2), (90.0, 1.5), (95.0, 3.0), (97.0, 20.0), (99.0, 50.0), (99.9, 90.0), (100.0, 100.0))
DISCRETISATION = 1000.0
DIGEST_K = 201
HIGH_PERCENTILE = 90.0
QUANTILE_DECAY_TIME = 20.0
MAX_SCORE_FORGET_BUCKETS = 50
NOISE_PERCENTILE = 50.0
CONFIDENCE = 70.0
NO_HIGH_PERCENTILE = 2**32 - 1  # "not estimated yet": every score counts as below it


def count_per_sample(bucket_span_s: int) -> int:
    """How many consecutive updates are merged (by max) into one history sample."""
    return max(1, int(3600 // min(max(2 * bucket_span_s, 300), 3600)))


def discrete(score: float) -> int:
    """The digest's integer for a raw score."""
    return int(DISCRETISATION * score + 0.5)


def _knot_score(percentile: float) -> float:
    """The knot curve at ``percentile``: linear between the knot at or above it and the one before."""
    for i in range(1, len(KNOTS)):
        x1, y1 = KNOTS[i]
        if x1 >= percentile:
            x0, y0 = KNOTS[i - 1]
            return y0 + (y1 - y0) * (percentile - x0) / (x1 - x0)
    return 100.0


def raised_max(entry: "tuple[float, int, int] | None", score: float, now: int, decay: float) -> tuple[float, int, int]:
    """A scope's maximum entry ``(max raw when set, bucket it was set, bucket of the last
    update)`` after an update with ``score`` at bucket ``now``: raised if ``score`` exceeds
    the aged maximum, restarted if the scope was forgotten, kept alive in any case.

    Entries are tuples, replaced at each update rather than edited: a tuple of numbers is
    untracked by the garbage collector the first time a collection sees it (lists never
    are), and a normaliser keeps one per scope (about half
    of the objects the collector walked in a package run when these were lists).

    A score of 0 (most updates: every node at p > 0.035 is fed 0) keeps a live maximum
    without ageing it, because no score fed here is negative: a leaf's or node's raw score
    is 0 or made by ``scores.raw_score`` (every probability to [0, 100]) or
    ``scores.aggregate`` (0, or a positive sum of such scores), and the one NaN raw score
    (of a NaN probability) is fed as 0. Every maximum is one of those scores (or a saved
    state's copy of one), so the aged maximum ``max × decay^age`` is never below 0 and
    ``0 > it`` never holds: the ``decay ** age`` skipped is the same answer, and most of this
    function's cost. ``tests/anomaly/test_anomaly_normalizer_semantics.py`` holds both the
    scores' sign and the shortcut against the comparison it skips."""
    if entry is None or now - entry[2] > MAX_SCORE_FORGET_BUCKETS:
        return (score, now, now)
    if score == 0.0:
        return (entry[0], entry[1], now)
    if score > entry[0] * decay ** (now - entry[1]):
        return (score, now, now)
    return (entry[0], entry[1], now)


class Normalizer:
    """One normaliser: a score digest, a high-percentile digest and per-scope maxima."""

    def __init__(self, bucket_span_s: int, decay_rate: float) -> None:
        self.bucket_span_s = bucket_span_s
        self.decay_rate = decay_rate
        self.max_decay = math.exp(-2.0 * decay_rate * max(bucket_span_s / 1800.0, 1.0))
        self.per_sample = count_per_sample(bucket_span_s)
        self.digest = QDigest(DIGEST_K, decay_rate)
        self.high_digest = QDigest(DIGEST_K, decay_rate)
        self.high_score = NO_HIGH_PERCENTILE
        self.high_count = 0
        self.sample = 0.0
        self.since_sample = 0
        self.time_to_decay = QUANTILE_DECAY_TIME
        # scope -> (max raw when set, bucket it was set, bucket of the last update), see
        # ``raised_max``; the maximum ages lazily (value × decay^(buckets since set)), so a
        # bucket costs the same however many scopes there are
        self.max_scores: dict[str, tuple[float, int, int]] = {}
        self.now = 0

    # ------------------------------------------------------------------ time
    def age(self) -> None:
        """Advance by one bucket: forget idle scopes; age the digests every 20 samples' time."""
        self.now += 1
        if self.now % MAX_SCORE_FORGET_BUCKETS == 0:
            now = self.now
            stale = [k for k, e in self.max_scores.items() if now - e[2] > MAX_SCORE_FORGET_BUCKETS]
            for k in stale:
                del self.max_scores[k]
        self.time_to_decay -= 1.0 / self.per_sample
        if self.time_to_decay <= 0.0:
            periods = math.floor((QUANTILE_DECAY_TIME - self.time_to_decay) / QUANTILE_DECAY_TIME)
            n = self.digest.n
            self.digest.propagate_forwards_by_time(periods)
            self.high_digest.propagate_forwards_by_time(periods)
            if n > 0:
                self.high_count = int(self.digest.n / n * self.high_count + 0.5)
            self.time_to_decay += QUANTILE_DECAY_TIME + math.floor(-self.time_to_decay / QUANTILE_DECAY_TIME)

    # ------------------------------------------------------------------ updates
    def _scope_max(self, scope: str) -> float | None:
        entry = self.max_scores.get(scope)
        if entry is None or self.now - entry[2] > MAX_SCORE_FORGET_BUCKETS:
            return None
        return entry[0] * self.max_decay ** (self.now - entry[1])

    def _update_max(self, score: float, scope: str) -> None:
        """Raise the scope's maximum if ``score`` exceeds it; any update keeps the scope alive."""
        self.max_scores[scope] = raised_max(self.max_scores.get(scope), score, self.now, self.max_decay)

    def update(self, raw: float, p: float, scope: str) -> None:
        """Feed one node's score (0 when p > 0.035) into the history and its scope max."""
        self.update_score(raw if p <= MAXIMUM_ANOMALOUS_PROBABILITY else 0.0, scope)

    def update_many(self, items: "list[tuple[float, float, str]]") -> None:
        """``update(raw, p, scope)`` for each item, in order.

        The scope maxima and the digests do not read each other, so the maxima are
        updated item by item and the history samples the items make are then added to the
        digests together (``_add_samples``): most of a bucket's samples are the same
        score (0, the normal entities), and a run of them is one digest update.
        """
        cut = MAXIMUM_ANOMALOUS_PROBABILITY
        per_sample = self.per_sample
        sample, since = self.sample, self.since_sample
        samples: list[int] = []
        # ``_update_max`` without its method call per item (most of this loop's time)
        maxima = self.max_scores
        now = self.now
        decay = self.max_decay
        for raw, p, scope in items:
            score = raw if p <= cut else 0.0
            maxima[scope] = raised_max(maxima.get(scope), score, now, decay)
            if score > sample:
                sample = score
            since += 1
            if since >= per_sample:
                samples.append(discrete(sample))
                since = 0
                sample = 0.0
        self.sample, self.since_sample = sample, since
        self._add_samples(samples)

    def update_score(self, score: float, scope: str) -> None:
        """Add a raw score to the scope's maximum and, one sample in ``countPerSample``, to the digests."""
        self._update_max(score, scope)
        if score > self.sample:
            self.sample = score
        self.since_sample += 1
        if self.since_sample < self.per_sample:
            return
        d = discrete(self.sample)
        self.since_sample = 0
        self.sample = 0.0
        self._add_sample(d)

    def _add_samples(self, samples: list[int]) -> None:
        """``_add_sample`` of each sample in turn, a run of equal samples in one digest update
        where that is the same as one at a time (``_bulk_count``)."""
        i, end = 0, len(samples)
        while i < end:
            d = samples[i]
            j = i + 1
            while j < end and samples[j] == d:
                j += 1
            left = j - i
            while left > 1:
                bulk = self._bulk_count(d, left - 1)
                if not bulk:
                    break
                self.digest.add(d, bulk)
                self.high_count += bulk
                left -= bulk
            for _ in range(left):
                self._add_sample(d)
            i = j

    def _bulk_count(self, d: int, most: int) -> int:
        """How many of ``most`` samples ``d`` can be added as one count, exactly as adding them one by one.

        One at a time, a sample whose value's leaf is held (with a count) and not above
        the high cut only raises counts: nothing is compressed, the high digest is not
        touched and the cut does not move, until the digest's size reaches a multiple
        of k (the compression factor ``n // k`` changes, the high digest starts or its
        cut is refreshed). So: none when the leaf is not held or ``d`` is above the cut,
        else as many as keep the size short of the next multiple of k.
        """
        if d > self.high_score:
            return 0
        digest = self.digest
        if not digest.holds_leaf(d):
            return 0
        return min(most, digest.k - 1 - digest.n % digest.k)

    def _add_sample(self, d: int) -> None:
        digest, high = self.digest, self.high_digest
        n, k = digest.n, digest.k
        if n + 1 == k:
            self._start_high_digest(n)
        digest.add(d)
        if d <= self.high_score:
            self.high_count += 1
        else:
            high.add(d)
        if n + 1 > k and (n + 1) % k == 0:
            self._refresh_high_percentile(n + 1)

    def _start_high_digest(self, n: int) -> None:
        """Just before the digest first compresses it holds every distinct score: seed the
        high digest with those above the 90th percentile."""
        summary = self.digest.summary()
        if not summary:
            return
        target = int(HIGH_PERCENTILE / 100.0 * n + 0.5)
        self.high_score, self.high_count = summary[0]
        i = 1
        while i < len(summary):
            if summary[i][1] > target:
                self.high_score, self.high_count = summary[i - 1]
                break
            i += 1
        self.high_count = min(self.high_count, n)
        for j in range(i, len(summary)):
            self.high_digest.add(summary[j][0], summary[j][1] - summary[j - 1][1])

    def _refresh_high_percentile(self, n: int) -> None:
        """Every k samples, move the 90th-percentile cut: down by feeding the high digest
        the coarse digest's mass between the new and old cut, or up by re-reading it."""
        target = int(HIGH_PERCENTILE / 100.0 * n + 0.5)
        if self.high_count > target:
            low = self.digest.summary()
            high = self.high_digest.summary()
            i0 = len(low) - 1
            for idx, (_, c) in enumerate(low):
                if c >= target:
                    i0 = idx
                    break
            j = max(len(high) - 1, 0)
            for idx, (v, _) in enumerate(high):
                if v > low[i0][0]:
                    j = idx
                    break
            r = low[i0][1]
            i = i0 + 1
            while i < len(low) and low[i0][1] + self.high_digest.n < n:
                while j < len(high) and high[j][0] <= low[i][0]:
                    r += high[j][1] - (high[j - 1][1] if j > 0 else 0)
                    j += 1
                m = low[i][1] - r if r < low[i][1] else 0
                r += m
                if m > 0:
                    self.high_digest.add(low[i][0], m)
                i += 1
            self.high_score, self.high_count = low[i0]
            if self.high_count > n:
                self.high_count = n - 1
        else:
            self.high_score = self.digest.quantile(HIGH_PERCENTILE / 100.0)
            lower, _ = self.digest.cdf(self.high_score)
            self.high_count = int(n * lower + 0.5)

    # ------------------------------------------------------------------ queries
    def percentile_interval(self, raw: float) -> tuple[float, float]:
        """The 70 % credible interval of the fraction of history below ``raw`` (0–1)."""
        d = discrete(raw)
        digest, high = self.digest, self.high_digest
        n = float(digest.n)
        q_lo, q_hi = (100.0 - CONFIDENCE) / 200.0, (100.0 + CONFIDENCE) / 200.0
        f = min(max(self.high_count / n, 0.0), 1.0)
        fl = cdf_quantile(n, f, q_lo)
        fu = cdf_quantile(n, f, q_hi)
        if d <= self.high_score or high.n == 0:
            lower, upper = digest.cdf(d)
            pdf_lo, pdf_hi = digest.pdf(d)
            lower = min(max(lower - pdf_hi, 0.0), fl)
            upper = min(max(upper - pdf_lo, 0.0), fu)
        else:
            lower, upper = high.cdf(d)
            cut_lo, cut_hi = high.cdf(self.high_score)
            pdf_lo, pdf_hi = high.pdf(d)
            eps = 2.220446049250313e-16
            lower = fl + (1.0 - fl) * max(lower - cut_hi - pdf_hi, 0.0) / max(1.0 - cut_hi, eps)
            upper = fu + (1.0 - fu) * max(upper - cut_lo - pdf_lo, 0.0) / max(1.0 - cut_lo, eps)
        return cdf_quantile(n, lower, q_lo), cdf_quantile(n, upper, q_hi)

    def normalize(self, raw: float, p: float, scope: str, use_max: bool = True) -> float:
        """The 0–100 score of a node with raw score ``raw`` (``p`` is its probability, kept
        for the callers; the absolute cap reads the probability the raw score stands for)."""
        if raw <= 0.0 or self.digest.n == 0:
            return 0.0
        digest = self.digest
        d = discrete(raw)
        ceilings = [100.0]
        # 1. noise
        noise = digest.quantile(NOISE_PERCENTILE / 100.0)
        signal = 10.0 / DISCRETISATION * (d - noise)
        f0_lo, f0_hi = digest.cdf(0)
        ceilings.append(max(1.0 + signal, 0.0) + 100.0 * max(2.0 * min(50.0 * (f0_lo + f0_hi) / NOISE_PERCENTILE, 1.0) - 1.0, 0.0))
        # 2. percentile credible interval through the knots
        lo, hi = self.percentile_interval(raw)
        lo, hi = sorted((min(max(100.0 * lo, 0.0), 100.0), min(max(100.0 * hi, 0.0), 100.0)))
        ceilings.append(0.5 * (_knot_score(lo) + _knot_score(hi)))
        # 3. scope maximum
        if use_max:
            top = self._scope_max(scope)
            if top is not None and top > 0.0:
                r = raw / top
                ceilings.append(100.0 * min(1.5 * r, 0.5 + 0.5 * r))
        # 4. absolute cap
        ceilings.append(absolute_cap(inverse_raw_score(raw)))
        return max(min(ceilings), 0.0)

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        return {
            "digest": self.digest.to_state(),
            "high_digest": self.high_digest.to_state(),
            "high_score": self.high_score,
            "high_count": self.high_count,
            "sample": self.sample,
            "since_sample": self.since_sample,
            "time_to_decay": self.time_to_decay,
            "max_scores": self.max_scores,
            "now": self.now,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.digest = _digest(state["digest"], self.decay_rate)
        self.high_digest = _digest(state["high_digest"], self.decay_rate)
        self.high_score = int(state["high_score"])
        self.high_count = int(state["high_count"])
        self.sample = float(state["sample"])
        self.since_sample = int(state["since_sample"])
        self.time_to_decay = float(state["time_to_decay"])
        self.max_scores = {k: (float(v[0]), int(v[1]), int(v[2])) for k, v in state["max_scores"].items()}
        self.now = int(state["now"])


def _digest(state: dict[str, Any], decay_rate: float) -> QDigest:
    nodes = [(int(a), int(b), int(c)) for a, b, c in state["nodes"]]
    return QDigest.from_nodes(int(state["k"]), int(state["n"]), nodes, decay_rate)
