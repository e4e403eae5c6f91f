"""New terms rules: a value (or combination) unseen in the history window alerts once."""

from rulekit import ev, rule

from ctdetect.engine.rules.new_terms import NewTermsRule
from ctdetect.engine.rules.schedule import Schedule

DAY = 24 * 60


def snapshot_share(e):
    return e.get("event.action") == "ModifySnapshotAttribute"


def nt(fields=("user.name",), window="now-14d"):
    r = rule("new_terms", from_="now-6m", interval="5m", new_terms=(fields, window))
    return NewTermsRule(r, Schedule.of(r.interval, r.from_), predicate=snapshot_share, term_fields=tuple(fields), history_ms=14 * DAY * 60_000 if window == "now-14d" else 60 * 60_000)


def run(compiled, events):
    for i, e in enumerate(events):
        compiled.offer(e, i)
    return compiled.finish([])


def test_first_appearance_alerts_with_new_terms_values():
    found = run(nt(), [ev(1, "ModifySnapshotAttribute", user__name="alice")])
    assert len(found) == 1
    assert found[0].document["kibana"]["alert"]["new_terms"] == ["alice"]


def test_term_seen_inside_history_window_does_not_alert_again():
    events = [ev(1, "ModifySnapshotAttribute", user__name="alice"), ev(2 * DAY, "ModifySnapshotAttribute", user__name="alice")]
    found = run(nt(), events)
    assert len(found) == 1  # only the first appearance


def test_term_seen_only_before_history_window_is_new_again():
    events = [ev(1, "ModifySnapshotAttribute", user__name="alice"), ev(20 * DAY, "ModifySnapshotAttribute", user__name="alice")]
    assert len(run(nt(), events)) == 2


def test_repeats_within_the_same_window_alert_once():
    events = [ev(1 + i * 0.1, "ModifySnapshotAttribute", user__name="alice") for i in range(5)]
    assert len(run(nt(), events)) == 1


def test_multiple_fields_use_the_combination():
    events = [
        ev(1, "ModifySnapshotAttribute", user__name="alice", source__ip="10.0.0.1"),
        ev(DAY, "ModifySnapshotAttribute", user__name="alice", source__ip="10.0.0.1"),  # known combination
        ev(2 * DAY, "ModifySnapshotAttribute", user__name="alice", source__ip="10.0.0.2"),  # new combination
    ]
    found = run(nt(("user.name", "source.ip")), events)
    assert [f.document["kibana"]["alert"]["new_terms"] for f in found] == [["alice", "10.0.0.1"], ["alice", "10.0.0.2"]]


def test_missing_field_means_no_term_and_non_matching_events_are_ignored():
    assert run(nt(), [ev(1, "ModifySnapshotAttribute")]) == []
    assert run(nt(), [ev(1, "CreateSnapshot", user__name="alice")]) == []


def test_array_values_are_separate_terms():
    found = run(nt(("user.name",)), [ev(1, "ModifySnapshotAttribute", user__name=["a", "b"])])
    assert sorted(f.document["kibana"]["alert"]["new_terms"][0] for f in found) == ["a", "b"]


def test_out_of_order_input_gives_the_same_alerts_and_drops_hopeless_events():
    events = [
        ev(20 * DAY, "ModifySnapshotAttribute", user__name="alice"),
        ev(1, "ModifySnapshotAttribute", user__name="alice"),
        ev(2 * DAY, "ModifySnapshotAttribute", user__name="alice"),
        ev(2 * DAY + 5, "ModifySnapshotAttribute", user__name="alice"),
    ]
    ordered = sorted(events, key=lambda e: e["@timestamp"])
    r1, r2 = nt(), nt()
    a = run(r1, events)
    b = run(r2, ordered)
    assert [f.document["kibana"]["alert"]["original_time"] for f in a] == [f.document["kibana"]["alert"]["original_time"] for f in b]
    assert len(a) == 2  # day 0 and day 20; the day-2 repeats are inside the history window
    # in time order, the repeats a few minutes apart were never kept
    assert sum(len(s.candidates) for s in r2.terms.values()) == 2
