"""What the cluster holds now, limited to what ctdetect owns (plus id collisions).

Owned objects: ML jobs whose id starts with ``ctdetect_`` and the datafeeds of those
jobs; detection rules carrying the ``ctdetect`` tag; saved queries whose id starts with
``ctdetect-``. A rule with one of the package's ``rule_id``s but without the tag is
somebody else's: it is recorded as a collision, never changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ctdetect.elastic.client import Cluster
from ctdetect.elastic.ml_body import OWNED_JOB_PREFIX, is_owned_job
from ctdetect.elastic.requests_model import Request, kibana_path, seg
from ctdetect.elastic.rule_body import OWNER_TAG
from ctdetect.elastic.saved_query_body import is_owned_query

PAGE = 100
ID_BATCH = 50  # rule_ids per _find filter (keeps the URL short)


@dataclass(slots=True)
class ClusterState:
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_states: dict[str, str] = field(default_factory=dict)
    datafeeds: dict[str, dict[str, Any]] = field(default_factory=dict)
    datafeed_states: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule_id -> rule (owned)
    foreign_rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # package rule_id held by a rule we do not own
    saved_queries: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> attributes


def read_state(cluster: Cluster, space: str | None, package_rule_ids: Iterable[str], with_ml: bool = True) -> ClusterState:
    state = ClusterState()
    if with_ml:
        _read_ml(cluster, state)
    _read_rules(cluster, space, state, set(package_rule_ids))
    _read_saved_queries(cluster, space, state)
    return state


def _read_ml(cluster: Cluster, state: ClusterState) -> None:
    pattern = f"/_ml/anomaly_detectors/{OWNED_JOB_PREFIX}*"
    body = cluster.send(Request("GET", pattern), params={"allow_no_match": "true"}).body or {}
    for job in body.get("jobs", []):
        if is_owned_job(job.get("job_id", "")):
            state.jobs[job["job_id"]] = job
    body = cluster.send(Request("GET", pattern + "/_stats"), params={"allow_no_match": "true"}).body or {}
    for stats in body.get("jobs", []):
        if stats.get("job_id") in state.jobs:
            state.job_states[stats["job_id"]] = str(stats.get("state", ""))
    body = cluster.send(Request("GET", "/_ml/datafeeds/_all"), params={"allow_no_match": "true"}).body or {}
    for feed in body.get("datafeeds", []):
        if is_owned_job(feed.get("job_id", "")):
            state.datafeeds[feed["datafeed_id"]] = feed
    body = cluster.send(Request("GET", "/_ml/datafeeds/_all/_stats"), params={"allow_no_match": "true"}).body or {}
    for stats in body.get("datafeeds", []):
        if stats.get("datafeed_id") in state.datafeeds:
            state.datafeed_states[stats["datafeed_id"]] = str(stats.get("state", ""))


def _read_rules(cluster: Cluster, space: str | None, state: ClusterState, package_rule_ids: set[str]) -> None:
    path = kibana_path(space, "/api/detection_engine/rules/_find")
    page = 1
    while True:
        params = {"filter": f'alert.attributes.tags:"{OWNER_TAG}"', "per_page": PAGE, "page": page}
        body = cluster.send(Request("GET", path), params=params).body or {}
        rows = body.get("data", [])
        for rule in rows:
            if OWNER_TAG in (rule.get("tags") or []) and rule.get("rule_id"):
                state.rules[rule["rule_id"]] = rule
        if len(rows) < PAGE or page * PAGE >= int(body.get("total", 0)):
            break
        page += 1
    # package rule_ids not among ours: held by someone else's rule? (one search per batch)
    missing = sorted(package_rule_ids - set(state.rules))
    for start in range(0, len(missing), ID_BATCH):
        batch = missing[start : start + ID_BATCH]
        ids = " OR ".join(f'"{rule_id}"' for rule_id in batch)
        params = {"filter": f"alert.attributes.params.ruleId:({ids})", "per_page": PAGE, "page": 1}
        body = cluster.send(Request("GET", path), params=params).body or {}
        for rule in body.get("data", []):
            if rule.get("rule_id") in batch:
                state.foreign_rules[rule["rule_id"]] = rule


def _read_saved_queries(cluster: Cluster, space: str | None, state: ClusterState) -> None:
    path = kibana_path(space, "/api/saved_objects/_find")
    page = 1
    while True:
        body = cluster.send(Request("GET", path), params={"type": "query", "per_page": PAGE, "page": page}).body or {}
        rows = body.get("saved_objects", [])
        for obj in rows:
            if is_owned_query(str(obj.get("id", ""))):
                state.saved_queries[obj["id"]] = obj.get("attributes") or {}
        if len(rows) < PAGE or page * PAGE >= int(body.get("total", 0)):
            break
        page += 1


def job_path(job_id: str, suffix: str = "") -> str:
    return f"/_ml/anomaly_detectors/{seg(job_id)}{suffix}"


def datafeed_path(datafeed_id: str, suffix: str = "") -> str:
    return f"/_ml/datafeeds/{seg(datafeed_id)}{suffix}"
