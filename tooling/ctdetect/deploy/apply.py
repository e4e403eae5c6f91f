"""Send a plan's requests, one action at a time, and keep going past failures.

A failed request stops its own action (the rest of that object's requests would act on
an object in an unknown state) and any action that depends on it (a datafeed whose job
failed); every other action still runs. The outcome lists what was applied and what
failed, so a partial deployment is reported exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ctdetect.elastic.client import Cluster, ClusterError
from ctdetect.deploy.planner import CHANGES, Action, Plan


@dataclass(slots=True)
class ActionOutcome:
    action: Action
    ok: bool
    sent: int  # requests that succeeded
    error: str = ""


@dataclass(slots=True)
class ApplyResult:
    outcomes: list[ActionOutcome] = field(default_factory=list)

    @property
    def applied(self) -> list[ActionOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[ActionOutcome]:
        return [o for o in self.outcomes if not o.ok]


def apply_plan(cluster: Cluster, plan: Plan) -> ApplyResult:
    result = ApplyResult()
    failed_jobs: set[str] = set()
    for action in plan.actions:
        if action.action not in CHANGES or not action.requests:
            continue
        if action.depends_on and action.depends_on in failed_jobs:
            result.outcomes.append(ActionOutcome(action, False, 0, f"not sent: job {action.depends_on} failed"))
            continue
        sent = 0
        error = ""
        for request in action.requests:
            try:
                cluster.send(request)
            except ClusterError as exc:
                error = str(exc)
                break
            sent += 1
        ok = not error
        if not ok and action.kind == "ml_job":
            failed_jobs.add(action.id)
        result.outcomes.append(ActionOutcome(action, ok, sent, error))
    return result
