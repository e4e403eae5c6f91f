"""The ML golden case of Elastic's engine tests through the command line:
``ctdetect hunt --jobs FOLDER events.ndjson --format ndjson`` (``rare by status``, 600 s
buckets) must report the 11 buckets holding a 503, with both rare values, and no others."""

from __future__ import annotations

import contextlib

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from conftest import shared_path

from ctdetect.cli import cli

START, END = 1346713620, 1347317974


def _write_case(tmp_path, extra: dict) -> tuple:
    golden = shared_path("anchors", "ml-cpp-golden")
    rows = []
    for name, value in (("status200", "200"), ("status503", "503"), ("mysqlabort", "mysqlabort")):
        rows += [(int(line), value) for line in (golden / f"{name}.txt").read_text().split() if line.strip()]
    rows.sort()
    events = tmp_path / "events.ndjson"
    with events.open("w") as fh:
        for t, value in rows:
            if START <= t < END:
                doc = {"@timestamp": datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "status": value}
                doc.update(extra)
                fh.write(json.dumps(doc) + "\n")
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    job = {
        "job_id": "golden_rare_status",
        "analysis_config": {"bucket_span": "600s", "detectors": [{"function": "rare", "by_field_name": "status"}], "influencers": ["status"]},
        "data_description": {"time_field": "@timestamp"},
    }
    feed = {"datafeed_id": "datafeed-golden_rare_status", "job_id": "golden_rare_status", "indices": ["golden"], "query": {"match_all": {}}}
    (jobs / "golden_rare_status.json").write_text(json.dumps(job))
    (jobs / "datafeed-golden_rare_status.json").write_text(json.dumps(feed))
    buckets_503 = {t // 600 * 600 * 1000 for t, v in rows if v == "503" and START <= t < END}
    return events, jobs, buckets_503


def _hunt(tmp_path, events, jobs):
    # outside any package (only the golden job runs); --min-score 0: every record, not only those above the default floor
    with contextlib.chdir(tmp_path):
        res = CliRunner().invoke(cli, ["hunt", "--jobs", str(jobs), str(events), "--format", "ndjson", "--min-score", "0"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.stdout.splitlines()], res


@pytest.mark.shared
def test_golden_case_with_bare_timestamp_and_status_documents(tmp_path):
    """The form the brief names: ECS NDJSON holding only @timestamp and status."""
    events, jobs, buckets_503 = _write_case(tmp_path, {})
    records, _ = _hunt(tmp_path, events, jobs)
    assert records and all(r["result_type"] == "record" and r["job_id"] == "golden_rare_status" for r in records)
    assert {r["timestamp"] for r in records} == buckets_503
    for bucket in buckets_503:
        assert {r["by_field_value"] for r in records if r["timestamp"] == bucket} == {"503", "mysqlabort"}
