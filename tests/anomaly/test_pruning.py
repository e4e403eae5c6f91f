"""Model pruning in the job runner: Elasticsearch's default window, the job's own window,
the functions it applies to, and the pruning before a state is persisted (``pruning``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import HOUR_MS, T0, job

from ctdetect.engine.anomaly import AnomalyJobRunner, JobConfigError
from ctdetect.engine.anomaly.config import parse_job
from ctdetect.engine.anomaly.pruning import model_prune_window_s


def _run(body: dict[str, Any], events: list[dict[str, Any]]) -> AnomalyJobRunner:
    runner = AnomalyJobRunner.from_config(body)
    runner.feed_many(events)
    runner.flush()
    return runner


def _users(last_bucket: int, idle_last: int) -> list[dict[str, Any]]:
    """alice in every bucket up to ``last_bucket``; bob in buckets 0..``idle_last`` only."""
    events = []
    for b in range(last_bucket + 1):
        events.append({"_ts": T0 + b * HOUR_MS + 1, "user.name": "alice"})
        if b <= idle_last:
            events.append({"_ts": T0 + b * HOUR_MS + 2, "user.name": "bob"})
    return events


def _series_users(runner: AnomalyJobRunner) -> set[str]:
    return {by for _, by in runner.detectors[0].series}  # type: ignore[attr-defined]


def test_default_window_is_the_longer_of_30_days_and_20_buckets() -> None:
    short = parse_job(job("count", "1h"))
    long = parse_job(job("count", "3d"))
    assert model_prune_window_s(short) == 30 * 86400
    assert model_prune_window_s(long) == 20 * 3 * 86400
    own = parse_job({**job("count", "1h"), "analysis_config": {**job("count", "1h")["analysis_config"], "model_prune_window": "10h"}})
    assert model_prune_window_s(own) == 10 * 3600


def test_idle_series_is_scored_through_the_window_and_then_forgotten() -> None:
    """bob, last seen in bucket 9, is still modelled after bucket 729 and gone after bucket
    730: with the default 720-bucket window (30 days of 1h), ``(730 − 9) > 720``."""
    body = job("count", "1h", by_field_name="user.name")
    kept = _run(body, _users(729, 9))
    assert _series_users(kept) == {"alice", "bob"}
    pruned = _run(body, _users(730, 9))
    assert _series_users(pruned) == {"alice"}


def test_the_jobs_own_window_wins() -> None:
    body = job("high_count", "1h", by_field_name="user.name")
    body["analysis_config"]["model_prune_window"] = "10h"
    assert _series_users(_run(body, _users(19, 9))) == {"alice", "bob"}
    assert _series_users(_run(body, _users(20, 9))) == {"alice"}


def test_a_returning_series_starts_afresh() -> None:
    body = job("count", "1h", by_field_name="user.name")
    body["analysis_config"]["model_prune_window"] = "10h"
    events = _users(40, 9) + [{"_ts": T0 + 41 * HOUR_MS + 2, "user.name": "bob"}]
    runner = _run(body, sorted(events, key=lambda e: e["_ts"]))
    series = runner.detectors[0].series[(None, "bob")]  # type: ignore[attr-defined]
    assert series.buckets == 1 and series.present_buckets == 1


def test_rare_is_not_pruned_by_the_window_but_before_persisting(tmp_path: Path) -> None:
    """ml-cpp: no window pruning for ``rare``; ``pruneAllModels`` before a persist prunes it by
    min(4 / decay rate, 10^6) buckets (8,000 buckets of 1h at decay rate 0.0005)."""
    body = job("rare", "1h", by_field_name="event.action")
    body["analysis_config"]["model_prune_window"] = "2h"
    events = [{"_ts": T0 + 1, "event.action": "Old"}]
    events += [{"_ts": T0 + b * HOUR_MS + 1, "event.action": "New"} for b in range(1, 8002)]
    runner = _run(body, events)
    model = runner.detectors[0].models[None]  # type: ignore[attr-defined]
    assert set(model.stored) == {"Old", "New"}
    runner.save_state(tmp_path / "state.json")
    assert set(model.stored) == {"New"}


@pytest.mark.parametrize("window,message", [("90m", "must be a multiple of bucket_span"), ("1h", "must be at least 2 times greater")])
def test_windows_elasticsearch_refuses_are_refused(window: str, message: str) -> None:
    body = job("count", "1h")
    body["analysis_config"]["model_prune_window"] = window
    with pytest.raises(JobConfigError, match=message):
        parse_job(body)
