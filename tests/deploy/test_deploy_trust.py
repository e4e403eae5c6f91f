"""Deploy that a platform owner can trust, against the fake cluster (``fakecluster``):
analysts' work survives updates, ``--prune`` deletes only what this package provably made
and nothing a rule in any space still uses, a second space gets its own saved queries,
ids cannot change a query, and only what ``validate`` accepts and maturity allows ships.

Each test names the failure of issue 9 it shows; each failed on the code before the fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ctdetect.content.loaders import load_package
from ctdetect.elastic.client import Cluster
from ctdetect.elastic.requests_model import kql_quote
from ctdetect.services.deploy import DeployError, DeployOptions
from deploy.deploykit import fake, mini_package  # noqa: F401 - fixtures
from ctdetect_testsupport.fakecluster import FakeElastic
from deploy.test_deploy_behaviour import FEED, JOB, deploy, no_sleep, run_cli, settings_for

ML_RULE_FILE = "ml_rare_action.toml"


def _rule_file(package: Path, rule_type: str) -> Path:
    return next(p for p in sorted((package / "rules").glob("*.toml")) if f'type = "{rule_type}"' in p.read_text())


def _rule_id(path: Path) -> str:
    return re.search(r'^rule_id = "([^"]+)"', path.read_text(), re.M).group(1)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- updates keep analysts' work


def test_an_update_keeps_exceptions_actions_and_the_disabled_state(fake: FakeElastic, mini_package: Path) -> None:
    """Was: rules updated with PUT, which replaces the whole rule (exceptions, actions lost; re-enabled)."""
    deploy(fake, mini_package)
    path = _rule_file(mini_package, "query")
    rule_id = _rule_id(path)
    stored = fake.state.rules["default"][rule_id]
    exceptions = [{"id": "exc-1", "list_id": "analyst-exceptions", "namespace_type": "single", "type": "detection"}]
    actions = [{"id": "slack-1", "group": "default", "action_type_id": ".slack", "params": {"message": "alert"}}]
    stored.update(exceptions_list=exceptions, actions=actions, enabled=False)
    path.write_text(re.sub(r'^description = ("""\n?|")', lambda m: m.group(0) + "Changed by the package. ", path.read_text(), count=1, flags=re.M))
    result = deploy(fake, mini_package)
    assert result.exit_code == 0
    after = fake.state.rules["default"][rule_id]
    assert after["description"].startswith("Changed by the package.")
    assert after["exceptions_list"] == exceptions and after["actions"] == actions and after["enabled"] is False
    sent = [w for w in fake.writes("kibana") if "/detection_engine/rules" in w.path and w.method != "POST"]
    assert [w.method for w in sent] == ["PATCH"] and set(sent[0].body) == {"rule_id", "description"}


def test_force_enabled_state_restores_the_tomls_enabled(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package)
    rule_id = _rule_id(_rule_file(mini_package, "query"))
    fake.state.rules["default"][rule_id]["enabled"] = False
    assert deploy(fake, mini_package, dry_run=True).plan.requests == []  # not ours to change by default
    deploy(fake, mini_package, options=DeployOptions(force_enabled=True))
    assert fake.state.rules["default"][rule_id]["enabled"] is True


def test_a_rule_from_an_older_deploy_is_adopted_not_conflicting(fake: FakeElastic, mini_package: Path) -> None:
    """Rules made before the marker carry only the tag: deploy adds the marker with one PATCH."""
    deploy(fake, mini_package)
    for rule in fake.state.rules["default"].values():
        rule["meta"] = {"from": "1m"}  # Kibana's own meta key; no ctdetect marker
    before = len(fake.writes())
    result = deploy(fake, mini_package)
    patches = [w.body for w in fake.writes()[before:] if w.method == "PATCH"]
    assert result.exit_code == 0 and len(patches) == 3 and all(set(p) == {"rule_id", "meta"} for p in patches)
    assert all(p["meta"]["from"] == "1m" and p["meta"]["ctdetect"]["package"] == "ctdetect" for p in patches)
    assert deploy(fake, mini_package, dry_run=True).plan.requests == []


def test_a_memory_limit_change_closes_the_open_job_around_the_update(fake: FakeElastic, mini_package: Path) -> None:
    """Elasticsearch refuses analysis_limits on an open job: stop, close, update, open, start."""
    deploy(fake, mini_package)
    job_file = mini_package / "ml_jobs" / f"{JOB}.json"
    body = json.loads(job_file.read_text())
    body["analysis_limits"] = {"model_memory_limit": "64mb"}
    job_file.write_text(json.dumps(body, indent=2))
    before = len(fake.writes())
    result = deploy(fake, mini_package)
    assert result.exit_code == 0, [o.error for o in result.applied.failed]
    sent = [w.path for w in fake.writes()[before:] if "/_ml/" in w.path]
    assert sent == [f"/_ml/datafeeds/{FEED}/_stop", f"/_ml/anomaly_detectors/{JOB}/_close", f"/_ml/anomaly_detectors/{JOB}/_update", f"/_ml/anomaly_detectors/{JOB}/_open", f"/_ml/datafeeds/{FEED}/_start"]
    assert fake.state.jobs[JOB]["analysis_limits"]["model_memory_limit"] == "64mb"
    assert fake.state.job_states[JOB] == "opened" and fake.state.datafeed_states[FEED] == "started"


# --------------------------------------------------------------------------- ownership and prune


def _users_objects(fake: FakeElastic) -> None:
    """A user's job named like ours and a user's rule carrying our tag, neither made by ctdetect."""
    job = {"job_id": "ctdetect_x", "analysis_config": {"bucket_span": "1h", "detectors": [{"function": "rare", "by_field_name": "event.action"}]}, "data_description": {"time_field": "@timestamp"}, "custom_settings": {"team": "soc"}}
    fake.state.jobs["ctdetect_x"] = job
    fake.state.job_states["ctdetect_x"] = "opened"
    fake.state.datafeeds["datafeed-ctdetect_x"] = {"datafeed_id": "datafeed-ctdetect_x", "job_id": "ctdetect_x", "indices": ["x"], "query": {"match_all": {}}}
    fake.state.datafeed_states["datafeed-ctdetect_x"] = "started"
    fake.state.rules.setdefault("default", {})["aaaaaaaa-0000-4000-8000-000000000001"] = {
        "id": "u1", "rule_id": "aaaaaaaa-0000-4000-8000-000000000001", "name": "Analyst's own rule", "type": "query", "tags": ["ctdetect", "mine"], "enabled": True,
    }


def test_prune_spares_a_users_ctdetect_x_job_and_a_users_rule_tagged_ctdetect(fake: FakeElastic, mini_package: Path) -> None:
    """Was: ownership was the name prefix or the tag, so both were deleted by --prune."""
    deploy(fake, mini_package)
    _users_objects(fake)
    result = deploy(fake, mini_package, prune=True)
    assert result.exit_code == 0
    assert "ctdetect_x" in fake.state.jobs and fake.state.datafeed_states["datafeed-ctdetect_x"] == "started"
    assert "aaaaaaaa-0000-4000-8000-000000000001" in fake.state.rules["default"]
    assert result.plan.count("prune") == 0 and not [w for w in fake.writes() if w.method == "DELETE"]


def test_prune_in_space_b_keeps_jobs_that_rules_of_another_space_use(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    """Was: `deploy --space b --prune` with a smaller package deleted jobs the ML rules of `default` use."""
    deploy(fake, mini_package)  # default: the ML rule uses JOB
    deploy(fake, mini_package, space="b")
    (mini_package / "ml_jobs" / f"{JOB}.json").unlink()
    (mini_package / "datafeeds" / f"{FEED}.json").unlink()
    (mini_package / "rules" / ML_RULE_FILE).unlink()
    (mini_package / "playbooks" / "ml_rare_action.md").unlink()
    writes = len(fake.writes())
    out = run_cli(fake, tmp_path, "--package", str(mini_package), "--space", "b", "--prune", "--dry-run")
    assert out.exit_code == 0, out.output
    assert re.search(r"kept\s+ML job\s+" + JOB + r".*used by default: ", out.stdout), out.stdout
    assert re.search(r"prune\s+rule\s+", out.stdout) and len(fake.writes()) == writes  # what it would delete: shown, not sent
    result = deploy(fake, mini_package, space="b", prune=True)
    assert result.exit_code == 0
    assert JOB in fake.state.jobs and FEED in fake.state.datafeeds and fake.state.datafeed_states[FEED] == "started"
    assert not any(r["type"] == "machine_learning" for r in fake.state.rules["b"].values())  # b's own ML rule went
    # once no space uses it, the next prune removes it
    deploy(fake, mini_package, prune=True)
    assert JOB not in fake.state.jobs and FEED not in fake.state.datafeeds


def test_prune_keeps_ml_objects_when_the_spaces_cannot_be_read(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package)
    (mini_package / "ml_jobs" / f"{JOB}.json").unlink()
    (mini_package / "datafeeds" / f"{FEED}.json").unlink()
    (mini_package / "rules" / ML_RULE_FILE).unlink()
    (mini_package / "playbooks" / "ml_rare_action.md").unlink()
    fake.fail("GET", r"^/api/spaces/space$", 403, times=-1)
    result = deploy(fake, mini_package, prune=True)
    assert JOB in fake.state.jobs and result.plan.count("kept") == 2
    assert any("not pruned: cannot list the Kibana spaces" in p for p in result.problems)


def test_every_created_object_carries_the_package_marker(fake: FakeElastic, mini_package: Path) -> None:
    deploy(fake, mini_package)
    marker = {"managed_by": "ctdetect", "package": "ctdetect"}
    assert fake.state.jobs[JOB]["custom_settings"]["ctdetect"] == marker
    assert all(r["meta"]["ctdetect"] == marker and "ctdetect" in r["tags"] for r in fake.state.rules["default"].values())
    assert all(o["attributes"]["description"].endswith("(package ctdetect); edits here are replaced on the next deploy.") for o in fake.state.saved_objects["default"].values())


# --------------------------------------------------------------------------- saved queries in several spaces


def test_the_same_package_in_a_second_space_gets_its_own_saved_queries(fake: FakeElastic, mini_package: Path) -> None:
    """Was: saved-query ids are global across spaces (multiple-isolated), so space b answered 409."""
    deploy(fake, mini_package)
    result = deploy(fake, mini_package, space="b")
    assert result.exit_code == 0, [o.error for o in result.applied.failed]
    assert sorted(oid for _, oid in fake.state.saved_objects["b"]) == ["ctdetect-hunt-ami-sharing.b", "ctdetect-hunt-root-activity.b"]
    assert deploy(fake, mini_package, space="b", dry_run=True).plan.requests == []


def test_a_saved_query_update_keeps_its_sort_title_in_step(fake: FakeElastic, mini_package: Path) -> None:
    """Was: the title changed, Kibana's sort key (titleKeyword) stayed stale."""
    deploy(fake, mini_package)
    query_file = mini_package / "playbooks" / "hunting" / "ami-sharing.toml"
    query_file.write_text(re.sub(r'^name = ".*"$', 'name = "AMI sharing, renamed"', query_file.read_text(), count=1, flags=re.M))
    deploy(fake, mini_package)
    attributes = fake.state.saved_objects["default"][("query", "ctdetect-hunt-ami-sharing")]["attributes"]
    assert attributes["title"] == attributes["titleKeyword"] == "AMI sharing, renamed"


# --------------------------------------------------------------------------- ids in queries


def test_an_id_cannot_add_a_clause_to_a_find_filter(fake: FakeElastic) -> None:
    """Was: rule_ids went unescaped into the KQL filter of _find."""
    hostile = 'x" OR alert.attributes.name:"*'
    assert kql_quote(hostile) == '"x\\" OR alert.attributes.name:\\"*"'
    fake.state.rules["default"] = {"victim": {"id": "v", "rule_id": "victim", "name": "someone's", "type": "query", "tags": []}}
    from ctdetect.deploy.state import read_state

    cluster = Cluster.connect(settings_for(fake), no_sleep())
    state = read_state(cluster, "default", [hostile], with_ml=False)
    assert state.foreign_rules == {}
    sent = [s.query.get("filter", "") for s in fake.seen if s.path.endswith("/_find") and "ruleId" in s.query.get("filter", "")]
    assert sent == ['alert.attributes.params.ruleId:("x\\" OR alert.attributes.name:\\"*")']


# --------------------------------------------------------------------------- the gate: validate and maturity


def test_deploy_refuses_a_package_validate_rejects_and_sends_nothing(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    """Was: deploy did not run validate; a bad rule_id went to the cluster."""
    path = _rule_file(mini_package, "query")
    path.write_text(path.read_text().replace(_rule_id(path), 'not-a-uuid" OR x'))
    out = run_cli(fake, tmp_path, "--package", str(mini_package))
    assert out.exit_code == 2 and "nothing was sent" in out.output and path.name in out.output
    assert fake.seen == []  # not even a connection


def test_only_production_rules_ship_unless_development_is_asked_for(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    """Was: development and deprecated rules were deployed and exported."""
    path = _rule_file(mini_package, "query")
    path.write_text(path.read_text().replace('maturity = "production"', 'maturity = "development"'))
    result = deploy(fake, mini_package)
    assert _rule_id(path) not in fake.state.rules["default"] and len(fake.state.rules["default"]) == 2
    assert any("development rule" in n for n in result.notes)
    deploy(fake, mini_package, options=DeployOptions(include_development=True))
    assert _rule_id(path) in fake.state.rules["default"]
    out = tmp_path / "export"
    from ctdetect.services.export import run_export

    run_export(mini_package, out)
    assert _rule_id(path) not in (out / "kibana" / "rules.ndjson").read_text()


def test_a_deprecated_rule_needs_its_deprecation_date_and_never_ships(fake: FakeElastic, mini_package: Path) -> None:
    path = _rule_file(mini_package, "query")
    path.write_text(path.read_text().replace('maturity = "production"', 'maturity = "deprecated"'))
    with pytest.raises(DeployError, match="deprecation_date"):
        deploy(fake, mini_package)
    assert fake.writes() == []
    path.write_text(path.read_text().replace('maturity = "deprecated"', 'maturity = "deprecated"\ndeprecation_date = "2026/11/30"'))
    deploy(fake, mini_package)
    assert _rule_id(path) not in fake.state.rules["default"]


# --------------------------------------------------------------------------- one rule


def test_deploy_rule_sends_one_rule_with_its_jobs(fake: FakeElastic, mini_package: Path, tmp_path: Path) -> None:
    ml_rule = load_package(mini_package).rules
    ml_id = next(r.rule_id for r in ml_rule if r.type == "machine_learning")
    out = run_cli(fake, tmp_path, "--package", str(mini_package), "--rule", ml_id)
    assert out.exit_code == 0, out.output
    assert list(fake.state.rules["default"]) == [ml_id]
    assert list(fake.state.jobs) == [JOB] and list(fake.state.datafeeds) == [FEED]
    assert fake.state.saved_objects.get("default", {}) == {}
    deploy(fake, mini_package)  # everything; then one rule again: the others are not "orphans"
    one = run_cli(fake, tmp_path, "--package", str(mini_package), "--rule", ml_id, "--dry-run")
    assert one.exit_code == 0 and "orphan" not in one.stdout and "Plan: 3 unchanged; would send 0 request(s)." in one.stdout, one.stdout
    refused = run_cli(fake, tmp_path, "--package", str(mini_package), "--rule", ml_id, "--prune")
    assert refused.exit_code == 2 and "--prune cannot be combined with --rule" in refused.output
    unknown = run_cli(fake, tmp_path, "--package", str(mini_package), "--rule", "no-such-rule")
    assert unknown.exit_code == 2 and "no rule of the package" in unknown.output


def test_view_rule_prints_the_exact_body_deploy_sends(mini_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ctdetect.cli import cli

    monkeypatch.chdir(tmp_path)
    blank = {k: "" for k in ("ELASTICSEARCH_URL", "KIBANA_URL", "ELASTIC_API_KEY", "ELASTIC_USERNAME", "ELASTIC_PASSWORD")}
    rule = next(r for r in load_package(mini_package).rules if r.type == "new_terms")
    shown = CliRunner().invoke(cli, ["view-rule", rule.name, "--package", str(mini_package)], env=blank)
    assert shown.exit_code == 0, shown.output
    planned = CliRunner().invoke(cli, ["deploy", "--package", str(mini_package), "--dry-run", "--format", "json"], env=blank)
    sent = next(r["body"] for r in json.loads(planned.stdout) if r["method"] == "POST" and (r["body"] or {}).get("rule_id") == rule.rule_id)
    assert json.loads(shown.stdout) == sent and "new_terms_fields" in sent
    missing = CliRunner().invoke(cli, ["view-rule", "nope", "--package", str(mini_package)], env=blank)
    assert missing.exit_code == 2 and "no rule with rule_id or name 'nope'" in missing.output and "Traceback" not in missing.output
