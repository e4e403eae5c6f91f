"""The input side of hunt: files in CloudTrail delivery order, bounded re-ordering by time,
unmappable records reported with file and record number."""

from __future__ import annotations

import gzip
import heapq
import json
import random

import pytest

from ctdetect.readers import SkipCounter
from ctdetect.ecs.stream import iter_events as flat_events
from ctdetect.readers.order import ordered_files
from ctdetect.services.inputs import make_mapper, time_ordered


def test_time_ordered_sorts_within_the_horizon_and_passes_late_events_on():
    events = [{"_ts": t, "n": i} for i, t in enumerate([5, 1, 3, 2, 100, 4, 101])]
    out = [e["_ts"] for e in time_ordered(events, horizon_ms=10)]
    # 4 arrives after 100 pushed the horizon past it: passed on as it comes, not lost
    assert out == [1, 2, 3, 5, 4, 100, 101]
    assert sorted(out) == sorted(e["_ts"] for e in events)
    assert [e["_ts"] for e in time_ordered(events, horizon_ms=1000)] == [1, 2, 3, 4, 5, 100, 101]


def test_time_ordered_keeps_input_order_for_equal_times():
    events = [{"_ts": 1, "n": i} for i in range(5)]
    assert [e["n"] for e in time_ordered(events)] == [0, 1, 2, 3, 4]


def _one_heap(events, horizon_ms):
    """The order ``time_ordered`` promises: one heap of (time, arrival), popped past the horizon."""
    heap, newest = [], None
    for seq, event in enumerate(events):
        heapq.heappush(heap, (event["_ts"], seq, event))
        newest = event["_ts"] if newest is None else max(newest, event["_ts"])
        while heap and heap[0][0] < newest - horizon_ms:
            yield heapq.heappop(heap)[2]
    while heap:
        yield heapq.heappop(heap)[2]


@pytest.mark.parametrize("seed", range(20))
def test_time_ordered_gives_one_heaps_order_on_mostly_sorted_input(seed):
    rng = random.Random(seed)
    events, t = [], 0
    for n in range(2000):  # mostly rising, some going back (within and past the horizon), ties
        t += rng.choice((0, 0, 1, 3, 10))
        back = rng.random()
        ts = t - rng.randrange(1, 40) if back < 0.2 else t - rng.randrange(40, 400) if back < 0.23 else t
        events.append({"_ts": ts, "n": n})
    for horizon in (0, 5, 50, 10_000):
        assert [e["n"] for e in time_ordered(events, horizon)] == [e["n"] for e in _one_heap(events, horizon)]


def test_files_follow_cloudtrail_delivery_time_across_regions(tmp_path):
    names = [
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T1005Z_a.json.gz",
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T1015Z_b.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/111122223333_CloudTrail_us-east-1_20260302T1000Z_c.json.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/111122223333_CloudTrail_us-east-1_20260302T1010Z_d.json.gz",
    ]
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(b'{"Records": []}'))
    ordered = [p.rsplit("_", 1)[-1] for p in ordered_files([tmp_path], SkipCounter())]
    assert ordered == ["c.json.gz", "a.json.gz", "d.json.gz", "b.json.gz"]


def test_unmappable_records_are_reported_and_the_rest_maps(tmp_path):
    good = {"eventTime": "2026-03-02T10:00:00Z", "eventName": "ListBuckets", "eventSource": "s3.amazonaws.com", "awsRegion": "us-east-1"}
    bad = {"eventTime": "yesterday", "eventName": "ListBuckets"}
    path = tmp_path / "events.ndjson"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    skips = SkipCounter()
    events = list(flat_events([path], mapper=make_mapper(None), on_skip=skips))
    assert [e["event.action"] for e in events] == ["ListBuckets"]
    assert skips.total == 1
    assert skips.examples[0].record == 2 and str(path) in str(skips.examples[0])
