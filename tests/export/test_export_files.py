"""ctdetect export: files Elastic's tools load, written with no cluster at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from ctdetect.attack import load_attack
from ctdetect.cli import cli
from ctdetect.content.loaders import load_package
from ctdetect.query import parse_query
from deploy.apispecs import es_spec, kibana_spec, without_queries
from deploy.deploykit import PROJECT_ROOT, fake, mini_package  # noqa: F401 - fixtures
from ctdetect_testsupport.fakecluster import FakeElastic

BLANK_ENV = {k: "" for k in ("ELASTICSEARCH_URL", "KIBANA_URL", "ELASTIC_API_KEY", "ELASTIC_USERNAME", "ELASTIC_PASSWORD")}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "out"
    result = CliRunner().invoke(cli, ["export", "--package", str(PROJECT_ROOT), "--output", str(out)], env=BLANK_ENV)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def package():  # type: ignore[no-untyped-def]
    return load_package(PROJECT_ROOT)


def _ndjson(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_every_file_is_written(exported: Path) -> None:
    for name in ("kibana/rules.ndjson", "kibana/saved_queries.ndjson", "kibana/discover_sessions.ndjson", "ml/requests.json", "ml/console.txt", "attack-navigator-layer.json", "README.md"):
        assert (exported / name).is_file() and (exported / name).stat().st_size > 0, name


def test_rules_file_has_every_rule_as_kibana_accepts_it(exported: Path, package) -> None:  # type: ignore[no-untyped-def]
    lines = _ndjson(exported / "kibana" / "rules.ndjson")
    assert sorted(r["rule_id"] for r in lines) == sorted(r.rule_id for r in package.rules)
    spec = kibana_spec()
    problems = [f"{r['rule_id']}: {e}" for r in lines for e in spec.errors("#/components/schemas/RuleCreateProps", r)]
    assert problems == []
    assert all("ctdetect" in r["tags"] for r in lines)


def test_saved_queries_file_is_a_saved_objects_export(exported: Path, package) -> None:  # type: ignore[no-untyped-def]
    *objects, summary = _ndjson(exported / "kibana" / "saved_queries.ndjson")
    assert summary["exportedCount"] == len(objects) == len([q for q in package.hunting_queries if q.language != "esql"])
    for obj in objects:
        assert obj["type"] == "query" and obj["id"].startswith("ctdetect-")
        assert obj["attributes"]["title"] and obj["references"] == []
        query = obj["attributes"]["query"]
        parse_query(query["query"], query["language"])


def test_esql_hunting_queries_are_exported_as_discover_sessions(exported: Path, package) -> None:  # type: ignore[no-untyped-def]
    from ctdetect_testsupport.fakecluster import _discover_session_refusal

    *objects, summary = _ndjson(exported / "kibana" / "discover_sessions.ndjson")
    esql = sorted(q.id for q in package.hunting_queries if q.language == "esql")
    assert len(esql) >= 3 and summary["exportedCount"] == len(objects)
    assert sorted(o["id"] for o in objects) == esql
    for obj in objects:
        assert obj["type"] == "search" and _discover_session_refusal(obj["attributes"]) is None
        (tab,) = obj["attributes"]["tabs"]
        assert tab["attributes"]["isTextBasedQuery"] is True
        source = json.loads(tab["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        parse_query(source["query"]["esql"], "esql")


def test_ml_bundle_requests_match_the_elasticsearch_api(exported: Path, package) -> None:  # type: ignore[no-untyped-def]
    requests_ = json.loads((exported / "ml" / "requests.json").read_text())
    assert len(requests_) == 2 * len(package.jobs) + 2 * len(package.datafeeds)
    spec = es_spec()
    problems = []
    for r in requests_:
        template = spec.template(r["method"], r["path"])
        assert template is not None, r["path"]
        if r["body"] is not None:
            body, queries = without_queries(r["body"])
            problems.extend(spec.errors(spec.body_ref(r["method"], template), body))
            for q in queries:
                parse_query(q, "dsl")
    assert problems == []


def test_console_file_holds_the_same_requests(exported: Path) -> None:
    """Parse Dev Tools syntax back: method + path line, then an optional JSON body."""
    text = (exported / "ml" / "console.txt").read_text()
    parsed = []
    for block in text.strip().split("\n\n"):
        head, _, body = block.partition("\n")
        method, path = head.split(" ", 1)
        parsed.append({"method": method, "path": "/" + path, "body": json.loads(body) if body.strip() else None})
    assert parsed == json.loads((exported / "ml" / "requests.json").read_text())


def test_ml_bundle_loads_without_ctdetect(exported: Path, fake: FakeElastic) -> None:  # noqa: F811
    """Sent with plain HTTP, in file order, the bundle leaves every job open and every datafeed started."""
    auth = (fake.username, fake.password)
    headers = {"content-type": "application/json"}
    for r in json.loads((exported / "ml" / "requests.json").read_text()):
        resp = requests.request(r["method"], fake.es_url + r["path"], json=r["body"], auth=auth, headers=headers, timeout=10)
        assert resp.status_code == 200, (r["path"], resp.text)
    assert set(fake.state.job_states.values()) == {"opened"} and set(fake.state.datafeed_states.values()) == {"started"}


def test_navigator_layer(exported: Path, package) -> None:  # type: ignore[no-untyped-def]
    layer = json.loads((exported / "attack-navigator-layer.json").read_text())
    assert layer["versions"]["layer"] == "4.5" and layer["domain"] == "enterprise-attack"
    attack = load_attack()
    shortnames = {t.shortname for t in attack.tactics()}
    for tech in layer["techniques"]:
        assert attack.technique(tech["techniqueID"]) is not None, tech["techniqueID"]
        assert tech["tactic"] in shortnames
    scored = {(t["techniqueID"], t["tactic"]): t["score"] for t in layer["techniques"] if "score" in t}
    # T1530 (Data from Cloud Storage) under collection: every rule mapping it counts 1
    expected = sum(
        1
        for r in package.rules
        for th in r.threat
        if th.tactic.id == "TA0009" and any(t.id == "T1530" and not th.subtechniques.get("T1530") for t in th.techniques)
    )
    hunts = sum(0.5 for q in package.hunting_queries for th in q.threat if th.tactic.id == "TA0009" and any(t.id == "T1530" for t in th.techniques))
    assert expected >= 1 and scored[("T1530", "collection")] == expected + hunts
    for tech_id, tactic in scored:
        if "." in tech_id:
            parent = next(t for t in layer["techniques"] if t["techniqueID"] == tech_id.split(".")[0] and t["tactic"] == tactic)
            assert parent["showSubtechniques"] is True


def test_export_of_a_broken_package_writes_nothing_and_names_the_file(mini_package: Path, tmp_path: Path) -> None:  # noqa: F811
    bad = mini_package / "rules" / "broken.toml"
    bad.write_text("[rule\nname = 'x'\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", "--package", str(mini_package), "--output", str(out)], env=BLANK_ENV)
    assert result.exit_code == 2 and "broken.toml" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_export_of_a_folder_that_is_not_a_package_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--package", str(tmp_path), "--output", str(tmp_path / "o")], env=BLANK_ENV)
    assert result.exit_code == 2 and "not a content package" in result.output


def test_rules_file_imports_into_kibana_and_deploy_then_owns_the_rules(exported: Path, fake: FakeElastic, package) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Imported with Kibana's own rules import, the rules are exactly what deploy would have made."""
    url = fake.kibana_url + "/api/detection_engine/rules/_import"
    auth = (fake.username, fake.password)
    with open(exported / "kibana" / "rules.ndjson", "rb") as fh:
        resp = requests.post(url, files={"file": ("rules.ndjson", fh)}, auth=auth, headers={"kbn-xsrf": "true"}, timeout=30)
    assert resp.status_code == 200 and resp.json()["success_count"] == len(package.rules), resp.text
    from ctdetect.deploy.planner import plan
    from ctdetect.elastic.retry import RetryPolicy
    from ctdetect.elastic.settings import ConnectionSettings
    from ctdetect.deploy.state import read_state
    from ctdetect.elastic.client import Cluster

    cluster = Cluster.connect(ConnectionSettings.load(environ=fake.env(), env_file=None), RetryPolicy(attempts=1))
    state = read_state(cluster, "default", [r.rule_id for r in package.rules], with_ml=False)
    rules_plan = [a for a in plan(package, state).actions if a.kind == "rule"]
    assert {a.action for a in rules_plan} == {"unchanged"}
