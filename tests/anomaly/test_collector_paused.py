"""The cyclic garbage collector is paused while a job closes a bucket (``collector``).

A close makes many containers that die when it ends; the collector must not run in the
middle of it (it would age them into older generations and trigger full collections),
and must be left as the caller had it, exception or not.
"""

from __future__ import annotations

import gc
from contextlib import nullcontext
from typing import Any, Iterator

import pytest

from ctdetect.engine.anomaly import AnomalyJobRunner, runner as runner_module
from ctdetect.engine.anomaly.collector import collector_paused
from ctdetect.engine.anomaly.selection import SharedSelection

from helpers import T0, job

SPAN_MS = 15 * 60 * 1000


def _events(buckets: int, users: int) -> Iterator[dict[str, Any]]:
    """Every user in every other bucket: each close scores ``users`` series (empty or not)."""
    for b in range(buckets):
        if b % 2:
            continue
        for u in range(users):
            yield {"_ts": T0 + b * SPAN_MS + u, "user.name": f"user-{u}", "source.ip": f"10.0.{u // 250}.{u % 250}"}


def _collections_during_closes(monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """(collections that started while a bucket closed, buckets closed) over a run of a
    count job partitioned by user."""
    runner = AnomalyJobRunner.from_config(job("count", partition_field_name="user.name", influencers=["source.ip"]))
    closing = [False]
    during = [0]
    closes = [0]
    inner = runner._close_bucket

    def close(bucket_ms: int) -> None:
        closing[0] = True
        closes[0] += 1
        try:
            inner(bucket_ms)
        finally:
            closing[0] = False

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and closing[0]:
            during[0] += 1

    monkeypatch.setattr(runner, "_close_bucket", close)
    gc.callbacks.append(seen)
    try:
        runner.feed_many(_events(40, 600))
        runner.flush()
    finally:
        gc.callbacks.remove(seen)
    return during[0], closes[0]


def test_no_collection_runs_while_a_bucket_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gc.isenabled()
    during, closes = _collections_during_closes(monkeypatch)
    assert closes == 39  # buckets 0 to 38, the last with events
    assert during == 0
    assert gc.isenabled()


def test_without_the_pause_the_collector_runs_inside_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run above is big enough for the collector to run inside its closes when not
    paused: the first test would catch the pause going missing."""
    monkeypatch.setattr(runner_module, "collector_paused", nullcontext)
    during, _closes = _collections_during_closes(monkeypatch)
    assert during > 0


def test_no_collection_runs_while_a_batch_is_fed() -> None:
    """``SharedSelection.feed`` (how hunt and replay feed the jobs) pauses it for the whole
    batch: its columns and runs die with it."""
    runner = AnomalyJobRunner.from_config(job("count", partition_field_name="user.name", influencers=["source.ip"]))
    shared = SharedSelection([runner])
    events = list(_events(40, 600))
    started: list[int] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        for i in range(0, len(events), 4096):
            shared.feed(events[i : i + 4096])
            assert gc.isenabled()
            started.append(-1)  # a batch's end
    finally:
        gc.callbacks.remove(seen)
    batches = [i for i, g in enumerate(started) if g == -1]
    assert len(batches) == 3 and runner.counts["processed"] == len(events)
    # collections run only between batches: none of them while one was fed, so at most one
    # (the first allocation after a batch, in this loop) between two batch ends
    assert all(b - a <= 2 for a, b in zip([-1, *batches], batches))


def test_the_collector_is_restored_as_it_was() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with collector_paused():
            raise RuntimeError("a close failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the caller's choice stays
    finally:
        gc.enable()


def test_a_batch_s_columns_are_gone_when_the_collector_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's columns die inside the pause: the collection that starts as it ends
    (a batch allocates past the threshold) must not find them alive to walk."""
    from ctdetect.engine.anomaly import collector
    from ctdetect.engine.anomaly.columns import BatchColumns

    alive: list[int] = []

    class Watched:
        """``gc`` as ``collector`` uses it, counting the live columns as it re-enables."""

        isenabled = staticmethod(gc.isenabled)
        disable = staticmethod(gc.disable)

        @staticmethod
        def enable() -> None:
            alive.append(sum(1 for o in gc.get_objects() if type(o) is BatchColumns))
            gc.enable()

    monkeypatch.setattr(collector, "gc", Watched)
    shared = SharedSelection([AnomalyJobRunner.from_config(job("count", partition_field_name="user.name"))])
    events = list(_events(4, 50))
    shared.feed(events)
    assert alive == [0]
