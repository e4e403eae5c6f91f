"""Golden test of the results aggregation against ml-cpp's ``CAnomalyScoreTest.cc`` line 51,
``testComputeScores`` (../shared/anchors/ml-cpp-golden/model-tests, commit 7a29b4b34).

The eight expected raw scores are read from the test source at the lines named below;
the inputs and the style (joint 0.5, extreme 0.5, m from 1 to 5, cut 0.05) are its parameters.
"""

from __future__ import annotations

import re

import pytest
from conftest import shared_path
from helpers import record_golden

from ctdetect.engine.anomaly.scores import aggregate

STYLE = (0.5, 0.5, 1, 5)
CUT = 0.05
# (line of the expected value in CAnomalyScoreTest.cc, probabilities)
CASES = (
    (72, [0.001]),
    (79, [0.02]),
    (86, [0.1]),
    (98, [0.21, 0.52, 0.13, 0.67, 0.89, 0.32, 0.46, 0.222, 0.35, 0.93]),
    (129, [0.11, 0.13, 0.12, 0.22, 0.14, 0.09, 0.01, 0.13, 0.15, 0.14, 0.11, 0.13, 0.12, 0.22, 0.09, 0.01]),
    (160, [0.21, 0.52, 0.13, 0.67, 0.89, 0.32, 0.46, 0.222, 0.35, 0.93, 0.89, 0.32, 0.46, 0.000021]),
    (192, [0.21, 0.52, 0.0058, 0.13, 0.67, 0.89, 0.32, 0.03, 0.46, 0.222, 0.35, 0.93, 0.01, 0.89, 0.32, 0.46, 0.0021]),
    (205, [1e-100, 1.7e-20, 1.6e-150, 2.2e-150, 1.3e-180, 1.35e-95, 1.7e-180, 1.21e-300]),
)


def _expected(line: int) -> float:
    source = shared_path("anchors", "ml-cpp-golden", "model-tests", "CAnomalyScoreTest.cc").read_text().splitlines()
    m = re.search(r"BOOST_REQUIRE_(?:CLOSE_ABSOLUTE|EQUAL)\(([-0-9.e]+), overallScore", source[line - 1])
    assert m, f"CAnomalyScoreTest.cc line {line} holds no expected score"
    return float(m.group(1))


@pytest.mark.parametrize("line,ps", CASES, ids=[f"line{c[0]}" for c in CASES])
def test_compute_scores_matches_mlcpp(record_property, line: int, ps: list[float]) -> None:
    """CAnomalyScoreTest.cc:51 testComputeScores, tolerance 5e-7 as in the test."""
    raw, p = aggregate(ps, STYLE, CUT)
    record_golden(record_property, f"CAnomalyScoreTest.cc:51 (line {line})", f"{_expected(line):.7g}", f"{raw:.7g}")
    assert raw == pytest.approx(_expected(line), abs=5e-7)
    assert 0.0 < p <= 1.0
