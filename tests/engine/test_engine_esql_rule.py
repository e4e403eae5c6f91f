"""ES|QL rules in the embedded engine, with Kibana's ``esql`` rule-type semantics."""

from __future__ import annotations

from embedded_run import run_embedded
from rulekit import ev, rule

NON_AGG = 'from logs-aws.cloudtrail-* metadata _id, _version, _index | where event.action == "CreateAccessKey" and user.name != user.target.name | keep _id, _version, _index, user.*, event.action'
AGG = 'from logs-aws.cloudtrail-* | where event.action like "List*" | stats Esql.n = count_distinct(event.action) by user.name | where Esql.n >= 3'


def esql(query: str, **kw):  # type: ignore[no-untyped-def]
    return rule("esql", query=query, language="esql", index=[], **kw)


def test_non_aggregating_rows_alert_once_with_the_source_document() -> None:
    events = [ev(1, "CreateAccessKey", user__name="mallory", user__target__name="victim", source__ip="198.51.100.7"), ev(2, "CreateAccessKey", user__name="bob", user__target__name="bob")]
    r = esql(NON_AGG, from_="now-9m", interval="5m")  # overlapping look-backs: the same document is seen twice
    findings, stats = run_embedded([r], events)
    assert not stats.not_run
    assert len(findings) == 1
    alert = findings[0]
    assert alert.get("user.name") == "mallory" and alert.get("source.ip") == "198.51.100.7"  # source fields kept too
    assert alert.document["kibana"]["alert"]["rule"]["type"] == "esql" and alert.get("event.kind") == "signal"


def test_without_metadata_id_every_overlapping_execution_alerts_again() -> None:
    query = NON_AGG.replace(" metadata _id, _version, _index", "").replace("_id, _version, _index, ", "")
    findings, _ = run_embedded([esql(query, from_="now-9m", interval="5m")], [ev(1, "CreateAccessKey", user__name="m", user__target__name="v")])
    assert len(findings) == 2


def test_aggregating_rows_alert_per_execution_and_carry_only_columns() -> None:
    events = [ev(1 + i * 0.1, a, user__name="eve") for i, a in enumerate(["ListUsers", "ListRoles", "ListPolicies"])]
    events.append(ev(1.5, "ListUsers", user__name="quiet"))
    findings, _ = run_embedded([esql(AGG, from_="now-5m", interval="5m")], events)
    assert len(findings) == 1
    doc = findings[0].document
    assert doc["Esql"]["n"] == 3 and doc["user"]["name"] == "eve" and "source" not in doc
    # a longer look-back lets two executions aggregate the same events: Kibana documents the duplicate
    findings, _ = run_embedded([esql(AGG, from_="now-10m", interval="5m")], events)
    assert len(findings) == 2


def test_max_signals_and_suppression() -> None:
    events = [ev(1 + i * 0.01, "CreateAccessKey", user__name=f"u{i}", user__target__name="t") for i in range(5)]
    findings, _ = run_embedded([esql(NON_AGG, max_signals=2)], events)
    assert len(findings) == 2
    r = esql(NON_AGG)
    r.rule["alert_suppression"] = {"group_by": ["user.target.name"], "duration": {"value": 30, "unit": "m"}, "missing_fields_strategy": "suppress"}
    findings, _ = run_embedded([r], events + [ev(20, "CreateAccessKey", user__name="late", user__target__name="t")])
    assert len(findings) == 1
    assert findings[0].document["kibana"]["alert"]["suppression"]["docs_count"] == 5


def test_higher_order_rule_reads_the_alerts_of_the_same_run() -> None:
    base = rule(query="event.action:CreateAccessKey", name="base rule", severity="high", risk_score=73)
    higher = esql('from .alerts-security.* metadata _id | where kibana.alert.risk_score >= 47 and kibana.alert.rule.name == "base rule" | stats n = count(*) by user.name', name="higher")
    findings, stats = run_embedded([higher, base], [ev(1, "CreateAccessKey", user__name="mallory")])
    assert not stats.not_run
    by_rule = {f.name: f for f in findings}
    assert by_rule["higher"].document["n"] == 1 and by_rule["higher"].document["user"]["name"] == "mallory"


def test_queries_the_engine_cannot_run_are_reported() -> None:
    findings, stats = run_embedded([esql("from logs-* | enrich pol on user.name", name="enrich rule"), esql("from logs-* | where (", name="bad")], [ev(1, "X")])
    reasons = stats.not_run
    assert "ENRICH" in reasons["enrich rule"] and "does not parse" in reasons["bad"]
