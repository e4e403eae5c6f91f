"""ML filters in a package (``ml_jobs/filters/<filter_id>.json``, put-filter bodies): loaded
beside the jobs, carried by each job to the engine, validated, and a job whose rules name
a missing filter is reported as not run by the embedded backend, never run without them."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.cli import cli
from ctdetect.content.loaders import load_jobs, load_package

JOB_ID = "ctdetect_tests_user_spike"
T0 = 1_767_225_600_000
SPAN_MS = 15 * 60 * 1000


def _package(root: Path, with_filter: bool = True) -> Path:
    (root / "ml_jobs" / "filters").mkdir(parents=True)
    (root / "datafeeds").mkdir()
    job = {
        "job_id": JOB_ID,
        "description": "Spikes of events per user, service users skipped",
        "analysis_config": {"bucket_span": "15m", "detectors": [{
            "function": "high_count", "by_field_name": "user.name",
            "custom_rules": [{"actions": ["skip_result"], "scope": {"user.name": {"filter_id": "service_users"}}}],
        }], "influencers": ["user.name"]},
        "data_description": {"time_field": "@timestamp"},
    }
    (root / "ml_jobs" / f"{JOB_ID}.json").write_text(json.dumps(job, indent=2))
    if with_filter:
        (root / "ml_jobs" / "filters" / "service_users.json").write_text(
            json.dumps({"description": "Users that run automation", "items": ["svc-*"]}, indent=2))
    feed = {"datafeed_id": f"datafeed-{JOB_ID}", "job_id": JOB_ID, "indices": ["logs-aws.cloudtrail-*"], "query": {"match_all": {}}}
    (root / "datafeeds" / f"datafeed-{JOB_ID}.json").write_text(json.dumps(feed, indent=2))
    return root


def _events() -> list[dict]:
    rng = random.Random(1)
    out = []
    for b in range(5 * 96):
        for user in ("alice", "svc-deploy"):
            n = 80 if b == 400 else rng.randint(3, 6)
            out.extend({"_ts": T0 + b * SPAN_MS + rng.randrange(SPAN_MS), "user.name": user} for _ in range(n))
    return sorted(out, key=lambda e: e["_ts"])


def test_filters_are_loaded_beside_the_jobs_and_not_as_jobs(tmp_path: Path) -> None:
    package = load_package(_package(tmp_path))
    assert [f.filter_id for f in package.filters] == ["service_users"]
    assert [j.job_id for j in package.jobs] == [JOB_ID]
    assert package.jobs[0].filters == {"service_users": ["svc-*"]}
    assert not package.problems
    jobs, _ = load_jobs(tmp_path / "ml_jobs" / f"{JOB_ID}.json")
    assert jobs[0].filters == {"service_users": ["svc-*"]}


def test_validate_accepts_rules_with_their_filter(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(_package(tmp_path)), "--format", "json"])
    checks = [p["check"] for p in json.loads(result.output)["problems"]]
    assert not [c for c in checks if c.startswith(("ml.", "schema."))], result.output


def test_embedded_backend_applies_the_rule(tmp_path: Path) -> None:
    """Both users spike at bucket 400; the service user's record is skipped by the rule."""
    package = load_package(_package(tmp_path))
    result = EmbeddedBackend().run(_events(), [], [(package.jobs[0], package.datafeeds[0])])
    spiked = {f.document.get("by_field_value") for f in result.findings if f.document.get("timestamp") == T0 + 400 * SPAN_MS}
    assert spiked == {"alice"}, [f.document for f in result.findings]


def test_embedded_backend_refuses_a_job_without_its_filter(tmp_path: Path) -> None:
    package = load_package(_package(tmp_path, with_filter=False))
    result = EmbeddedBackend().run(_events(), [], [(package.jobs[0], package.datafeeds[0])])
    assert not result.findings
    assert "service_users" in result.stats.not_run[JOB_ID]

