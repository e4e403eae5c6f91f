"""``deploy``: make the cluster hold exactly the package's rules, jobs and saved queries.

Steps: load the package; connect (settings from the environment / env-file); check the
stack version and licence (nothing is changed when they fail); read what ctdetect owns
in the cluster; plan; print the plan (``--dry-run``) or send it. With no cluster
configured (or ``offline``), a dry run plans every object as a create, so the exact
requests can be reviewed or fed to another tool without any cluster.

``--prune`` is refused when the package did not load cleanly: a rule file with a syntax
error would otherwise look "no longer in the package" and be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ctdetect.content.model import Package
from ctdetect.deploy.apply import ApplyResult, apply_plan
from ctdetect.elastic.client import Cluster, ClusterError
from ctdetect.deploy.planner import Plan, plan
from ctdetect.elastic.preflight import Preflight, check
from ctdetect.elastic.retry import RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings
from ctdetect.deploy.state import read_state


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


def needs_ml(package: Package) -> bool:
    return bool(package.jobs) or any(r.type == "machine_learning" for r in package.rules)


def run_deploy(
    package_root: str | Path,
    settings: ConnectionSettings,
    space: str = "default",
    dry_run: bool = False,
    prune: bool = False,
    offline: bool = False,
    policy: RetryPolicy | None = None,
) -> DeployResult:
    package, problems = load_deployable(package_root)
    if prune and problems:
        raise DeployError(
            f"--prune refused: {len(problems)} file(s) of the package did not load (first: {problems[0]}); "
            "pruning would delete their objects from the cluster"
        )
    if offline or (dry_run and not settings.configured):
        if not dry_run:
            raise DeployError("no cluster configured: set " + ", ".join(settings.missing()) + " (or use --dry-run)")
        result = DeployResult(plan(package, None, space, prune=False), True, True, space, problems=problems)
        result.problems.extend(result.plan.problems)
        return result
    try:
        cluster = Cluster.connect(settings, policy)
        pre = check(cluster, needs_ml(package))
        if not pre.ok:
            raise DeployError("cluster not ready for this package:\n  - " + "\n  - ".join(pre.problems))
        state = read_state(cluster, space, [r.rule_id for r in package.rules], with_ml=True)
    except ClusterError as exc:
        raise DeployError(str(exc)) from None
    the_plan = plan(package, state, space, prune=prune)
    result = DeployResult(the_plan, dry_run, False, space, preflight=pre, problems=problems + the_plan.problems)
    if not dry_run:
        result.applied = apply_plan(cluster, the_plan)
    return result
