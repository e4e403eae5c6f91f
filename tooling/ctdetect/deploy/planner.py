"""Desired package + current cluster state -> an ordered plan of actions and requests.

Each ``Action`` is one object (an ML job with its datafeed's requests kept separate, a
rule, a saved query) and what happens to it: ``create``, ``update``, ``replace`` (an ML
setting Elasticsearch cannot update: delete and re-create), ``unchanged``, ``prune``
(owned, no longer in the package, and ``--prune`` given), ``orphan`` (the same without
``--prune``: reported, left alone), ``kept`` (an owned ML object ``--prune`` would delete
but a rule in some space still uses) or ``conflict`` (the id is held by an object this
package does not own: left alone, reported as a failure). Only create/update/replace/prune
carry requests; a plan against a cluster that already matches has none, which is what
makes a second ``deploy`` a no-op.

Updates keep what analysts made in Kibana. A rule is updated with ``PATCH`` (Kibana's
patch rule API merges the fields sent into the stored rule) carrying only the changed
fields the package owns; ``exceptions_list``, ``actions``, ``throttle``,
``response_actions`` and ``enabled`` are never sent on update (``enabled`` is, with
``force_enabled``). Jobs change through ``_update`` with only the changed updatable
settings; a setting a running job cannot take (``ml_body.JOB_NEEDS_CLOSED``) stops the
datafeed and closes the job around the update, then reopens and restarts them.

Order matters and is kept: the ML filters a job's ``custom_rules`` name are created before
the job; a job is created and opened before its datafeed is created and started; a datafeed
is deleted before its job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ctdetect.content.ml import job_filter_ids
from ctdetect.content.model import Datafeed, HuntingQuery, MLJob, Package, Rule
from ctdetect.deploy.diff import changed_keys, describe_changes, same_query
from ctdetect.deploy.state import ClusterState, datafeed_path, filter_path, job_path
from ctdetect.elastic.ml_body import (
    DATAFEED_UPDATABLE,
    JOB_NEEDS_CLOSED,
    datafeed_body,
    datafeed_update_body,
    has_job_prefix,
    job_body,
    job_update_body,
    split_job_changes,
)
from ctdetect.elastic.confirm import Confirm
from ctdetect.elastic.discover_session_body import SAVED_OBJECT_TYPE as SEARCH_TYPE
from ctdetect.elastic.discover_session_body import discover_session_attributes, split_hunting_queries
from ctdetect.elastic.ownership import MARKER_KEY, has_owned_query_prefix, marker, with_job_marker
from ctdetect.elastic.requests_model import Request, kibana_path, seg
from ctdetect.elastic.rule_body import rule_body
from ctdetect.elastic.saved_query_body import saved_query_attributes, saved_query_id

CHANGES = ("create", "update", "replace", "prune", "sync")
# Rule fields an analyst sets in Kibana: sent on create when the TOML has them, never on update.
ANALYST_FIELDS = frozenset({"exceptions_list", "actions", "throttle", "response_actions", "enabled"})


@dataclass(slots=True)
class Action:
    kind: str  # ml_filter | ml_job | datafeed | ml_sync | rule | saved_query | discover_session
    id: str
    action: str  # create | update | replace | unchanged | prune | orphan | kept | conflict | sync
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
        names = ("create", "update", "replace", "unchanged", "prune", "orphan", "kept", "conflict")
        return {n: self.count(n) for n in names}


@dataclass(frozen=True, slots=True)
class PlanOptions:
    space: str | None = None
    prune: bool = False
    force_enabled: bool = False  # send the TOML's ``enabled`` on update too
    sort_title: bool = True  # saved queries carry ``titleKeyword`` (Kibana's query type has it)
    partial: bool = False  # a part of the package (``--rule``): owned objects outside it are not orphans


def plan(package: Package, state: ClusterState | None, space: str | None = None, prune: bool = False, options: PlanOptions | None = None) -> Plan:
    """The plan; ``state`` None means no cluster (offline dry-run): everything is a create."""
    opts = options or PlanOptions(space=space, prune=prune)
    result = Plan()
    offline = state is None
    current = state or ClusterState()
    pruned_rules = _plan_rules(package.rules, current, result, opts)
    rule_actions = result.actions
    result.actions = []
    _plan_filters(package, current, result, offline)
    _plan_ml(package, current, result, opts, offline, pruned_rules)
    if any(a.requests for a in result.actions if a.kind in ("ml_job", "datafeed")):
        # Kibana's ML app (and the ML rules that read anomalies through it) sees a job in a
        # space only once its saved object exists: sync now rather than at Kibana's next pass
        sync = Request("GET", kibana_path(opts.space, "/api/ml/saved_objects/sync"))
        result.actions.append(Action("ml_sync", "saved_objects", "sync", [sync], "ML jobs visible in this Kibana space"))
    result.actions.extend(rule_actions)
    _plan_saved_queries(package.hunting_queries, current, result, opts)
    return result


# --------------------------------------------------------------------------- ML


def _plan_ml(package: Package, state: ClusterState, result: Plan, opts: PlanOptions, offline: bool, pruned_rules: set[str]) -> None:
    wanted_jobs: set[str] = set()
    wanted_feeds: set[str] = set()
    stopped: set[str] = set()  # datafeeds a job update stops (their action starts them again)
    for job in package.jobs:
        if not has_job_prefix(job.job_id):
            result.problems.append(f"{job.source.path}: job {job.job_id!r} not deployed: the package's job ids start with 'ctdetect_'")
            continue
        wanted_jobs.add(job.job_id)
        feed = package.datafeed_for(job.job_id)
        if job.job_id in state.foreign_jobs:
            result.actions.append(Action("ml_job", job.job_id, "conflict", [], "a job this package did not create (no ctdetect marker in custom_settings) holds this id: left alone"))
            if feed is not None:
                wanted_feeds.add(feed.datafeed_id)
                result.actions.append(Action("datafeed", feed.datafeed_id, "conflict", [], f"its job {job.job_id} is not this package's: left alone", depends_on=job.job_id))
            continue
        job_action = _job_action(job, state, offline, stopped)
        result.actions.append(job_action)
        if feed is not None:
            wanted_feeds.add(feed.datafeed_id)
            result.actions.append(_feed_action(feed, state, job_action, stopped))
    if opts.partial:
        return
    if not opts.prune:
        for feed_id, feed in sorted(state.datafeeds.items()):
            if feed_id not in wanted_feeds:
                result.actions.append(Action("datafeed", feed_id, "orphan", [], f"job {feed.get('job_id')}"))
        for job_id in sorted(state.jobs):
            if job_id not in wanted_jobs:
                result.actions.append(Action("ml_job", job_id, "orphan", []))
        return
    _plan_ml_prune(state, result, wanted_jobs, wanted_feeds, pruned_rules, opts.space)


def _plan_ml_prune(state: ClusterState, result: Plan, wanted_jobs: set[str], wanted_feeds: set[str], pruned_rules: set[str], space: str | None) -> None:
    """Delete owned jobs (and their datafeeds) the package dropped, unless a rule uses them."""
    if state.references_problem:
        result.problems.append(f"ML jobs and datafeeds not pruned: {state.references_problem}; a rule in another space may use them")
    here = space or "default"
    for job_id in sorted(state.jobs):
        if job_id in wanted_jobs:
            continue
        feeds = sorted(fid for fid, f in state.datafeeds.items() if f.get("job_id") == job_id and fid not in wanted_feeds)
        users = [u for u in state.job_references.get(job_id, []) if not (u.startswith(f"{here}: ") and u[len(here) + 2 :] in pruned_rules)]
        if state.references_problem or users:
            why = "references unknown" if state.references_problem else "used by " + ", ".join(users[:3]) + (" ..." if len(users) > 3 else "")
            for fid in feeds:
                result.actions.append(Action("datafeed", fid, "kept", [], f"job {job_id} {why}"))
            result.actions.append(Action("ml_job", job_id, "kept", [], why))
            continue
        for fid in feeds:
            result.actions.append(Action("datafeed", fid, "prune", [delete_feed(fid)], f"job {job_id}"))
        result.actions.append(Action("ml_job", job_id, "prune", [delete_job(job_id)]))


def deployed_filter_ids(package: Package) -> list[str]:
    """The ML filters the package's deployable jobs name in their ``custom_rules``, sorted."""
    return sorted({fid for job in package.jobs if has_job_prefix(job.job_id) for fid in job_filter_ids(job)})


def _plan_filters(package: Package, state: ClusterState, result: Plan, offline: bool) -> None:
    """ML filters before the jobs that name them (Elasticsearch refuses a job whose scope
    names a missing filter). A missing filter is created from ``ml_jobs/filters/``. Filters
    carry no ownership marker, so an existing one that differs is brought to the package's
    items (``_update`` with the items to add and remove) only when its id has the package's
    prefix (``ctdetect_``), as with jobs; another is a conflict, left alone."""
    own = {f.filter_id: f for f in package.filters}
    for fid in deployed_filter_ids(package):
        flt = own.get(fid)
        if flt is None:
            result.problems.append(f"ML filter {fid!r} is named by a job's custom_rules but is not in ml_jobs/filters/: not deployed")
            continue
        desired = {"description": flt.description, "items": sorted(set(flt.items))}
        current = state.filters.get(fid)
        if current is None:
            result.actions.append(Action("ml_filter", fid, "create", [put_filter(fid, desired)], "" if offline else "not in the cluster"))
            continue
        have, want = set(current.get("items", [])), set(desired["items"])
        body: dict[str, Any] = {}
        if current.get("description", "") != desired["description"]:
            body["description"] = desired["description"]
        if want - have:
            body["add_items"] = sorted(want - have)
        if have - want:
            body["remove_items"] = sorted(have - want)
        if not body:
            result.actions.append(Action("ml_filter", fid, "unchanged", []))
        elif not has_job_prefix(fid):
            result.actions.append(Action("ml_filter", fid, "conflict", [], "differs from ml_jobs/filters/ but is not the package's (no ctdetect_ prefix): left alone"))
        else:
            note = f"{len(want - have)} item(s) added, {len(have - want)} removed" + ("; description" if "description" in body else "")
            result.actions.append(Action("ml_filter", fid, "update", [update_filter(fid, body)], note))


# --- the requests, each with how an uncertain outcome is settled (``elastic.confirm``)


def put_filter(filter_id: str, body: dict[str, Any]) -> Request:
    return Request("PUT", filter_path(filter_id), body, confirm=Confirm(filter_path(filter_id), {"filters": [{"filter_id": filter_id}]}))


def update_filter(filter_id: str, body: dict[str, Any]) -> Request:
    return Request("POST", filter_path(filter_id, "/_update"), body, confirm=Confirm(filter_path(filter_id), {"filters": [{"filter_id": filter_id}]}))


def put_job(job_id: str, body: dict[str, Any]) -> Request:
    expect = {"jobs": [{"job_id": job_id, "custom_settings": {MARKER_KEY: marker()}}]}
    return Request("PUT", job_path(job_id), body, confirm=Confirm(job_path(job_id), expect))


def open_job(job_id: str) -> Request:
    return Request("POST", job_path(job_id, "/_open"), confirm=Confirm(job_path(job_id, "/_stats"), {"jobs": [{"state": "opened"}]}))


def close_job(job_id: str) -> Request:
    return Request("POST", job_path(job_id, "/_close"), repeatable=True)  # closing a closed job is a no-op


def update_job(job_id: str, body: dict[str, Any]) -> Request:
    return Request("POST", job_path(job_id, "/_update"), body, repeatable=True)


def delete_job(job_id: str) -> Request:
    return Request("DELETE", job_path(job_id) + "?force=true", confirm=Confirm(job_path(job_id), absent=True))


def put_feed(feed_id: str, body: dict[str, Any]) -> Request:
    return Request("PUT", datafeed_path(feed_id), body, confirm=Confirm(datafeed_path(feed_id), {"datafeeds": [{"datafeed_id": feed_id}]}))


def start_feed(feed_id: str) -> Request:
    return Request("POST", datafeed_path(feed_id, "/_start"), confirm=Confirm(datafeed_path(feed_id, "/_stats"), {"datafeeds": [{"state": "started"}]}))


def stop_feed(feed_id: str) -> Request:
    return Request("POST", datafeed_path(feed_id, "/_stop"), repeatable=True)  # stopping a stopped datafeed is a no-op


def update_feed(feed_id: str, body: dict[str, Any]) -> Request:
    return Request("POST", datafeed_path(feed_id, "/_update"), body, repeatable=True)


def delete_feed(feed_id: str) -> Request:
    return Request("DELETE", datafeed_path(feed_id) + "?force=true", confirm=Confirm(datafeed_path(feed_id), absent=True))


def _job_action(job: MLJob, state: ClusterState, offline: bool, stopped: set[str]) -> Action:
    desired = with_job_marker(job_body(job))
    create = [put_job(job.job_id, desired), open_job(job.job_id)]
    current = state.jobs.get(job.job_id)
    if current is None:
        return Action("ml_job", job.job_id, "create", create, "" if offline else "not in the cluster")
    changed = changed_keys(current, desired)
    updatable, fixed = split_job_changes(changed)
    feed_ids = sorted(fid for fid, f in state.datafeeds.items() if f.get("job_id") == job.job_id)
    if fixed:
        requests = [delete_feed(fid) for fid in feed_ids]
        requests.append(delete_job(job.job_id))
        requests.extend(create)
        return Action("ml_job", job.job_id, "replace", requests, "cannot be updated in place (the model restarts): " + describe_changes(current, desired, fixed))
    requests: list[Request] = []
    notes: list[str] = []
    is_open = state.job_states.get(job.job_id) in ("opened", "opening")
    if ("ml_job", job.job_id) in state.adoptable:
        notes.append("adopted: ownership marker added")
    if updatable:
        if is_open and updatable & JOB_NEEDS_CLOSED:
            for fid in feed_ids:
                if state.datafeed_states.get(fid) in ("started", "starting"):
                    requests.append(stop_feed(fid))
                    stopped.add(fid)
            requests.append(close_job(job.job_id))
            is_open = False
            notes.append("closed for the update")
        requests.append(update_job(job.job_id, job_update_body(desired, updatable)))
        notes.append("changed: " + describe_changes(current, desired, updatable))
    if not is_open:
        requests.append(open_job(job.job_id))
        notes.append(f"open (was {state.job_states.get(job.job_id) or 'closed'})")
    return Action("ml_job", job.job_id, "update" if requests else "unchanged", requests, "; ".join(notes))


def _feed_action(feed: Datafeed, state: ClusterState, job_action: Action, stopped: set[str]) -> Action:
    desired = datafeed_body(feed)
    fid = feed.datafeed_id
    create = [put_feed(fid, desired), start_feed(fid)]
    current = state.datafeeds.get(fid)
    # a replaced job lost its datafeed with it: re-create
    if current is None or job_action.action == "replace":
        return Action("datafeed", fid, "create", create, "", depends_on=feed.job_id)
    changed = changed_keys(current, desired)
    if "query" in changed and same_query(current.get("query"), desired.get("query")):
        changed.discard("query")
    fixed = changed - DATAFEED_UPDATABLE
    if fixed:
        requests = [delete_feed(fid), *create]
        return Action("datafeed", fid, "replace", requests, "cannot be updated in place: " + ", ".join(sorted(fixed)), depends_on=feed.job_id)
    requests = []
    notes = []
    running = state.datafeed_states.get(fid) in ("started", "starting") and fid not in stopped
    if changed:
        # an update applies from the next start: stop a running datafeed first, start it after
        if running:
            requests.append(stop_feed(fid))
            running = False
        requests.append(update_feed(fid, datafeed_update_body(desired, changed)))
        notes.append("changed: " + describe_changes(current, desired, changed))
    if not running:
        requests.append(start_feed(fid))
        notes.append("start again after the job update" if fid in stopped else f"start (was {state.datafeed_states.get(fid) or 'stopped'})")
    return Action("datafeed", fid, "update" if requests else "unchanged", requests, "; ".join(notes), depends_on=feed.job_id)


# --------------------------------------------------------------------------- rules


def rule_update_fields(body: dict[str, Any], force_enabled: bool) -> dict[str, Any]:
    """The fields of a create body that an update may send: all but the analyst's."""
    keep_out = ANALYST_FIELDS - ({"enabled"} if force_enabled else set())
    return {k: v for k, v in body.items() if k not in keep_out}


def _plan_rules(rules: list[Rule], state: ClusterState, result: Plan, opts: PlanOptions) -> set[str]:
    """Rule actions; returns the names of the rules this plan prunes (their jobs may go too)."""
    path = kibana_path(opts.space, "/api/detection_engine/rules")
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
                Action("rule", rule.rule_id, "conflict", [], f"a rule not managed by this package ({other.get('name', '?')!r}, no ctdetect marker) holds this rule_id: left alone")
            )
            continue
        current = state.rules.get(rule.rule_id)
        if current is None:
            confirm = Confirm(f"{path}?rule_id={seg(rule.rule_id)}", {"rule_id": rule.rule_id, "meta": {MARKER_KEY: marker()}})
            result.actions.append(Action("rule", rule.rule_id, "create", [Request("POST", path, body, confirm=confirm)], rule.name))
            continue
        desired = rule_update_fields(body, opts.force_enabled)
        changed = changed_keys(current, desired)
        if not changed:
            result.actions.append(Action("rule", rule.rule_id, "unchanged", [], rule.name))
            continue
        patch: dict[str, Any] = {"rule_id": rule.rule_id}
        for key in sorted(changed):
            patch[key] = desired[key]
        if "meta" in patch and isinstance(current.get("meta"), dict):
            patch["meta"] = {**current["meta"], **desired["meta"]}  # keep what Kibana keeps in meta
        adopted = "adopted: ownership marker added; " if ("rule", rule.rule_id) in state.adoptable else ""
        result.actions.append(Action("rule", rule.rule_id, "update", [Request("PATCH", path, patch, repeatable=True)], f"{rule.name}: {adopted}" + describe_changes(current, desired, changed)))
    pruned: set[str] = set()
    for rule_id, current in sorted(state.rules.items()):
        if opts.partial or rule_id in wanted or ("rule", rule_id) in state.adoptable:
            continue
        name = str(current.get("name", ""))
        if opts.prune:
            pruned.add(name)
            one = f"{path}?rule_id={seg(rule_id)}"
            result.actions.append(Action("rule", rule_id, "prune", [Request("DELETE", one, confirm=Confirm(one, absent=True))], name))
        else:
            result.actions.append(Action("rule", rule_id, "orphan", [], name))
    return pruned


# --------------------------------------------------------------------------- saved queries


def _plan_saved_queries(queries: list[HuntingQuery], state: ClusterState, result: Plan, opts: PlanOptions) -> None:
    """ES|QL hunting queries deploy as Discover sessions (``search``), the others as saved
    queries (``query``): Discover applies no saved query in ES|QL mode."""
    others, esql = split_hunting_queries(queries)
    _plan_saved_objects(
        others, state.saved_queries, "saved_query", "query", lambda q: saved_query_attributes(q, opts.sort_title), result, opts, state
    )
    _plan_saved_objects(esql, state.discover_sessions, "discover_session", SEARCH_TYPE, discover_session_attributes, result, opts, state)


def _plan_saved_objects(
    queries: list[HuntingQuery],
    current_objects: dict[str, dict[str, Any]],
    kind: str,
    object_type: str,
    attributes_of: Callable[[HuntingQuery], dict[str, Any]],
    result: Plan,
    opts: PlanOptions,
    state: ClusterState,
) -> None:
    """Create, update, leave or prune the saved objects of one type made from hunting queries."""
    label = kind.replace("_", " ")
    wanted: set[str] = set()
    for query in queries:
        if not has_owned_query_prefix(query.id):
            result.problems.append(f"{query.source.path}: {label} {query.id!r} not deployed: the package's saved query ids start with 'ctdetect-'")
            continue
        object_id = saved_query_id(query.id, opts.space)
        wanted.add(object_id)
        path = kibana_path(opts.space, f"/api/saved_objects/{object_type}/{seg(object_id)}")
        current = current_objects.get(object_id)
        desired = attributes_of(query)
        if current is None:
            body = {"attributes": desired}
            result.actions.append(Action(kind, object_id, "create", [Request("POST", path, body, confirm=Confirm(path, body))], query.name))
            continue
        changed = changed_keys(current, desired)
        if changed:
            detail = describe_changes(current, desired, changed)
            result.actions.append(Action(kind, object_id, "update", [Request("PUT", path, {"attributes": desired}, repeatable=True)], detail))
        else:
            result.actions.append(Action(kind, object_id, "unchanged", [], query.name))
    for object_id in sorted(current_objects):
        if opts.partial or object_id in wanted or (kind, object_id) in state.adoptable:
            continue
        path = kibana_path(opts.space, f"/api/saved_objects/{object_type}/{seg(object_id)}")
        requests = [Request("DELETE", path, confirm=Confirm(path, absent=True))] if opts.prune else []
        result.actions.append(Action(kind, object_id, "prune" if opts.prune else "orphan", requests))
