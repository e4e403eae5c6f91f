"""The elasticsearch backend runs a job whose ``custom_rules`` name ML filters: it creates the
run's own copies of the package's filters before the temporary job, points the job at them,
and deletes them after the job (against the fake cluster, which refuses a job whose filter
is missing and a filter a job still uses, as Elasticsearch does)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from ctdetect.backends.elasticsearch import ElasticsearchBackend
from ctdetect.content.loaders import load_package
from ctdetect.elastic.retry import RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings
from ctdetect.timeutil import iso_from_ms
from ctdetect_testsupport.fakecluster import FakeElastic
from deploy.deploykit import fake  # noqa: F401 - fixture
from deploy.esengines import ml_engine_for

JOB_ID = "ctdetect_tests_user_spike"
T0 = 1_767_225_600_000
SPAN_MS = 15 * 60 * 1000


def _package(root: Path) -> Path:
    (root / "ml_jobs" / "filters").mkdir(parents=True)
    (root / "datafeeds").mkdir()
    job = {
        "job_id": JOB_ID,
        "analysis_config": {"bucket_span": "15m", "detectors": [{
            "function": "high_count", "by_field_name": "user.name",
            "custom_rules": [{"actions": ["skip_result"], "scope": {"user.name": {"filter_id": "service_users"}}}],
        }]},
        "data_description": {"time_field": "@timestamp"},
    }
    (root / "ml_jobs" / f"{JOB_ID}.json").write_text(json.dumps(job))
    (root / "ml_jobs" / "filters" / "service_users.json").write_text(json.dumps({"items": ["svc-*"]}))
    feed = {"datafeed_id": f"datafeed-{JOB_ID}", "job_id": JOB_ID, "indices": ["logs-*"], "query": {"match_all": {}}}
    (root / "datafeeds" / f"datafeed-{JOB_ID}.json").write_text(json.dumps(feed))
    return root


def _events() -> list[dict]:
    rng = random.Random(2)
    out = []
    for b in range(4 * 96):
        for user in ("alice", "svc-deploy"):
            for _ in range(80 if b == 300 else rng.randint(3, 6)):
                out.append({"@timestamp": iso_from_ms(T0 + b * SPAN_MS + rng.randrange(SPAN_MS)), "user": {"name": user},
                            "event": {"dataset": "aws.cloudtrail"}})
    return sorted(out, key=lambda e: e["@timestamp"])


def test_the_run_uses_its_own_copy_of_the_filter_and_removes_it(fake: FakeElastic, tmp_path: Path) -> None:  # noqa: F811
    package = load_package(_package(tmp_path))
    fake.ml_engine = ml_engine_for(package)
    fake.stats_polls_before_stop = 0
    settings = ConnectionSettings.load(environ=fake.env(), env_file=None)
    backend = ElasticsearchBackend(settings, policy=RetryPolicy(attempts=2, base=0.01, sleep=lambda _s: None, jitter=False), poll_seconds=0.0)
    result = backend.run(_events(), [], [(package.jobs[0], package.datafeeds[0])])
    assert not result.stats.not_run, result.stats.problems
    writes = [(w.method, w.path, w.body) for w in fake.writes()]
    [(_, filter_path, filter_body)] = [w for w in writes if w[0] == "PUT" and w[1].startswith("/_ml/filters/")]
    temp_filter = filter_path.rsplit("/", 1)[1]
    assert temp_filter.endswith("-service_users") and temp_filter != "service_users"
    assert filter_body["items"] == ["svc-*"]
    job_put = next(i for i, w in enumerate(writes) if w[0] == "PUT" and w[1].startswith("/_ml/anomaly_detectors/"))
    assert writes.index(next(w for w in writes if w[1] == filter_path)) < job_put
    scope = writes[job_put][2]["analysis_config"]["detectors"][0]["custom_rules"][0]["scope"]
    assert scope == {"user.name": {"filter_id": temp_filter}}
    assert ("DELETE", filter_path, None) in [(m, p, None) for m, p, _ in writes]
    assert not fake.state.filters and not fake.state.jobs
    spiked = {f.document.get("by_field_value") for f in result.findings if f.document.get("timestamp") == T0 + 300 * SPAN_MS}
    assert spiked == {"alice"}
