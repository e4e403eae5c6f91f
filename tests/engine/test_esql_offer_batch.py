"""``EsqlRule.offer_batch``: an ES|QL rule takes a batch of offers in one loop, and must hold,
flush and fail exactly as ``offer`` of each event in turn does."""

from __future__ import annotations

import json

import pytest

from embedded_run import catalogue_types
from rulekit import ev, rule

from ctdetect.engine.rules import RuleEngine, base, esql_rule
from ctdetect.engine.rules.base import CompiledRule
from ctdetect.engine.rules.esql_rule import EsqlRule

AGG = 'from logs-aws.cloudtrail-* | where event.action like "List*" | stats Esql.n = count_distinct(event.action) by user.name | where Esql.n >= 2'


RULE = rule("esql", query=AGG, language="esql", index=[], from_="now-10m", interval="5m")  # one rule id for every engine


def _engine() -> tuple[RuleEngine, EsqlRule]:
    engine = RuleEngine.build([RULE], catalogue_types())
    (compiled,) = engine.compiled
    assert isinstance(compiled, EsqlRule)
    return engine, compiled


def _events() -> list[dict]:
    events = [ev(1 + i * 0.02, ("ListUsers", "ListRoles", "ListPolicies")[i % 3], user__name=f"u{i % 7}") for i in range(300)]
    events[17] = {k: v for k, v in events[17].items() if k not in ("@timestamp", "_ts")}  # untimed: not held
    return events


def test_esql_rules_take_a_batch_in_one_call() -> None:
    """The rule's own loop, not the base's ``offer`` per position (fails on a rule without one)."""
    assert EsqlRule.offer_batch is not CompiledRule.offer_batch


def test_a_batch_holds_and_alerts_as_offers_one_at_a_time(monkeypatch) -> None:
    monkeypatch.setattr(esql_rule, "BATCH", 16)  # several flushes inside one batch
    events = _events()
    one_engine, one = _engine()
    for seq, event in enumerate(events):
        one.offer(event, seq)
    batch_engine, batched = _engine()
    failures: list = []
    batched.offer_batch(events, range(len(events)), 0, lambda *args: failures.append(args))
    assert not failures
    assert (batched.untimed, batched.pending_seq, len(batched.matches)) == (one.untimed, one.pending_seq, len(one.matches))
    assert batched.untimed == 1 and len(batched.pending_seq) == (len(events) - 1) % 16
    alerts = [[json.dumps(f.document, sort_keys=True, default=str) for f in e.finish([])] for e in (one_engine, batch_engine)]
    assert alerts[0] == alerts[1] and alerts[0]


def test_an_event_that_raises_is_handed_to_failed_and_the_rest_held(monkeypatch) -> None:
    _, compiled = _engine()
    events = _events()[:10]
    events[4] = {**events[4], "_index": 42}
    failed: list[tuple[int, str]] = []
    index = base.event_index

    def raising_index(event: dict) -> str:
        if event.get("_index") == 42:
            raise TypeError("not an index")
        return index(event)

    monkeypatch.setattr(base, "event_index", raising_index)
    compiled.offer_batch(events, range(10), 100, lambda rule, seq, exc: failed.append((seq, type(exc).__name__)))
    assert failed == [(104, "TypeError")]
    assert compiled.pending_seq == [100, 101, 102, 103, 105, 106, 107, 108, 109]
    with pytest.raises(TypeError):  # on its own, the event raises what it raised
        compiled.offer(events[4], 200)


def test_indices_and_times_are_index_of_and_times_of() -> None:
    events = _events()[:40]
    for in_batch in (False, True):
        offered, reference = base.OfferedEvent(), base.OfferedEvent()
        if in_batch:
            offered.begin_batch()
            reference.begin_batch()
        offered.index_of(events[3], 53)  # derived already: taken as it is
        found = offered.indices_and_times(events, range(0, 40, 3), 50, None, True)
        assert found == [(reference.index_of(events[i], 50 + i), *reference.times_of(events[i], 50 + i, None, True)) for i in range(0, 40, 3)]
        assert offered.times_of(events[6], 56, None, True) == found[2][1:]
