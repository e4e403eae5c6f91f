"""Desired package + current cluster state -> an ordered plan of actions and requests.

Each ``Action`` is one object (an ML job with its datafeed's requests kept separate, a
rule, a saved query) and what happens to it: ``create``, ``update``, ``replace`` (an ML
setting Elasticsearch cannot update: delete and re-create), ``unchanged``, ``prune``
(owned, no longer in the package, and ``--prune`` given), ``orphan`` (the same without
``--prune``: reported, left alone) or ``conflict`` (the id is held by an object ctdetect
does not own: left alone, reported as a failure). Only create/update/replace/prune carry
requests; a plan against a cluster that already matches has none, which is what makes a
second ``deploy`` a no-op.

Order matters and is kept: a job is created and opened before its datafeed is created
and started; a datafeed is deleted before its job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctdetect.content.model import Datafeed, HuntingQuery, MLJob, Package, Rule
from ctdetect.deploy.diff import changed_keys, same_query
from ctdetect.elastic.ml_body import (
    DATAFEED_UPDATABLE,
    datafeed_body,
    datafeed_update_body,
    is_owned_job,
    job_body,
    job_update_body,
    split_job_changes,
)
from ctdetect.elastic.requests_model import Request, kibana_path, seg
from ctdetect.elastic.rule_body import rule_body
from ctdetect.elastic.saved_query_body import is_owned_query, saved_query_attributes, saved_query_body
from ctdetect.deploy.state import ClusterState, datafeed_path, job_path

CHANGES = ("create", "update", "replace", "prune", "sync")


@dataclass(slots=True)
class Action:
    kind: str  # ml_job | datafeed | ml_sync | rule | saved_query
    id: str
    action: str  # create | update | replace | unchanged | prune | orphan | conflict | sync
    requests: list[Request] = field(default_factory=list)
    detail: str = ""
    depends_on: str | None = None  # id of an ml_job action this one needs (datafeeds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "action": self.action,
            "detail": self.detail,
            "requests": [r.to_dict() for r in self.requests],
        }


@dataclass(slots=True)
class Plan:
    actions: list[Action] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # package objects that cannot be deployed

    @property
    def requests(self) -> list[Request]:
        return [r for a in self.actions for r in a.requests]

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.action == action)

    def summary(self) -> dict[str, int]:
        names = ("create", "update", "replace", "unchanged", "prune", "orphan", "conflict")
        return {n: self.count(n) for n in names}


def plan(package: Package, state: ClusterState | None, space: str | None = None, prune: bool = False) -> Plan:
    """The plan; ``state`` None means no cluster (offline dry-run): everything is a create."""
    result = Plan()
    offline = state is None
    current = state or ClusterState()
    _plan_ml(package, current, result, prune, offline)
    if any(a.requests for a in result.actions if a.kind in ("ml_job", "datafeed")):
        # Kibana's ML app (and the ML rules that read anomalies through it) sees a job in a
        # space only once its saved object exists: sync now rather than at Kibana's next pass
        sync = Request("GET", kibana_path(space, "/api/ml/saved_objects/sync"))
        result.actions.append(Action("ml_sync", "saved_objects", "sync", [sync], "ML jobs visible in this Kibana space"))
    _plan_rules(package.rules, current, result, space, prune)
    _plan_saved_queries(package.hunting_queries, current, result, space, prune)
    return result


# --------------------------------------------------------------------------- ML


def _plan_ml(package: Package, state: ClusterState, result: Plan, prune: bool, offline: bool) -> None:
    wanted_jobs: set[str] = set()
    wanted_feeds: set[str] = set()
    for job in package.jobs:
        if not is_owned_job(job.job_id):
            result.problems.append(f"{job.source.path}: job {job.job_id!r} not deployed: ctdetect only manages job ids starting with 'ctdetect_'")
            continue
        wanted_jobs.add(job.job_id)
        feed = package.datafeed_for(job.job_id)
        job_action = _job_action(job, state, offline)
        result.actions.append(job_action)
        if feed is not None:
            wanted_feeds.add(feed.datafeed_id)
            result.actions.append(_feed_action(feed, state, job_action))
    for feed_id, feed in sorted(state.datafeeds.items()):
        if feed_id not in wanted_feeds:
            requests = [Request("DELETE", datafeed_path(feed_id) + "?force=true")] if prune else []
            result.actions.append(Action("datafeed", feed_id, "prune" if prune else "orphan", requests, f"job {feed.get('job_id')}"))
    for job_id in sorted(state.jobs):
        if job_id not in wanted_jobs:
            requests = [Request("DELETE", job_path(job_id) + "?force=true")] if prune else []
            result.actions.append(Action("ml_job", job_id, "prune" if prune else "orphan", requests))


def _job_action(job: MLJob, state: ClusterState, offline: bool) -> Action:
    desired = job_body(job)
    create = [Request("PUT", job_path(job.job_id), desired), Request("POST", job_path(job.job_id, "/_open"))]
    current = state.jobs.get(job.job_id)
    if current is None:
        return Action("ml_job", job.job_id, "create", create, "" if offline else "not in the cluster")
    changed = changed_keys(current, desired)
    updatable, fixed = split_job_changes(changed)
    if fixed:
        feed_ids = [fid for fid, f in state.datafeeds.items() if f.get("job_id") == job.job_id]
        requests = [Request("DELETE", datafeed_path(fid) + "?force=true") for fid in feed_ids]
        requests.append(Request("DELETE", job_path(job.job_id) + "?force=true"))
        requests.extend(create)
        return Action("ml_job", job.job_id, "replace", requests, "cannot be updated in place: " + ", ".join(sorted(fixed)))
    requests = []
    notes = []
    if updatable:
        requests.append(Request("POST", job_path(job.job_id, "/_update"), job_update_body(desired, updatable)))
        notes.append("changed: " + ", ".join(sorted(updatable)))
    if state.job_states.get(job.job_id) not in ("opened", "opening"):
        requests.append(Request("POST", job_path(job.job_id, "/_open")))
        notes.append(f"open (was {state.job_states.get(job.job_id) or 'closed'})")
    return Action("ml_job", job.job_id, "update" if requests else "unchanged", requests, "; ".join(notes))


def _feed_action(feed: Datafeed, state: ClusterState, job_action: Action) -> Action:
    desired = datafeed_body(feed)
    fid = feed.datafeed_id
    create = [Request("PUT", datafeed_path(fid), desired), Request("POST", datafeed_path(fid, "/_start"))]
    current = state.datafeeds.get(fid)
    # a replaced job lost its datafeed with it: re-create
    if current is None or job_action.action == "replace":
        return Action("datafeed", fid, "create", create, "", depends_on=feed.job_id)
    changed = changed_keys(current, desired)
    if "query" in changed and same_query(current.get("query"), desired.get("query")):
        changed.discard("query")
    fixed = changed - DATAFEED_UPDATABLE
    if fixed:
        requests = [Request("DELETE", datafeed_path(fid) + "?force=true"), *create]
        return Action("datafeed", fid, "replace", requests, "cannot be updated in place: " + ", ".join(sorted(fixed)), depends_on=feed.job_id)
    requests = []
    notes = []
    running = state.datafeed_states.get(fid) in ("started", "starting")
    if changed:
        # an update applies from the next start: stop a running datafeed first, start it after
        if running:
            requests.append(Request("POST", datafeed_path(fid, "/_stop")))
            running = False
        requests.append(Request("POST", datafeed_path(fid, "/_update"), datafeed_update_body(desired, changed)))
        notes.append("changed: " + ", ".join(sorted(changed)))
    if not running:
        requests.append(Request("POST", datafeed_path(fid, "/_start")))
        notes.append(f"start (was {state.datafeed_states.get(fid) or 'stopped'})")
    return Action("datafeed", fid, "update" if requests else "unchanged", requests, "; ".join(notes), depends_on=feed.job_id)


# --------------------------------------------------------------------------- rules


def _plan_rules(rules: list[Rule], state: ClusterState, result: Plan, space: str | None, prune: bool) -> None:
    path = kibana_path(space, "/api/detection_engine/rules")
    wanted: set[str] = set()
    for rule in rules:
        if rule.rule_id in wanted:
            result.problems.append(f"{rule.source.path}: rule_id {rule.rule_id} appears twice; deployed once")
            continue
        wanted.add(rule.rule_id)
        body = rule_body(rule)
        if rule.rule_id in state.foreign_rules:
            other = state.foreign_rules[rule.rule_id]
            result.actions.append(
                Action("rule", rule.rule_id, "conflict", [], f"a rule not managed by ctdetect ({other.get('name', '?')!r}, no 'ctdetect' tag) holds this rule_id: left alone")
            )
            continue
        current = state.rules.get(rule.rule_id)
        if current is None:
            result.actions.append(Action("rule", rule.rule_id, "create", [Request("POST", path, body)], rule.name))
            continue
        changed = changed_keys(current, body)
        if changed:
            result.actions.append(Action("rule", rule.rule_id, "update", [Request("PUT", path, body)], f"{rule.name}: changed: " + ", ".join(sorted(changed))))
        else:
            result.actions.append(Action("rule", rule.rule_id, "unchanged", [], rule.name))
    for rule_id, current in sorted(state.rules.items()):
        if rule_id not in wanted:
            requests = [Request("DELETE", f"{path}?rule_id={seg(rule_id)}")] if prune else []
            result.actions.append(Action("rule", rule_id, "prune" if prune else "orphan", requests, str(current.get("name", ""))))


# --------------------------------------------------------------------------- saved queries


def _plan_saved_queries(queries: list[HuntingQuery], state: ClusterState, result: Plan, space: str | None, prune: bool) -> None:
    wanted: set[str] = set()
    for query in queries:
        if not is_owned_query(query.id):
            result.problems.append(f"{query.source.path}: saved query {query.id!r} not deployed: ctdetect only manages ids starting with 'ctdetect-'")
            continue
        wanted.add(query.id)
        path = kibana_path(space, f"/api/saved_objects/query/{seg(query.id)}")
        current = state.saved_queries.get(query.id)
        if current is None:
            result.actions.append(Action("saved_query", query.id, "create", [Request("POST", path, saved_query_body(query))], query.name))
            continue
        changed = changed_keys(current, saved_query_attributes(query))
        if changed:
            result.actions.append(Action("saved_query", query.id, "update", [Request("PUT", path, saved_query_body(query))], "changed: " + ", ".join(sorted(changed))))
        else:
            result.actions.append(Action("saved_query", query.id, "unchanged", [], query.name))
    for object_id in sorted(state.saved_queries):
        if object_id not in wanted:
            path = kibana_path(space, f"/api/saved_objects/query/{seg(object_id)}")
            requests = [Request("DELETE", path)] if prune else []
            result.actions.append(Action("saved_query", object_id, "prune" if prune else "orphan", requests))
