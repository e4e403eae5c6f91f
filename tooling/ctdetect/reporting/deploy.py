"""A deploy result: the plan or its outcome as readable text, or JSON.

``--dry-run --format json`` is the exact request list (``[{"method", "path", "body"}]``)
and nothing else, so it can be piped into another tool. Other JSON output is an object
with the summary, every action and its outcome.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from ctdetect.deploy.planner import CHANGES
from ctdetect.services.deploy import DeployResult

KIND_NAMES = {"ml_job": "ML job", "datafeed": "datafeed", "ml_sync": "ML sync", "rule": "rule", "saved_query": "saved query", "discover_session": "Discover session"}


def requests_json(result: DeployResult) -> str:
    return json.dumps([r.to_dict() for r in result.plan.requests], indent=2, sort_keys=False) + "\n"


def result_dict(result: DeployResult) -> dict[str, Any]:
    outcomes = {id(o.action): o for o in (result.applied.outcomes if result.applied else [])}
    actions = []
    for action in result.plan.actions:
        row = action.to_dict()
        outcome = outcomes.get(id(action))
        if outcome is not None:
            row["status"] = "applied" if outcome.ok else "failed"
            if outcome.error:
                row["error"] = outcome.error
        actions.append(row)
    out: dict[str, Any] = {
        "space": result.space,
        "dry_run": result.dry_run,
        "offline": result.offline,
        "summary": result.plan.summary(),
        "actions": actions,
        "problems": result.problems,
        "notes": result.notes,
    }
    if result.preflight is not None:
        p = result.preflight
        out["cluster"] = {"elasticsearch": p.es_version, "kibana": p.kibana_version, "licence": p.licence}
    if result.applied is not None:
        out["applied"] = sum(1 for o in result.applied.applied if o.action.kind != "ml_sync")
        out["failed"] = len(result.applied.failed)
    return out


def render_text(result: DeployResult, out: TextIO) -> None:
    if result.offline:
        out.write("No cluster configured: planned as a first deployment (every object is a create).\n")
    elif result.preflight is not None:
        p = result.preflight
        licence = f", licence {p.licence}" if p.licence else ""
        out.write(f"Elasticsearch {p.es_version}, Kibana {p.kibana_version}{licence}, space {result.space!r}\n")
        for note in p.notes:
            out.write(f"note: {note}\n")
    outcomes = {id(o.action): o for o in (result.applied.outcomes if result.applied else [])}
    verb = "would " if result.dry_run else ""
    for action in result.plan.actions:
        kind = KIND_NAMES.get(action.kind, action.kind)
        line = f"  {action.action:<9} {kind:<11} {action.id}"
        if action.detail:
            line += f"  ({action.detail})"
        outcome = outcomes.get(id(action))
        if outcome is not None and not outcome.ok:
            line += f"\n            FAILED after {outcome.sent} of {len(action.requests)} request(s): {outcome.error}"
        out.write(line + "\n")
    for note in result.notes:
        out.write(f"note: {note}\n")
    for problem in result.problems:
        out.write(f"problem: {problem}\n")
    s = result.plan.summary()
    changes = sum(s.get(k, 0) for k in CHANGES if k != "sync")
    parts = ", ".join(f"{s[k]} {k}" for k in ("create", "update", "replace", "prune", "unchanged", "orphan", "kept", "conflict") if s[k])
    if result.applied is None:
        out.write(f"Plan: {parts or 'nothing to do'}; {verb or 'will '}send {len(result.plan.requests)} request(s).\n")
    else:
        applied = sum(1 for o in result.applied.applied if o.action.kind != "ml_sync")
        failed = len(result.applied.failed)
        out.write(f"Applied {applied} of {changes} change(s)" + (f"; {failed} FAILED" if failed else "") + f" ({parts or 'nothing to do'}).\n")
    if s["orphan"]:
        out.write(f"{s['orphan']} object(s) owned by ctdetect are no longer in the package: run with --prune to remove them.\n")
    if s["conflict"]:
        out.write(f"{s['conflict']} object(s) left alone: their id is held by an object this package did not create.\n")
    if s["kept"]:
        out.write(f"{s['kept']} ML object(s) not pruned: a rule in some Kibana space still uses them (or the spaces could not be read).\n")
