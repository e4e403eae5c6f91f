"""deploy and export carry the ML filters a job's ``custom_rules`` name (``ml_jobs/filters/``):
created before the job, updated with the items to add and remove, left alone when unchanged,
and a filter without the package's prefix is used as the cluster has it."""

from __future__ import annotations

import json
from pathlib import Path

from ctdetect.content.loaders import load_package
from ctdetect.deploy.planner import plan
from ctdetect.export.bundle import ml_requests
from ctdetect_testsupport.fakecluster import FakeElastic
from deploy.deploykit import fake, mini_package  # noqa: F401 - fixtures
from deploy.test_deploy_behaviour import JOB, deploy

FILTER = "ctdetect_service_users"


def _with_rule(root: Path, filter_id: str = FILTER, items: list[str] | None = None) -> Path:
    """The mini package's job with a skip_result rule scoped to ``filter_id`` (kept in
    ml_jobs/filters/ unless ``items`` is None and the id has no package prefix)."""
    path = root / "ml_jobs" / f"{JOB}.json"
    job = json.loads(path.read_text())
    det = job["analysis_config"]["detectors"][0]
    det["custom_rules"] = [{"actions": ["skip_result"], "scope": {det["by_field_name"]: {"filter_id": filter_id}}}]
    path.write_text(json.dumps(job, indent=2))
    if items is not None:
        (root / "ml_jobs" / "filters").mkdir(exist_ok=True)
        (root / "ml_jobs" / "filters" / f"{filter_id}.json").write_text(json.dumps({"description": "automation", "items": items}))
    return root


def test_export_and_offline_plan_put_the_filter_before_the_job(mini_package: Path) -> None:
    requests = [(r.method, r.path) for r in ml_requests(load_package(_with_rule(mini_package, items=["svc-*"])))]
    assert requests[0] == ("PUT", f"/_ml/filters/{FILTER}")
    assert requests.index(("PUT", f"/_ml/anomaly_detectors/{JOB}")) > 0


def test_deploy_creates_then_updates_then_leaves_the_filter(fake: FakeElastic, mini_package: Path) -> None:
    root = _with_rule(mini_package, items=["svc-*", "ci-bot"])
    first = deploy(fake, root)
    assert first.exit_code == 0, [o.error for o in first.applied.failed]
    assert fake.state.filters[FILTER]["items"] == ["ci-bot", "svc-*"]
    assert JOB in fake.state.jobs
    assert deploy(fake, root).plan.requests == []  # a second deploy writes nothing
    _with_rule(root, items=["svc-*", "deployer"])
    third = deploy(fake, root)
    [update] = [r for r in third.plan.requests if r.path.startswith("/_ml/filters/")]
    assert update.method == "POST" and update.body == {"add_items": ["deployer"], "remove_items": ["ci-bot"]}
    assert fake.state.filters[FILTER]["items"] == ["deployer", "svc-*"]


def test_a_filter_without_the_prefix_is_created_but_never_changed(fake: FakeElastic, mini_package: Path) -> None:
    """Filters carry no owner marker: one without the package's prefix is created when
    missing, but a different one already in the cluster is a conflict, left as it is."""
    root = _with_rule(mini_package, filter_id="shared_users", items=["svc-*"])
    assert deploy(fake, root).exit_code == 0
    assert fake.state.filters["shared_users"]["items"] == ["svc-*"]
    fake.state.filters["shared_users"]["items"] = ["someone-else"]
    result = deploy(fake, root)
    [action] = [a for a in result.plan.actions if a.kind == "ml_filter"]
    assert action.action == "conflict" and not action.requests
    assert fake.state.filters["shared_users"]["items"] == ["someone-else"]


def test_plan_without_the_filter_file_says_so(mini_package: Path) -> None:
    problems = plan(load_package(_with_rule(mini_package)), None).problems
    assert [p for p in problems if FILTER in p and "ml_jobs/filters/" in p]


def test_filter_and_rule_requests_match_the_openapi_document(mini_package: Path) -> None:
    """Every request that carries filters or custom_rules (deploy's create and update, the
    elasticsearch backend's copies and their deletion, the jobs that name them) is an
    operation of Elasticsearch's OpenAPI document with a body its schema accepts."""
    from ctdetect.backends.es_ml import filter_cleanup_request, filter_requests, job_requests
    from ctdetect.deploy.state import ClusterState
    from deploy.apispecs import es_operation, es_spec, spec_quirk, without_queries

    package = load_package(_with_rule(mini_package, items=["svc-*"]))
    drifted = ClusterState()
    drifted.filters[FILTER] = {"filter_id": FILTER, "description": "old", "items": ["old-*"]}
    job = next(j for j in package.jobs if j.job_id == JOB)
    requests = [*plan(package, None).requests, *plan(package, drifted).requests,
                *[r for _tmp, r in filter_requests("ctdetect-replay-abc", job)],
                *job_requests("ctdetect-replay-abc", job, package.datafeed_for(JOB), "idx")[2],
                filter_cleanup_request("ctdetect-replay-abc-" + FILTER)]
    spec = es_spec()
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for request in requests:
        if request.service != "elasticsearch":
            continue
        template, ref, problem = es_operation(spec, request)
        if problem is not None or template is None:
            problems.append(problem or "")
            continue
        seen.add((request.method, template))
        if ref is not None:
            body, _queries = without_queries(request.body)
            problems.extend(f"{request.method} {request.path}: {e}" for e in spec.errors(ref, body) if not spec_quirk(request.method, template, e))
    assert problems == []
    assert {("PUT", "/_ml/filters/{filter_id}"), ("POST", "/_ml/filters/{filter_id}/_update"), ("DELETE", "/_ml/filters/{filter_id}"),
            ("PUT", "/_ml/anomaly_detectors/{job_id}")} <= seen
