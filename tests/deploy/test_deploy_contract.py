"""Contract tests: every request deploy builds for the whole package, against Elastic's specs.

Requests come from real plans: a first deployment (every create), a plan against a
cluster where everything differs (every update body), and a prune plan. Each body is
validated against the operation its method and path select in the Elasticsearch OpenAPI
document or Kibana's detection engine bundle; rule bodies also against detection-rules'
JSON Schemas for the types they publish. Queries inside ES bodies go through ctdetect's
own DSL parser. Saved-object bodies have no spec in the anchors: their shape is checked
against the saved objects API's documented form instead.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from ctdetect.content.loaders import load_package
from ctdetect.deploy.planner import plan
from ctdetect.elastic.requests_model import Request
from ctdetect.deploy.state import ClusterState
from ctdetect.query import parse_query
from deploy.apispecs import detection_rules_schema, es_spec, kibana_spec, spec_quirk as _quirk, without_queries
from deploy.deploykit import PROJECT_ROOT

DR_VERSIONS = ("8.19", "9.0", "9.5")




@pytest.fixture(scope="module")
def package():  # type: ignore[no-untyped-def]
    return load_package(PROJECT_ROOT)


def _drifted_state(package) -> ClusterState:  # type: ignore[no-untyped-def]
    """A cluster holding every object with a different (updatable) value, jobs closed, feeds stopped."""
    from ctdetect.elastic.ml_body import datafeed_body, job_body
    from ctdetect.elastic.rule_body import rule_body
    from ctdetect.elastic.saved_query_body import saved_query_attributes

    state = ClusterState()
    for job in package.jobs:
        body = job_body(job)
        body.update(job_id=job.job_id, description="old", groups=["old"], custom_settings={"old": True})
        body["analysis_limits"] = {"model_memory_limit": "1mb"}
        state.jobs[job.job_id] = body
        state.job_states[job.job_id] = "closed"
    for feed in package.datafeeds:
        body = datafeed_body(feed)
        body.update(datafeed_id=feed.datafeed_id, indices=["old-*"], query={"match_all": {}}, max_empty_searches=1)
        state.datafeeds[feed.datafeed_id] = body
        state.datafeed_states[feed.datafeed_id] = "started"
    for rule in package.rules:
        body = rule_body(rule)
        body["name"] = "old"
        state.rules[rule.rule_id] = body
    state.rules["00000000-0000-4000-8000-000000000000"] = {"rule_id": "00000000-0000-4000-8000-000000000000", "name": "gone", "tags": ["ctdetect"]}
    for query in package.hunting_queries:
        state.saved_queries[query.id] = dict(saved_query_attributes(query), title="old")
    state.saved_queries["ctdetect-hunt-gone"] = {"title": "gone"}
    return state


def all_requests(package) -> list[Request]:  # type: ignore[no-untyped-def]
    first = plan(package, None, "default")
    updates = plan(package, _drifted_state(package), "soc", prune=True)
    replaced_state = _drifted_state(package)
    for job in replaced_state.jobs.values():
        job["analysis_config"] = dict(job["analysis_config"], bucket_span="2h")
    replaced = plan(package, replaced_state, "default")
    return first.requests + updates.requests + replaced.requests


def test_plans_cover_every_kind_of_request(package) -> None:  # type: ignore[no-untyped-def]
    kinds = {(r.method, r.path.split("/")[-1] if r.path.split("/")[-1].startswith("_") else r.path.split("/")[1]) for r in all_requests(package)}
    for expected in [("PUT", "_ml"), ("POST", "_open"), ("POST", "_start"), ("POST", "_update"), ("POST", "_stop"), ("DELETE", "_ml"), ("POST", "api"), ("PUT", "api"), ("PATCH", "s"), ("DELETE", "s")]:
        assert expected in kinds, expected


def test_every_elasticsearch_request_matches_the_openapi_document(package) -> None:  # type: ignore[no-untyped-def]
    spec = es_spec()
    problems: list[str] = []
    checked = 0
    for request in all_requests(package):
        if request.service != "elasticsearch":
            continue
        template = spec.template(request.method, request.path)
        if template is None:
            problems.append(f"{request.method} {request.path}: no such operation in the Elasticsearch API")
            continue
        ref = spec.body_ref(request.method, template)
        if request.body is None:
            continue
        if ref is None:
            problems.append(f"{request.method} {request.path}: the operation takes no body")
            continue
        body, queries = without_queries(request.body)
        problems.extend(f"{request.method} {request.path}: {e}" for e in spec.errors(ref, body) if not _quirk(request.method, template, e))
        for query in queries:
            parse_query(query, "dsl")  # raises on anything ctdetect cannot read
        checked += 1
    assert problems == []
    assert checked >= 3 * len(package.jobs)  # put job, put datafeed, updates


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_every_rule_body_matches_kibanas_detection_engine_schema(package, method: str) -> None:  # type: ignore[no-untyped-def]
    spec = kibana_spec()
    ref_name = "RuleCreateProps" if method == "POST" else "RulePatchProps"
    problems: list[str] = []
    bodies = [r.body for r in all_requests(package) if r.method == method and r.path.endswith("/api/detection_engine/rules")]
    assert len(bodies) >= len(package.rules)
    assert spec.body_ref(method, "/api/detection_engine/rules").endswith("schema")
    template = spec.template(method, "/api/detection_engine/rules")
    assert template is not None and spec.body_ref(method, template) is not None
    for body in bodies:
        problems.extend(f"{body['rule_id']} ({body['type']}): {e}" for e in spec.errors(f"#/components/schemas/{ref_name}", body))
    assert problems == []


@pytest.mark.parametrize("version", DR_VERSIONS)
def test_rule_bodies_match_detection_rules_api_schemas(package, version: str) -> None:  # type: ignore[no-untyped-def]
    from jsonschema import Draft4Validator

    from ctdetect.elastic.rule_body import rule_body

    problems = []
    checked = 0
    for rule in package.rules:
        schema = detection_rules_schema(version, rule.type)
        if schema is None:
            continue
        body = rule_body(rule)
        for error in Draft4Validator(schema).iter_errors(body):
            problems.append(f"{rule.rule_id} ({rule.type}): {'/'.join(map(str, error.absolute_path))}: {error.message[:200]}")
        checked += 1
    assert problems == []
    assert checked == sum(1 for r in package.rules if r.type in ("query", "machine_learning"))


def test_the_latest_detection_rules_schema_accepts_every_key_we_send(package) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.elastic.rule_body import rule_body

    for rule in package.rules:
        schema = detection_rules_schema("9.5", rule.type)
        if schema is None:
            continue
        assert set(rule_body(rule)) <= set(schema["properties"]), rule.rule_id


def test_rule_queries_parse_in_their_language(package) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.elastic.rule_body import rule_body

    for rule in package.rules:
        body = rule_body(rule)
        if "query" in body:
            parse_query(body["query"], body["language"])


def test_saved_query_bodies_have_the_saved_objects_shape(package) -> None:  # type: ignore[no-untyped-def]
    bodies = [r for r in all_requests(package) if "/api/saved_objects/query/" in r.path and r.body is not None]
    assert len(bodies) >= len(package.hunting_queries)
    for request in bodies:
        assert set(request.body) == {"attributes"}
        attrs = request.body["attributes"]
        assert set(attrs) == {"title", "description", "query", "filters", "titleKeyword"}
        assert attrs["titleKeyword"] == attrs["title"]  # Kibana's sort key follows the title
        assert attrs["query"]["language"] in ("kuery", "lucene")
        parse_query(attrs["query"]["query"], attrs["query"]["language"])


def test_the_contract_check_itself_rejects_a_bad_body(package) -> None:  # type: ignore[no-untyped-def]
    """A check that can fail: a misspelt key, a wrong type, a missing required field."""
    from ctdetect.elastic.rule_body import rule_body

    spec = kibana_spec()
    good = rule_body(package.rules[0])
    assert spec.errors("#/components/schemas/RuleCreateProps", good) == []
    bad = dict(good, risk_scor=5)
    assert any("risk_scor" in e for e in spec.errors("#/components/schemas/RuleCreateProps", bad))
    es = es_spec()
    job = copy.deepcopy(next(r.body for r in plan(package, None).requests if r.method == "PUT" and "/anomaly_detectors/" in r.path))
    ref = es.body_ref("PUT", es.template("PUT", "/_ml/anomaly_detectors/x"))
    assert es.errors(ref, job) == []
    job["analysis_config"]["bucket_spam"] = "1h"
    del job["data_description"]
    errors = es.errors(ref, job)
    assert any("bucket_spam" in e for e in errors) and any("data_description" in e for e in errors)
