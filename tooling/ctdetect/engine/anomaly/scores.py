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
import math as libm  # compiled: C's libm (the .pxd); see priors.LIBM_NOTE
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
    lp = libm.log(p)
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
        return libm.exp(LOG_P1 - (score - 1.0) / 49.0 * (LOG_P1 - LOG_P2))
    score = min(score, 100.0)
    return max(libm.exp(LOG_P2 - (score - 50.0) / 50.0 * (LOG_P2 - LOG_PMIN)), stats.SMALLEST_PROBABILITY)


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


LOG_SMALLEST_PROBABILITY = math.log(stats.SMALLEST_PROBABILITY)
SMALLEST_LOG_JOINT_PROBABILITY = -100000.0
SMALLEST_LOG_EXTREME_PROBABILITY = -1500.0


def _part_score(log_p: float, weight: float, floor: float) -> float:
    """One weighted part of an aggregate's raw score; below the smallest double the score
    keeps rising, from 0.8 to 1 of the maximum as log p goes down to ``floor``."""
    if log_p < LOG_SMALLEST_PROBABILITY:
        interpolate = min((log_p - LOG_SMALLEST_PROBABILITY) / (floor - LOG_SMALLEST_PROBABILITY), 1.0)
        return (NORMAL_RANGE_SCORE_FRACTION + (1.0 - NORMAL_RANGE_SCORE_FRACTION) * interpolate) * weight * 100.0
    return NORMAL_RANGE_SCORE_FRACTION * weight * raw_score(libm.exp(log_p))


def aggregate(
    ps: Sequence[float], style: tuple[float, float, int, int], max_anomalous: float = MAXIMUM_ANOMALOUS_PROBABILITY
) -> tuple[float, float]:
    """Combine child probabilities into (raw score, probability) with one style (§6.3).

    Follows ml-cpp ``CAnomalyScore::compute``: the joint (chi-square, or its upper bound
    once it underflows) and the calibrated "m from n extreme" probabilities are both
    computed. If neither is below ``max_anomalous`` the node is normal: raw score 0 and p
    their weighted geometric product. Otherwise ``raw = w_j·s(P_joint) + w_e·s(P_extreme)``
    where s is 0.8 of the raw score map, extended to 1 below the smallest double, and p is
    the probability whose raw score is ``raw/0.8``.
    """
    if not ps:
        return 0.0, 1.0
    jw, ew, min_m, max_m = style
    if min(ps) >= 1.0:
        return 0.0, 1.0
    log_extreme = stats.log_extreme_probability(ps, min_m, max_m)
    log_cut = libm.log(max_anomalous)
    if jw == 0.0 and (log_extreme <= log_cut or log_extreme >= libm.log(JOINT_IRRELEVANT_FROM)):
        # the people style weighs the joint by zero; it then only picks the branch below,
        # and only when the extreme is between the cut and 0.05 (elsewhere both branches
        # give the same result): skip the chi-square over every child
        log_joint = 0.0
    else:
        log_joint = stats.log_joint_upper_bound(ps)
    if log_joint > log_cut and log_extreme > log_cut:
        return 0.0, libm.exp(jw * log_joint + ew * log_extreme)
    raw = _part_score(log_joint, jw, SMALLEST_LOG_JOINT_PROBABILITY) + _part_score(log_extreme, ew, SMALLEST_LOG_EXTREME_PROBABILITY)
    if raw <= 0.0:
        return 0.0, libm.exp(jw * log_joint + ew * log_extreme)
    return raw, inverse_raw_score(min(raw / NORMAL_RANGE_SCORE_FRACTION, 100.0))
