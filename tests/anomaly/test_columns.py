"""The batch columns read events as the per-event readers do, on each of their paths.

``BatchColumns.raw`` maps ``dict.get`` over a batch of plain dicts and asks any other
mapping its own ``get``; ``BatchColumns.tuples`` builds a column of strings from its
distinct values (``columns.by_distinct``) and any other column event by event. Every path
must give what ``event.get`` and ``fields.value_tuple`` give for each event.
"""

from __future__ import annotations

from typing import Any

import pytest

from ctdetect.engine.anomaly.columns import BatchColumns, RowRun, by_distinct
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
    run = RowRun(columns, rows, 1, 4, [events[i] for i in rows[1:4]], [])
    assert run.raw("k") == [events[i]["k"] for i in rows[1:4]]
    assert run.tuples("k") == [(events[i]["k"],) for i in rows[1:4]]
    whole = RowRun(columns, None, 2, 6, events[2:6], [])
    assert whole.raw("k") == [e["k"] for e in events[2:6]]


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
