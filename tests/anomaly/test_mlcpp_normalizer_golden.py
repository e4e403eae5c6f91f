"""Golden tests of the normaliser against ml-cpp's own unit tests (../shared/anchors/ml-cpp-golden).

The expected values are read from the ml-cpp test sources kept there (commit 7a29b4b34),
so a change of anchor is a change of test; the inputs are the tests' parameters.

- ``model-tests/CAnomalyScoreTest.cc`` line 529, ``testNormalizeScoresNearZero``: 8 histories
  of 500 raw scores, 5 normalised scores each (expected strings from line 537).
- ``api/CResultNormalizerTest.cc`` line 389, ``testInitNormalizer``: a quantiles state saved by
  ml-cpp (``api/quantilesState.json``) and 38 probabilities (``api/normalizerInput.csv``);
  the test checks results 0, 1, 2, 4, 15, 35, 36 and 37.
- ``CAnomalyScoreTest.cc`` line 626 ``testNormalizerGetMaxScore``, line 419
  ``testNormalizeScoresPerPartitionMaxScore`` and line 484 ``testNormalizeScoresLargeScore``
  (uplift), whose random inputs ``mlcpp_random`` reproduces. The tests drawing gamma
  samples (quantiles, noisy) are not reproduced: boost's gamma sampler is not ported.
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from conftest import shared_path
from helpers import record_golden
from mlcpp_random import RandomNumbers

from ctdetect.engine.anomaly.categorical import default_decay_rate
from ctdetect.engine.anomaly.mlcpp_state import load_quantiles, normalizer_key
from ctdetect.engine.anomaly.normalizer import Normalizer
from ctdetect.engine.anomaly.scores import MAXIMUM_ANOMALOUS_PROBABILITY, raw_score

ANOMALY_TIMES = (50, 110, 190, 220, 290)
ANOMALIES = (0.02, 0.01, 0.006, 0.01, 0.015)
NON_ZERO_COUNTS = (0, 100, 200, 249, 251, 300, 400, 450)


def _near_zero_expected() -> list[list[float]]:
    source = shared_path("anchors", "ml-cpp-golden", "model-tests", "CAnomalyScoreTest.cc").read_text()
    lines = source.splitlines()
    assert "std::string expectedScores[] = {" in lines[536], "CAnomalyScoreTest.cc line 537 moved"
    block = "\n".join(lines[536:546])
    return [[float(x) for x in row.split(",")] for row in re.findall(r'std::string\("\[([^\]]*)\]"\)', block)]


def _mlcpp_print(x: float) -> str:
    """ml-cpp's container printer writes doubles with 7 significant digits (%g)."""
    return f"{x:.7g}"


def test_normalize_scores_near_zero_matches_mlcpp(record_property) -> None:
    """CAnomalyScoreTest.cc:529 testNormalizeScoresNearZero (1800 s buckets)."""
    expected = _near_zero_expected()
    assert len(expected) == len(NON_ZERO_COUNTS)
    runs = []
    for non_zero, want in zip(NON_ZERO_COUNTS, expected):
        samples = [0.0] * 500
        for j in range(non_zero):
            if j not in ANOMALY_TIMES:
                samples[j] += 0.0055
        for t, a in zip(ANOMALY_TIMES, ANOMALIES):
            samples[t] += a
        norm = Normalizer(1800, default_decay_rate(1800))
        for s in samples:
            norm.update_score(s, "")
        got = [norm.normalize(samples[t], 0.0, "") for t in ANOMALY_TIMES]
        runs.append(([_mlcpp_print(g) for g in got], [_mlcpp_print(w) for w in want]))
    same = sum(g == w for got, want in runs for g, w in zip(got, want))
    record_golden(record_property, "CAnomalyScoreTest.cc:529 (lines 537-546)", f"{len(runs) * len(ANOMALY_TIMES)} scores (7 digits)",
                  f"{same}/{len(runs) * len(ANOMALY_TIMES)} equal")
    for (got_s, want_s), non_zero in zip(runs, NON_ZERO_COUNTS):
        assert got_s == want_s, non_zero


def _init_normalizer_expected() -> dict[int, float]:
    source = shared_path("anchors", "ml-cpp-golden", "api", "CResultNormalizerTest.cc").read_text()
    lines = source.splitlines()
    assert lines[388].startswith("BOOST_AUTO_TEST_CASE(testInitNormalizer)"), "CResultNormalizerTest.cc line 389 moved"
    body = "\n".join(lines[388:])
    body = body[: body.index("\n}\n")]
    docs = re.split(r"resultDocs\[(\d+)\]", body)[1:]
    out: dict[int, float] = {}
    for index, text in zip(docs[0::2], docs[1::2]):
        m = re.search(r'std::string\("([^"]*)"\),\s*std::string\(doc\.at\("normalized_score"\)', text)
        assert m, index
        out[int(index)] = float(m.group(1))
    return out


def test_init_normalizer_from_mlcpp_quantiles_state(record_property) -> None:
    """CResultNormalizerTest.cc:389 testInitNormalizer (3600 s buckets, imported quantiles)."""
    folder = shared_path("anchors", "ml-cpp-golden", "api")
    expected = _init_normalizer_expected()
    assert sorted(expected) == [0, 1, 2, 4, 15, 35, 36, 37]
    norms, skipped = load_quantiles(folder / "quantilesState.json", 3600, default_decay_rate(3600))
    assert sorted(norms) == sorted(["root", "inflb\x1fstatus", "infl\x1fstatus", "leaf\x1f\x1fstatus\x1fcount\x1f"])
    assert len(skipped) == 1 and "per1738862240570163327" in skipped[0]  # the person level: not ours
    with (folder / "normalizerInput.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 38
    got_all: dict[int, float] = {}
    for i, want in expected.items():
        row = rows[i]
        p = float(row["probability"])
        raw = 0.0 if p > MAXIMUM_ANOMALOUS_PROBABILITY else raw_score(p)
        key = {"root": "root", "inflb": "inflb\x1f" + row["person_field_name"], "infl": "infl\x1f" + row["person_field_name"]}.get(row["level"])
        if key is None:
            key = f"leaf\x1f{row['partition_field_name']}\x1f{row['person_field_name']}\x1f{row['function_name']}\x1f{row['value_field_name']}"
        got_all[i] = norms[key].normalize(raw, p, row["person_field_value"])
    close = [i for i, want in expected.items() if abs(got_all[i] - want) <= 5e-6]
    record_golden(record_property, "CResultNormalizerTest.cc:389", f"{len(expected)} normalised scores (5e-6)",
                  f"{len(close)}/{len(expected)} within 5e-6")
    for i, want in expected.items():
        assert got_all[i] == pytest.approx(want, abs=5e-6), (i, rows[i])


def test_quantiles_state_keys() -> None:
    assert normalizer_key("sysChange", "root") == "root"
    assert normalizer_key("leaf123", " status count ") == "leaf\x1f\x1fstatus\x1fcount\x1f"
    assert normalizer_key("inflb99", "user.name") == "inflb\x1fuser.name"
    assert normalizer_key("per1", " status") is None


# --------------------------------------------------------------------------- random inputs
# The next three ml-cpp tests draw their inputs from test::CRandomNumbers, reproduced by
# mlcpp_random; their parameters are copied, their expected values read from the source.

TIMES = (50, 110, 190, 220, 290)


def _source_line(line: int) -> str:
    return shared_path("anchors", "ml-cpp-golden", "model-tests", "CAnomalyScoreTest.cc").read_text().splitlines()[line - 1]


def test_normalizer_get_max_score_matches_mlcpp(record_property) -> None:
    """CAnomalyScoreTest.cc:626 testNormalizerGetMaxScore (expected values at lines 677-678)."""
    want_aal = float(re.search(r"= ([0-9.]+);", _source_line(677)).group(1))
    want_klm = float(re.search(r"= ([0-9.]+);", _source_line(678)).group(1))
    rng = RandomNumbers()
    aal, klm = rng.uniform(0.0, 0.1, 500), rng.uniform(0.0, 0.1, 500)
    for t, a in zip(TIMES, (1.0, 3.0, 4.0, 5.0, 40.0)):
        aal[t] += a
    for t, a in zip((45, 120, 210, 220, 300), (2.0, 3.0, 4.0, 6.0, 30.0)):
        aal[t] += a  # (sic: the test adds KLM's anomalies to AAL too)
    norm = Normalizer(1800, default_decay_rate(1800))
    for x, y in zip(aal, klm):
        norm.update_score(x, "airline\x1fAAL")
        norm.update_score(y, "airline\x1fKLM")
    got_aal, got_klm = norm._scope_max("airline\x1fAAL"), norm._scope_max("airline\x1fKLM")
    record_golden(record_property, "CAnomalyScoreTest.cc:626 (lines 677-678)", f"AAL {want_aal}, KLM {want_klm}", f"AAL {got_aal:.5f}, KLM {got_klm:.5f}")
    assert norm._scope_max("airline\x1fAAL") == pytest.approx(want_aal, abs=5e-5)
    assert norm._scope_max("airline\x1fKLM") == pytest.approx(want_klm, abs=5e-5)


def test_normalize_scores_per_partition_max_score_matches_mlcpp(record_property) -> None:
    """CAnomalyScoreTest.cc:419 testNormalizeScoresPerPartitionMaxScore (expected at line 424):
    ml-cpp allows 5 %; the four lower scores match to 1e-5, the top one (94.09) within 4.2 %."""
    want = [float(x) for x in re.search(r"\{([^}]*)\}", _source_line(424)).group(1).split(",")]
    rng = RandomNumbers()
    aal, klm = rng.uniform(0.0, 0.1, 500), rng.uniform(0.0, 0.1, 500)
    for t, a in zip(TIMES, (2.0, 4.0, 4.0, 5.0, 30.0)):
        aal[t] += a
        klm[t] += a
    norm = Normalizer(1800, default_decay_rate(1800))
    for x, y in zip(aal, klm):
        norm.update_score(x, "AAL")
        norm.update_score(y, "KLM")
    got = sorted(norm.normalize(aal[t], 0.0, "AAL") for t in TIMES)
    record_golden(record_property, "CAnomalyScoreTest.cc:419 (line 424)", ", ".join(f"{w:g}" for w in want) + " (5 %)",
                  ", ".join(f"{g:.5f}" for g in got))
    assert got[:4] == pytest.approx(want[:4], abs=1e-5)
    assert all(abs(g - w) / w < 0.05 for g, w in zip(got, want))


def test_normalize_scores_large_score_uplift_as_mlcpp(record_property) -> None:
    """CAnomalyScoreTest.cc:484 testNormalizeScoresLargeScore: a large score is not too
    dominant, each lower anomaly scores 5 to 13 above its share of the largest (lines 524-525)."""
    assert "uplift > 5.0" in _source_line(524) and "uplift < 13.0" in _source_line(525)
    anomalies = (2.0, 4.0, 4.0, 5.0, 20.0)
    samples = RandomNumbers().uniform(0.0, 0.1, 500)
    for t, a in zip(TIMES, anomalies):
        samples[t] += a
    norm = Normalizer(1800, default_decay_rate(1800))
    for x in samples:
        norm.update_score(x, "")
    scores = sorted(norm.normalize(samples[t], 0.0, "") for t in TIMES)
    uplifts = [score - 100.0 * anomaly / anomalies[-1] for score, anomaly in zip(scores, anomalies[:-1])]
    record_golden(record_property, "CAnomalyScoreTest.cc:484 (lines 524-525)", "4 uplifts in (5, 13)", ", ".join(f"{u:.2f}" for u in uplifts))
    for score, anomaly in zip(scores, anomalies[:-1]):
        assert 5.0 < score - 100.0 * anomaly / anomalies[-1] < 13.0


def test_a_job_continues_from_elastic_quantiles(tmp_path) -> None:
    """The importer as a user meets it: a job's normalisers start from a snapshot's quantiles."""
    from ctdetect.engine.anomaly import AnomalyJobRunner
    from ctdetect.engine.anomaly.errors import StateError

    body = {
        "job_id": "status_counts",
        "analysis_config": {"bucket_span": "1h", "detectors": [{"function": "count", "by_field_name": "status"}], "influencers": ["status"]},
        "data_description": {"time_field": "@timestamp"},
    }
    runner = AnomalyJobRunner.from_config(body)
    notes = runner.import_quantiles(shared_path("anchors", "ml-cpp-golden", "api", "quantilesState.json"))
    assert len(notes) == 1 and "per1738862240570163327" in notes[0]
    assert sorted(runner.normalizers) == sorted(["root", "infl\x1fstatus", "inflb\x1fstatus", "leaf\x1f\x1fstatus\x1fcount\x1f"])
    # CResultNormalizerTest.cc:389, result 15: a root probability of 1e-10 normalises to 53.72631
    assert runner.normalizers["root"].normalize(raw_score(1e-10), 1e-10, "") == pytest.approx(53.72631, abs=5e-6)
    bad = tmp_path / "quantiles.json"
    bad.write_text("{not json")
    with pytest.raises(StateError, match="quantiles.json: not a readable JSON quantiles state"):
        runner.import_quantiles(bad)


def test_elasticsearch_quantiles_document_is_read_too(tmp_path) -> None:
    """A quantiles document as Elasticsearch stores it holds ml-cpp's JSON as a string."""
    source = shared_path("anchors", "ml-cpp-golden", "api", "quantilesState.json")
    doc = tmp_path / "quantiles-doc.json"
    doc.write_text(json.dumps({"job_id": "j", "timestamp": 1254409200000, "quantile_state": source.read_text()}))
    norms, skipped = load_quantiles(doc, 3600, default_decay_rate(3600))
    assert len(norms) == 4 and len(skipped) == 1
