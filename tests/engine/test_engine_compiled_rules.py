"""Rules compiled from their query text (KQL, Lucene, EQL) through the query layer, the
action index, and rules the engine must decline with a reason."""

from __future__ import annotations

from embedded_run import catalogue_types, run_embedded
from rulekit import ev, rule

from ctdetect.engine.rules import RuleEngine


def test_kql_query_rule_end_to_end():
    r = rule(query="event.action:ModifySnapshotAttribute and not user.name:backup-*")
    findings, _ = run_embedded([r], [ev(1, "ModifySnapshotAttribute", user__name="mallory"), ev(2, "ModifySnapshotAttribute", user__name="backup-bot")])
    assert [f.get("user.name") for f in findings] == ["mallory"]


def test_lucene_query_rule():
    r = rule(query="event.action:StopLogging AND user.name:mallory", language="lucene")
    findings, _ = run_embedded([r], [ev(1, "StopLogging", user__name="mallory"), ev(2, "StopLogging", user__name="eve")])
    assert len(findings) == 1


def test_rules_are_indexed_by_action():
    by_action = rule(query="event.action:(StopLogging or DeleteTrail)", name="trail")
    eql_ci = rule("eql", query='any where event.action : "deletedetector"', name="guardduty")
    everything = rule(query="user.name:root", name="root")
    engine = RuleEngine.build([by_action, eql_ci, everything], catalogue_types())
    names = lambda e: sorted(c.rule.name for c in engine.candidates(e))  # noqa: E731
    root = {"user__name": "root"}
    assert names(ev(1, "StopLogging", **root)) == ["root", "trail"]
    assert names(ev(1, "DeleteDetector", **root)) == ["guardduty", "root"]  # EQL ':' is case-insensitive
    assert names(ev(1, "ListBuckets", **root)) == ["root"]
    # a rule pinning neither action nor provider is gated on another field it needs
    assert engine.compiled[2].route is None and engine.compiled[2].gate is not None
    assert names(ev(1, "ListBuckets", user__name="alice")) == []
    assert names(ev(1, "StopLogging", user__name=["alice", "root"])) == ["root", "trail"]


def test_eql_single_event_with_category_and_case_insensitive_compare():
    r = rule("eql", query='iam where event.action : "createaccesskey" and user.name != "alice"')
    findings, _ = run_embedded(
        [r],
        [
            ev(1, "CreateAccessKey", user__name="bob"),
            ev(2, "CreateAccessKey", user__name="alice"),
            ev(3, "CreateAccessKey", user__name="carol", category=["network"]),
        ],
    )
    assert [f.get("user.name") for f in findings] == ["bob"]


def test_eql_sequence_by_with_maxspan_end_to_end():
    q = """sequence by user.name with maxspan=10m
      [iam where event.action == "CreateUser"]
      [iam where event.action == "AttachUserPolicy"]"""
    r = rule("eql", query=q, from_="now-30m")
    findings, _ = run_embedded(
        [r],
        [
            ev(1, "CreateUser", user__name="eve"),
            ev(5, "AttachUserPolicy", user__name="eve"),
            ev(6, "CreateUser", user__name="bob"),
            ev(25, "AttachUserPolicy", user__name="bob"),  # too late
        ],
    )
    assert len(findings) == 1 and findings[0].get("user.name") == "eve"
    assert len(findings[0].related) == 2


def test_eql_sequence_with_per_step_keys_and_until():
    q = """sequence with maxspan=30m
      [iam where event.action == "CreateUser"] by user.target.name
      [iam where event.action == "CreateAccessKey"] by user.target.name
      until [iam where event.action == "DeleteUser"] by user.target.name"""
    r = rule("eql", query=q, from_="now-60m")
    ok, _ = run_embedded([r], [ev(1, "CreateUser", user__target__name="svc"), ev(2, "CreateAccessKey", user__target__name="svc")])
    assert len(ok) == 1
    cut, _ = run_embedded(
        [rule("eql", query=q, from_="now-60m")],
        [ev(1, "CreateUser", user__target__name="svc"), ev(1.5, "DeleteUser", user__target__name="svc"), ev(2, "CreateAccessKey", user__target__name="svc")],
    )
    assert cut == []


def test_eql_head_pipe_limits_each_execution():
    r = rule("eql", query='iam where event.action == "CreateUser" | head 1', from_="now-5m")
    findings, _ = run_embedded([r], [ev(1, "CreateUser", user__name="a"), ev(2, "CreateUser", user__name="b")])
    assert [f.get("user.name") for f in findings] == ["a"]


def test_threshold_and_new_terms_from_rule_specs():
    thr = rule("threshold", query="event.action:ConsoleLogin and event.outcome:failure", threshold=(["source.ip"], 3))
    nt = rule("new_terms", query="event.action:ModifySnapshotAttribute", new_terms=(["user.name"], "now-14d"))
    events = [ev(1 + i * 0.1, "ConsoleLogin", outcome="failure", source__ip="203.0.113.5") for i in range(3)]
    events.append(ev(2, "ModifySnapshotAttribute", user__name="mallory"))
    findings, stats = run_embedded([thr, nt], events)
    assert not stats.not_run
    assert sorted(f.document["kibana"]["alert"]["rule"]["type"] for f in findings) == ["new_terms", "threshold"]


def test_rules_the_engine_cannot_run_are_reported_not_raised():
    esql = rule("esql", query="from logs-* | enrich policy on user.name", language="esql", name="esql rule")
    broken = rule(query="event.action:(", name="broken rule")
    good = rule(query="event.action:CreateUser", name="good rule")
    findings, stats = run_embedded([esql, broken, good], [ev(1, "CreateUser")])
    assert len(findings) == 1
    reasons = stats.not_run
    assert "ES|QL" in reasons["esql rule"]
    assert "does not parse" in reasons["broken rule"]


def test_wildcard_actions_and_provider_only_rules_are_indexed_not_broadcast():
    invoke = rule(query="event.action:Invoke* and event.provider:lambda.amazonaws.com", name="invoke")
    eql_wild = rule("eql", query='any where event.action : "addpermission*"', name="addperm")
    provider = rule(query="event.provider:lambda.amazonaws.com and user.name:x", name="lambda")
    engine = RuleEngine.build([invoke, eql_wild, provider], catalogue_types())
    assert not engine._always
    names = lambda e: sorted(c.rule.name for c in engine.candidates(e))  # noqa: E731
    assert names(ev(1, "InvokeFunction", provider="lambda.amazonaws.com")) == ["invoke", "lambda"]
    assert names(ev(1, "AddPermission20150331v2", provider="lambda.amazonaws.com")) == ["addperm", "lambda"]
    assert names(ev(1, "ListBuckets", provider="s3.amazonaws.com")) == []
    # the wildcard route still lets the predicate decide
    findings, _ = run_embedded([invoke], [ev(1, "InvokeFunction", provider="lambda.amazonaws.com"), ev(2, "InvokeFunction", provider="s3.amazonaws.com")])
    assert len(findings) == 1


def test_routing_is_a_superset_of_matching(tmp_path):
    """Every rule that matches an event is among the event's candidates (never loses alerts)."""
    rules = [
        rule(query="event.action:(CreateUser or DeleteUser)", name="a"),
        rule("eql", query='iam where event.action in~ ("createuser", "attachuserpolicy")', name="b"),
        rule(query="event.action:*User* and not event.outcome:failure", name="c"),
        rule(query="not event.action:CreateUser", name="d"),
        rule(query="event.provider:iam.amazonaws.com or event.action:GetObject", name="e"),
    ]
    engine = RuleEngine.build(rules, catalogue_types())
    events = [ev(1, a, provider=p) for a in ("CreateUser", "createuser", "AttachUserPolicy", "GetObject", "ListBuckets") for p in ("iam.amazonaws.com", "s3.amazonaws.com")]
    for e in events:
        cands = {c.rule.name for c in engine.candidates(e)}
        for c in engine.compiled:
            if c.predicate(e):
                assert c.rule.name in cands, (c.rule.name, e["event.action"], e["event.provider"])


def test_sample_and_missing_event_sequences_are_not_evaluated_and_say_why(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    import pytest as _pytest

    from ctdetect.content.loaders import load_rules
    from ctdetect.engine.rules.base import RuleNotEvaluable
    from ctdetect.engine.rules.compile import compile_rule

    base = (Path(__file__).resolve().parents[1] / "validate" / "broken" / "bad_uuid.toml").read_text()
    base = base.replace('rule_id = "rule-', 'rule_id = "').replace('language = "kuery"', 'language = "eql"').replace('type = "query"', 'type = "eql"')
    head, _, tail = base.partition("query = '''")
    tail = tail.split("'''", 1)[1]
    for query, reason in (
        ("sample by user.name [any where a == 1] [any where b == 2]", "sample"),
        ("sequence by user.name [any where a == 1] ![any where b == 2]", "missing-event"),
    ):
        (tmp_path / "r.toml").write_text(f"{head}query = '''\n{query}\n'''{tail}")
        [rule] = load_rules(tmp_path)
        with _pytest.raises(RuleNotEvaluable, match=reason):
            compile_rule(rule, {})


def test_each_engine_owns_what_its_rules_derive_from_the_offered_event():
    """The rules of one engine share one ``OfferedEvent`` (an event's index and times derived
    once for all of them); two engines never share it, so two runs interleaved in one process
    cannot see each other's event, even at the same input position."""
    rules = [rule(query="event.action:CreateUser", name="a"), rule(query="user.name:root", name="b")]
    first = RuleEngine.build(rules, catalogue_types())
    second = RuleEngine.build(rules, catalogue_types())
    assert first.compiled[0].offered is first.compiled[1].offered
    assert first.compiled[0].offered is not second.compiled[0].offered
    early, late = ev(1, "CreateUser", user__name="root"), ev(90, "CreateUser", user__name="root")
    first.feed(early, 0)
    second.feed(late, 0)
    first.feed(early, 0)
    assert [m.ts for m in first.compiled[0].matches] == [m.ts for m in first.compiled[1].matches]
    assert len({m.ts for m in first.compiled[0].matches}) == 1
    assert {m.ts for m in second.compiled[0].matches} != {m.ts for m in first.compiled[0].matches}
