"""The normaliser's lifetimes, as ml-cpp's ``CAnomalyScore::CNormalizer`` keeps them.

- A scope's maximum score lives while it gets updates, zeros included (``CMaxScore::add``
  resets the forget timer on every update), and is forgotten after 50 buckets without one.
- The digests age by ``exp(−decayRate)`` once every ``20·countPerSample`` buckets, and
  rounding never takes a count below 1.
- Results leave the renormalisation window (``renormalization_window_days``, by default
  the longer of 30 days and 100 buckets) with their last score.
"""

from __future__ import annotations

import math
import random

import pytest
from helpers import T0, job, rare_history

from ctdetect.engine.anomaly import AnomalyJobRunner
from ctdetect.engine.anomaly.categorical import default_decay_rate
from ctdetect.engine.anomaly.config import parse_job
from ctdetect.engine.anomaly.errors import JobConfigError
from ctdetect.engine.anomaly.normalizer import MAX_SCORE_FORGET_BUCKETS, Normalizer, raised_max
from ctdetect.engine.anomaly.runner import renormalization_window_s
from ctdetect.engine.anomaly.scores import ATTRIBUTES, DETECTORS, PEOPLE, aggregate, raw_score


def _normalizer(span: int = 900) -> Normalizer:
    norm = Normalizer(span, default_decay_rate(span))
    for i in range(600):  # a quiet history: mostly zeros, a few small scores
        norm.age()
        norm.update_score(0.05 if i % 37 == 0 else 0.0, "other")
    return norm


def test_zero_updates_keep_a_scope_maximum_alive() -> None:
    norm = _normalizer()
    norm.update_score(40.0, "alice")
    for _ in range(120):  # 120 quiet buckets: alice is scored 0 every bucket
        norm.age()
        norm.update_score(0.0, "alice")
    top = norm._scope_max("alice")
    assert top is not None and top == pytest.approx(40.0 * norm.max_decay**120)
    # a repeat at under half the earlier maximum stays under the max-score ceiling of 75
    norm.update_score(18.0, "alice")
    assert norm.normalize(18.0, 1e-30, "alice") <= 100.0 * (0.5 + 0.5 * 18.0 / top) + 1e-9 < 75.0


def _edge_probabilities() -> list[float]:
    """Probabilities from below the smallest double to above 1, every branch of the raw score map."""
    ps = [0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-60, 1e-50, 1e-49, 1e-10, 1e-4, 0.00011,
          0.01, 0.035, 0.0350001, 0.049999, 0.05, 0.5, 1.0 - 1e-16, 1.0, 1.5, math.inf]
    return ps + [10.0 ** (-e / 7.0) for e in range(0, 2200)]


def test_no_score_fed_to_a_normaliser_is_negative() -> None:
    """``raised_max`` keeps a live maximum for a score of 0 without ageing it, because the
    scores it is fed never go below 0 (its docstring): a leaf's ``raw_score`` and a node's
    ``aggregate`` in every style, and a NaN probability's raw score is fed as 0."""
    ps = _edge_probabilities()
    for p in ps:
        assert raw_score(p) >= 0.0, p
    rng = random.Random(11)
    for style in (PEOPLE, ATTRIBUTES, DETECTORS):
        for _ in range(400):
            children = [rng.choice(ps) for _ in range(rng.randint(1, 9))]
            raw, _p = aggregate(children, style)
            assert raw >= 0.0, (children, style)
    nan = float("nan")
    norm = Normalizer(900, default_decay_rate(900))
    norm.update_many([(raw_score(nan), nan, "x")])
    assert norm.max_scores["x"][0] == 0.0 and norm.sample == 0.0


def test_a_zero_score_keeps_the_maximum_as_the_aged_comparison_would() -> None:
    """The shortcut for a score of 0 in ``raised_max`` gives what comparing 0 with the aged
    maximum gives, for every maximum a normaliser can hold (>= 0) at every live age."""
    maxima = [0.0, -0.0, 5e-324, 1e-300, 1e-9, 0.05, 1.0, 40.0, 100.0]
    for decay in (math.exp(-2.0 * default_decay_rate(900)), 0.5, 1e-200, 1.0):
        for top in maxima:
            for set_at in (0, 3, 49):
                for age in range(0, MAX_SCORE_FORGET_BUCKETS + 1):
                    entry = (top, set_at, set_at + age // 2)
                    now = set_at + age
                    compared = (0.0, now, now) if 0.0 > top * decay ** (now - set_at) else (top, set_at, now)
                    assert raised_max(entry, 0.0, now, decay) == compared
                    assert raised_max(entry, -0.0, now, decay) == compared


def test_a_scope_without_updates_is_forgotten_after_50_buckets() -> None:
    norm = _normalizer()
    norm.update_score(40.0, "bob")
    for _ in range(51):
        norm.age()
    assert norm._scope_max("bob") is None
    assert norm.normalize(20.0, 1e-30, "bob") > 76.0  # no ceiling from a forgotten maximum


def test_digests_age_slowly_and_keep_small_counts() -> None:
    span = 900  # countPerSample 2: the digests age every 40 buckets
    norm = Normalizer(span, default_decay_rate(span))
    for _ in range(400):
        norm.update_score(0.0, "")
    norm.update_score(3.0, "")
    norm.update_score(3.0, "")
    before = norm.digest.n
    assert before == 201
    for _ in range(39):
        norm.age()
    assert norm.digest.n == before
    norm.age()
    expected_zeros = int(200 * math.exp(-default_decay_rate(span)) + 0.5)
    assert norm.digest.n == expected_zeros + 1  # the single 3.0 sample is not rounded away
    assert norm.time_to_decay == pytest.approx(20.0)


def test_renormalization_window_defaults_and_job_setting() -> None:
    assert renormalization_window_s(parse_job(job("count", span="15m"))) == 30 * 86400
    assert renormalization_window_s(parse_job(job("count", span="12h"))) == 100 * 12 * 3600
    body = job("count")
    body["renormalization_window_days"] = 2
    assert renormalization_window_s(parse_job(body)) == 2 * 86400
    body["renormalization_window_days"] = "soon"
    with pytest.raises(JobConfigError, match="renormalization_window_days"):
        parse_job(body)


def test_results_outside_the_window_keep_their_last_score() -> None:
    body = job("rare", by_field_name="event.action")
    body["renormalization_window_days"] = 1
    runner = AnomalyJobRunner.from_config(body, None)
    events = list(rare_history(15 * 60 * 1000, 4 * 96, ["A", "B", "C"]))
    events.insert(40, {"_ts": T0 + 10 * 15 * 60 * 1000 + 5, "event.action": "NEW"})
    for ev in sorted(events, key=lambda e: e["_ts"]):
        runner.feed(ev)
    runner.flush()
    last_bucket = runner.buckets[-1]["timestamp"]
    settled = [s for s in runner._scored if s[0]["timestamp"] < last_bucket - 86400 * 1000]
    assert settled and runner._settled == len(settled)
    frozen = {id(s[0]): s[0][s[1]] for s in settled}
    runner.renormalize()
    assert {id(s[0]): s[0][s[1]] for s in settled} == frozen
