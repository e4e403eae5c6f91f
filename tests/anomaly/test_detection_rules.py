"""Detector ``custom_rules`` in the embedded engine (``engine/anomaly/detection_rules``):
what each action does to a job's results and models, and the job configurations it
refuses, as Elasticsearch refuses them when the job is put."""

from __future__ import annotations

import random
from typing import Any

import pytest
from helpers import T0, job, records

from ctdetect.engine.anomaly import AnomalyJobRunner, JobConfigError
from ctdetect.engine.anomaly.detection_rules import PatternSet

SPAN_MS = 15 * 60 * 1000
USERS = ["alice", "bob", "carol"]
SPIKE_BUCKET = 4 * 96 + 40  # day 5


def _events(spikes: dict[str, int]) -> list[dict[str, Any]]:
    """Six days of 15-minute buckets, every user 3-6 events a bucket; at ``SPIKE_BUCKET``
    each user of ``spikes`` sends that many events."""
    rng = random.Random(3)
    out = []
    for b in range(6 * 96):
        base = T0 + b * SPAN_MS
        for user in USERS:
            n = spikes.get(user, rng.randint(3, 6)) if b == SPIKE_BUCKET else rng.randint(3, 6)
            out.extend({"_ts": base + rng.randrange(SPAN_MS), "user.name": user} for _ in range(n))
    out.sort(key=lambda e: e["_ts"])
    return out


def _run(rules: list[dict[str, Any]] | None, filters: dict[str, list[str]] | None = None,
         spikes: dict[str, int] | None = None) -> AnomalyJobRunner:
    body = job("high_count", by_field_name="user.name", **({"custom_rules": rules} if rules else {}))
    runner = AnomalyJobRunner.from_config(body, filters=filters or {})
    runner.feed_many(_events(spikes if spikes is not None else {"alice": 60, "bob": 60}))
    runner.flush()
    return runner


def _spiked(runner: AnomalyJobRunner) -> set[str]:
    """The users with a record at the spike bucket."""
    t = T0 + SPIKE_BUCKET * SPAN_MS
    return {r["by_field_value"] for r in records(runner) if r["timestamp"] == t}


def test_without_rules_both_spikes_are_records() -> None:
    assert _spiked(_run(None)) == {"alice", "bob"}


@pytest.mark.parametrize("kind,expected", [("include", {"alice"}), ("exclude", {"bob"})])
def test_skip_result_scope(kind: str, expected: set[str]) -> None:
    """A skip_result rule scoped to a filter holding bob: include skips bob's record,
    exclude skips everybody else's."""
    rules = [{"actions": ["skip_result"], "scope": {"user.name": {"filter_id": "quiet", "filter_type": kind}}}]
    assert _spiked(_run(rules, {"quiet": ["bo*"]})) == expected


def test_skip_result_is_the_default_action_and_conditions_read_actual() -> None:
    """No actions: skip_result. ``actual lt 50`` skips the 40-event spike, not the 60-event one."""
    rules = [{"conditions": [{"applies_to": "actual", "operator": "lt", "value": 50}]}]
    assert _spiked(_run(rules, spikes={"alice": 60, "bob": 40})) == {"alice"}
    assert _spiked(_run(None, spikes={"alice": 60, "bob": 40})) == {"alice", "bob"}


def test_skip_result_time_condition() -> None:
    """A time condition (epoch seconds of the bucket's middle) skips only the buckets it covers."""
    t = (T0 + SPIKE_BUCKET * SPAN_MS) // 1000
    before = [{"actions": ["skip_result"], "conditions": [{"applies_to": "time", "operator": "lt", "value": t}]}]
    after = [{"actions": ["skip_result"], "conditions": [{"applies_to": "time", "operator": "gt", "value": t}]}]
    assert _spiked(_run(before)) == {"alice", "bob"}
    assert _spiked(_run(after)) == set()


def test_skip_model_update_learns_little_and_holds_the_quantiles() -> None:
    """skip_model_update on bob: his series learns each bucket at 0.005 of its weight, so it
    differs from the plain run's, alice's does not; with the rule on every series the
    detector's normaliser never sees a score."""
    plain = _run(None)
    rules = [{"actions": ["skip_model_update"], "scope": {"user.name": {"filter_id": "b"}}}]
    ruled = _run(rules, {"b": ["bob"]})
    series = {k[1]: s.to_state() for k, s in ruled.detectors[0].series.items()}  # type: ignore[attr-defined]
    plain_series = {k[1]: s.to_state() for k, s in plain.detectors[0].series.items()}  # type: ignore[attr-defined]
    assert series["bob"] != plain_series["bob"]
    assert series["alice"] == plain_series["alice"]
    everything = _run([{"actions": ["skip_model_update"], "conditions": [{"applies_to": "time", "operator": "gte", "value": 0}]}])
    # a normaliser is made when first updated, or when a record is scored with it
    assert all(n.digest.n == 0 for k, n in everything.normalizers.items() if k.startswith("leaf"))
    assert everything.normalizers["root"].digest.n > 0
    plain_leaf = [n for k, n in plain.normalizers.items() if k.startswith("leaf")]
    assert plain_leaf and all(n.digest.n > 0 for n in plain_leaf)


def test_population_skip_result_leaves_the_attribute_out() -> None:
    """In population analysis a skipped attribute is left out of the person's result."""
    body = job("count", by_field_name="event.action", over_field_name="user.name")
    body["analysis_config"]["detectors"][0]["custom_rules"] = [{"scope": {"event.action": {"filter_id": "f"}}}]
    runner = AnomalyJobRunner.from_config(body, filters={"f": ["Get*"]})
    rng = random.Random(5)
    events = []
    for b in range(200):
        for user in USERS:
            for action in ("GetObject", "PutObject"):
                events.extend({"_ts": T0 + b * SPAN_MS + rng.randrange(SPAN_MS), "user.name": user, "event.action": action}
                              for _ in range(rng.randint(1, 3) if b != 150 else 40))
    events.sort(key=lambda e: e["_ts"])
    runner.feed_many(events)
    runner.flush()
    actions = {r["by_field_value"] for r in records(runner)}
    assert actions and "GetObject" not in actions


@pytest.mark.parametrize("rule,filters,message", [
    ({"actions": ["skip_result"]}, {}, "at least scope or a condition is required"),
    ({"scope": {"source.ip": {"filter_id": "f"}}}, {"f": ["x"]}, "scope field 'source.ip' is invalid"),
    ({"scope": {"user.name": {"filter_id": "nope"}}}, {}, "filter 'nope', which is not known"),
    ({"scope": {"user.name": {"filter_id": "f", "filter_type": "only"}}}, {"f": ["x"]}, "include or exclude"),
    ({"conditions": [{"applies_to": "actual", "operator": "eq", "value": 1}]}, {}, "operator must be one of"),
    ({"conditions": [{"applies_to": "typical", "operator": "gt", "value": "1"}]}, {}, "must be a number"),
    ({"actions": ["force_time_shift"], "conditions": [{"applies_to": "time", "operator": "gt", "value": 1}]}, {}, "actions must be"),
])
def test_refused_rules(rule: dict[str, Any], filters: dict[str, list[str]], message: str) -> None:
    body = job("high_count", by_field_name="user.name")
    body["analysis_config"]["detectors"][0]["custom_rules"] = [rule]
    with pytest.raises(JobConfigError, match=message):
        AnomalyJobRunner.from_config(body, filters=filters)


def test_rare_takes_time_conditions_only() -> None:
    """Elasticsearch refuses conditions on values for rare (there is no actual or typical a
    user could anticipate); a time condition or a scope is fine."""
    body = job("rare", by_field_name="event.action")
    body["analysis_config"]["detectors"][0]["custom_rules"] = [{"conditions": [{"applies_to": "actual", "operator": "gt", "value": 1}]}]
    with pytest.raises(JobConfigError, match="only supports conditions that apply to time"):
        AnomalyJobRunner.from_config(body)
    body["analysis_config"]["detectors"][0]["custom_rules"] = [{"conditions": [{"applies_to": "time", "operator": "gt", "value": 1}]}]
    AnomalyJobRunner.from_config(body)


def test_pattern_set_items() -> None:
    """ml-cpp's CPatternSet: exact, prefix*, *suffix, *substring*; a lone * matches nothing."""
    patterns = PatternSet(["admin", "svc-*", "*-bot", "*temp*", "*", ""])
    assert [patterns.contains(v) for v in ("admin", "admin2", "svc-ci", "ci-bot", "a-temp-b", "x", "")] == [
        True, False, True, True, True, False, False]


def test_a_resumed_job_keeps_its_rules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A job saved half way and resumed (``load_state`` with its filters) gives the records
    of the uninterrupted run: the rules come back with the job, not with the state."""
    rules = [{"actions": ["skip_result"], "scope": {"user.name": {"filter_id": "b"}}}]
    body = job("high_count", by_field_name="user.name", custom_rules=rules)
    events = _events({"alice": 60, "bob": 60})
    whole = AnomalyJobRunner.from_config(body, filters={"b": ["bob"]})
    whole.feed_many(events)
    whole.flush()
    half = len(events) // 2
    first = AnomalyJobRunner.from_config(body, filters={"b": ["bob"]})
    first.feed_many(events[:half])
    first.save_state(tmp_path / "state.json")
    resumed = AnomalyJobRunner.load_state(tmp_path / "state.json", body, filters={"b": ["bob"]})
    resumed.feed_many(events[half:])
    resumed.flush()
    later = [r for r in records(whole) if r["timestamp"] >= resumed.buckets[0]["timestamp"]]
    assert [(r["timestamp"], r["by_field_value"]) for r in records(resumed)] == [(r["timestamp"], r["by_field_value"]) for r in later]
    assert _spiked(resumed) == {"alice"}
