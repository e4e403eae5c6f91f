"""Golden tests of the count family against ml-cpp's ``CEventRateModelTest.cc``
(../shared/anchors/ml-cpp-golden/model-tests, elastic/ml-cpp commit 7a29b4b34).

Each case reads its bucket counts and thresholds from the test source at the lines named
below and runs our ``CountingDetector`` with the test's own ``SModelParams``: learn rate 1
(its default) and decay rate 0.001 (set by each test). ml-cpp's counts come from its
fixture's ``rawEventCounts`` (line 67); only the count per bucket reaches the model.
"""

from __future__ import annotations

import re

import pytest
from conftest import shared_path
from helpers import record_golden

from ctdetect.engine.anomaly.config import parse_job
from ctdetect.engine.anomaly.detectors.counting import CountingDetector

SOURCE = ("anchors", "ml-cpp-golden", "model-tests", "CEventRateModelTest.cc")


def _line(number: int) -> str:
    return shared_path(*SOURCE).read_text().splitlines()[number - 1]


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"\d+(?:\.\d+)?", text.split("{", 1)[1])]


def _detector(function: str, span_s: int) -> CountingDetector:
    decay = float(re.search(r"s_DecayRate = ([0-9.]+)", _line(461)).group(1))  # type: ignore[union-attr]
    job = parse_job({"job_id": "golden", "analysis_config": {"bucket_span": f"{span_s}s", "detectors": [{"function": function}]}})
    return CountingDetector(job, job.detectors[0], learn_rate=1.0, decay_rate=decay)


def _non_zero_probabilities(function: str, counts: list[int]) -> list[float]:
    """The probability of each non-empty bucket of 100 s (empty ones are not modelled)."""
    det = _detector(function, 100)
    out = []
    t = 0
    for count in counts:
        for i in range(count):
            det.add({"_ts": t * 1000 + i}, (), 1.0)
        leaves = det.close(t * 1000)
        if count:
            out.append(leaves[0].probability)
            t += 100
    return out


@pytest.mark.parametrize(
    "function,counts_line,low_line",
    [("low_non_zero_count", 534, 570), ("high_non_zero_count", 580, 616)],
    ids=["testProbabilityCalculationForLowNonZeroCount-line528", "testProbabilityCalculationForHighNonZeroCount-line574"],
)
def test_non_zero_count_probabilities_match_mlcpp(record_property, function: str, counts_line: int, low_line: int) -> None:
    counts = [int(v) for v in _numbers(_line(counts_line))]
    low_bound = float(re.search(r"< ([0-9.]+)\)", _line(low_line)).group(1))  # type: ignore[union-attr]
    high_bound = float(re.search(r"> ([0-9.]+)\)", _line(low_line + 1)).group(1))  # type: ignore[union-attr]
    ps = _non_zero_probabilities(function, counts)
    record_golden(record_property, f"CEventRateModelTest.cc:{counts_line - 6} (lines {low_line}-{low_line + 1})",
                  f"p(bucket 6) < {low_bound}, p(bucket 8) > {high_bound}", f"{ps[6]:.3g}, {ps[8]:.3g}" if len(ps) == 11 else f"{len(ps)} buckets")
    assert len(ps) == 11
    assert ps[6] < low_bound  # lowNonZeroCountBucket: the unusual side of the function
    assert ps[8] > high_bound  # highNonZeroCountBucket: the other side is never anomalous


def _hourly_run(anomalous: list[int], multiplier: float) -> list[tuple[float, int, float | None]]:
    raw = [int(v) for v in _numbers(_line(67) + _line(68))] * 2  # rawEventCounts(2)
    for i in anomalous:
        raw[i] = int(raw[i] * multiplier)
    det = _detector("count", 3600)
    start_ms = 1346968800 * 1000
    out = []
    for j, count in enumerate(raw):
        for _ in range(count):
            det.add({}, (), 1.0)
        leaf = det.close(start_ms + j * 3600 * 1000)[0]
        out.append((leaf.probability, j, leaf.multi_bucket_impact))
    return sorted(out, key=lambda r: r[0])


def test_hourly_spike_has_the_lowest_probability_by_far(record_property) -> None:
    """testProbabilityCalculation (line 444), first case: bucket 25 at 3x (lines 454-455, 511)."""
    assert "{{25}, {24, 25, 26, 27}}" in _line(454) and "{3.0, 1.3}" in _line(455)
    ranked = _hourly_run([25], 3.0)
    record_golden(record_property, "CEventRateModelTest.cc:444 (line 511)", "lowest p at bucket 25, next >= 10x",
                  f"lowest at {ranked[0][1]} (p {ranked[0][0]:.3g}), next {ranked[1][0]:.3g}")
    assert ranked[0][1] == 25
    assert ranked[0][0] / ranked[1][0] < 0.1


def test_hourly_shift_is_found_by_the_multi_bucket_feature(record_property) -> None:
    """testProbabilityCalculation (line 444), second case: buckets 24-27 at 1.3x; the two
    lowest-probability buckets have multi_bucket_impact of at least 0.3 and 2.5 (line 515)
    and at most 5."""
    thresholds = _numbers(_line(515))  # "{0.3, 2.5}"
    assert thresholds == [0.3, 2.5]
    ranked = _hourly_run([24, 25, 26, 27], 1.3)
    record_golden(record_property, "CEventRateModelTest.cc:444 (line 515)", "multi_bucket_impact >= 0.3, >= 2.5 (<= 5)",
                  ", ".join(str(r[2]) for r in ranked[:2]))
    for (_p, _j, impact), floor in zip(ranked[:2], thresholds):
        assert impact is not None and floor <= impact <= 5.0


# ---------------------------------------------------------------- distinct count with influence
def _distinct_last_bucket(influencer_fields: list[str], anomaly: list[tuple[str, tuple[str, ...]]]) -> dict[tuple[str, str], float]:
    """testDistinctCountProbabilityCalculationWithInfluence (line 1581): ``distinct_count`` of
    ``foo`` over hourly buckets of ``rawEventCounts()`` events (line 67), every event with
    the value ``str_value`` and every influencer ``inf1``; the last bucket also holds the
    anomaly's events, (value, influencer values). Returns the last record's influencers
    with their influence (1 for a field with one value, as ml-cpp reports it)."""
    job = parse_job({"job_id": "golden", "analysis_config": {
        "bucket_span": "3600s", "influencers": influencer_fields,
        "detectors": [{"function": "distinct_count", "field_name": "foo"}]}})
    decay = float(re.search(r"s_DecayRate = ([0-9.]+)", _line(1588)).group(1))  # type: ignore[union-attr]
    det = CountingDetector(job, job.detectors[0], learn_rate=1.0, decay_rate=decay)
    counts = [int(v) for v in _numbers(_line(67) + _line(68))]
    start_ms = 1346968800 * 1000
    normal = tuple(("inf1",) for _ in influencer_fields)
    leaf = None
    for j, count in enumerate(counts):
        for _ in range(count):
            det.add({"foo": "str_value"}, normal, 1.0)
        if j == len(counts) - 1:
            for value, infl in anomaly:
                det.add({"foo": value}, tuple((v,) for v in infl), 1.0)
        leaf = det.close(start_ms + j * 3600 * 1000)[0]
    assert leaf is not None and leaf.probability < 1.0
    return {(name, v): leaf.influence.get((name, v), 1.0) for name, vals in leaf.influencers.items() for v in vals}


def _shown(got: dict[tuple[str, str], float]) -> str:
    return "[" + ", ".join(f"(({n}, {v}), {i:.3f})" for (n, v), i in sorted(got.items())) + "]"


def test_distinct_count_single_influencer_value_has_all_the_influence(record_property) -> None:
    """Line 1586, first case: 20 new values, all with ``inf1``; expected ``[((IF1, inf1), 1)]`` (lines 1648-1649)."""
    assert "[((IF1, inf1), 1)]" in _line(1648)
    got = _distinct_last_bucket(["IF1"], [(f"str_value_{k}", ("inf1",)) for k in range(20)])
    record_golden(record_property, "CEventRateModelTest.cc:1586 (lines 1648-1649)", "[((IF1, inf1), 1)]", _shown(got))
    assert got == {("IF1", "inf1"): 1.0}


def test_distinct_count_two_equal_influencer_values_share_the_influence(record_property) -> None:
    """Second case (line 1652): 19 new values alternating ``inf1``/``inf2``; both kept,
    influences within 0.05 of each other and above 0.6 (lines 1724-1727)."""
    assert "0.05" in _line(1726) and "> 0.6" in _line(1727)
    got = _distinct_last_bucket(["IF1"], [(f"str_value_{k}", ("inf1" if k % 2 == 0 else "inf2",)) for k in range(1, 20)])
    record_golden(record_property, "CEventRateModelTest.cc:1652 (lines 1724-1727)", "2 values, |i1 - i2| <= 0.05, i > 0.6", _shown(got))
    assert sorted(got) == [("IF1", "inf1"), ("IF1", "inf2")]
    a, b = got.values()
    assert abs(a - b) <= 0.05 and a > 0.6


def test_distinct_count_minor_influencer_value_is_cut(record_property) -> None:
    """Third case (line 1730): 18 new values with ``inf1``, one with ``inf2``; only ``inf1``
    is kept, with influence above 0.8 (lines 1800-1801)."""
    assert "> 0.8" in _line(1801)
    got = _distinct_last_bucket(["IF1"], [(f"str_value_{k}", ("inf2" if k == 1 else "inf1",)) for k in range(1, 20)])
    record_golden(record_property, "CEventRateModelTest.cc:1730 (lines 1800-1801)", "[((IF1, inf1), > 0.8)]", _shown(got))
    assert list(got) == [("IF1", "inf1")] and got[("IF1", "inf1")] > 0.8


def test_distinct_count_two_influencer_fields(record_property) -> None:
    """Fourth case (line 1804): 21 new values with IF1 ``inf`` and IF2 ``inf_another`` (the
    test's ``i % 10`` is 717 % 10, so no ``_extra``); the usual ``inf1`` of each field is cut
    and the two kept values have equal influence above 0.8 (lines 1879-1888)."""
    assert "> 0.8" in _line(1888) and sum(int(v) for v in _numbers(_line(67) + _line(68))) % 10 != 0
    got = _distinct_last_bucket(["IF1", "IF2"], [(f"str_value_{k}", ("inf", "inf_another")) for k in range(1, 22)])
    record_golden(record_property, "CEventRateModelTest.cc:1804 (lines 1879-1888)", "[((IF2, inf_another), i), ((IF1, inf), i)], i > 0.8", _shown(got))
    assert sorted(got) == [("IF1", "inf"), ("IF2", "inf_another")]
    assert got[("IF1", "inf")] == got[("IF2", "inf_another")] > 0.8
