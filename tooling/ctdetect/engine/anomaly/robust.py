"""Weights that take outliers out of a seasonal fit, as ml-cpp's robust fit does.

ml-cpp's test for seasonality (``CTimeSeriesTestForSeasonality``, elastic/ml-cpp 7a29b4b34)
never fits a periodic shape to raw values alone: ``CSignal::fitSeasonalComponentsRobust``
fits it, lowers the weight of the values the fit explains worst
(``CSignal::reweightOutliers``), and fits again. So a single burst that does not recur
(one bad hour in three days) cannot decide whether a window has a daily period.

The reweighting, in our words (``lib/maths/time_series/CSignal.cc``):

- the candidates are the ``2·⌊0.1·n⌋`` values furthest from the fit's prediction (0.1:
  ``CTimeSeriesTestForSeasonality::OUTLIER_FRACTION``); none when ``⌊0.1·n⌋`` is 0;
- the threshold T is the larger of 3 × the mean distance of all values less the furthest
  quarter of the candidates, and 0.05 × the standard deviation of the values' magnitudes;
- a candidate at distance d keeps the weight ``f(d)·g(d)``, each linear in ``ln d`` and
  clamped: f from 1 at ``T/2`` to 0.1 at ``T``, g from 1 at ``T`` to 0.1 at ``16·T``
  (the constants ``ln 2`` and ``ln 16`` of ``LOG_SMALL_OUTLIER_SCALE`` and
  ``LOG_LARGE_OUTLIER_SCALE``). Every other value keeps its weight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

OUTLIER_FRACTION = 0.1  # CTimeSeriesTestForSeasonality::OUTLIER_FRACTION
LOG_SMALL_OUTLIER_SCALE = math.log(2.0)  # CSignal.cc LOG_SMALL_OUTLIER_SCALE
LOG_LARGE_OUTLIER_SCALE = math.log(16.0)  # CSignal.cc LOG_LARGE_OUTLIER_SCALE
MIN_FACTOR = 0.1  # each of the two ramps ends at this weight


def _ramp(lo: float, hi: float, x: float) -> float:
    """1 at ``lo``, ``MIN_FACTOR`` at ``hi``, linear between and clamped outside."""
    if x <= lo:
        return 1.0
    if x >= hi:
        return MIN_FACTOR
    return 1.0 + (MIN_FACTOR - 1.0) * (x - lo) / (hi - lo)


def outlier_weights(values: Sequence[float], predictions: Sequence[float],
                    fraction: float = OUTLIER_FRACTION) -> list[float]:
    """The weight of each value after ml-cpp's reweighting of a fit's outliers (see module):
    1 for all but the values furthest from ``predictions``."""
    n = len(values)
    weights = [1.0] * n
    outliers = int(fraction * n)
    if outliers == 0:
        return weights
    distances = [abs(v - p) for v, p in zip(values, predictions)]
    total = sum(distances)
    if total == 0.0:
        return weights
    candidates = sorted(range(n), key=lambda i: distances[i], reverse=True)[: 2 * outliers]
    furthest = candidates[: (len(candidates) + 3) // 4]
    rest = n - len(furthest)
    mean_distance = (total - sum(distances[i] for i in furthest)) / rest if rest > 0 else 0.0
    mean_abs = sum(abs(v) for v in values) / n
    spread = math.sqrt(max(sum((abs(v) - mean_abs) ** 2 for v in values) / n, 0.0))
    threshold = max(3.0 * mean_distance, 0.05 * spread)
    if threshold <= 0.0:
        return weights
    log_t = math.log(threshold)
    for i in candidates:
        if distances[i] <= 0.0:
            continue
        log_d = math.log(distances[i])
        weights[i] = (_ramp(log_t - LOG_SMALL_OUTLIER_SCALE, log_t, log_d)
                      * _ramp(log_t, log_t + LOG_LARGE_OUTLIER_SCALE, log_d))
    return weights
