"""The batch columns read events as the per-event readers do, on each of their paths.

``BatchColumns.raw`` maps ``dict.get`` over a batch of plain dicts and asks any other
mapping its own ``get``; ``BatchColumns.tuples`` builds a column of strings from its
distinct values (``columns.by_distinct``) and any other column event by event. Every path
must give what ``event.get`` and ``fields.value_tuple`` give for each event.
"""

from __future__ import annotations

from typing import Any

import pytest

from ctdetect.engine.anomaly.columns import BatchColumns, RowRun, by_distinct, read_columns
from ctdetect.engine.anomaly.fields import value_tuple


class _Doc(dict):  # type: ignore[type-arg]
    """A mapping whose ``get`` is not ``dict.get``: the column must ask it."""

    def get(self, key: Any, default: Any = None) -> Any:
        return "own:" + key if key == "a" else super().get(key, default)


def _events(values: list[Any], nested: bool) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [{"_ts": i} if v is None else {"_ts": i, "a.b": v} for i, v in enumerate(values)]
    if nested:
        events.append({"_ts": 99, "a": {"b": "deep"}})
    return events


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize(
    "values",
    [
        ["u1", "u2", "u1", "u3"],  # strings only: the distinct-value path
        ["u1", "", "u1", None, "u2", None],  # with empty and missing values
        ["u1", 3, "u1", None],  # a number: event by event
        ["u1", ["x", "y"], None],  # a list (unhashable): event by event
    ],
)
def test_tuples_are_value_tuple_of_each_event(values: list[Any], nested: bool) -> None:
    events = _events(values * 5, nested)
    columns = BatchColumns(events)
    assert columns.raw("a.b") == [e.get("a.b") for e in events]
    assert columns.tuples("a.b") == [value_tuple(e, "a.b") for e in events]


def test_distinct_path_taken_only_where_it_is_exact() -> None:
    """Missing or empty values need the nested reader unless the column is flat; strings
    of a subclass of ``str`` and non-string values always do."""

    class Name(str):
        pass

    assert by_distinct(["a", "", None, "a"], flat=True) == [("a",), (), (), ("a",)]
    assert by_distinct(["a", "b"], flat=False) == [("a",), ("b",)]
    assert by_distinct(["a", None], flat=False) is None
    assert by_distinct(["a", ""], flat=False) is None
    assert by_distinct(["a", Name("b")], flat=True) is None
    assert by_distinct(["a", 1], flat=True) is None
    assert by_distinct([["a"]], flat=True) is None


def test_raw_asks_a_mapping_that_is_not_a_plain_dict() -> None:
    events = [{"a": "plain"}, _Doc(a="x"), {"b": 1}]
    assert BatchColumns(events).raw("a") == [e.get("a") for e in events] == ["plain", "own:a", None]
    plain = [{"a": "plain"}, {"b": 1}]
    assert BatchColumns(plain).raw("a") == ["plain", None]


def test_take_and_runs_read_the_selected_rows() -> None:
    events = [{"_ts": i, "k": f"v{i % 3}"} for i in range(10)]
    columns = BatchColumns(events)
    rows = [1, 2, 5, 7, 8]
    assert columns.take(columns.raw("k"), rows) == [events[i]["k"] for i in rows]
    assert columns.take(columns.raw("k"), None) is columns.raw("k")
    run = RowRun(columns, rows, 1, 4, [])
    assert run.raw("k") == [events[i]["k"] for i in rows[1:4]]
    assert run.tuples("k") == [(events[i]["k"],) for i in rows[1:4]]
    assert run.events == [events[i] for i in rows[1:4]]
    whole = RowRun(columns, None, 2, 6, [])
    assert whole.raw("k") == [e["k"] for e in events[2:6]]
    assert whole.events == events[2:6]


def test_prefetched_columns_are_the_columns_read_one_at_a_time() -> None:
    """A batch reading the fields its predecessor read, each event's at once, holds the same
    columns as one reading them lazily; a field not prefetched is still read when asked."""
    events = [{"_ts": i, "a": f"x{i % 4}", "b": i} if i % 5 else {"_ts": i} for i in range(50)]
    lazy = BatchColumns(events)
    for name in ("_ts", "a", "missing"):
        lazy.raw(name)
    eager = BatchColumns(events, lazy.names())
    assert eager.names() == ["_ts", "a", "missing"]
    for name in ("_ts", "a", "missing", "b"):
        assert eager.raw(name) == lazy.raw(name) == [e.get(name) for e in events]
    assert BatchColumns([], ["a"]).raw("a") == []


def test_shared_selection_prefetches_what_the_last_batch_read() -> None:
    from ctdetect.engine.anomaly.runner import AnomalyJobRunner
    from ctdetect.engine.anomaly.selection import SharedSelection

    body = {"job_id": "j", "analysis_config": {"bucket_span": "15m", "influencers": ["user.name"],
                                               "detectors": [{"function": "rare", "by_field_name": "event.action"}]}}
    shared = SharedSelection([AnomalyJobRunner.from_config(body)])
    events = [{"_ts": 1_000 * i, "user.name": "u", "event.action": f"a{i % 3}"} for i in range(20)]
    shared.feed(events[:10])
    assert {"_ts", "event.action", "user.name"} <= set(shared._fields)  # noqa: SLF001
    shared.feed(events[10:])


# -- a batch sent as columns (``read_columns`` here, ``BatchColumns.from_columns`` in a job process)

def _projected(events: list[Any], names: list[str]) -> list[dict[str, Any]]:
    """What the jobs' projection keeps of each event (``job_workers.project``)."""
    return [{n: e[n] for n in names if n in e} for e in events]


_MIXED = [
    {"_ts": 1, "a": "x", "b": None, "n": 3},  # b present with None
    {"_ts": 2, "a": ["p", "q"]},  # a list; b missing
    {"_ts": 3, "b": "y", "a.c": "deep"},
    {"_ts": 4, "a": "", "b": {"c": "nested"}},
]


@pytest.mark.parametrize("events", [_MIXED, [_Doc(e) for e in _MIXED]])
def test_columns_received_are_the_projected_events(events: list[Any]) -> None:
    """The columns a job process receives read as the projected events they came from:
    every raw column, every value tuple, and each event made whole (a key holding None
    stays, a missing key stays missing; a field no event holds, or one never sent, is None)."""
    names = ["_ts", "a", "b", "never", "a.c"]
    sent = read_columns(events, names)
    assert sent[3] is None  # no event holds it: nothing to send
    projected = _projected(events, names)
    received = BatchColumns.from_columns(names, sent, len(events))
    direct = BatchColumns(projected)
    for name in [*names, "unsent", "b.c"]:
        assert received.raw(name) == direct.raw(name) == [e.get(name) for e in projected]
        assert received.tuples(name) == direct.tuples(name) == [value_tuple(e, name) for e in projected]
    assert list(received.events) == projected
    assert [list(d) for d in received.events] == [list(d) for d in projected]  # same key order
    assert received.events[-1] == projected[-1] and received.events[1:3] == projected[1:3]
    with pytest.raises(IndexError):
        received.events[len(events)]


def test_received_events_are_made_only_when_read() -> None:
    """Taking a batch's columns and its runs makes no event; a run's events are a view
    that makes each event once, when a detector reads it."""
    events = [{"_ts": i, "k": f"v{i % 3}"} for i in range(10)]
    received = BatchColumns.from_columns(["_ts", "k"], read_columns(events, ["_ts", "k"]), 10)
    rows = [1, 2, 5, 7, 8]
    run = RowRun(received, rows, 1, 4, [])
    assert run.raw("k") == [events[i]["k"] for i in rows[1:4]]
    view = run.events
    assert len(view) == 3 and not received.events._made  # noqa: SLF001
    assert list(view) == [events[i] for i in rows[1:4]]
    assert sorted(received.events._made) == rows[1:4]  # noqa: SLF001
    assert view[0] is received.events[rows[1]]  # made once, shared by the batch
