"""deploy against a fake Elasticsearch + Kibana over real HTTP (see ``fakecluster``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.elastic.retry import RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings
from ctdetect.services.deploy import DeployError, run_deploy
from deploy.deploykit import PROJECT_ROOT, fake, mini_package  # noqa: F401 - fixtures
from ctdetect_testsupport.fakecluster import FakeElastic

JOB = "ctdetect_cloudtrail_rare_action_for_user"
FEED = f"datafeed-{JOB}"


def settings_for(fake: FakeElastic) -> ConnectionSettings:
    return ConnectionSettings.load(environ=fake.env(), env_file=None)


def no_sleep(delays: list[float] | None = None) -> RetryPolicy:
    record = delays if delays is not None else []
    return RetryPolicy(attempts=4, base=0.01, sleep=record.append, jitter=False)


def deploy(fake: FakeElastic, root: Path, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("policy", no_sleep())
    return run_deploy(root, settings_for(fake), **kw)


def run_cli(fake: FakeElastic, tmp_path: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    env_file = tmp_path / "cluster.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in (env or fake.env()).items()))
    blank = {k: "" for k in ("ELASTICSEARCH_URL", "KIBANA_URL", "ELASTIC_API_KEY", "ELASTIC_USERNAME", "ELASTIC_PASSWORD")}
    return CliRunner().invoke(cli, ["deploy", "--env-file", str(env_file), *args], env=blank, catch_exceptions=False)


# --------------------------------------------------------------------------- first deploy, idempotency


def _project():  # type: ignore[no-untyped-def]
    from ctdetect.content.loaders import load_package

    return load_package(PROJECT_ROOT)


def test_first_deploy_creates_everything_then_second_run_writes_nothing(fake: FakeElastic) -> None:
    package = _project()
    first = deploy(fake, PROJECT_ROOT)
    assert first.exit_code == 0, [o.error for o in first.applied.failed]
    s = fake.state
    assert len(s.jobs) == len(package.jobs) and set(s.job_states.values()) == {"opened"}
    assert len(s.datafeeds) == len(package.datafeeds) and set(s.datafeed_states.values()) == {"started"}
    rules = s.rules["default"]
    assert len(rules) == len(package.rules) and all("ctdetect" in r["tags"] for r in rules.values())
    assert len(s.saved_objects["default"]) == len(package.hunting_queries)
    writes_after_first = len(fake.writes())
    assert writes_after_first == len([r for r in first.plan.requests if r.method != "GET"]) > 0
    assert any(x.path == "/api/ml/saved_objects/sync" for x in fake.seen)  # jobs made visible to Kibana's ML app

    second = deploy(fake, PROJECT_ROOT)
    assert second.exit_code == 0
    assert len(fake.writes()) == writes_after_first, [(w.method, w.path) for w in fake.writes()[writes_after_first:]]
    assert second.plan.requests == []
    assert second.plan.count("unchanged") == len(second.plan.actions)


def test_rule_bodies_as_stored_keep_kibana_fields(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package)
    rules = fake.state.rules["default"]
    new_terms = next(r for r in rules.values() if r["type"] == "new_terms")
    assert new_terms["new_terms_fields"] and new_terms["history_window_start"].startswith("now-")
    assert "new_terms" not in new_terms and "metadata" not in new_terms
    ml = next(r for r in rules.values() if r["type"] == "machine_learning")
    assert ml["machine_learning_job_id"] == [JOB] and ml["from"] == "now-75m" and ml["enabled"] is True
    assert all(r["investigation_fields"]["field_names"] for r in rules.values() if "investigation_fields" in r)


def test_changes_are_updates_and_only_the_changed_object_is_written(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package)
    rules = fake.state.rules["default"]
    some_rule = next(iter(rules))
    rules[some_rule]["name"] = "renamed in Kibana"
    fake.state.jobs[JOB]["description"] = "edited by hand"
    fake.state.saved_objects["default"][("query", "ctdetect-hunt-ami-sharing")]["attributes"]["title"] = "renamed"
    fake.state.datafeed_states[FEED] = "stopped"
    before = len(fake.writes())
    result = deploy(fake, mini_package)
    new = [(w.method, w.path) for w in fake.writes()[before:]]
    assert ("PATCH", "/api/detection_engine/rules") in new
    patch = next(w.body for w in fake.writes()[before:] if w.method == "PATCH")
    assert set(patch) == {"rule_id", "name"}  # only the changed field the package owns
    assert ("POST", f"/_ml/anomaly_detectors/{JOB}/_update") in new
    assert ("PUT", "/api/saved_objects/query/ctdetect-hunt-ami-sharing") in new
    assert ("POST", f"/_ml/datafeeds/{FEED}/_start") in new
    assert len(new) == 4, new
    assert rules[some_rule]["name"] != "renamed in Kibana" and fake.state.jobs[JOB]["description"] != "edited by hand"
    assert result.plan.count("update") == 4
    rule_line = next(a for a in result.plan.actions if a.kind == "rule" and a.action == "update")
    assert "name: 'renamed in Kibana' -> " in rule_line.detail  # the plan shows the field-level difference


def test_a_fixed_job_setting_replaces_the_job_and_its_datafeed(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package)
    fake.state.jobs[JOB]["analysis_config"]["bucket_span"] = "1h"
    result = deploy(fake, mini_package)
    assert result.exit_code == 0
    job_action = next(a for a in result.plan.actions if a.kind == "ml_job")
    assert job_action.action == "replace" and "analysis_config" in job_action.detail
    assert fake.state.jobs[JOB]["analysis_config"]["bucket_span"] == "30m"
    assert fake.state.job_states[JOB] == "opened" and fake.state.datafeed_states[FEED] == "started"


def test_spaces_keep_rules_apart(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package, space="soc")
    assert len(fake.state.rules["soc"]) == 3 and not fake.state.rules.get("default")
    assert any(s.path.startswith("/s/soc/api/") for s in fake.seen)


# --------------------------------------------------------------------------- dry run


def test_dry_run_against_a_cluster_plans_but_writes_nothing(fake: FakeElastic, mini_package: Path) -> None:
    result = deploy(fake, mini_package, dry_run=True)
    assert fake.writes() == []
    assert result.plan.count("create") == 1 + 1 + 3 + 2


def test_dry_run_json_lists_exact_requests_and_matches_what_is_sent(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    out = run_cli(fake, tmp_path, "--package", str(mini_package), "--dry-run", "--format", "json")
    assert out.exit_code == 0, out.output
    planned = json.loads(out.stdout)
    assert all(set(r) == {"method", "path", "body"} for r in planned)
    assert fake.writes() == []
    assert run_cli(fake, tmp_path, "--package", str(mini_package)).exit_code == 0
    sent = [{"method": w.method, "path": w.path + ("?" + "&".join(f"{k}={v}" for k, v in w.query.items()) if w.query else ""), "body": w.body} for w in fake.writes()]
    assert sent == [r for r in planned if r["method"] != "GET"]
    assert [r["path"] for r in planned if r["method"] == "GET"] == ["/api/ml/saved_objects/sync"]


def test_dry_run_json_needs_no_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blank = {k: "" for k in ("ELASTICSEARCH_URL", "KIBANA_URL", "ELASTIC_API_KEY", "ELASTIC_USERNAME", "ELASTIC_PASSWORD")}
    out = CliRunner().invoke(cli, ["deploy", "--package", str(PROJECT_ROOT), "--dry-run", "--format", "json"], env=blank)
    assert out.exit_code == 0, out.output
    planned = json.loads(out.stdout)
    methods = {(r["method"], r["path"].split("/")[1]) for r in planned}
    assert ("PUT", "_ml") in methods and ("POST", "api") in methods
    assert sum(1 for r in planned if r["path"] == "/api/detection_engine/rules") == len(_project().rules)


def test_deploy_without_dry_run_and_without_cluster_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blank = {k: "" for k in ("ELASTICSEARCH_URL", "KIBANA_URL", "ELASTIC_API_KEY", "ELASTIC_USERNAME", "ELASTIC_PASSWORD")}
    out = CliRunner().invoke(cli, ["deploy", "--package", str(PROJECT_ROOT)], env=blank)
    assert out.exit_code == 2 and "ELASTICSEARCH_URL" in out.output and "Traceback" not in out.output


# --------------------------------------------------------------------------- ownership and prune


def _seed_foreign(fake: FakeElastic) -> None:
    """Objects ctdetect does not own, named like its own."""
    job = {"job_id": "ctdetectx_rare_action", "analysis_config": {"bucket_span": "1h", "detectors": [{"function": "rare", "by_field_name": "event.action"}]}, "data_description": {"time_field": "@timestamp"}}
    fake.state.jobs["ctdetectx_rare_action"] = dict(job)
    fake.state.job_states["ctdetectx_rare_action"] = "opened"
    fake.state.jobs["my_ctdetect_job"] = dict(job, job_id="my_ctdetect_job")
    fake.state.job_states["my_ctdetect_job"] = "closed"
    fake.state.datafeeds["datafeed-ctdetectx_rare_action"] = {"datafeed_id": "datafeed-ctdetectx_rare_action", "job_id": "ctdetectx_rare_action", "indices": ["x"], "query": {"match_all": {}}}
    fake.state.datafeed_states["datafeed-ctdetectx_rare_action"] = "started"
    fake.state.rules.setdefault("default", {}).update({
        "11111111-2222-4333-8444-555555555555": {"id": "r1", "rule_id": "11111111-2222-4333-8444-555555555555", "name": "Unusual AWS API Call for a User (ctdetect)", "type": "query", "tags": ["ctdetect-like", "Data Source: AWS"], "enabled": True},
    })
    fake.state.saved_objects.setdefault("default", {}).update({
        ("query", "ctdetect_hunt_mine"): {"type": "query", "id": "ctdetect_hunt_mine", "attributes": {"title": "mine", "query": {"query": "*", "language": "kuery"}}},
        ("query", "hunt-ctdetect-root"): {"type": "query", "id": "hunt-ctdetect-root", "attributes": {"title": "root", "query": {"query": "*", "language": "kuery"}}},
    })


def test_objects_not_owned_are_never_touched_even_with_prune(fake: FakeElastic, mini_package: Path) -> None:
    _seed_foreign(fake)
    result = deploy(fake, mini_package, prune=True)
    assert result.exit_code == 0
    touched = {w.path.split("?")[0] for w in fake.writes()}
    for foreign in ("ctdetectx_rare_action", "my_ctdetect_job", "11111111-2222", "ctdetect_hunt_mine", "hunt-ctdetect-root"):
        assert not any(foreign in p for p in touched), foreign
    assert "ctdetectx_rare_action" in fake.state.jobs and "my_ctdetect_job" in fake.state.jobs
    assert fake.state.datafeed_states["datafeed-ctdetectx_rare_action"] == "started"
    assert "11111111-2222-4333-8444-555555555555" in fake.state.rules["default"]
    assert len(fake.state.saved_objects["default"]) == 2 + 2
    assert result.plan.count("prune") == 0


def test_a_rule_id_held_by_a_foreign_rule_is_a_conflict_left_alone(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    from ctdetect.content.loaders import load_package

    taken = load_package(mini_package).rules[0].rule_id
    fake.state.rules["default"] = {taken: {"id": "x", "rule_id": taken, "name": "Their rule", "type": "query", "tags": ["theirs"], "enabled": False}}
    out = run_cli(fake, tmp_path, "--package", str(mini_package))
    assert out.exit_code == 1
    assert "conflict" in out.stdout and "Their rule" in out.stdout
    assert fake.state.rules["default"][taken]["name"] == "Their rule"
    assert len(fake.state.rules["default"]) == 3  # the two others were created


def test_prune_removes_owned_objects_no_longer_in_the_package(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    deploy(fake, mini_package)
    _seed_foreign(fake)
    (mini_package / "ml_jobs" / f"{JOB}.json").unlink()
    (mini_package / "datafeeds" / f"{FEED}.json").unlink()
    (mini_package / "rules" / "ml_rare_action.toml").unlink()
    (mini_package / "playbooks" / "hunting" / "root-activity.toml").unlink()
    without = deploy(fake, mini_package)
    assert without.plan.count("orphan") == 4 and JOB in fake.state.jobs  # reported, kept
    out = run_cli(fake, tmp_path, "--package", str(mini_package), "--prune")
    assert out.exit_code == 0, out.output
    assert JOB not in fake.state.jobs and FEED not in fake.state.datafeeds
    assert not any(r["type"] == "machine_learning" for r in fake.state.rules["default"].values())
    assert ("query", "ctdetect-hunt-root-activity") not in fake.state.saved_objects["default"]
    assert "ctdetectx_rare_action" in fake.state.jobs and ("query", "ctdetect_hunt_mine") in fake.state.saved_objects["default"]


def test_prune_is_refused_when_the_package_did_not_load_cleanly(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package)
    broken = next((mini_package / "rules").glob("*.toml"))
    broken.write_text(broken.read_text().replace("[rule]", "[rule", 1))
    before = len(fake.writes())
    with pytest.raises(DeployError, match="nothing was sent"):
        deploy(fake, mini_package, prune=True)
    assert len(fake.writes()) == before
    assert len(fake.state.rules["default"]) == 3


# --------------------------------------------------------------------------- retries and failures


def test_429_and_503_are_retried_honouring_retry_after(fake: FakeElastic, mini_package: Path) -> None:
    fake.fail("PUT", r"^/_ml/anomaly_detectors/", 429, times=2, retry_after="3")
    fake.fail("POST", r"^/api/detection_engine/rules$", 503, times=1)
    delays: list[float] = []
    result = deploy(fake, mini_package, policy=no_sleep(delays))
    assert result.exit_code == 0
    assert delays[:2] == [3.0, 3.0] and len(delays) == 3 and delays[2] == pytest.approx(0.01)
    assert len(fake.state.rules["default"]) == 3 and JOB in fake.state.jobs


def test_retries_are_bounded(fake: FakeElastic, mini_package: Path) -> None:
    fault = fake.fail("POST", r"^/api/saved_objects/query/ctdetect-hunt-ami-sharing$", 503, times=-1, retry_after="0")
    result = deploy(fake, mini_package)
    assert fault.hits == 4  # RetryPolicy(attempts=4)
    assert result.exit_code == 1


def test_partial_failure_reports_what_was_applied_and_exits_1(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    fake.fail("PUT", r"^/_ml/anomaly_detectors/", 500, times=-1, retry_after="0")
    out = run_cli(fake, tmp_path, "--package", str(mini_package), "--format", "json")
    assert out.exit_code == 1
    report = json.loads(out.stdout)
    status = {(a["kind"], a["id"]): a.get("status") for a in report["actions"]}
    assert status[("ml_job", JOB)] == "failed" and status[("datafeed", FEED)] == "failed"
    assert sum(1 for (k, _), v in status.items() if k == "rule" and v == "applied") == 3
    assert report["failed"] == 2 and report["applied"] == 5
    assert len(fake.state.rules["default"]) == 3 and not fake.state.datafeeds


def test_partial_failure_text_names_the_failure(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    fake.fail("POST", r"^/api/detection_engine/rules$", 400, times=1)
    out = run_cli(fake, tmp_path, "--package", str(mini_package))
    assert out.exit_code == 1
    assert "FAILED" in out.stdout and "HTTP 400" in out.stdout and "1 FAILED" in out.stdout


# --------------------------------------------------------------------------- licence and version


@pytest.mark.parametrize(
    ("licence", "status", "words"),
    [("basic", "active", "platinum, enterprise or trial"), ("gold", "active", "'gold'"), ("trial", "expired", "'expired'")],
)
def test_licence_without_ml_is_refused_before_any_write(fake: FakeElastic, mini_package: Path, tmp_path: Path, licence: str, status: str, words: str) -> None:
    fake.state.licence, fake.state.licence_status = licence, status
    out = run_cli(fake, tmp_path, "--package", str(mini_package))
    assert out.exit_code == 2 and words in out.output
    assert fake.writes() == []


@pytest.mark.parametrize(("es", "kibana", "ok"), [("8.11.4", "8.11.4", False), ("7.17.20", "7.17.20", False), ("8.12.0", "8.12.0", True), ("8.19.3", "8.19.3", True), ("10.0.0", "10.0.0", False)])
def test_stack_version_is_checked(fake: FakeElastic, mini_package: Path, tmp_path: Path, es: str, kibana: str, ok: bool) -> None:
    fake.state.es_version, fake.state.kibana_version = es, kibana
    out = run_cli(fake, tmp_path, "--package", str(mini_package), "--dry-run")
    if ok:
        assert out.exit_code == 0, out.output
    else:
        assert out.exit_code == 2
        assert "8.12 or later in the 8.x line, or 9.x" in out.output
    assert fake.writes() == []


def test_kibana_and_elasticsearch_versions_must_match(fake: FakeElastic, mini_package: Path) -> None:
    fake.state.es_version, fake.state.kibana_version = "9.1.0", "8.19.3"
    with pytest.raises(DeployError, match=r"Kibana 8\.19\.3 and Elasticsearch 9\.1\.0 differ"):
        deploy(fake, mini_package, dry_run=True)


def test_version_refusal_names_the_version(fake: FakeElastic, mini_package: Path) -> None:
    fake.state.kibana_version = "8.11.0"
    with pytest.raises(DeployError, match=r"Kibana 8\.11\.0 is not supported"):
        deploy(fake, mini_package)
    assert fake.writes() == []


# --------------------------------------------------------------------------- secrets


def test_secrets_never_appear_in_output(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    out = run_cli(fake, tmp_path, "--package", str(mini_package), "--format", "json")
    assert out.exit_code == 0
    fake.fail("POST", r"^/api/detection_engine/rules$", 400, times=-1)
    out2 = run_cli(fake, tmp_path, "--package", str(mini_package), "--prune")
    # wrong password: the (hostile) server echoes the Authorization header in its error
    fake.echo_auth_in_errors = True
    real = fake.password
    env = fake.env()
    fake.password = "something-else"
    out3 = run_cli(fake, tmp_path, "--package", str(mini_package), env=env)
    fake.password = real
    import base64

    encoded = base64.b64encode(f"elastic:{real}".encode()).decode()
    for o in (out, out2, out3):
        text = o.output
        assert real not in text and encoded not in text
    assert out3.exit_code == 2 and "HTTP 401" in out3.output and "********" in out3.output


def test_api_key_auth_is_sent_and_redacted(mini_package: Path, tmp_path: Path) -> None:
    fake = FakeElastic(api_key="VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==")
    try:
        result = run_deploy(mini_package, ConnectionSettings.load(environ=fake.env(), env_file=None), policy=no_sleep())
        assert result.exit_code == 0
        assert all(s.headers.get("Authorization", "").startswith("ApiKey ") for s in fake.seen)
        settings = ConnectionSettings.load(environ=fake.env(), env_file=None)
        assert fake.api_key not in settings.redact(f"header ApiKey {fake.api_key}")
    finally:
        fake.close()


def test_kibana_writes_carry_kbn_xsrf(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package)
    kibana_writes = fake.writes("kibana")
    assert kibana_writes and all(w.headers.get("Kbn-Xsrf") for w in kibana_writes)


def test_a_datafeed_query_stored_in_its_long_form_is_unchanged(fake: FakeElastic, mini_package: Path) -> None:
    """Elasticsearch may return a stored query with explicit value/boost: same meaning, no update."""
    deploy(fake, mini_package)
    feed = fake.state.datafeeds[FEED]
    for clause in feed["query"]["bool"]["filter"]:
        if "term" in clause:
            (name, value), = clause["term"].items()
            clause["term"] = {name: {"value": value, "boost": 1.0}}
    feed["query"]["bool"]["boost"] = 1.0
    result = deploy(fake, mini_package, dry_run=True)
    assert result.plan.requests == []
    feed["query"]["bool"]["filter"][0] = {"term": {"event.dataset": "aws.guardduty"}}
    changed = deploy(fake, mini_package, dry_run=True)
    assert [r.path for r in changed.plan.requests] == [f"/_ml/datafeeds/{FEED}/_stop", f"/_ml/datafeeds/{FEED}/_update", f"/_ml/datafeeds/{FEED}/_start", "/api/ml/saved_objects/sync"]


def test_a_redacted_kibana_status_is_noted_not_refused(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    """Kibana 9 answers users without ``monitor`` with the overall level only."""
    fake.state.kibana_version = ""
    out = run_cli(fake, tmp_path, "--package", str(mini_package), "--dry-run")
    assert out.exit_code == 0, out.output
    assert "did not report its version" in out.output
