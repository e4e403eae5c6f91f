"""``deploy``: make the cluster hold exactly the package's rules, jobs, saved queries and Discover sessions.

Steps: run ``validate``'s checks and refuse while errors remain; load the package and keep
what ships (``deploy.selection``: maturity, ``--rule``); connect (settings from the environment / env-file); check the
stack version and licence (nothing is changed when they fail); read what ctdetect owns
in the cluster; plan; print the plan (``--dry-run``) or send it. With no cluster
configured (or ``offline``), a dry run plans every object as a create, so the exact
requests can be reviewed or fed to another tool without any cluster.

Nothing is sent while the package has errors: a rule file with a syntax error would
otherwise look "no longer in the package" to ``--prune``, and a bad id would reach the
cluster. ``--prune`` with ``--rule`` is refused for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ctdetect.content.model import Package
from ctdetect.deploy.apply import ApplyResult, apply_plan
from ctdetect.elastic.client import Cluster, ClusterError
from ctdetect.deploy.planner import Plan, PlanOptions, deployed_filter_ids, plan
from ctdetect.deploy.selection import Selection, select
from ctdetect.elastic.preflight import Preflight, check
from ctdetect.elastic.retry import DEFAULT_TIMEOUT, RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings
from ctdetect.deploy.state import read_state
from ctdetect.elastic.discover_session_body import split_hunting_queries
from ctdetect.elastic.saved_query_body import saved_query_id


class DeployError(Exception):
    """Deployment did not start (bad settings, unreachable cluster, version or licence)."""


@dataclass(slots=True)
class DeployResult:
    plan: Plan
    dry_run: bool
    offline: bool
    space: str
    preflight: Preflight | None = None
    applied: ApplyResult | None = None
    problems: list[str] = field(default_factory=list)  # package load problems and undeployable objects
    notes: list[str] = field(default_factory=list)  # rules left out on purpose (maturity)

    @property
    def exit_code(self) -> int:
        if self.applied is not None and self.applied.failed:
            return 1
        if self.plan.count("conflict"):
            return 1
        return 0


def load_deployable(package_root: str | Path) -> tuple[Package, list[str]]:
    from ctdetect.content.loaders import is_package, load_package
    from ctdetect.services.content import describe

    root = Path(package_root)
    if not root.is_dir() or not is_package(root):
        raise DeployError(f"{root} is not a ctdetect package (no rules/, ml_jobs/ or playbooks/ folder)")
    package = load_package(root)
    return package, [describe(p) for p in package.problems if p.severity == "error"]


def validation_errors(package_root: str | Path) -> list[str]:
    """The errors ``ctdetect validate`` reports for the package (the same checks, run here)."""
    from ctdetect.services.content import describe
    from ctdetect.services.validate import validate_paths

    result = validate_paths([Path(package_root)])
    return [describe(p) for p in result.problems if p.severity == "error"]


def gated_package(package_root: str | Path, include_development: bool = False, rule_ref: str | None = None) -> tuple[Selection, list[str]]:
    """Validate, load and select what ships; ``DeployError`` while any error remains, so
    nothing is sent (or exported) from a package ``validate`` rejects."""
    package, load_problems = load_deployable(package_root)
    errors = validation_errors(package_root)
    selection = select(package, include_development, rule_ref)
    errors += [e for e in selection.errors if e not in errors]
    if errors:
        shown = "\n  - ".join(errors[:20]) + (f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else "")
        raise DeployError(f"the package has {len(errors)} error(s) (run `ctdetect validate`); nothing was sent:\n  - {shown}")
    return selection, load_problems


def needs_ml(package: Package) -> bool:
    return bool(package.jobs) or any(r.type == "machine_learning" for r in package.rules)


@dataclass(frozen=True, slots=True)
class DeployOptions:
    space: str = "default"
    dry_run: bool = False
    prune: bool = False
    offline: bool = False
    include_development: bool = False
    force_enabled: bool = False
    rule: str | None = None  # one rule (rule_id or name) with its jobs
    timeout: float = DEFAULT_TIMEOUT  # seconds for the whole run (every request and wait)
    progress: Callable[[str], None] | None = None  # told about every retry wait


def run_deploy(
    package_root: str | Path,
    settings: ConnectionSettings,
    space: str = "default",
    dry_run: bool = False,
    prune: bool = False,
    offline: bool = False,
    policy: RetryPolicy | None = None,
    options: DeployOptions | None = None,
) -> DeployResult:
    opts = options or DeployOptions(space=space, dry_run=dry_run, prune=prune, offline=offline)
    if opts.prune and opts.rule is not None:
        raise DeployError("--prune cannot be combined with --rule: a one-rule package would make everything else look removed")
    selection, problems = gated_package(package_root, opts.include_development, opts.rule)
    package = selection.package
    notes = list(selection.left_out)
    if opts.offline or (opts.dry_run and not settings.configured):
        if not opts.dry_run:
            raise DeployError("no cluster configured: set " + ", ".join(settings.missing()) + " (or use --dry-run)")
        plan_opts = PlanOptions(space=opts.space, force_enabled=opts.force_enabled, partial=opts.rule is not None)
        result = DeployResult(plan(package, None, options=plan_opts), True, True, opts.space, problems=problems, notes=notes)
        result.problems.extend(result.plan.problems)
        return result
    try:
        if policy is None:
            policy = RetryPolicy(progress=opts.progress)
        cluster = Cluster.connect(settings, policy, timeout=opts.timeout)
        pre = check(cluster, needs_ml(package))
        if not pre.ok:
            raise DeployError("cluster not ready for this package:\n  - " + "\n  - ".join(pre.problems))
        saved_queries, sessions = split_hunting_queries(package.hunting_queries)
        state = read_state(
            cluster,
            opts.space,
            [r.rule_id for r in package.rules],
            [j.job_id for j in package.jobs],
            [saved_query_id(q.id, opts.space) for q in saved_queries],
            [saved_query_id(q.id, opts.space) for q in sessions],
            with_ml=opts.rule is None or bool(package.jobs),
            with_references=opts.prune,
            package_filter_ids=deployed_filter_ids(package),
        )
    except ClusterError as exc:
        raise DeployError(str(exc)) from None
    plan_opts = PlanOptions(
        space=opts.space, prune=opts.prune, force_enabled=opts.force_enabled, sort_title=pre.saved_query_sort_title, partial=opts.rule is not None
    )
    the_plan = plan(package, state, options=plan_opts)
    result = DeployResult(the_plan, opts.dry_run, False, opts.space, preflight=pre, problems=problems + the_plan.problems, notes=notes)
    if not opts.dry_run:
        result.applied = apply_plan(cluster, the_plan)
    return result
