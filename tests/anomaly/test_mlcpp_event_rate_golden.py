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
def test_non_zero_count_probabilities_match_mlcpp(function: str, counts_line: int, low_line: int) -> None:
    counts = [int(v) for v in _numbers(_line(counts_line))]
    low_bound = float(re.search(r"< ([0-9.]+)\)", _line(low_line)).group(1))  # type: ignore[union-attr]
    high_bound = float(re.search(r"> ([0-9.]+)\)", _line(low_line + 1)).group(1))  # type: ignore[union-attr]
    ps = _non_zero_probabilities(function, counts)
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


def test_hourly_spike_has_the_lowest_probability_by_far() -> None:
    """testProbabilityCalculation (line 444), first case: bucket 25 at 3x (lines 454-455, 511)."""
    assert "{{25}, {24, 25, 26, 27}}" in _line(454) and "{3.0, 1.3}" in _line(455)
    ranked = _hourly_run([25], 3.0)
    assert ranked[0][1] == 25
    assert ranked[0][0] / ranked[1][0] < 0.1


def test_hourly_shift_is_found_by_the_multi_bucket_feature() -> None:
    """testProbabilityCalculation (line 444), second case: buckets 24-27 at 1.3x; the two
    lowest-probability buckets have multi_bucket_impact of at least 0.3 and 2.5 (line 515)
    and at most 5."""
    thresholds = _numbers(_line(515))  # "{0.3, 2.5}"
    assert thresholds == [0.3, 2.5]
    ranked = _hourly_run([24, 25, 26, 27], 1.3)
    for (_p, _j, impact), floor in zip(ranked[:2], thresholds):
        assert impact is not None and floor <= impact <= 5.0
