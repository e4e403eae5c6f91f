"""Behaviour that Elastic documents or that follows from its engine (ML-SEMANTICS §2, §5, §6)."""

from __future__ import annotations

import random

from helpers import HOUR_MS, T0, job, rare_history, records

from ctdetect.engine.anomaly import AnomalyJobRunner

SPAN_15M = 15 * 60 * 1000


def test_no_record_during_the_learning_period() -> None:
    runner = AnomalyJobRunner.from_config(job("rare", by_field_name="event.action", partition_field_name="user.name"))
    runner.feed_many(rare_history(SPAN_15M, 12, ["ListBuckets", "GetObject"], extra={"user.name": "alice"}))
    runner.feed({"_ts": T0 + 12 * SPAN_15M + 5, "event.action": "CreateAccessKey", "user.name": "alice"})
    runner.flush()
    assert records(runner) == []
    # the same new value after 200 buckets of history is a record
    later = AnomalyJobRunner.from_config(job("rare", by_field_name="event.action", partition_field_name="user.name"))
    later.feed_many(rare_history(SPAN_15M, 200, ["ListBuckets", "GetObject"], extra={"user.name": "alice"}))
    later.feed({"_ts": T0 + 200 * SPAN_15M + 5, "event.action": "CreateAccessKey", "user.name": "alice"})
    later.flush()
    recs = records(later)
    assert [(r["by_field_value"], r["partition_field_value"]) for r in recs] == [("CreateAccessKey", "alice")]
    assert recs[0]["anomaly_score_explanation"]["by_field_first_occurrence"] is True


def test_a_brand_new_partition_value_starts_cold() -> None:
    runner = AnomalyJobRunner.from_config(job("rare", by_field_name="event.action", partition_field_name="user.name"))
    runner.feed_many(rare_history(SPAN_15M, 300, ["ListBuckets", "GetObject"], extra={"user.name": "alice"}))
    runner.feed({"_ts": T0 + 300 * SPAN_15M + 5, "event.action": "CreateAccessKey", "user.name": "mallory"})
    runner.flush()
    assert records(runner) == []


def _long_history_runner(buckets: int = 2200) -> AnomalyJobRunner:
    runner = AnomalyJobRunner.from_config(
        job("rare", by_field_name="event.action", partition_field_name="user.name", influencers=["user.name", "event.action"])
    )
    runner.feed_many(rare_history(SPAN_15M, buckets, ["ListBuckets", "GetObject", "DescribeInstances"], extra={"user.name": "alice"}))
    return runner


def test_never_seen_value_after_long_history_scores_above_75() -> None:
    runner = _long_history_runner()
    runner.feed({"_ts": T0 + 2200 * SPAN_15M + 60_000, "event.action": "CreateAccessKey", "user.name": "alice"})
    runner.flush()
    recs = records(runner)
    assert len(recs) == 1
    rec = recs[0]
    assert rec["probability"] < 5.13e-4  # the absolute cap lets it pass 75 only below this
    assert rec["initial_record_score"] > 75
    assert rec["user.name"] == ["alice"] and rec["event.action"] == ["CreateAccessKey"]
    assert {"influencer_field_name": "user.name", "influencer_field_values": ["alice"]} in rec["influencers"]
    bucket = next(d for d in runner.results() if d["result_type"] == "bucket" and d["timestamp"] == rec["timestamp"])
    assert bucket["anomaly_score"] > 0 and bucket["event_count"] == 1
    infl = [d for d in runner.results() if d["result_type"] == "influencer" and d["timestamp"] == rec["timestamp"]]
    assert {(d["influencer_field_name"], d["influencer_field_value"]) for d in infl} == {("user.name", "alice"), ("event.action", "CreateAccessKey")}


def test_the_same_rare_value_scores_lower_each_time() -> None:
    runner = _long_history_runner()
    end = T0 + 2200 * SPAN_15M
    for k in range(4):
        t = end + k * 40 * SPAN_15M
        runner.feed_many(rare_history(SPAN_15M, 40, ["ListBuckets", "GetObject", "DescribeInstances"], extra={"user.name": "alice"}, seed=k, start=t))
        runner.feed({"_ts": t + 39 * SPAN_15M + 1000, "event.action": "CreateAccessKey", "user.name": "alice"})
    runner.flush()
    recs = [r for r in records(runner) if r["by_field_value"] == "CreateAccessKey"]
    scores = [r["initial_record_score"] for r in recs]
    probs = [r["probability"] for r in recs]
    assert len(recs) == 4
    assert probs == sorted(probs) and len(set(probs)) == 4
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    # renormalised scores never exceed the first anomaly's
    assert max(r["record_score"] for r in recs) == recs[0]["record_score"]


def _error_events(buckets: int, seed: int = 3):
    rng = random.Random(seed)
    msgs = [f"User is not authorized to perform: s3:GetObject on resource bucket-{i}" for i in range(5)]
    for b in range(buckets):
        base = T0 + b * SPAN_15M
        for _ in range(rng.randint(3, 9)):
            yield {"_ts": base + rng.randrange(SPAN_15M), "aws.cloudtrail.error_message": rng.choice(msgs), "user.name": rng.choice(["ci", "ops"])}


def test_high_distinct_count_catches_a_burst_and_ignores_a_drop() -> None:
    spec = job("high_distinct_count", field_name="aws.cloudtrail.error_message", influencers=["user.name"])
    runner = AnomalyJobRunner.from_config(spec)
    events = sorted(_error_events(300), key=lambda e: e["_ts"])
    burst_t = T0 + 300 * SPAN_15M
    drop_t = T0 + 301 * SPAN_15M
    for e in events:
        runner.feed(e)
    for i in range(40):  # 40 distinct denied resources in one bucket
        runner.feed({"_ts": burst_t + i * 1000, "aws.cloudtrail.error_message": f"not authorized on secret-{i}", "user.name": "mallory"})
    runner.feed({"_ts": drop_t + 10, "aws.cloudtrail.error_message": "same", "user.name": "ci"})  # a drop to 1
    for e in _error_events(20, seed=9):
        runner.feed({**e, "_ts": e["_ts"] + 302 * SPAN_15M})
    runner.flush()
    recs = records(runner)
    assert recs[0]["timestamp"] == burst_t
    # the buckets after it (the drop included) are records only through the 12-bucket
    # window the burst sits in, as in ml-cpp: multi_bucket_impact +5, scores falling
    later = recs[1:]
    assert all(r["multi_bucket_impact"] == 5.0 for r in later)
    assert all(r["initial_record_score"] < recs[0]["initial_record_score"] for r in later)
    assert [r["initial_record_score"] for r in later] == sorted((r["initial_record_score"] for r in later), reverse=True)
    rec = recs[0]
    assert rec["multi_bucket_impact"] < 0  # the bucket itself
    assert rec["function"] == "high_distinct_count" and rec["function_description"] == "distinct_count"
    assert rec["field_name"] == "aws.cloudtrail.error_message"
    assert rec["actual"] == [40.0] and rec["typical"][0] < 10
    assert rec["initial_record_score"] > 50
    assert "mallory" in rec["user.name"]
    explanation = rec["anomaly_score_explanation"]
    assert explanation["anomaly_type"] == "spike"
    assert explanation["lower_confidence_bound"] <= explanation["typical_value"] <= explanation["upper_confidence_bound"] < 40


def test_low_count_sees_the_drop_high_count_does_not() -> None:
    def run(function: str) -> list[dict]:
        r = AnomalyJobRunner.from_config(job(function, span="1h"))
        rng = random.Random(5)
        for b in range(200):
            n = 3 if b == 150 else rng.randint(45, 55)
            for i in range(n):
                r.feed({"_ts": T0 + b * HOUR_MS + i * 1000})
        r.flush()
        return records(r)

    low = run("low_count")
    assert low[0]["timestamp"] == T0 + 150 * HOUR_MS
    # later records only through the 12-bucket window holding the drop (ml-cpp's multi-bucket feature)
    assert all(rec["multi_bucket_impact"] == 5.0 and rec["timestamp"] <= T0 + 161 * HOUR_MS for rec in low[1:])
    assert all(rec["initial_record_score"] < low[0]["initial_record_score"] for rec in low[1:])
    assert run("high_count") == []


def test_out_of_order_events_are_counted_and_dropped() -> None:
    runner = AnomalyJobRunner.from_config(job("rare", by_field_name="event.action"))
    runner.feed({"_ts": T0 + 2 * SPAN_15M, "event.action": "a"})
    runner.feed({"_ts": T0 + 3 * SPAN_15M, "event.action": "a"})
    runner.feed({"_ts": T0 + 5, "event.action": "b"})
    runner.feed({"@timestamp": "not a date", "event.action": "b"})
    runner.flush()
    assert runner.counts["out_of_order"] == 1
    assert runner.counts["invalid_time"] == 1
    assert any("no usable time" in p for p in runner.problems)
    buckets = [d for d in runner.results() if d["result_type"] == "bucket"]
    assert [b["event_count"] for b in buckets] == [1, 1]


def test_population_rare_finds_the_client_with_rare_statuses() -> None:
    spec = job("rare", by_field_name="status", over_field_name="clientip", span="1h")
    runner = AnomalyJobRunner.from_config(spec)
    rng = random.Random(11)
    clients = [f"10.0.0.{i}" for i in range(60)]
    for b in range(100):
        for c in rng.sample(clients, 30):
            runner.feed({"_ts": T0 + b * HOUR_MS + rng.randrange(HOUR_MS // 2), "status": "200", "clientip": c})
    t = T0 + 100 * HOUR_MS
    runner.feed({"_ts": t + 1, "status": "500", "clientip": "6.6.6.6"})
    runner.feed({"_ts": t + 2, "status": "418", "clientip": "6.6.6.6"})
    for c in clients[:20]:
        runner.feed({"_ts": t + 10, "status": "200", "clientip": c})
    runner.flush()
    recs = records(runner)
    assert {r["over_field_value"] for r in recs} == {"6.6.6.6"}
    assert {c["by_field_value"] for c in recs[0]["causes"]} == {"500", "418"}
