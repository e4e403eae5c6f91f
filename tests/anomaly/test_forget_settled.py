"""A records-only runner may forget records once their score is final and under a floor
(``forget_below``): what it keeps and what it counts are exactly the records a full run
has, minus those, so hunt shows and counts the same."""

from __future__ import annotations

import random
from typing import Any, Iterator

import pytest

from ctdetect.engine.anomaly import AnomalyJobRunner

from helpers import HOUR_MS, T0, job

FLOOR = 18.0  # the case's records score 11-30: some settle under it, some over
DAY_MS = 24 * HOUR_MS


def _events() -> Iterator[dict[str, Any]]:
    """Ten days of three usual actions every hour, and now and then one of thirty rare ones:
    records of many scores, spread over every day."""
    rng = random.Random(11)
    rare = [f"Rare{i}" for i in range(30)]
    for hour in range(24 * 10):
        base = T0 + hour * HOUR_MS
        times = sorted((base + rng.randrange(HOUR_MS), a) for a in ("ListBuckets", "GetObject", "PutObject") for _ in range(2))
        if rng.random() < 0.3:
            times.append((base + HOUR_MS - 1, rng.choice(rare)))
        for t, action in times:
            yield {"_ts": t, "event.action": action, "user.name": "svc"}


def _body(window_days: int | None = 2) -> dict[str, Any]:
    body = job("rare", "1h", by_field_name="event.action", influencers=["event.action"])
    if window_days is not None:
        body["renormalization_window_days"] = window_days
    return body


def _run(**kwargs: Any) -> AnomalyJobRunner:
    runner = AnomalyJobRunner.from_config(_body(), records_only=True, **kwargs)
    runner.feed_many(_events())
    runner.flush()
    return runner


def _key(doc: dict[str, Any]) -> tuple:
    return (doc["timestamp"], doc["detector_index"], doc.get("by_field_value"))


def test_forgets_exactly_the_settled_records_under_the_floor() -> None:
    kept_all = _run()
    forgetting = _run(forget_below=FLOOR)
    everything = kept_all.results()
    assert kept_all.forgotten == {}
    last = kept_all._last_closed
    assert last is not None and last == forgetting._last_closed
    window_ms = 2 * DAY_MS
    gone = [
        d for d in everything
        if d["timestamp"] < last - window_ms and d["record_score"] < FLOOR and d["initial_record_score"] < FLOOR
    ]
    assert gone, "the case must settle records under the floor"
    assert any(d["record_score"] >= FLOOR for d in everything), "and keep some over it"
    gone_keys = {_key(d) for d in gone}
    assert forgetting.results() == [d for d in everything if _key(d) not in gone_keys]
    per_bucket: dict[int, int] = {}
    for d in gone:
        per_bucket[d["timestamp"]] = per_bucket.get(d["timestamp"], 0) + 1
    assert forgetting.forgotten == per_bucket
    assert [(f.timestamp, f.score, f.entity) for f in forgetting.to_findings()] == [
        (f.timestamp, f.score, f.entity) for f in kept_all.to_findings() if _key(f.document) not in gone_keys
    ]


def test_a_record_that_alerted_at_first_is_kept() -> None:
    """An ML rule reads ``initial_record_score``: a record that started at or over the floor
    stays, whatever its final score (made so here by raising one record's initial score
    while it is still inside the window)."""
    runner = AnomalyJobRunner.from_config(_body(), records_only=True, forget_below=FLOOR)
    events = list(_events())
    first_days = [e for e in events if e["_ts"] < T0 + 4 * DAY_MS]
    runner.feed_many(first_days)
    runner.flush(T0 + 4 * DAY_MS)
    # mild records still inside the two-day window (not settled yet)
    mild = [d for d in runner.records if d["record_score"] < FLOOR and d["timestamp"] >= T0 + 2 * DAY_MS]
    assert len(mild) >= 2, "the first days must hold mild records still inside the window"
    alerted, plain = mild[0], mild[1]
    alerted["initial_record_score"] = FLOOR
    runner.feed_many(events[len(first_days):])
    runner.flush()
    kept = runner.results()
    assert any(d is alerted for d in kept)
    assert not any(d is plain for d in kept)
    assert runner.forgotten.get(plain["timestamp"], 0) >= 1


def test_forget_below_needs_a_records_only_runner() -> None:
    with pytest.raises(ValueError, match="records_only"):
        AnomalyJobRunner.from_config(_body(), forget_below=FLOOR)
