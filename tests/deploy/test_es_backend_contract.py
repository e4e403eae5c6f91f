"""Contract tests: every request the elasticsearch backend builds for a replay of the whole
package, against the Elasticsearch OpenAPI document and Kibana's detection engine bundle.

The requests are built by the same functions the backend calls (``es_index``, ``es_ml``,
``es_preview``) for every rule and job of the package and real scenario events.
"""

from __future__ import annotations

import pytest

from ctdetect.backends.es_index import OwnedIndices, build_mapping, bulk_request, create_index_request, delete_index_request, refresh_request
from ctdetect.backends.es_ml import cleanup_requests, close_request, datafeed_stats_request, job_requests, records_search, start_request
from ctdetect.backends.es_preview import alerts_search, preview_request
from ctdetect.catalogue import load_catalogue
from ctdetect.content.loaders import load_package
from ctdetect.elastic.requests_model import Request
from ctdetect.ecs import nest
from ctdetect.query import parse_query
from ctdetect.readers import SkipCounter
from ctdetect.services.inputs import make_mapper
from ctdetect.services.scenario_events import scenario_events
from deploy.apispecs import es_operation, es_spec, kibana_spec, mapping_errors, spec_quirk as _quirk, without_queries
from deploy.deploykit import PROJECT_ROOT


@pytest.fixture(scope="module")
def package():  # type: ignore[no-untyped-def]
    return load_package(PROJECT_ROOT)


@pytest.fixture(scope="module")
def replay_requests(package) -> list[Request]:  # type: ignore[no-untyped-def]
    scenario = next(s for s in package.scenarios if s.name == "rule-ec2-user-data-sequence-fires")
    events = scenario_events(scenario, make_mapper(None), SkipCounter())
    assert events
    index = OwnedIndices().new_name()
    out = [create_index_request(index, build_mapping({k for e in events for k in e}, load_catalogue()))]
    out.append(bulk_request(index, [(str(n), nest({k: v for k, v in e.items() if not k.startswith("_")})) for n, e in enumerate(events)]))
    out.append(refresh_request(index))
    job_ids = {}
    for job in package.jobs:
        tmp, feed_id, created = job_requests("ctdr-abc123", job, package.datafeed_for(job.job_id), index)
        job_ids[job.job_id] = tmp
        out.extend(created)
        out.append(start_request(feed_id, 1_700_000_000_000, 1_700_086_400_000))
        out.append(datafeed_stats_request(feed_id))
        out.append(close_request(tmp))
        out.append(records_search(tmp))
        out.extend(cleanup_requests(tmp, feed_id))
    for rule in package.rules:
        request, _ = preview_request(rule, index, "soc", 1_700_000_000_000, 1_700_086_400_000, job_ids)
        out.append(request)
    out.append(alerts_search("soc", "0d4f6e1b-2a90-4a3e-9a5d-7f1c9d1e4c8a"))
    out.append(delete_index_request(index))
    return out


def test_every_elasticsearch_request_of_a_replay_matches_the_openapi_document(replay_requests: list[Request]) -> None:
    spec = es_spec()
    problems = []
    for request in replay_requests:
        if request.service != "elasticsearch":
            continue
        template, ref, problem = es_operation(spec, request)
        if problem is not None:
            problems.append(problem)
            continue
        if template is None or ref is None:
            continue
        if isinstance(request.body, list):
            # _bulk: the document declares each line as oneOf(action, object, update), which every
            # object matches twice; check action lines against the operation container instead
            assert template.endswith("/_bulk")
            actions, docs = request.body[0::2], request.body[1::2]
            errors = [e for a in actions for e in spec.errors("#/components/schemas/_global.bulk:OperationContainer", a)]
            errors += [f"document line {n} is not an object" for n, d in enumerate(docs) if not isinstance(d, dict)]
            assert len(actions) == len(docs) and all(set(a) == {"create"} for a in actions)
        elif template == "/{index}" and request.method == "PUT":
            body = dict(request.body, mappings=dict(request.body["mappings"], properties={}))
            errors = spec.errors(ref, body) + mapping_errors(spec, request.body["mappings"]["properties"])
        else:
            body, queries = without_queries(request.body)
            errors = spec.errors(ref, body)
            for query in queries:
                parse_query(query, "dsl")
        problems.extend(f"{request.method} {template}: {e}" for e in errors if not _quirk(request.method, template, e))
    assert problems == []


def test_every_rule_preview_body_matches_kibanas_preview_schema(replay_requests: list[Request], package) -> None:  # type: ignore[no-untyped-def]
    spec = kibana_spec()
    previews = [r for r in replay_requests if r.path.endswith("/api/detection_engine/rules/preview")]
    assert len(previews) == len(package.rules)
    assert all(r.path.startswith("/s/soc/") for r in previews)
    template = spec.template("POST", previews[0].path)
    ref = spec.body_ref("POST", template)
    problems = [f"{r.body['rule_id']}: {e}" for r in previews for e in spec.errors(ref, r.body)]
    # the preview body is a create body plus the two preview parameters: closed-world check on that
    for r in previews:
        body = {k: v for k, v in r.body.items() if k not in ("invocationCount", "timeframeEnd")}
        problems.extend(f"{r.body['rule_id']}: {e}" for e in spec.errors("#/components/schemas/RuleCreateProps", body))
    assert problems == []


def test_the_mapping_check_can_fail() -> None:
    spec = es_spec()
    assert mapping_errors(spec, {"a": {"type": "keyword", "ignore_above": 10}}) == []
    assert mapping_errors(spec, {"a": {"type": "keywrod"}}) != []
    assert mapping_errors(spec, {"a": {"properties": {"b": {"type": "ip", "ignore_abvoe": 1}}}}) != []


def test_the_preview_check_can_fail(replay_requests: list[Request]) -> None:
    spec = kibana_spec()
    preview = next(r for r in replay_requests if r.path.endswith("/rules/preview"))
    ref = spec.body_ref("POST", spec.template("POST", preview.path))
    broken = {k: v for k, v in preview.body.items() if k != "timeframeEnd"}
    assert spec.errors(ref, broken) != []
