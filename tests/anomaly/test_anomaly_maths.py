"""Exact values of the category probability, the raw-score map and the absolute cap.

Expected values come from ML-SEMANTICS §2.2, §6.2, §6.4 and §9 (ml-cpp's own unit-test
cases re-derived there).
"""

from __future__ import annotations

import math

import pytest

from ctdetect.engine.anomaly import scores
from ctdetect.engine.anomaly.categorical import (
    DecayedDirichlet,
    cumulative_less_likely,
    default_decay_rate,
    less_likely_probabilities,
    strata_count,
)


def test_cumulative_less_likely_with_large_counts_matches_mlcpp_case() -> None:
    freqs = {"a": 0.10, "b": 0.12, "c": 0.29, "d": 0.39, "e": 0.04, "f": 0.06}
    got = cumulative_less_likely(freqs)
    want = {"a": 0.20, "b": 0.32, "c": 0.61, "d": 1.0, "e": 0.04, "f": 0.10}
    assert got == pytest.approx(want, abs=1e-12)


def test_ties_share_the_cumulative_including_all_tied_members() -> None:
    got = cumulative_less_likely({"x": 10, "y": 10, "z": 30})
    assert got == pytest.approx({"x": 0.4, "y": 0.4, "z": 1.0})
    # the model path: tied values get the same probability
    p = less_likely_probabilities({"p1": 51, "p2": 51, "p3": 41, "p4": 41, "p5": 1})
    assert p["p1"] == p["p2"] and p["p3"] == p["p4"]


def test_mlcpp_test_rare_concentrations() -> None:
    p = less_likely_probabilities({"p1": 51, "p2": 51, "p3": 41, "p4": 41, "p5": 1})
    assert p["p1"] == pytest.approx(0.92145, abs=5e-5)
    assert p["p3"] == pytest.approx(0.61928, abs=5e-5)
    assert p["p5"] == pytest.approx(0.007968, abs=5e-6)
    assert p["p1"] > p["p3"] > 50 * p["p5"]


@pytest.mark.parametrize(
    ("n", "want"),
    [(10, 0.0994), (20, 0.0510), (30, 0.0343), (50, 0.0207), (100, 0.01044), (1000, 0.001049), (5000, 0.00021)],
)
def test_new_value_against_one_dominant_value(n: int, want: float) -> None:
    p = less_likely_probabilities({"common": float(n), "new": 1.0}, ["new"])["new"]
    assert p == pytest.approx(want, rel=0.01)


def test_single_category_and_all_tied_are_never_rare() -> None:
    assert less_likely_probabilities({"only": 5.0}) == {"only": 1.0}
    assert less_likely_probabilities({"a": 3.0, "b": 3.0, "c": 3.0}) == {"a": 1.0, "b": 1.0, "c": 1.0}
    assert less_likely_probabilities({}) == {}


def test_unknown_category_gets_the_smallest_probability() -> None:
    conc = {"a": 100.0, "b": 5.0, "c": 1.0}
    everything = less_likely_probabilities(conc)
    assert less_likely_probabilities(conc, ["zzz"])["zzz"] == min(everything.values())


def test_strata_and_decay_defaults() -> None:
    assert [strata_count(x) for x in (50, 100, 101, 1000, 5000, 20000)] == [7, 7, 5, 5, 3, 1]
    assert default_decay_rate(3600) == pytest.approx(0.0005)
    assert default_decay_rate(600) == pytest.approx(0.0005 / 3)


def test_dirichlet_presence_and_decay() -> None:
    d = DecayedDirichlet()
    d.observe(["a", "b"], 0, math.exp(-0.5))
    assert d.conc == pytest.approx({"a": math.exp(-0.5), "b": math.exp(-0.5)})
    d.observe([], 1, math.exp(-0.5))  # no data: no decay
    assert d.conc["a"] == pytest.approx(math.exp(-0.5))
    assert d.first_seen == {"a": 0, "b": 0}


@pytest.mark.parametrize(
    ("p", "want"),
    [
        (0.05, 0.0),
        (0.5, 0.0),
        (0.01, (100 - 20) / 9980),
        (1e-4, 1.0),
        (1e-50, 50.0),
        (1e-27, 1 + 49 * (math.log(1e-4) - math.log(1e-27)) / (math.log(1e-4) - math.log(1e-50))),
        (2.2250738585072014e-308, 100.0),
    ],
)
def test_raw_score_map(p: float, want: float) -> None:
    assert scores.raw_score(p) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("p", [0.049, 0.01, 1e-4, 3e-7, 1e-50, 1e-200])
def test_raw_score_inverse_is_exact(p: float) -> None:
    assert scores.inverse_raw_score(scores.raw_score(p)) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize(
    ("p", "want"),
    [(0.035, 10.45), (0.02, 19.0), (0.01, 29.6), (0.005, 40.2), (2.63e-3, 50.0), (1e-3, 64.8), (5.13e-4, 75.0), (2e-4, 89.4)],
)
def test_absolute_cap_table(p: float, want: float) -> None:
    assert scores.absolute_cap(p) == pytest.approx(want, abs=0.1)


def test_absolute_cap_limits() -> None:
    assert scores.absolute_cap(1e-4) == pytest.approx(100.0, abs=0.05)
    assert scores.absolute_cap(1e-9) == 100.0
    want = 100 * (0.05 + 0.95 * math.log(0.05 / 0.001) / math.log(500))
    assert scores.absolute_cap(0.001) == pytest.approx(want, rel=1e-12)


def test_aggregate_single_probability_round_trips() -> None:
    raw, p = scores.aggregate([0.01], scores.DETECTORS)
    assert p == pytest.approx(0.01, rel=1e-9)
    assert raw == pytest.approx(0.8 * scores.raw_score(0.01))


def test_aggregate_of_two_tied_values_above_the_cut_is_below_it() -> None:
    raw, p = scores.aggregate([1.0, 0.0363, 0.0363], scores.ATTRIBUTES)
    assert raw > 0 and p < scores.MAXIMUM_ANOMALOUS_PROBABILITY
    raw, p = scores.aggregate([0.5, 0.9], scores.ATTRIBUTES)
    assert raw == 0.0 and p > 0.035


def test_small_and_vectorised_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from ctdetect.engine.anomaly import categorical

    rng = random.Random(1)
    cases = []
    for _ in range(100):
        k = rng.randint(2, categorical.SMALL_MODEL)
        conc = {f"v{i}": rng.choice([rng.random() * 5, float(rng.randint(1, 50)), 3.0]) for i in range(k)}
        cases.append((conc, categorical._less_likely_small(conc, list(conc))))
    monkeypatch.setattr(categorical, "SMALL_MODEL", 0)  # force the numpy path
    for conc, small in cases:
        assert less_likely_probabilities(conc) == pytest.approx(small, rel=1e-9)


def test_batched_probabilities_equal_one_model_at_a_time() -> None:
    import random

    from ctdetect.engine.anomaly.categorical import batch_less_likely

    rng = random.Random(5)
    requests = []
    for _ in range(150):
        k = rng.randint(1, 30)
        conc = {f"v{i}": rng.choice([rng.random() * 5, float(rng.randint(1, 500)), 3.0]) for i in range(k)}
        requests.append((conc, rng.sample(list(conc), rng.randint(1, k))))
    requests.append(({"a": 5.0, "b": 1.0}, ["zzz"]))  # unknown category: smallest probability
    for (conc, keys), got in zip(requests, batch_less_likely(requests)):
        assert got == pytest.approx(less_likely_probabilities(conc, keys), rel=1e-9)
