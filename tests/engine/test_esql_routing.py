"""ES|QL rules' routes and gates (``engine.rules.esql_routing``) never drop an event the rule keeps.

A route or gate is a necessary condition read from the leading ``WHERE``: every event the
rule's own filter keeps (``Program.filter_docs``) must pass it. Checked over events generated
to reach every rule (``test_esql_incremental._events``), for the package's ES|QL rules and
Elastic's AWS ES|QL rules (skipped when ../shared is absent).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import shared_path
from embedded_run import catalogue_types
from test_esql_incremental import PACKAGE_RULES, _esql_rules, _events

from ctdetect.content.loaders import load_rules
from ctdetect.content.model import Rule
from ctdetect.engine.rules import RuleEngine
from ctdetect.engine.rules.esql_routing import esql_gate, esql_route
from ctdetect.engine.rules.routing import RouteValue
from ctdetect.query.esql.parser import parse_esql


def _conditions(text: str) -> tuple:
    from ctdetect.query.esql.evaluate import Program
    from ctdetect.query.esql.sources import columns_for

    program = Program.prepare(parse_esql(text), lambda indices: columns_for({"events"}, catalogue_types()))
    return program.prefilter_exprs, program.source_types


def test_starts_with_and_true_in_route_by_action_prefixes() -> None:
    conditions, types = _conditions('from logs-* | where true in (starts_with(event.action, "Describe"), starts_with(event.action, "List")) | stats n = count(*)')
    route = esql_route(conditions, types)
    assert route is not None and route[0] == "event.action"
    assert sorted((v.value, v.pattern) for v in route[1]) == [("Describe*", True), ("List*", True)]


def test_an_or_of_ands_routes_by_the_values_each_branch_pins() -> None:
    # Elastic's Kubernetes SA rule has this shape: each branch pins event.action in an AND
    conditions, types = _conditions(
        'from logs-* | where (event.action == "AssumeRoleWithWebIdentity" and user.name like "system:*") '
        'or (event.action in ("ListBuckets", "GetCallerIdentity") and aws.cloudtrail.user_identity.type == "AssumedRole") '
        '| stats n = count(*)'
    )
    route = esql_route(conditions, types)
    assert route is not None and route[0] == "event.action"
    assert sorted(v.value for v in route[1]) == ["AssumeRoleWithWebIdentity", "GetCallerIdentity", "ListBuckets"]
    # one branch pinning nothing leaves the field free; a field both branches pin gates
    conditions, types = _conditions(
        'from logs-* | where (event.action == "CreateAccessKey" and aws.cloudtrail.user_identity.type == "IAMUser") '
        'or (aws.cloudtrail.user_identity.type == "IAMUser" and user.name like "a*") | stats n = count(*)'
    )
    assert esql_route(conditions, types) is None
    assert esql_gate(conditions, types) == (("aws.cloudtrail.user_identity.type", frozenset({RouteValue("IAMUser")})),)


def test_a_wildcard_in_a_prefix_or_a_free_item_leaves_the_rule_unrouted() -> None:
    for where in ('starts_with(event.action, "Desc*")', 'true in (starts_with(event.action, "List"), user.name == "x")', 'false in (event.action == "A")'):
        conditions, types = _conditions(f"from logs-* | where {where} | stats n = count(*)")
        assert esql_route(conditions, types) is None, where


def test_an_unrouted_rule_is_gated_by_its_most_selective_pinned_fields() -> None:
    conditions, types = _conditions(
        'from logs-* | where event.dataset == "aws.cloudtrail" and aws.cloudtrail.error_code in ("AccessDenied", "Denied") '
        'and user.name like "svc-*" | stats n = count(*)'
    )
    gate = esql_gate(conditions, types)
    assert gate is not None
    assert [name for name, _ in gate] == ["user.name", "aws.cloudtrail.error_code"]  # fewest values first; event.dataset is near-constant


def test_an_ip_field_is_never_a_gate() -> None:
    # "2001:db8::1" equals "2001:0db8::1" as ES|QL compares ips: a string look-up would drop it
    conditions, types = _conditions('from logs-* | where source.ip == "2001:db8::1" | stats n = count(*)')
    assert esql_gate(conditions, types) is None


def _kept_events_pass(rules: list[Rule], count: int, seed: int) -> int:
    """Every event a rule's filter keeps passes its route or gate; the number of such events."""
    engine = RuleEngine.build(rules, catalogue_types())
    events = list(_events(rules, count, seed))
    checked = 0
    for compiled in engine.compiled:
        if compiled.route is None and compiled.gate is None:
            continue
        program = compiled.program
        keep = set(program.filter_docs(events, 0))
        for i, event in enumerate(events):
            if i not in keep:
                continue
            offered = compiled in engine.candidates(event)
            assert offered, (compiled.rule.name, {k: v for k, v in event.items() if k.startswith(("event.", "aws.", "user"))})
            checked += 1
    return checked


def test_package_esql_rules_are_offered_every_event_they_keep() -> None:
    rules = _esql_rules(load_rules(PACKAGE_RULES, []))
    assert _kept_events_pass(rules, 3000, seed=21) > 100


def test_elastic_esql_rules_are_offered_every_event_they_keep() -> None:
    root = shared_path("anchors", "detection-rules", "rules", "integrations", "aws")
    rules = _esql_rules(load_rules(Path(root), []))
    assert len(rules) >= 20
    assert _kept_events_pass(rules, 2000, seed=23) > 100


@pytest.mark.parametrize("starts", ["Describe", "Get"])
def test_the_multi_region_rule_routes_by_its_prefixes(starts: str) -> None:
    rules = [r for r in _esql_rules(load_rules(PACKAGE_RULES, [])) if "Multi-Region" in r.name]
    engine = RuleEngine.build(rules, catalogue_types())
    (compiled,) = engine.compiled
    assert compiled.route is not None and any(v.value == starts + "*" for v in compiled.route[1])
