"""Saving and resuming a job's models gives the same results as one continuous run."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from helpers import T0, job

from ctdetect.engine.anomaly import AnomalyJobRunner, StateError

SPAN = 15 * 60 * 1000

JOB = {
    "job_id": "state_multi",
    "analysis_config": {
        "bucket_span": "15m",
        "detectors": [
            {"function": "rare", "by_field_name": "event.action", "partition_field_name": "user.name"},
            {"function": "high_distinct_count", "field_name": "error.message"},
            {"function": "count", "by_field_name": "user.name"},
            {"function": "freq_rare", "by_field_name": "event.action", "over_field_name": "source.ip"},
        ],
        "influencers": ["user.name", "source.ip"],
    },
}


def _events(seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for b in range(400):
        for _ in range(rng.randint(2, 6)):
            user = rng.choice(["alice", "bob", "carol"])
            out.append({
                "_ts": T0 + b * SPAN + rng.randrange(SPAN),
                "event.action": rng.choice(["List", "Get", "Describe"]) if rng.random() > 0.01 else "Delete",
                "user.name": user,
                "source.ip": f"10.0.0.{rng.randint(1, 9)}",
                "error.message": f"m{rng.randint(1, 4)}",
            })
    for i in range(30):
        out.append({"_ts": T0 + 400 * SPAN + i, "event.action": "Create", "user.name": "alice", "source.ip": "6.6.6.6", "error.message": f"e{i}"})
    return sorted(out, key=lambda e: e["_ts"])


def _results_after(runner: AnomalyJobRunner, t: int) -> list[dict]:
    return [d for d in runner.results() if d["timestamp"] >= t]


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_resume_equals_continuous_run(tmp_path: Path, suffix: str) -> None:
    events = _events()
    cut = len(events) * 2 // 3  # mid-bucket: the open bucket is saved too
    whole = AnomalyJobRunner.from_config(JOB)
    whole.feed_many(events)
    whole.flush()

    first = AnomalyJobRunner.from_config(JOB)
    first.feed_many(events[:cut])
    path = tmp_path / f"state{suffix}"
    first.save_state(path)
    resumed = AnomalyJobRunner.load_state(path, JOB)
    resumed.feed_many(events[cut:])
    resumed.flush()

    t = resumed.buckets[0]["timestamp"]
    got = _results_after(resumed, t)
    want = _results_after(whole, t)
    assert got and any(d["result_type"] == "record" for d in got)
    assert got == want


def test_state_file_is_versioned_json(tmp_path: Path) -> None:
    runner = AnomalyJobRunner.from_config(JOB)
    runner.feed_many(_events()[:200])
    runner.save_state(tmp_path / "s.json.gz")
    state = json.loads(gzip.decompress((tmp_path / "s.json.gz").read_bytes()))
    assert state["format"] == "ctdetect-anomaly-state" and state["version"] == 7
    assert state["job_id"] == "state_multi" and len(state["detectors"]) == 4


def test_bad_state_files_give_one_clear_message(tmp_path: Path) -> None:
    runner = AnomalyJobRunner.from_config(JOB)
    runner.feed_many(_events()[:50])
    good = tmp_path / "s.json"
    runner.save_state(good)
    other = job("rare", by_field_name="x")
    with pytest.raises(StateError, match="state is for job 'state_multi'"):
        AnomalyJobRunner.load_state(good, other)
    state = json.loads(good.read_text())
    state["version"] = 99
    (tmp_path / "v.json").write_text(json.dumps(state))
    with pytest.raises(StateError, match="version 99"):
        AnomalyJobRunner.load_state(tmp_path / "v.json", JOB)
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(StateError, match="junk.json"):
        AnomalyJobRunner.load_state(tmp_path / "junk.json", JOB)
