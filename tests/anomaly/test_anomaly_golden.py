"""The ml-cpp golden case: ``rare by status``, 600 s buckets (../shared/anchors/ml-cpp-golden).

Elastic's engine test asserts exactly 11 anomalous buckets — the 11 distinct buckets
holding a 503 — each with both ``status503`` and ``mysqlabort`` reported. The events are
converted to ECS NDJSON (``@timestamp``, ``status``) as a user would have them, and run
through the job/datafeed pair as plain put-job / put-datafeed bodies.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import shared_path
from helpers import record_golden

from ctdetect.engine.anomaly import AnomalyJobRunner
from engine.embedded_run import run_embedded

FILES = ("status200.txt", "status503.txt", "mysqlabort.txt")
JOB = {
    "job_id": "mlcpp_golden_rare_by_status",
    "analysis_config": {"bucket_span": "10m", "detectors": [{"function": "rare", "by_field_name": "status"}], "influencers": ["status"]},
    "data_description": {"time_field": "@timestamp"},
}
DATAFEED = {"job_id": "mlcpp_golden_rare_by_status", "indices": ["golden"], "query": {"match_all": {}}}


@pytest.fixture(scope="module")
def golden_ndjson(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    folder = shared_path("anchors", "ml-cpp-golden")
    rows: list[tuple[int, str]] = []
    for name in FILES:
        status = name.removesuffix(".txt")
        rows.extend((int(t), status) for t in (folder / name).read_text().split())
    rows.sort()
    out = tmp_path_factory.mktemp("golden") / "events.ndjson"
    with out.open("w") as fh:
        for t, status in rows:
            ts = datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            fh.write(json.dumps({"@timestamp": ts, "status": status}) + "\n")
    buckets_503 = sorted({t - t % 600 for t, s in rows if s == "status503"})
    return out, buckets_503


def _events(path: Path):
    with path.open() as fh:
        for line in fh:
            yield json.loads(line)


def test_golden_rare_by_status_reports_the_eleven_503_buckets(record_property, golden_ndjson: tuple[Path, list[int]]) -> None:
    path, buckets_503 = golden_ndjson
    assert len(buckets_503) == 11
    runner = AnomalyJobRunner.from_config(JOB, DATAFEED)
    runner.feed_many(_events(path))
    runner.flush()
    records = [d for d in runner.results() if d["result_type"] == "record"]
    by_bucket: dict[int, set[str]] = {}
    for rec in records:
        by_bucket.setdefault(rec["timestamp"] // 1000, set()).add(rec["by_field_value"])
        assert rec["function"] == "rare" and rec["by_field_name"] == "status"
    both = sum(1 for b in buckets_503 if by_bucket.get(b) == {"status503", "mysqlabort"})
    record_golden(record_property, "CEventRateAnomalyDetectorTest.cc testAnomalies", "11 buckets (the 503 ones), both values in each",
                  f"{len(by_bucket)} buckets, {len(set(by_bucket) & set(buckets_503))} of them 503 buckets, both values in {both}")
    assert sorted(by_bucket) == buckets_503
    for bucket, values in by_bucket.items():
        assert values == {"status503", "mysqlabort"}, bucket
    # the borderline bucket: each value alone is just above the 0.035 cut, and is
    # written because the root's joint probability is below it (1.2x output tolerance)
    border = [r for r in records if r["timestamp"] == 1346870400 * 1000]
    assert all(0.035 < r["probability"] < 0.04 for r in border)
    assert runner.counts["out_of_order"] == 0


def test_golden_via_the_embedded_backend(golden_ndjson: tuple[Path, list[int]]) -> None:
    path, buckets_503 = golden_ndjson
    # the 503 buckets lie in the first 5.5 days: stop there to keep the test quick
    events = (e for e in _events(path) if e["@timestamp"] < "2012-09-09T15:00")
    findings, stats = run_embedded([], events, [(JOB, DATAFEED)])
    assert stats.problems == [] and stats.not_run == {}
    assert sorted({int(f.timestamp.timestamp()) for f in findings}) == buckets_503
    assert {f.entity["status"] for f in findings} == {"status503", "mysqlabort"}
    assert all(f.kind == "anomaly" and f.source_id == JOB["job_id"] for f in findings)
    assert all(0 < f.score <= 100 for f in findings)
