"""The fake cluster is checked against Elastic's own specs, not against ctdetect: where the
anchors hold the behaviour (``../shared/anchors/api-specs``), the fake must match it."""

from __future__ import annotations

from typing import Any

import requests

from ctdetect.elastic.ml_body import DATAFEED_UPDATABLE, JOB_UPDATABLE
from deploy.apispecs import es_spec, kibana_document
from deploy.deploykit import fake  # noqa: F401 - fixture
from ctdetect_testsupport.fakecluster import JOB_UPDATABLE as FAKE_JOB_UPDATABLE
from ctdetect_testsupport.fakecluster import FakeElastic


def _body_properties(method: str, path: str) -> set[str]:
    spec = es_spec()
    template = spec.template(method, path)
    assert template is not None
    node: Any = spec.document
    for part in spec.body_ref(method, template).lstrip("#/").split("/"):  # type: ignore[union-attr]
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return set(spec.resolve(spec.resolve(node)).get("properties", {}))


def test_job_and_datafeed_update_fields_are_elasticsearchs() -> None:
    job_fields = _body_properties("POST", "/_ml/anomaly_detectors/x/_update")
    assert FAKE_JOB_UPDATABLE == job_fields  # the fake accepts exactly what ES documents
    assert JOB_UPDATABLE <= job_fields  # ctdetect sends nothing ES would refuse
    assert DATAFEED_UPDATABLE <= _body_properties("POST", "/_ml/datafeeds/x/_update")


def _kibana(fake: FakeElastic, method: str, body: Any) -> Any:
    resp = requests.request(method, fake.kibana_url + "/api/detection_engine/rules", json=body, auth=(fake.username, fake.password), headers={"kbn-xsrf": "t"}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("kbn-name")  # Kibana names itself on every answer
    return resp.json()


def test_put_replaces_and_patch_merges_as_kibanas_api_documents(fake: FakeElastic) -> None:
    paths = kibana_document()["paths"]["/api/detection_engine/rules"]
    assert "all unspecified fields are deleted" in paths["put"]["description"]
    assert "Update specific fields" in paths["patch"]["description"]
    rule = {"rule_id": "r1", "name": "n", "description": "d", "type": "query", "query": "*", "language": "kuery", "risk_score": 1, "severity": "low"}
    _kibana(fake, "POST", dict(rule, exceptions_list=[{"id": "e", "list_id": "l", "namespace_type": "single", "type": "detection"}], enabled=False))
    patched = _kibana(fake, "PATCH", {"rule_id": "r1", "name": "patched"})
    assert patched["name"] == "patched" and patched["exceptions_list"] and patched["enabled"] is False
    replaced = _kibana(fake, "PUT", dict(rule, name="replaced"))
    assert replaced["exceptions_list"] == [] and replaced["enabled"] is True


def test_saved_query_ids_are_unique_across_spaces(fake: FakeElastic) -> None:
    url = fake.kibana_url + "{}/api/saved_objects/query/q1"
    body = {"attributes": {"title": "t", "description": "", "query": {"query": "*", "language": "kuery"}}}
    kw: dict[str, Any] = {"json": body, "auth": (fake.username, fake.password), "headers": {"kbn-xsrf": "t"}, "timeout": 10}
    assert requests.post(url.format(""), **kw).status_code == 200
    assert requests.post(url.format("/s/b"), **kw).status_code == 409  # multiple-isolated type


def test_discover_session_ids_are_unique_across_spaces_and_the_shape_is_kibanas(fake: FakeElastic) -> None:
    """The anchors hold no saved_search schema: the fake cites Kibana's ``search.ts`` and
    ``schema.ts`` (``SOURCES``); what ctdetect sends must be what that schema accepts."""
    from ctdetect_testsupport.fakecluster import SOURCES

    assert "search.ts" in SOURCES["discover session shape"] and "schema.ts" in SOURCES["discover session shape"]
    url = fake.kibana_url + "{}/api/saved_objects/search/s1"
    tab = {"id": "t", "label": "t", "attributes": {"isTextBasedQuery": True, "kibanaSavedObjectMeta": {"searchSourceJSON": '{"query": {"esql": "FROM x"}}'}}}
    body = {"attributes": {"title": "t", "description": "", "tabs": [tab]}}
    kw: dict[str, Any] = {"json": body, "auth": (fake.username, fake.password), "headers": {"kbn-xsrf": "t"}, "timeout": 10}
    assert requests.post(url.format(""), **kw).status_code == 200
    assert requests.post(url.format("/s/b"), **kw).status_code == 409  # multiple-isolated type


def test_an_open_job_refuses_a_memory_limit_update(fake: FakeElastic) -> None:
    auth = (fake.username, fake.password)
    job = {"analysis_config": {"bucket_span": "1h", "detectors": [{"function": "count"}]}, "data_description": {"time_field": "@timestamp"}}
    assert requests.put(fake.es_url + "/_ml/anomaly_detectors/j", json=job, auth=auth, timeout=10).status_code == 200
    requests.post(fake.es_url + "/_ml/anomaly_detectors/j/_open", auth=auth, timeout=10)
    resp = requests.post(fake.es_url + "/_ml/anomaly_detectors/j/_update", json={"analysis_limits": {"model_memory_limit": "64mb"}}, auth=auth, timeout=10)
    assert resp.status_code == 409 and resp.headers["X-Elastic-Product"] == "Elasticsearch"
    assert requests.post(fake.es_url + "/_ml/anomaly_detectors/j/_update", json={"description": "x"}, auth=auth, timeout=10).status_code == 200
