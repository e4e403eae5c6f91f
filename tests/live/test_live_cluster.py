"""The live suite: deploy, export-loading, replay and compare against a real cluster.

Runs when ELASTICSEARCH_URL and KIBANA_URL are set (with ELASTIC_API_KEY or
ELASTIC_USERNAME/ELASTIC_PASSWORD; ``.github/workflows/live.yml`` starts the compose stack
and sets them), and skips with that reason otherwise. It works in a Kibana space of its
own, created and deleted here; ML jobs are cluster-wide, so it removes every ``ctdetect_*``
job it deployed at the end (do not point it at a production cluster).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import pytest

NEEDED = ("ELASTICSEARCH_URL", "KIBANA_URL")
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not all(os.environ.get(k) for k in NEEDED),
        reason="live tests need a cluster: set ELASTICSEARCH_URL and KIBANA_URL (and ELASTIC_API_KEY or ELASTIC_USERNAME/ELASTIC_PASSWORD); `ctdetect stack up` starts one",
    ),
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["rule-s3-bucket-public-fires", "rule-s3-bucket-public-silent", "rule-ec2-user-data-sequence-fires"]


@pytest.fixture(scope="module")
def settings():  # type: ignore[no-untyped-def]
    from ctdetect.elastic.settings import ConnectionSettings

    return ConnectionSettings.load(env_file=None)


@pytest.fixture(scope="module")
def cluster(settings):  # type: ignore[no-untyped-def]
    from ctdetect.elastic.client import Cluster

    return Cluster.connect(settings)


@pytest.fixture(scope="module")
def space(cluster):  # type: ignore[no-untyped-def]
    from ctdetect.elastic.requests_model import Request

    name = "ctdetect-live-" + secrets.token_hex(3)
    cluster.send(Request("POST", "/api/spaces/space", {"id": name, "name": name, "disabledFeatures": []}))
    yield name
    _remove_everything(cluster, name)
    cluster.send(Request("DELETE", f"/api/spaces/space/{name}"), allow=(404,))


def _empty_package(tmp: Path) -> Path:
    (tmp / "rules").mkdir(parents=True, exist_ok=True)
    return tmp


def _remove_everything(cluster, space: str) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from ctdetect.services.deploy import run_deploy

    with tempfile.TemporaryDirectory() as tmp:
        run_deploy(_empty_package(Path(tmp)), cluster.settings, space=space, prune=True)


def test_preflight_accepts_the_cluster(cluster) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.elastic.preflight import check

    result = check(cluster, needs_ml=True)
    assert result.ok, result.problems


def test_deploy_is_idempotent(settings, space) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.services.deploy import run_deploy

    first = run_deploy(PROJECT_ROOT, settings, space=space)
    assert first.exit_code == 0, [(o.action.id, o.error) for o in first.applied.failed]
    second = run_deploy(PROJECT_ROOT, settings, space=space, dry_run=True)
    changes = [(a.kind, a.id, a.action, a.detail) for a in second.plan.actions if a.requests]
    assert changes == [], changes


def test_dry_run_json_after_deploy_is_empty(settings, space, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from ctdetect.cli import cli

    out = CliRunner().invoke(cli, ["deploy", "--package", str(PROJECT_ROOT), "--space", space, "--dry-run", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == []
    if settings.password:
        assert settings.password not in out.output
    if settings.api_key:
        assert settings.api_key not in out.output


def test_ownership_and_prune(settings, cluster, space, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.elastic.requests_model import Request, kibana_path
    from ctdetect.services.deploy import run_deploy

    foreign_id = "hunt-ctdetect-live-foreign"
    cluster.send(Request("POST", kibana_path(space, f"/api/saved_objects/query/{foreign_id}"), {"attributes": {"title": "not ours", "description": "", "query": {"query": "*", "language": "kuery"}}}))
    # a user's rule that happens to carry the ctdetect tag: not ours, must survive --prune
    users_rule = {"rule_id": "c7d3e7c1-0000-4000-8000-00000000live", "name": "An analyst's rule", "description": "mine", "type": "query",
                  "query": "event.action:*", "language": "kuery", "index": ["logs-*"], "risk_score": 1, "severity": "low", "tags": ["ctdetect"], "enabled": False}
    cluster.send(Request("POST", kibana_path(space, "/api/detection_engine/rules"), users_rule))
    package = tmp_path / "pkg"
    for folder in ("rules", "ml_jobs", "datafeeds", "playbooks"):
        shutil.copytree(PROJECT_ROOT / folder, package / folder)
    for hunting in (package / "playbooks" / "hunting").glob("*.toml"):
        hunting.unlink()  # the saved queries are no longer in the package
    gone = sorted((package / "rules").glob("*.toml"))[0]
    gone.unlink()
    (package / "playbooks" / f"{gone.stem}.md").unlink()  # its playbook goes with it (validate)
    result = run_deploy(package, settings, space=space, prune=True)
    assert result.exit_code == 0
    pruned = {(a.kind, a.action) for a in result.plan.actions if a.action == "prune"}
    assert ("rule", "prune") in pruned and ("saved_query", "prune") in pruned
    still = cluster.send(Request("GET", kibana_path(space, f"/api/saved_objects/query/{foreign_id}")), allow=(404,))
    assert still.status == 200
    theirs = cluster.send(Request("GET", kibana_path(space, "/api/detection_engine/rules")), params={"rule_id": users_rule["rule_id"]}, allow=(404,))
    assert theirs.status == 200
    cluster.send(Request("DELETE", kibana_path(space, "/api/detection_engine/rules")), params={"rule_id": users_rule["rule_id"]})
    restored = run_deploy(PROJECT_ROOT, settings, space=space)
    assert restored.exit_code == 0


def test_replay_through_the_cluster(monkeypatch: pytest.MonkeyPatch, space) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.services.replay import run_replay

    monkeypatch.setenv("CTDETECT_KIBANA_SPACE", space)
    result = run_replay([str(PROJECT_ROOT / "scenarios" / s) for s in SCENARIOS], package_root=str(PROJECT_ROOT), backend="elasticsearch", workers=1)
    assert result.ok, [(s.scenario.name, [o.detail for o in s.outcomes if o.status == "unmet"], s.problems[:5]) for s in result.scenarios if not s.ok]


def test_compare_on_rule_scenarios(monkeypatch: pytest.MonkeyPatch, space) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.services.compare import run_compare

    monkeypatch.setenv("CTDETECT_KIBANA_SPACE", space)
    result = run_compare([str(PROJECT_ROOT / "scenarios" / s) for s in SCENARIOS], package_root=str(PROJECT_ROOT))
    disagreements = [d.to_dict() for d in result.disagreements if d.kind == "expectation"]
    assert disagreements == []


def test_replay_leaves_nothing_behind(cluster) -> None:  # type: ignore[no-untyped-def]
    from ctdetect.elastic.requests_model import Request

    indices = cluster.send(Request("GET", "/_cat/indices/ctdetect-replay-*"), params={"format": "json"}, allow=(404,)).body or []
    assert indices == []
    jobs = cluster.send(Request("GET", "/_ml/anomaly_detectors/ctdr-*"), params={"allow_no_match": "true"}).body
    assert jobs["count"] == 0
