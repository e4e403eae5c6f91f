"""Elastic's own module jobs and datafeeds (../shared/anchors/kibana-ml-modules), unchanged,
on generated CloudTrail and metadata-service data; and the metadata-service case study.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterator

import pytest
from conftest import PROJECT_ROOT, shared_path
from helpers import HOUR_MS, T0

from ctdetect.content.loaders import load_jobs
from ctdetect.engine.anomaly import AnomalyJobRunner, JobConfigError

SPAN_15M = 15 * 60 * 1000
HISTORY_HOURS = 72
ATTACK_T = T0 + HISTORY_HOURS * HOUR_MS

USERS = {"alice": ("u-1", "Dublin", "IE"), "bob": ("u-2", "Paris", "FR"), "deploy": ("u-3", "Dublin", "IE")}
ACTIONS = ["ListBuckets", "GetObject", "DescribeInstances", "AssumeRole"]
IMDS_LINUX = [("amazon-ssm-agent", "root"), ("amazon-cloudwatch-agent", "cwagent")]
IMDS_WINDOWS = [("amazon-ssm-agent.exe", "SYSTEM"), ("ec2launch.exe", "SYSTEM")]


def _cloudtrail(t: int, user: str, action: str, **extra: Any) -> dict[str, Any]:
    uid, city, country = USERS.get(user, ("u-9", "Dublin", "IE"))
    ev = {
        "_ts": t,
        "event.dataset": "aws.cloudtrail",
        "event.module": "aws",
        "event.action": action,
        "user.name": user,
        "user.id": uid,
        "source.ip": "198.51.100.7",
        "source.geo.city_name": city,
        "source.geo.country_iso_code": country,
        "aws.cloudtrail.user_identity.arn": f"arn:aws:iam::123456789012:user/{user}",
        "aws.cloudtrail.user_identity.type": "IAMUser",
    }
    ev.update(extra)
    return ev


def _imds(t: int, os_type: str, process: str, user: str) -> dict[str, Any]:
    family = "debian" if os_type == "linux" else "windows"
    host = "web-1" if os_type == "linux" else "iis-1"
    return {
        "_ts": t,
        "event.module": "endpoint",
        "destination.ip": "169.254.169.254",
        "host.name": host,
        "host.id": host + "-id",
        "host.os.type": os_type,
        "host.os.family": family,
        "process.name": process,
        "process.executable": "/usr/bin/" + process,
        "user.name": user,
        "user.id": user + "-id",
    }


def generated_events(seed: int = 1) -> Iterator[dict[str, Any]]:
    """Three days of ordinary CloudTrail and metadata-service traffic, then an attack."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for h in range(HISTORY_HOURS):
        base = T0 + h * HOUR_MS
        for user in USERS:
            for action in ACTIONS:
                out.append(_cloudtrail(base + rng.randrange(HOUR_MS), user, action))
        for q in range(4):
            t = base + q * SPAN_15M + rng.randrange(SPAN_15M)
            msg = rng.choice(["Rate exceeded", "Throttled by ListBuckets", "Request limit"])
            out.append(_cloudtrail(t, "deploy", "ListBuckets", **{"aws.cloudtrail.error_code": "ThrottlingException", "aws.cloudtrail.error_message": msg}))
            for os_type, callers in (("linux", IMDS_LINUX), ("windows", IMDS_WINDOWS)):
                for process, user in callers:
                    out.append(_imds(base + q * SPAN_15M + rng.randrange(SPAN_15M), os_type, process, user))
    # the attack: a new command for alice, a new error code, a burst of distinct errors,
    # and curl / powershell fetching credentials from the metadata service
    out.append(_cloudtrail(ATTACK_T + 60_000, "alice", "CreateAccessKey"))
    for i in range(30):
        out.append(
            _cloudtrail(
                ATTACK_T + 120_000 + i * 1000, "alice", "GetSecretValue",
                **{"aws.cloudtrail.error_code": "AccessDenied", "aws.cloudtrail.error_message": f"not authorized to access secret-{i}"},
            )
        )
    out.append(_imds(ATTACK_T + 300_000, "linux", "curl", "www-data"))
    out.append(_imds(ATTACK_T + 300_000, "windows", "powershell.exe", "IUSR"))
    out.sort(key=lambda e: e["_ts"])
    return iter(out)


# what each kind of job must find in the attack (by detector field -> value)
EXPECTED = {
    "event.action": ("CreateAccessKey", "GetSecretValue"),
    "aws.cloudtrail.error_code": "AccessDenied",
    "process.name": ("curl", "powershell.exe"),
    "user.name": ("www-data", "IUSR"),
}


def _module_folders() -> list[Path]:
    root = shared_path("anchors", "kibana-ml-modules")
    return sorted({p.parent for p in root.rglob("*.json") if p.parent.name == "ml"})


def test_every_elastic_module_job_loads_and_runs_unchanged() -> None:
    ran: dict[str, list[dict[str, Any]]] = {}
    refused: dict[str, str] = {}
    events = list(generated_events())
    for folder in _module_folders():
        problems: list = []
        jobs, feeds = load_jobs(folder, problems)
        assert problems == [], problems
        feed_of = {f.job_id: f for f in feeds}
        for job in jobs:
            key = f"{folder.relative_to(folder.parents[2] if folder.parents[1].name in ('8.x', 'main') else folder.parents[1])}/{job.job_id}"
            try:
                runner = AnomalyJobRunner.from_config(job, feed_of.get(job.job_id))
            except JobConfigError as exc:
                refused[key] = str(exc)
                continue
            runner.feed_many(events)
            runner.flush()
            assert runner.counts["processed"] > 0, f"{key}: the datafeed query selected nothing"
            assert runner.problems == []
            ran[key] = [d for d in runner.results() if d["result_type"] == "record"]
    job_files = [p for f in _module_folders() for p in f.glob("*.json") if not p.name.startswith("datafeed")]
    assert len(ran) + len(refused) == len(job_files) >= 20
    # only the variant whose datafeed computes its entity with a Painless script is refused
    assert list(refused) == [k for k in refused if k.endswith("rare_method_for_a_username_euid")] and len(refused) == 1
    assert "script" in next(iter(refused.values()))
    for key, recs in ran.items():
        assert recs, f"{key}: found nothing in the attack"
        assert all(r["timestamp"] >= ATTACK_T for r in recs), key
        fired = {(r.get("by_field_name"), r.get("by_field_value")) for r in recs}
        if "high_distinct_count" in key:
            assert all(r["function"] == "high_distinct_count" and r["actual"][0] >= 30 for r in recs)
            continue
        field = next(iter(fired))[0]
        want = EXPECTED[field]
        want = want if isinstance(want, tuple) else (want,)
        assert {v for _, v in fired} <= set(want), (key, fired)


def _case_study_events(buckets: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(42)
    callers = [("amazon-ssm-agent", "root"), ("amazon-cloudwatch-agent", "cwagent"), ("cloud-init", "root"), ("aws", "deploy")]
    for b in range(buckets):
        base = T0 + b * SPAN_15M
        for process, user in callers[:3]:
            for _ in range(rng.randint(1, 3)):
                yield _imds(base + rng.randrange(SPAN_15M), "linux", process, user)
        if rng.random() < 0.3:  # the AWS CLI now and then
            yield _imds(base + rng.randrange(SPAN_15M), "linux", *callers[3])


@pytest.mark.parametrize("pair", [("process", "process.name", "curl"), ("user", "user.name", "www-data")])
def test_metadata_service_case_study_curl_by_www_data(pair: tuple[str, str, str]) -> None:
    kind, field, value = pair
    job_id = f"ctdetect_linux_rare_metadata_{kind}"
    job = json.loads((PROJECT_ROOT / "ml_jobs" / f"{job_id}.json").read_text())
    feed = json.loads((PROJECT_ROOT / "datafeeds" / f"datafeed-{job_id}.json").read_text())
    runner = AnomalyJobRunner.from_config(job, feed)
    buckets = 14 * 96
    events = sorted(_case_study_events(buckets), key=lambda e: e["_ts"])
    runner.feed_many(events)
    attack = T0 + buckets * SPAN_15M
    runner.feed(_imds(attack + 1000, "linux", "curl", "www-data"))
    runner.feed(_imds(attack + 3000, "linux", "curl", "www-data"))
    runner.feed(_imds(attack + 5000, "linux", "amazon-ssm-agent", "root"))
    runner.feed(_imds(attack + 9000, "linux", "elastic-agent", "root"))  # excluded by the datafeed
    runner.flush()
    recs = [d for d in runner.results() if d["result_type"] == "record"]
    assert [(r["by_field_name"], r["by_field_value"]) for r in recs] == [(field, value)]
    rec = recs[0]
    assert rec["timestamp"] == attack
    assert rec["initial_record_score"] >= 50
    assert rec["anomaly_score_explanation"]["by_field_first_occurrence"] is True
    assert rec["user.name"] == ["www-data"] and rec["process.name"] == ["curl"]
    findings = runner.to_findings()
    assert findings[0].entity[field] == value and findings[0].entity["host.name"] == "web-1"
