"""What the cluster holds now: the objects this package owns, the package ids held by
others, and (for ``--prune``) which ML jobs rules in any Kibana space still use.

Ownership is proved by the markers of ``elastic.ownership``, never by a name or a tag
alone. A package object with only the old proofs (tag without marker, job with
``created_by: ctdetect``) is recorded as *adoptable*: deploy updates it and adds the
marker. An object holding a package id without any proof is somebody else's: recorded
as a collision and never changed.

ML jobs are cluster-wide while rules live in Kibana spaces, so before anything ML is
pruned every space is read (``GET /api/spaces/space``) and the ``machine_learning``
rules of each one are listed: a job one of them names is never deleted. When the spaces
cannot all be read, ``references_problem`` says why and nothing ML is pruned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ctdetect.elastic.client import Cluster, ClusterError
from ctdetect.elastic.ownership import (
    OWNER_TAG,
    has_owned_query_prefix,
    job_is_adoptable,
    job_is_owned,
    rule_is_owned,
    rule_is_tagged,
    saved_query_is_owned,
)
from ctdetect.elastic.requests_model import Request, kibana_path, kql_quote, seg

PAGE = 100
ID_BATCH = 50  # rule_ids per _find filter (keeps the URL short)


@dataclass(slots=True)
class ClusterState:
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # owned or adoptable
    job_states: dict[str, str] = field(default_factory=dict)
    foreign_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # package job id, not ours
    datafeeds: dict[str, dict[str, Any]] = field(default_factory=dict)  # of the jobs above
    datafeed_states: dict[str, str] = field(default_factory=dict)
    filters: dict[str, dict[str, Any]] = field(default_factory=dict)  # the ML filters the package's jobs name, as the cluster has them
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule_id -> rule (owned or adoptable)
    foreign_rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # package rule_id held by a rule we do not own
    saved_queries: dict[str, dict[str, Any]] = field(default_factory=dict)  # saved object id -> attributes (owned or adoptable)
    discover_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # ``search`` saved objects, the same way
    adoptable: set[tuple[str, str]] = field(default_factory=set)  # (kind, id) found without the marker
    # job_id -> ["<space>: <rule name>", ...] of every machine_learning rule in every space
    job_references: dict[str, list[str]] = field(default_factory=dict)
    references_problem: str | None = None  # why the references are unknown (then no ML prune)


def read_state(
    cluster: Cluster,
    space: str | None,
    package_rule_ids: Iterable[str],
    package_job_ids: Iterable[str] = (),
    package_query_ids: Iterable[str] = (),
    package_session_ids: Iterable[str] = (),
    with_ml: bool = True,
    with_references: bool = False,
    package_filter_ids: Iterable[str] = (),
) -> ClusterState:
    state = ClusterState()
    if with_ml:
        _read_ml(cluster, state, set(package_job_ids))
        _read_filters(cluster, state, set(package_filter_ids))
    _read_rules(cluster, space, state, set(package_rule_ids))
    _read_saved_objects(cluster, space, "query", state.saved_queries, "saved_query", state, set(package_query_ids))
    _read_saved_objects(cluster, space, "search", state.discover_sessions, "discover_session", state, set(package_session_ids))
    if with_ml and with_references:
        _read_job_references(cluster, state)
    return state


def _read_ml(cluster: Cluster, state: ClusterState, package_job_ids: set[str]) -> None:
    body = cluster.send(Request("GET", "/_ml/anomaly_detectors/_all"), params={"allow_no_match": "true"}).body or {}
    for job in body.get("jobs", []):
        job_id = str(job.get("job_id", ""))
        if job_is_owned(job):
            state.jobs[job_id] = job
        elif job_id in package_job_ids and job_is_adoptable(job):
            state.jobs[job_id] = job
            state.adoptable.add(("ml_job", job_id))
        elif job_id in package_job_ids:
            state.foreign_jobs[job_id] = job
    if not state.jobs:
        return
    body = cluster.send(Request("GET", "/_ml/anomaly_detectors/_all/_stats"), params={"allow_no_match": "true"}).body or {}
    for stats in body.get("jobs", []):
        if stats.get("job_id") in state.jobs:
            state.job_states[stats["job_id"]] = str(stats.get("state", ""))
    body = cluster.send(Request("GET", "/_ml/datafeeds/_all"), params={"allow_no_match": "true"}).body or {}
    for feed in body.get("datafeeds", []):
        if feed.get("job_id") in state.jobs:  # a datafeed belongs to the job it feeds
            state.datafeeds[feed["datafeed_id"]] = feed
    body = cluster.send(Request("GET", "/_ml/datafeeds/_all/_stats"), params={"allow_no_match": "true"}).body or {}
    for stats in body.get("datafeeds", []):
        if stats.get("datafeed_id") in state.datafeeds:
            state.datafeed_states[stats["datafeed_id"]] = str(stats.get("state", ""))


def _read_filters(cluster: Cluster, state: ClusterState, package_filter_ids: set[str]) -> None:
    """The ML filters the package's jobs name (none asked for: no request)."""
    if not package_filter_ids:
        return
    body = cluster.send(Request("GET", "/_ml/filters"), params={"size": "10000"}).body or {}
    for flt in body.get("filters", []):
        if flt.get("filter_id") in package_filter_ids:
            state.filters[flt["filter_id"]] = flt


def _find_rules(cluster: Cluster, space: str | None, kql: str) -> Iterable[dict[str, Any]]:
    """Every rule of ``space`` matching the KQL ``filter``, page by page."""
    path = kibana_path(space, "/api/detection_engine/rules/_find")
    page = 1
    while True:
        body = cluster.send(Request("GET", path), params={"filter": kql, "per_page": PAGE, "page": page}).body or {}
        rows = body.get("data", [])
        yield from rows
        if len(rows) < PAGE or page * PAGE >= int(body.get("total", 0)):
            return
        page += 1


def _read_rules(cluster: Cluster, space: str | None, state: ClusterState, package_rule_ids: set[str]) -> None:
    for rule in _find_rules(cluster, space, f"alert.attributes.tags:{kql_quote(OWNER_TAG)}"):
        rule_id = rule.get("rule_id")
        if not rule_id:
            continue
        if rule_is_owned(rule):
            state.rules[rule_id] = rule
        elif rule_is_tagged(rule) and rule_id in package_rule_ids:
            state.rules[rule_id] = rule
            state.adoptable.add(("rule", rule_id))
        # a tagged rule without the marker and outside the package is a user's: not read further
    # package rule_ids not among ours: held by someone else's rule? (one search per batch)
    missing = sorted(package_rule_ids - set(state.rules))
    for start in range(0, len(missing), ID_BATCH):
        batch = missing[start : start + ID_BATCH]
        ids = " OR ".join(kql_quote(rule_id) for rule_id in batch)
        for rule in _find_rules(cluster, space, f"alert.attributes.params.ruleId:({ids})"):
            if rule.get("rule_id") in batch:
                state.foreign_rules[rule["rule_id"]] = rule


def _read_saved_objects(
    cluster: Cluster, space: str | None, object_type: str, into: dict[str, dict[str, Any]], kind: str, state: ClusterState, package_ids: set[str]
) -> None:
    """Saved objects of ``object_type`` this package owns (or may adopt) into ``into``.

    Saved queries (``query``) and Discover sessions (``search``) both have closed attribute
    schemas, so both prove ownership by the ``ctdetect-`` id and the description's marker."""
    path = kibana_path(space, "/api/saved_objects/_find")
    page = 1
    while True:
        body = cluster.send(Request("GET", path), params={"type": object_type, "per_page": PAGE, "page": page}).body or {}
        rows = body.get("saved_objects", [])
        for obj in rows:
            object_id, attributes = str(obj.get("id", "")), obj.get("attributes") or {}
            if saved_query_is_owned(object_id, attributes):
                into[object_id] = attributes
            elif object_id in package_ids and has_owned_query_prefix(object_id):
                into[object_id] = attributes
                state.adoptable.add((kind, object_id))
        if len(rows) < PAGE or page * PAGE >= int(body.get("total", 0)):
            break
        page += 1


def _read_job_references(cluster: Cluster, state: ClusterState) -> None:
    """Which jobs the ``machine_learning`` rules of every Kibana space name."""
    try:
        spaces = cluster.send(Request("GET", "/api/spaces/space")).body
    except ClusterError as exc:
        state.references_problem = f"cannot list the Kibana spaces ({exc})"
        return
    if not isinstance(spaces, list):
        state.references_problem = "the Kibana spaces API answered something other than a list of spaces"
        return
    kql = "alert.attributes.params.type:machine_learning"
    for entry in spaces:
        space_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
        if not space_id:
            continue
        try:
            rules = list(_find_rules(cluster, space_id, kql))
        except ClusterError as exc:
            state.references_problem = f"cannot read the rules of Kibana space {space_id!r} ({exc})"
            return
        for rule in rules:
            job_ids = rule.get("machine_learning_job_id") or []
            for job_id in [job_ids] if isinstance(job_ids, str) else job_ids:
                state.job_references.setdefault(str(job_id), []).append(f"{space_id}: {rule.get('name', rule.get('rule_id', '?'))}")


def job_path(job_id: str, suffix: str = "") -> str:
    return f"/_ml/anomaly_detectors/{seg(job_id)}{suffix}"


def datafeed_path(datafeed_id: str, suffix: str = "") -> str:
    return f"/_ml/datafeeds/{seg(datafeed_id)}{suffix}"


def filter_path(filter_id: str, suffix: str = "") -> str:
    return f"/_ml/filters/{seg(filter_id)}{suffix}"
