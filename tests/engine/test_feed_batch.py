"""``RuleEngine.feed_batch`` offers a batch rule by rule, and must end exactly where offering
each event in turn to its candidate rules ends: the same alerts (documents and order), the
same errors in the same order, whatever the batch size.

The reference below is the engine's one-event-at-a-time semantics written out plainly:
each event, in input order, offered to ``RuleEngine.candidates`` (the routed and always-run
rules, then the gated rules whose gate passes), an exception noted and the next rule offered.
"""

from __future__ import annotations

import json
from itertools import islice

import pytest
from embedded_run import catalogue_types
from rulekit import ev, rule

from ctdetect.content.loaders import load_rules
from ctdetect.content.model import Rule
from ctdetect.ecs import CloudTrailMapper
from ctdetect.engine.rules import RuleEngine
from ctdetect.services.inputs import time_ordered
from ctdetect.synth import SynthParams, generate
from conftest import PROJECT_ROOT, shared_path


def _events(count: int = 4000) -> list[dict]:
    mapper = CloudTrailMapper()
    params = SynthParams(seed=23, start="2026-03-01T00:00:00Z", days=2, principals=15, include_root=True, travel_rate=0.2)
    docs = [mapper.map(record) for record in islice(generate(params), count)]
    docs.sort(key=lambda d: d.get("_ts") or 0)
    return list(time_ordered(docs))


def _one_at_a_time(rules: list[Rule], events: list[dict]) -> tuple[list[str], list[tuple[str, tuple[int, str]]]]:
    engine = RuleEngine.build(rules, catalogue_types())
    for seq, event in enumerate(events):
        for compiled in engine.candidates(event):
            try:
                compiled.offer(event, seq)
            except Exception as exc:  # noqa: BLE001 - as the engine notes it
                engine._note_error(compiled, seq, exc)
    return _outcome(engine)


def _batched(rules: list[Rule], events: list[dict], size: int) -> tuple[list[str], list[tuple[str, tuple[int, str]]]]:
    engine = RuleEngine.build(rules, catalogue_types())
    for start in range(0, len(events), size):
        engine.feed_batch(events[start : start + size], start)
    return _outcome(engine)


def _outcome(engine: RuleEngine) -> tuple[list[str], list[tuple[str, tuple[int, str]]]]:
    alerts = [json.dumps(f.document, sort_keys=True, default=str) for f in engine.finish([])]
    return alerts, list(engine.errors.items())


@pytest.mark.parametrize("content", ["package", "elastic"])
def test_batches_of_any_size_alert_as_events_one_at_a_time(content):
    if content == "package":
        rules = load_rules(PROJECT_ROOT / "rules")
    else:
        rules = load_rules(shared_path("anchors", "detection-rules", "rules", "integrations", "aws"))
    events = _events()
    expected = _one_at_a_time(rules, events)
    assert expected[0], "the events must raise alerts for the comparison to mean anything"
    for size in (4096, 1000, 37):
        assert _batched(rules, events, size) == expected, size


def test_errors_are_noted_in_the_order_events_reach_the_rules():
    """Two rules choking on different events: ``errors`` keeps the rule that failed first
    first, and each rule's count and last message, as one event at a time does."""
    first = rule(query="event.action:CreateUser", name="first")
    second = rule(query="event.action:CreateUser", name="second")
    gated = rule(query="user.name:root", name="gated")
    events = [ev(i, "CreateUser", user__name="root") for i in range(40)]
    raising = {"first": {30, 35}, "second": {3, 31}, "gated": {2, 39}}

    def choking(rules: list[Rule]) -> RuleEngine:
        engine = RuleEngine.build(rules, catalogue_types())
        for compiled in engine.compiled:
            bad = {id(events[i]) for i in raising[compiled.rule.name]}
            plain = compiled.predicate

            def predicate(event: dict, _plain=plain, _bad=bad) -> bool:
                if id(event) in _bad:
                    raise ValueError("choked")
                return _plain(event)

            compiled.predicate = predicate
        return engine

    rules = [first, second, gated]
    reference = choking(rules)
    for seq, event in enumerate(events):
        for compiled in reference.candidates(event):
            try:
                compiled.offer(event, seq)
            except Exception as exc:  # noqa: BLE001
                reference._note_error(compiled, seq, exc)
    batched = choking(rules)
    batched.feed_batch(events, 0)
    assert list(batched.errors.items()) == list(reference.errors.items())
    assert [name for name in batched.errors] == [gated.rule_id, second.rule_id, first.rule_id]
    assert [count for count, _ in batched.errors.values()] == [2, 2, 2]
    assert "#39" in batched.errors[gated.rule_id][1]
    # the events that did not choke were all matched
    assert sorted(len(c.matches) for c in batched.compiled) == [38, 38, 38]


def test_rules_sharing_a_batch_derive_each_event_once():
    """Offered rule by rule, the rules of one engine still derive an event's times once: the
    shared ``OfferedEvent`` keeps them per input position for the batch."""
    rules = [rule(query="event.action:CreateUser", name="a"), rule(query="user.name:root", name="b")]
    engine = RuleEngine.build(rules, catalogue_types())
    events = [ev(i, "CreateUser", user__name="root") for i in range(5)]
    calls: list[int] = []
    offered = engine.offered
    assert offered is not None and all(c.offered is offered for c in engine.compiled)
    import ctdetect.engine.rules.base as base

    plain = base.event_ms

    def counted(event, *args, **kwargs):
        calls.append(id(event))
        return plain(event, *args, **kwargs)

    base.event_ms = counted
    try:
        engine.feed_batch(events, 0)
    finally:
        base.event_ms = plain
    assert sorted(calls) == sorted(id(e) for e in events)
    assert [[m.seq for m in c.matches] for c in engine.compiled] == [[0, 1, 2, 3, 4]] * 2
