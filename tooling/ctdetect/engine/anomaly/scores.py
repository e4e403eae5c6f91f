"""From probabilities to raw anomaly scores, and the hierarchy aggregation.

References: ML-SEMANTICS §6.2 (raw score map), §6.3 (aggregation), §6.4 (absolute cap);
Elastic blog "Machine Learning Anomaly Scoring and Elasticsearch – How it Works".

The raw score is a monotone, piecewise map of a probability onto [0, 100]:

====================  =========================================================
p ≥ 0.05              0
1e-4 ≤ p < 0.05       (1/p − 20) / (10000 − 20)                 → (0, 1]
1e-50 ≤ p < 1e-4      1 + 49 · (ln 1e-4 − ln p) / (ln 1e-4 − ln 1e-50)   → (1, 50]
p < 1e-50             50 + 50 · (ln 1e-50 − ln p) / (ln 1e-50 − ln p_min) → (50, 100]
====================  =========================================================

and it is exactly invertible, which the aggregation uses to turn an aggregated raw
score back into a probability.
"""

from __future__ import annotations

import math
from typing import Sequence

from ctdetect.engine.anomaly import stats

LOG_P1 = math.log(1e-4)
LOG_P2 = math.log(1e-50)
LOG_PMIN = math.log(stats.SMALLEST_PROBABILITY)
MAXIMUM_ANOMALOUS_PROBABILITY = 0.035  # records are written only below this (§6.5)
NORMAL_RANGE_SCORE_FRACTION = 0.8
JOINT_IRRELEVANT_FROM = 0.05  # raw_score(p) is 0 from here on

# Aggregation styles: (joint weight, extreme weight, min extreme m, max extreme m), §6.3.
PEOPLE = (0.0, 1.0, 1, 1)
ATTRIBUTES = (0.5, 0.5, 1, 5)
DETECTORS = (0.5, 0.5, 1, 1)


def raw_score(p: float) -> float:
    """Elastic's raw anomaly score of a probability (see the module table)."""
    p = min(max(p, stats.SMALLEST_PROBABILITY), 1.0)
    if p >= 0.05:
        return 0.0
    if p >= 1e-4:
        return (1.0 / p - 20.0) / (10000.0 - 20.0)
    lp = math.log(p)
    if p >= 1e-50:
        return 1.0 + 49.0 * (LOG_P1 - lp) / (LOG_P1 - LOG_P2)
    return min(50.0 + 50.0 * (LOG_P2 - lp) / (LOG_P2 - LOG_PMIN), 100.0)


def inverse_raw_score(score: float) -> float:
    """The probability whose raw score is ``score`` (0 maps to 1)."""
    if score <= 0.0:
        return 1.0
    if score <= 1.0:
        return 1.0 / (score * (10000.0 - 20.0) + 20.0)
    if score <= 50.0:
        return math.exp(LOG_P1 - (score - 1.0) / 49.0 * (LOG_P1 - LOG_P2))
    score = min(score, 100.0)
    return max(math.exp(LOG_P2 - (score - 50.0) / 50.0 * (LOG_P2 - LOG_PMIN)), stats.SMALLEST_PROBABILITY)


def absolute_cap(p: float) -> float:
    """The ceiling on a normalised score that depends only on p (§6.4, ceiling 4).

    ``100 · (0.05 + 0.95 · ln(0.05/p) / ln 500)``, clamped to [0, 100]: 50 needs
    p ≤ 2.63e-3, 75 needs p ≤ 5.13e-4 and p ≤ 1e-4 lifts the cap entirely.
    """
    p = min(max(p, stats.SMALLEST_PROBABILITY), 1.0)
    cap = 100.0 * (0.05 + 0.95 * math.log(0.05 / p) / math.log(500.0))
    return min(max(cap, 0.0), 100.0)


def severity(score: float) -> str:
    """Elastic's label for a normalised score."""
    if score < 25:
        return "warning"
    if score < 50:
        return "minor"
    if score < 75:
        return "major"
    return "critical"


def aggregate(ps: Sequence[float], style: tuple[float, float, int, int]) -> tuple[float, float]:
    """Combine child probabilities into (raw score, probability) with one style (§6.3).

    The joint (chi-square) and "m from n extreme" probabilities are both computed. If
    neither is below 0.035 the node is normal: raw score 0 and p their weighted
    geometric product. Otherwise ``raw = 0.8·(w_j·score(P_joint) + w_e·score(P_extreme))``
    and p is the probability whose raw score is ``raw/0.8``.
    """
    if not ps:
        return 0.0, 1.0
    jw, ew, min_m, max_m = style
    if min(ps) >= 1.0:
        return 0.0, 1.0
    p_extreme = stats.extreme_probability(ps, min_m, max_m)
    if jw == 0.0 and (p_extreme <= MAXIMUM_ANOMALOUS_PROBABILITY or p_extreme >= JOINT_IRRELEVANT_FROM):
        # the people style weighs the joint by zero; it then only picks the branch below,
        # and only when 0.035 < p_extreme < 0.05 (elsewhere both branches give the same
        # result): skip the chi-square over every child (thousands of influencer values)
        p_joint = 1.0
    else:
        p_joint = stats.joint_probability(ps)
    if p_joint > MAXIMUM_ANOMALOUS_PROBABILITY and p_extreme > MAXIMUM_ANOMALOUS_PROBABILITY:
        return 0.0, math.exp(jw * math.log(p_joint) + ew * math.log(p_extreme))
    raw = NORMAL_RANGE_SCORE_FRACTION * (jw * raw_score(p_joint) + ew * raw_score(p_extreme))
    if raw <= 0.0:
        return 0.0, math.exp(jw * math.log(p_joint) + ew * math.log(p_extreme))
    return raw, inverse_raw_score(raw / NORMAL_RANGE_SCORE_FRACTION)
