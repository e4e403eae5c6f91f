"""Threshold rules: group-by, value, cardinality, one alert per group, signal history."""

from rulekit import at, ev, rule

from ctdetect.engine.rules.schedule import Schedule
from ctdetect.engine.rules.threshold import ThresholdRule


def failed_login(e):
    return e.get("event.action") == "ConsoleLogin" and e.get("event.outcome") == "failure"


def thr(fields, value, cardinality=(), from_="now-10m", max_signals=100):
    r = rule("threshold", from_=from_, interval="5m", max_signals=max_signals, threshold=(fields, value, list(cardinality)))
    return ThresholdRule(
        r,
        Schedule.of(r.interval, r.from_),
        predicate=failed_login,
        group_fields=tuple(fields),
        value=value,
        cardinality=tuple(cardinality),
    )


def run(compiled, events):
    for i, e in enumerate(events):
        compiled.offer(e, i)
    return compiled.finish([])


def logins(ip, n, start=1.0, user=None, outcome="failure"):
    out = []
    for i in range(n):
        fields = {"source__ip": ip, "outcome": outcome}
        if user is not None:
            fields["user__name"] = user if isinstance(user, str) else user[i % len(user)]
        out.append(ev(start + i * 0.1, "ConsoleLogin", **fields))
    return out


def test_group_reaching_the_value_alerts_once_with_threshold_result():
    found = run(thr(["source.ip"], 5), logins("203.0.113.9", 5) + logins("198.51.100.1", 4))
    assert len(found) == 1
    f = found[0]
    result = f.document["kibana"]["alert"]["threshold_result"]
    assert result["count"] == 5
    assert result["terms"] == [{"field": "source.ip", "value": "203.0.113.9"}]
    assert f.get("source.ip") == "203.0.113.9"
    assert f.document["kibana"]["alert"]["original_time"] == at(1.4)


def test_below_value_and_wrong_outcome_do_not_alert():
    assert run(thr(["source.ip"], 5), logins("203.0.113.9", 4)) == []
    assert run(thr(["source.ip"], 5), logins("203.0.113.9", 9, outcome="success")) == []


def test_missing_group_field_is_in_no_group():
    events = [ev(1 + i * 0.1, "ConsoleLogin", outcome="failure") for i in range(6)]
    assert run(thr(["source.ip"], 5), events) == []
    # without group fields, all events form one group
    assert len(run(thr([], 5), events)) == 1


def test_cardinality_requires_distinct_values():
    same_user = logins("203.0.113.9", 6, user="root")
    assert run(thr(["source.ip"], 5, [("user.name", 3)]), same_user) == []
    spray = logins("203.0.113.9", 6, user=["a", "b", "c"])
    found = run(thr(["source.ip"], 5, [("user.name", 3)]), spray)
    assert len(found) == 1
    assert found[0].document["kibana"]["alert"]["threshold_result"]["cardinality"] == [{"field": "user.name", "value": 3}]


def test_signal_history_stops_the_same_events_alerting_again():
    # 5 failures at 1.0-1.4 min: execution at 5m alerts; the execution at 10m (look-back
    # 10m) sees them again but they are older than the group's last alert
    found = run(thr(["source.ip"], 5, from_="now-10m"), logins("203.0.113.9", 5))
    assert len(found) == 1
    # five more later in the overlap window: a second alert counting only the new ones
    found = run(thr(["source.ip"], 5, from_="now-10m"), logins("203.0.113.9", 5) + logins("203.0.113.9", 5, start=6))
    assert len(found) == 2
    assert found[1].document["kibana"]["alert"]["threshold_result"]["count"] == 5
    assert found[1].document["kibana"]["alert"]["threshold_result"]["from"] == at(1.4)


def test_multi_field_groups_are_combinations():
    events = logins("203.0.113.9", 5, user="root") + logins("203.0.113.9", 5, user="admin", start=2)
    found = run(thr(["source.ip", "user.name"], 5), events)
    assert sorted(f.get("user.name") for f in found) == ["admin", "root"]
