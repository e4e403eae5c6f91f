"""EQL sequence state machine: Elastic's documented semantics, each with a case that must
and one that must not match."""

from rulekit import at, ev, rule

from ctdetect.engine.rules.eql_rule import EqlSequenceRule
from ctdetect.engine.rules.schedule import Schedule
from ctdetect.engine.rules.sequence import SequenceSpec

M = 60_000


def is_(action):
    return lambda e: e.get("event.action") == action


def seq_rule(steps, by=("user.name",), runs=None, maxspan=None, until=None, max_signals=100, from_="now-60m"):
    r = rule("eql", query="sequence", from_=from_, interval="5m", max_signals=max_signals)
    n = len(steps)
    return EqlSequenceRule(
        r,
        Schedule.of(r.interval, r.from_),
        step_predicates=list(steps),
        step_keys=[tuple(by)] * n,
        until_predicate=until,
        until_keys=tuple(by),
        spec=SequenceSpec.of(runs or [1] * n, maxspan),
    )


def run(compiled, events):
    for i, e in enumerate(events):
        compiled.offer(e, i)
    return compiled.finish([])


def originals(finding):
    return [b["kibana"]["alert"]["original_time"] for b in finding.related]


def test_ordered_steps_match_and_reverse_order_does_not():
    r = seq_rule([is_("CreateUser"), is_("AttachUserPolicy")])
    found = run(r, [ev(1, "CreateUser", user__name="eve"), ev(2, "AttachUserPolicy", user__name="eve")])
    assert len(found) == 1
    shell = found[0]
    assert shell.get("user.name") == "eve"
    assert len(shell.related) == 2
    group = shell.document["kibana"]["alert"]["group"]["id"]
    assert all(b["kibana"]["alert"]["group"]["id"] == group for b in shell.related)
    assert [b["kibana"]["alert"]["building_block_type"] for b in shell.related] == ["default", "default"]
    r2 = seq_rule([is_("CreateUser"), is_("AttachUserPolicy")])
    assert run(r2, [ev(1, "AttachUserPolicy", user__name="eve"), ev(2, "CreateUser", user__name="eve")]) == []


def test_newer_first_step_overwrites_the_pending_one():
    r = seq_rule([is_("CreateUser"), is_("AttachUserPolicy")])
    found = run(
        r,
        [ev(1, "CreateUser", user__name="eve"), ev(2, "CreateUser", user__name="eve"), ev(3, "AttachUserPolicy", user__name="eve")],
    )
    assert len(found) == 1
    assert originals(found[0]) == [at(2), at(3)]


def test_by_keys_separate_machines():
    r = seq_rule([is_("CreateUser"), is_("AttachUserPolicy")])
    assert run(r, [ev(1, "CreateUser", user__name="eve"), ev(2, "AttachUserPolicy", user__name="bob")]) == []


def test_event_without_join_key_cannot_join():
    r = seq_rule([is_("CreateUser"), is_("AttachUserPolicy")])
    assert run(r, [ev(1, "CreateUser"), ev(2, "AttachUserPolicy")]) == []


def test_maxspan_is_inclusive_and_enforced():
    inside = seq_rule([is_("CreateUser"), is_("CreateAccessKey")], maxspan=5 * M)
    assert len(run(inside, [ev(1, "CreateUser", user__name="a"), ev(6, "CreateAccessKey", user__name="a")])) == 1
    outside = seq_rule([is_("CreateUser"), is_("CreateAccessKey")], maxspan=5 * M)
    assert run(outside, [ev(1, "CreateUser", user__name="a"), ev(6.5, "CreateAccessKey", user__name="a")]) == []


def test_until_between_events_expires_but_after_does_not():
    steps = [is_("CreateUser"), is_("AttachUserPolicy")]
    between = seq_rule(steps, until=is_("DeleteUser"))
    events = [ev(1, "CreateUser", user__name="a"), ev(2, "DeleteUser", user__name="a"), ev(3, "AttachUserPolicy", user__name="a")]
    assert run(between, events) == []
    after = seq_rule(steps, until=is_("DeleteUser"))
    events = [ev(1, "CreateUser", user__name="a"), ev(2, "AttachUserPolicy", user__name="a"), ev(3, "DeleteUser", user__name="a")]
    assert len(run(after, events)) == 1


def test_runs_repeat_a_step():
    steps = [is_("GetSecretValue"), is_("DeleteSecret")]
    r = seq_rule(steps, runs=[3, 1])
    two = [ev(1, "GetSecretValue", user__name="a"), ev(2, "GetSecretValue", user__name="a"), ev(3, "DeleteSecret", user__name="a")]
    assert run(r, two) == []
    r = seq_rule(steps, runs=[3, 1])
    three = [ev(0.5, "GetSecretValue", user__name="a")] + two
    found = run(r, three)
    assert len(found) == 1 and len(found[0].related) == 4


def test_one_event_never_fills_two_stages():
    anything = lambda e: True  # noqa: E731
    r = seq_rule([anything, anything])
    assert run(r, [ev(1, "X", user__name="a")]) == []
    r = seq_rule([anything, anything])
    assert len(run(r, [ev(1, "X", user__name="a"), ev(2, "Y", user__name="a")])) == 1


def test_sequence_must_fit_in_one_lookback_and_is_reported_once():
    steps = [is_("CreateUser"), is_("AttachUserPolicy")]
    short = seq_rule(steps, from_="now-6m")
    assert run(short, [ev(1, "CreateUser", user__name="a"), ev(30, "AttachUserPolicy", user__name="a")]) == []
    long = seq_rule(steps, from_="now-60m")
    # seen by many overlapping executions, alerted once
    assert len(run(long, [ev(1, "CreateUser", user__name="a"), ev(30, "AttachUserPolicy", user__name="a")])) == 1


def test_max_signals_limits_sequences_per_execution():
    steps = [is_("CreateUser"), is_("AttachUserPolicy")]
    r = seq_rule(steps, max_signals=1, from_="now-5m")
    events = []
    for i, user in enumerate(["a", "b", "c"]):
        events += [ev(1 + i * 0.1, "CreateUser", user__name=user), ev(2 + i * 0.1, "AttachUserPolicy", user__name=user)]
    assert len(run(r, events)) == 1


def test_optional_join_key_may_be_null_but_a_plain_one_may_not():
    from ctdetect.engine.rules.sequence import join_key

    assert join_key({"user.id": "1"}, ("user.name", "user.id")) is None
    assert join_key({"user.id": "1"}, ("?user.name", "user.id")) == (None, "1")
    assert join_key({"user.name": ["a", "b"]}, ("user.name",)) == (("a", "b"),)
