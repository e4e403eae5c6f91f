"""The anomaly jobs fed a batch at a time (``engine.anomaly.selection``, what ``hunt`` and the
embedded backend do) give byte-identical results to feeding them one event at a time:
same records, buckets and influencers, same counts, same problems, for any batch size.

The data: a seeded synthetic trail (with travel, so the rare-location jobs score), the
metadata-service baselines the package's host jobs read, and a few broken events (no
time, a list where a string is expected, a time out of order) so every branch is crossed.
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any, Callable

import pytest

from ctdetect.catalogue import load_catalogue
from ctdetect.ecs.stream import iter_events
from ctdetect.engine.anomaly import AnomalyJobRunner
from ctdetect.engine.anomaly import selection as selection_module
from ctdetect.engine.anomaly.detectors.counting import CountingDetector
from ctdetect.engine.anomaly.selection import SharedSelection
from ctdetect.query.ast import Exists
from ctdetect.services.content import load_content
from ctdetect.services.inputs import make_mapper, time_ordered
from ctdetect.synth import SynthParams, generate

PROJECT = Path(__file__).resolve().parents[2]


def _events() -> list[dict[str, Any]]:
    mapper = make_mapper(None)
    params = SynthParams(seed=5, start="2026-03-02T00:00:00Z", days=2, principals=8, events_per_day=1200, travel_rate=0.3)
    trail = [mapper.map(r) for r in generate(params)]
    imds = list(islice(iter_events([PROJECT / "scenarios" / "_data" / "imds"]), 1500))
    events = list(time_ordered(trail + imds, horizon_ms=10**12))
    broken = [
        {"event.dataset": "aws.cloudtrail", "user.name": "no-time"},  # no usable time
        {**events[10], "user.name": ["a", "b"], "event.action": ["X", "Y"]},  # lists: every value counts
        {**events[5], "_ts": events[5]["_ts"] - 10 * 86400_000},  # far out of order: dropped
        # a nested document: its influencer values are found by the nested walk
        {**{k: v for k, v in events[12].items() if not k.startswith("source.geo")}, "source": {"geo": {"country_iso_code": "ZZ"}}},
    ]
    return events[:2000] + broken + events[2000:]


def _runners() -> list[AnomalyJobRunner]:
    types = load_catalogue().field_types()  # as the embedded backend passes them
    return [AnomalyJobRunner.from_config(job, feed, types) for job, feed in load_content(PROJECT).jobs]


def _outcome(runners: list[AnomalyJobRunner]) -> str:
    out = []
    for r in runners:
        # the count family's open bucket (its state lists tallies in the order they filled)
        open_bucket = [m.to_state()["bucket"] for m in r.detectors if isinstance(m, CountingDetector)]
        r.flush()
        out.append({"job": r.job_id, "results": r.results(), "counts": r.counts, "problems": r.problems, "open": open_bucket})
    return json.dumps(out, sort_keys=True)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return _events()


@pytest.fixture(scope="module")
def per_event(events: list[dict[str, Any]]) -> str:
    runners = _runners()
    for event in events:
        for r in runners:
            r.feed(event)
    return _outcome(runners)


@pytest.mark.parametrize("size", [1, 4096])
def test_batches_equal_per_event(events: list[dict[str, Any]], per_event: str, size: int) -> None:
    runners = _runners()
    shared = SharedSelection(runners)
    for start in range(0, len(events), size):
        shared.feed(events[start : start + size])
    batched = _outcome(runners)
    assert json.loads(per_event)[0]["counts"]["processed"] > 0
    assert any(job["results"] and any(d["result_type"] == "record" for d in job["results"]) for job in json.loads(batched))
    assert batched == per_event


def test_clauses_are_shared() -> None:
    """Twelve jobs, fewer distinct clauses than the jobs' clauses in all."""
    shared = SharedSelection(_runners())
    total = sum(len(plan) for plan in shared._plans if plan)  # noqa: SLF001 - the figure the design is about
    assert shared.clause_count < total


def test_query_errors_same_as_per_event(events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """An ``exists`` clause that raises on some events: each job reports exactly what its own
    predicate (its clauses in order, stopping at the first false one) reports event by
    event, in the same place among its other problems; a job whose earlier clause is false
    on such an event never sees the error."""
    own_predicate = _poison(events, monkeypatch)
    reference = _runners()
    for r in reference:
        own_predicate(r)
    for event in events:
        for r in reference:
            r.feed(event)
    runners = _runners()
    for r in runners:
        own_predicate(r)
    shared = SharedSelection(runners)
    for start in range(0, len(events), 500):
        shared.feed(events[start : start + 500])
    expected = _outcome(reference)
    assert "poisoned event" in expected and sum(job["counts"]["query_errors"] for job in json.loads(expected)) > 0
    assert _outcome(runners) == expected


def _poison(events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> Callable[[AnomalyJobRunner], None]:
    """Make the ``exists`` clauses raise on a few events' user names and cities (poisoned by
    value: a clause's answer depends on its field's value alone, so the shared selection asks
    it once per distinct value), for the shared selection (``compile_clause``) and, through
    the returned function, for a runner's own predicate."""
    poisoned = {(name, e.get(name)) for e in events[100:2000:97] for name in ("user.name", "source.geo.city_name")}
    compile_real = selection_module.compile_clause

    def fragile(node: Any, field_types: Any = None):
        inner = compile_real(node, field_types or {})

        def predicate(event: dict[str, Any]) -> bool:
            if isinstance(node, Exists) and (node.field, event.get(node.field)) in poisoned:
                raise ValueError("poisoned event")
            return inner(event)

        return predicate

    def own_predicate(runner: AnomalyJobRunner) -> None:
        if runner.query_node is not None:
            parts = [fragile(c) for c in runner.query_node.items]
            runner.predicate = lambda event: all(p(event) for p in parts)

    monkeypatch.setattr(selection_module, "compile_clause", fragile)
    return own_predicate


@pytest.mark.parametrize("poison", [False, True])
def test_columns_sent_equal_the_projected_events(events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, poison: bool) -> None:
    """What a job process is sent of each batch (``JobWorkers.batch_message``: columns of the
    jobs' fields, the events made from their rows only where read whole) gives the jobs
    exactly what the projected events (``job_workers.project``) gave them: same records,
    counts and problems, with the broken events and, poisoned, the query errors (whose
    events the jobs' own predicates read whole)."""
    from ctdetect.backends.job_workers import column_names, project
    from ctdetect.engine.anomaly.columns import read_columns
    from ctdetect.engine.needed_fields import needed_fields

    jobs = load_content(PROJECT).jobs
    needs = needed_fields((), jobs)
    names = column_names(jobs, needs)
    assert names is not None and "_ts" in names and "event.id" not in names  # the jobs' fields, not the rules'
    own_predicate = _poison(events, monkeypatch) if poison else (lambda runner: None)
    projected, sent = _runners(), _runners()
    for r in projected + sent:
        own_predicate(r)
    by_dicts, by_columns = SharedSelection(projected), SharedSelection(sent)
    for start in range(0, len(events), 700):
        batch = events[start : start + 700]
        by_dicts.feed(project(batch, needs))
        by_columns.feed_columns(names, read_columns(batch, names), len(batch))
    expected = _outcome(projected)
    assert ("poisoned event" in expected) is poison
    assert _outcome(sent) == expected


def _job(job_id: str, query: dict[str, Any]) -> AnomalyJobRunner:
    body = {"job_id": job_id, "analysis_config": {"bucket_span": "15m", "detectors": [{"function": "rare", "by_field_name": "a"}]},
            "data_description": {"time_field": "@timestamp"}}
    return AnomalyJobRunner.from_config(body, {"query": query}, {"n": "long", "when": "date", "b": "boolean"})


def test_single_field_clauses_answer_by_value_as_per_event() -> None:
    """A clause on one plain field is asked once per distinct string value (and once for a
    missing one); strings, numbers, booleans, lists and missing values give what the
    job's own predicate gives event by event, over several batches (the answers are kept)."""
    queries = [
        {"bool": {"filter": [{"term": {"a": "x"}}, {"exists": {"field": "c"}}]}},
        {"bool": {"must_not": [{"terms": {"a": ["y", "1", "true"]}}]}},
        {"bool": {"filter": [{"range": {"n": {"gte": 2}}}, {"term": {"b": True}}]}},
        {"bool": {"filter": [{"range": {"when": {"gte": "now-1d"}}}]}},  # a date: event by event
    ]
    runners = [_job(f"j{i}", q) for i, q in enumerate(queries)]
    shared = SharedSelection(runners)
    assert [c.field for c in shared._clauses] == ["a", "c", "a", "n", "b", None]  # noqa: SLF001 - the date: None
    values = ["x", "y", "", None, 1, True, "1", "true", ["x", "z"], 2.0, "2", "3"]
    events = [{"a": values[i % 12], "c": values[(i * 5) % 12], "n": values[(i * 7) % 12], "b": values[(i * 3) % 12],
               "when": "2020-01-01"} for i in range(300)]
    # the first two batches hold strings only (asked by value, the second from kept answers),
    # the last every kind of value (event by event)
    events = [{k: v if i >= 200 or v is None or isinstance(v, str) else repr(v) for k, v in e.items() if v is not None}
              for i, e in enumerate(events)]
    for start in (0, 100, 200):
        batch = events[start : start + 100]
        for runner, (selected, failed) in zip(runners, shared.select(batch)):
            assert not failed
            assert selected == [i for i, e in enumerate(batch) if runner.predicate(e)]
    assert all(c.answers for c in shared._clauses[:5]) and not shared._clauses[5].answers  # noqa: SLF001


@pytest.mark.parametrize("nested", [False, True])
def test_batch_columns_read_as_value_tuple(nested: bool) -> None:
    """The shared columns' value tuples are ``fields.value_tuple`` of each event: strings,
    empty strings, numbers, booleans, lists, missing values, and (when one event of the
    batch nests) nested documents."""
    from ctdetect.engine.anomaly.columns import BatchColumns
    from ctdetect.engine.anomaly.fields import value_tuple

    kinds = ["x", "", None, 3, 2.0, True, ["b", "a", "b", None, 1], {"k": 1}]
    events = [{"_ts": i} if kinds[i % 8] is None else {"a.b.c": kinds[i % 8]} for i in range(40)]
    if nested:
        events.append({"a": {"b": {"c": "deep"}}})
        events.append({"a.b": {"c": ["d", "e"]}})
    columns = BatchColumns(events)
    assert columns.tuples("a.b.c") == [value_tuple(e, "a.b.c") for e in events]
    assert (("deep",) in columns.tuples("a.b.c")) is nested


def test_match_all_job_in_batches_equals_per_event(events: list[dict[str, Any]]) -> None:
    """A job without a datafeed query takes every event of a batch without asking a predicate:
    same results, counts and problems as ``feed`` one event at a time."""
    body = {"job_id": "all", "analysis_config": {"bucket_span": "15m", "influencers": ["user.name", "source.ip"],
                                                 "detectors": [{"function": "rare", "by_field_name": "event.action"},
                                                               {"function": "count", "partition_field_name": "user.name"}]}}
    one, batched = AnomalyJobRunner.from_config(body), AnomalyJobRunner.from_config(body)
    for event in events:
        one.feed(event)
    shared = SharedSelection([batched])
    for start in range(0, len(events), 1000):
        shared.feed(events[start : start + 1000])
    assert one.counts["processed"] > 0 and one.counts["invalid_time"] == 1
    assert _outcome([batched]) == _outcome([one])
