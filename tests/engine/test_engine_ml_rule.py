"""machine_learning rules: anomaly records at or above the threshold of the named jobs."""

from datetime import datetime, timezone

from rulekit import rule

from ctdetect.engine.rules.ml_rule import MachineLearningRule
from ctdetect.engine.rules.schedule import Schedule
from ctdetect.findings import Finding


def anomaly(job, score, minute, user="waf-role", initial=None):
    ts = datetime(2026, 3, 2, 10, minute, tzinfo=timezone.utc)
    doc = {
        "job_id": job,
        "result_type": "record",
        "timestamp": int(ts.timestamp() * 1000),
        "record_score": score,
        "initial_record_score": score if initial is None else initial,
        "function": "rare",
        "by_field_name": "event.action",
        "by_field_value": "ListBuckets",
        "partition_field_name": "user.name",
        "partition_field_value": user,
        "user": {"name": [user]},
    }
    return Finding("anomaly", job, job, ts, score, doc, {"user.name": user, "event.action": "ListBuckets"})


def ml(threshold=50, jobs=("job_a",)):
    r = rule("machine_learning", query=None, language=None, anomaly_threshold=threshold, machine_learning_job_id=list(jobs), from_="now-45m", interval="15m", index=[])
    return MachineLearningRule(r, Schedule.of(r.interval, r.from_))


def test_records_at_or_above_threshold_of_named_jobs_alert_once():
    found = ml().finish([anomaly("job_a", 50, 1), anomaly("job_a", 49.9, 2), anomaly("job_b", 99, 3)])
    assert len(found) == 1
    f = found[0]
    assert f.get("user.name") == "waf-role"
    assert f.document["job_id"] == "job_a"
    assert f.document["kibana"]["alert"]["rule"]["type"] == "machine_learning"


def test_initial_score_is_what_the_rule_sees():
    # renormalised down later, but the rule ran when the score was still 80
    assert len(ml(threshold=75).finish([anomaly("job_a", 30, 1, initial=80)])) == 1
    assert ml(threshold=75).finish([anomaly("job_a", 90, 1, initial=60)]) == []
