"""``engine.needed_fields``: the fields rules and jobs read, proven by running on them alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctdetect.content.loaders import load_rules
from ctdetect.content.model import Datafeed, Detector, Located, MLJob
from ctdetect.ecs.stream import iter_events
from ctdetect.engine.needed_fields import ALWAYS_READ, FieldNeeds, needed_fields, rule_fields
from ctdetect.query import ast, parse_query
from ctdetect.services.content import load_content
from tests.conftest import PROJECT_ROOT, shared_path
from tests.engine.embedded_run import run_embedded
from tests.engine.rulekit import rule


def _job(job_id: str = "j", feed_query: dict | None = None, **feed_raw: object) -> tuple[MLJob, Datafeed]:
    job = MLJob(Located(Path("j.json")), {}, job_id, detectors=[Detector("rare", by_field_name="event.action",
                                                                         partition_field_name="user.name")],
                influencers=["source.ip"])
    feed = Datafeed(Located(Path("d.json")), dict(feed_raw), "datafeed-j", job_id, query=feed_query or {"match_all": {}})
    return job, feed


def test_query_threshold_new_terms_and_routing_fields() -> None:
    got = needed_fields([
        rule("query", "event.action:CreateUser and not user.name:admin*"),
        rule("threshold", "event.action:GetObject", threshold=(["source.ip"], 10)),
        rule("new_terms", "event.provider:iam.amazonaws.com", new_terms=(["cloud.account.id", "user.id"], "now-7d")),
        rule("eql", "sequence by user.name [any where event.action == \"A\"] [any where cidrMatch(source.ip, \"10.0.0.0/8\")]"),
        rule("machine_learning", None, machine_learning_job_id=["j"]),
    ], [])
    assert got.everything is None
    assert got.fields == ALWAYS_READ | {"event.action", "event.provider", "user.name", "source.ip", "cloud.account.id",
                                        "user.id", "event.category"}


def test_job_fields_from_detectors_influencers_and_datafeed_query() -> None:
    got = needed_fields([], [_job(feed_query={"bool": {"filter": [{"term": {"event.dataset": "aws.cloudtrail"}}]}})])
    assert got.fields == ALWAYS_READ | {"event.action", "user.name", "source.ip", "event.dataset"}


@pytest.mark.parametrize("kind, query, cause", [
    ("query", "CreateUser", "names no field"),
    ("esql", "from logs-* | where event.action == \"A\"", "without STATS or KEEP"),
    ("esql", "from logs-* | keep *", "KEEP *"),
    ("esql", "from logs-* | enrich p on user.name | stats count(*) by user.name", "ENRICH"),
    ("query", "event.action:(", "does not parse"),
])
def test_unknowable_fields_mean_every_field(kind: str, query: str, cause: str) -> None:
    language = {"esql": "esql", "query": "lucene"}[kind] if query == "CreateUser" or kind == "esql" else "kuery"
    got = needed_fields([rule(kind, query, language=language)], [])
    assert got.everything is not None and cause in got.everything
    assert got.covers("anything.at.all")


def test_scripted_datafeed_means_every_field() -> None:
    got = needed_fields([], [_job(script_fields={"x": {"script": "1"}})])
    assert got.everything is not None and "scripts" in got.everything


def test_esql_reads_up_to_the_command_that_bounds_its_columns() -> None:
    text = ("from logs-aws.cloudtrail-* | where event.provider == \"s3.amazonaws.com\" | rename user.name as who "
            "| eval n = to_lower(source.ip) | stats c = count_distinct(n) by who, cloud.region | where c > 3")
    assert rule_fields(rule("esql", text, language="esql")) == {"event.provider", "user.name", "source.ip", "cloud.region",
                                                               "n", "who"}
    kept = rule_fields(rule("esql", "from logs-* | where event.action == \"A\" | keep user.*, @timestamp", language="esql"))
    assert kept == {"event.action", "user.*", "@timestamp"}
    alerts = rule_fields(rule("esql", "from .alerts-security.* | stats c = count(*) by host.name", language="esql"))
    assert alerts == set()


def test_patterns_are_matched_like_field_patterns() -> None:
    needs = FieldNeeds(frozenset({"event.action"}), frozenset({"user.*"}))
    assert needs.covers("event.action") and needs.covers("user.name") and not needs.covers("source.ip")


def _every_query_field(rules) -> set[str]:
    out: set[str] = set()
    for r in rules:
        if r.type not in ("machine_learning", "esql") and (r.language or "") != "esql" and r.query:
            out |= ast.fields(parse_query(r.query, r.language or ("eql" if r.type == "eql" else "kuery")))
    return out


def test_package_fields_are_known_and_cover_every_query() -> None:
    content = load_content(PROJECT_ROOT)
    got = needed_fields(content.rules, content.jobs)
    assert got.everything is None, got.everything
    assert _every_query_field(content.rules) <= got.fields
    for job, _ in content.jobs:
        for d in job.detectors:
            assert {f for f in (d.by_field_name, d.partition_field_name, d.over_field_name, d.field_name) if f} <= got.fields
    assert len(got.fields) < 80  # a few dozen of the hundreds of fields the mapping writes


def test_elastic_aws_rules_fields_are_known() -> None:
    rules = load_rules(shared_path("anchors", "detection-rules", "rules", "integrations", "aws"))
    assert len(rules) > 150
    got = needed_fields(rules, [])
    assert got.everything is None, got.everything
    assert all(got.covers(f) for f in _every_query_field(rules))


def _projected(event: dict, needs: FieldNeeds) -> dict:
    return {k: v for k, v in event.items() if needs.covers(k)}


def test_package_scenarios_give_the_same_findings_on_needed_fields_alone() -> None:
    """The proof that the set is complete: the engine, fed only the needed fields of each
    attack scenario's events, finds what it finds on whole documents (alert documents and
    entities show the event, so alerts compare on rule, time and score)."""
    content = load_content(PROJECT_ROOT)
    needs = needed_fields(content.rules, content.jobs)
    files = sorted(p for p in (PROJECT_ROOT / "scenarios").glob("rule-*-fires/*") if p.suffix in (".ndjson", ".json", ".gz"))
    assert files
    events = sorted(iter_events(files, order_files=False), key=lambda e: e["_ts"])
    full, _ = run_embedded(content.rules, events)
    projected, _ = run_embedded(content.rules, [_projected(e, needs) for e in events])

    def key(f):
        return (f.kind, f.source_id, f.timestamp, f.score)

    assert len({f.source_id for f in full}) > 20
    assert sorted(map(key, full)) == sorted(map(key, projected))
