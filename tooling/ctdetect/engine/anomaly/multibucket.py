"""ml-cpp's multi-bucket feature: a slow shift that no single bucket shows.

``CTimeSeriesMultibucketMean`` (elastic/ml-cpp ``include/maths/time_series/
CTimeSeriesMultibucketFeatures.h``), in our words: the last 12 bucket residuals of a
series are kept; their mean, weighting each bucket 0.9× the next newer one, is the
feature, available once at least 9 of the 12 slots are filled. The feature has its own
residual prior, and its probability is joined with the bucket's own through the
correlated joint probability, with the correlation ``√((1 − 0.81) / (1 − 0.81^L))`` that
follows from the weights (L = buckets in the window). ``multi_bucket_impact`` says
which of the two drove the result: from −5 (the bucket alone) to +5 (the window alone),
``5 · min(ls, lm) / min(max(ls, lm), −0.001) / ln 1000 · (ls − lm)`` clamped and
floored to hundredths, ``ls``/``lm`` the logs of the single- and multi-bucket
probabilities (``CProbabilityAndInfluenceCalculator::calculateMultiBucketImpact``).
"""

from __future__ import annotations

import math
from typing import Any

WINDOW = 12
GEOMETRIC_WEIGHT = 0.9
MAX_IMPACT = 5.0
SMALLEST_PROBABILITY = 2.2250738585072014e-308


_POWERS = tuple(GEOMETRIC_WEIGHT**k for k in range(WINDOW))  # the same floats ``**`` gives


def _geometric(age: int) -> float:
    """``0.9 ** age``, from a table for the ages a window holds (every series, every bucket)."""
    return _POWERS[age] if type(age) is int and 0 <= age < WINDOW else GEOMETRIC_WEIGHT**age


def _correlation_of(n: int) -> float:
    """The correlation of the mean of a window of ``n`` buckets with its newest bucket (see
    module docstring)."""
    r = GEOMETRIC_WEIGHT * GEOMETRIC_WEIGHT
    return 0.0 if n == 0 else math.sqrt((1.0 - r) / (1.0 - r**n))


# Per window length, what every scored series asks for each bucket, computed once by the
# same expressions: the correlation, and the sum of the weights of a run of consecutive
# buckets (ages n − 1 … 0, oldest first, summed by ``sum`` in that order as ``value`` sums them).
_CORRELATIONS = tuple(_correlation_of(n) for n in range(WINDOW + 1))
_CONSECUTIVE_SUMS = tuple(sum([_geometric(age) for age in range(n - 1, -1, -1)]) for n in range(WINDOW + 1))


class MultiBucketMean:
    """The sliding window of one series: ``[bucket_index, residual, weight]`` entries."""

    __slots__ = ("window",)

    def __init__(self) -> None:
        self.window: list[list[float]] = []

    def add(self, bucket: int, residual: float, weight: float) -> None:
        cutoff = bucket - WINDOW
        self.window = [e for e in self.window if e[0] > cutoff]
        self.window.append([bucket, residual, weight])

    def shift(self, delta: float) -> None:
        """Move the kept residuals by ``delta`` (the decomposition changed under them)."""
        for e in self.window:
            e[1] += delta

    def value(self) -> tuple[float, float] | None:
        """(feature, weight), or None while fewer than 3/4 of the window is filled."""
        if 4 * len(self.window) < 3 * WINDOW:
            return None
        window = self.window
        n = len(window)
        latest = window[-1][0]
        # one pass over the entries (no comprehension unpacking each); the weights' sum is
        # ``sum`` of them (Python 3.12 sums with compensation, not as a loop would): from the
        # table for a run of consecutive buckets, the window of nearly every bucket
        num = den = cnt = 0.0
        consecutive = True
        for i in range(n):
            e = window[i]
            age = latest - e[0]
            if age != n - 1 - i:
                consecutive = False
            g = _geometric(age)
            r = e[1]
            w = e[2]
            num += g * w * r
            den += g * w
            cnt += g * w
        if den <= 0.0:
            return None
        total = _CONSECUTIVE_SUMS[n] if consecutive and n <= WINDOW else sum([_geometric(latest - e[0]) for e in window])
        return num / den, cnt / total

    def correlation(self) -> float:
        n = len(self.window)
        return _CORRELATIONS[n] if n <= WINDOW else _correlation_of(n)

    def to_state(self) -> list[list[float]]:
        return self.window

    def load(self, s: list[list[float]]) -> None:
        self.window = [[int(b), float(r), float(w)] for b, r, w in s]  # bucket numbers stay integers


def multi_bucket_impact(p_single: float, p_multi: float) -> float:
    """Elastic's ``multi_bucket_impact`` of a record (see module docstring)."""
    ls = math.log(max(p_single, SMALLEST_PROBABILITY))
    lm = math.log(max(p_multi, SMALLEST_PROBABILITY))
    scale = MAX_IMPACT * min(ls, lm) / min(max(ls, lm), -0.001) / math.log(1000.0)
    impact = max(min(scale * (ls - lm), MAX_IMPACT), -MAX_IMPACT)
    return math.floor(impact * 100.0) / 100.0
