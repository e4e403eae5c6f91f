"""A runner built ``records_only`` (the embedded backend's) gives the same records and
findings as a full one, and holds no bucket or influencer results."""

from __future__ import annotations

import random
from typing import Any, Iterator

import pytest

from ctdetect.engine.anomaly import AnomalyJobRunner

from helpers import HOUR_MS, T0, job, rare_history

SPAN_MS = 15 * 60 * 1000


def _count_events() -> Iterator[dict[str, Any]]:
    """Two weeks of users calling at their usual rate, then one user's burst."""
    rng = random.Random(3)
    for b in range(14 * 96):
        for u in range(6):
            for _ in range(rng.randint(0, 3)):
                yield {"_ts": T0 + b * SPAN_MS + rng.randrange(SPAN_MS), "user.name": f"user-{u}", "source.ip": f"10.0.0.{u}"}
    for i in range(80):
        yield {"_ts": T0 + 14 * 96 * SPAN_MS + i, "user.name": "user-2", "source.ip": "203.0.113.9"}


def _rare_events() -> Iterator[dict[str, Any]]:
    yield from rare_history(HOUR_MS, 24 * 10, ["ListBuckets", "GetObject", "PutObject"], extra={"user.name": "svc"})
    yield {"_ts": T0 + 24 * 10 * HOUR_MS + 5, "event.action": "PutBucketPolicy", "user.name": "mallory"}


CASES = {
    "high_count by user": (job("high_count", by_field_name="user.name", influencers=["user.name", "source.ip"]), _count_events),
    "rare event.action": (
        job("rare", "1h", by_field_name="event.action", influencers=["user.name", "event.action"]), _rare_events),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_records_only_keeps_the_same_records(case: str) -> None:
    body, events = CASES[case]
    full = AnomalyJobRunner.from_config(body)
    lean = AnomalyJobRunner.from_config(body, records_only=True)
    for runner in (full, lean):
        runner.feed_many(events())
        runner.flush()
    full_records = [d for d in full.results() if d["result_type"] == "record"]
    assert full_records, "the case must produce records to compare"
    assert any(d["record_score"] > 0 for d in full_records)
    assert lean.results() == full_records
    assert [(f.timestamp, f.score, f.entity) for f in lean.to_findings()] == \
        [(f.timestamp, f.score, f.entity) for f in full.to_findings()]
    assert lean.history_ms == full.history_ms > 0
    assert full.buckets and full.influencer_results
    assert lean.buckets == [] and lean.influencer_results == []
    assert {k: n.to_state() for k, n in lean.normalizers.items()} == {k: n.to_state() for k, n in full.normalizers.items()}
