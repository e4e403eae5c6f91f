"""Query rules: one alert per event, max_signals per execution, no duplicates across look-backs."""

from rulekit import BASE, at, ev, rule

from ctdetect.engine.rules.query_rule import QueryRule
from ctdetect.engine.rules.schedule import Schedule


def _run(r, events, pred=lambda e: e["event.action"] == "CreateUser"):
    compiled = QueryRule(r, Schedule.of(r.interval, r.from_), predicate=pred)
    for i, e in enumerate(events):
        compiled.offer(e, i)
    return compiled.finish([])


def test_matching_event_alerts_once_despite_overlapping_windows():
    r = rule(from_="now-10m", interval="5m")
    findings = _run(r, [ev(3, "CreateUser", user__name="alice"), ev(4, "ListUsers")])
    assert len(findings) == 1
    f = findings[0]
    doc = f.document
    assert doc["kibana"]["alert"]["rule"]["rule_id"] == r.rule_id
    assert doc["kibana"]["alert"]["original_time"] == at(3)
    assert doc["@timestamp"] == at(5)  # first execution that saw it
    assert doc["kibana"]["alert"]["original_event"]["action"] == "CreateUser"
    assert doc["event"]["kind"] == "signal"
    assert doc["user"]["name"] == "alice"
    assert f.get("user.name") == "alice"
    assert f.score == 73


def test_non_matching_events_do_not_alert():
    assert _run(rule(), [ev(1, "ListUsers"), ev(2, "GetUser")]) == []


def test_max_signals_caps_each_execution_and_overlap_gives_a_second_chance():
    events = [ev(1, "CreateUser"), ev(2, "CreateUser"), ev(3, "CreateUser")]
    capped = _run(rule(max_signals=2, from_="now-5m"), events)
    assert [f.document["kibana"]["alert"]["original_time"] for f in capped] == [at(1), at(2)]
    # with a 10m look-back the next execution (t=10m) sees the third event again
    again = _run(rule(max_signals=2, from_="now-10m"), events)
    assert [f.document["kibana"]["alert"]["original_time"] for f in again] == [at(1), at(2), at(3)]


def test_rule_index_patterns_are_honoured():
    r = rule(index=["logs-endpoint.events.*"])
    assert _run(r, [ev(1, "CreateUser")]) == []
    # events that say nothing about their data stream are in every index
    bare = {"@timestamp": at(1), "event.action": "CreateUser"}
    assert len(_run(r, [bare])) == 1


def test_alert_ids_are_stable_and_distinct():
    events = [ev(1, "CreateUser", event__id="a"), ev(2, "CreateUser", event__id="b")]
    one = _run(rule(rule_id="r1"), events)
    two = _run(rule(rule_id="r1"), events)
    ids = [f.document["kibana"]["alert"]["uuid"] for f in one]
    assert ids == [f.document["kibana"]["alert"]["uuid"] for f in two]
    assert len(set(ids)) == 2
    assert BASE.tzinfo is not None


def test_long_inputs_are_settled_as_they_go_and_give_the_same_alerts():
    r = rule(from_="now-10m")
    compiled = QueryRule(r, Schedule.of(r.interval, r.from_), predicate=lambda e: True)
    n = 9000
    for i in range(n):
        compiled.offer(ev(i * 10, "CreateUser"), i)
    assert len(compiled.matches) < 5000  # settled executions dropped what no later one sees
    assert compiled.settled_until is not None
    late = ev(5, "CreateUser")  # far older than everything settled
    compiled.offer(late, n)
    assert compiled.late == 1
    findings = compiled.finish([])
    assert len(findings) == n  # every in-order event alerted exactly once
    assert len({f.document["kibana"]["alert"]["uuid"] for f in findings}) == n
