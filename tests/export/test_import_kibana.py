"""``ctdetect import kibana``: Kibana's rule export into TOML rules and playbooks that pass
validate, and ``export -> import -> export`` gives the same file."""

from __future__ import annotations

import json
from pathlib import Path

import tomllib
from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.services.validate import validate_paths

RUNNER = CliRunner()

# Kibana 8.x/9.x export lines as Security > Rules > Export writes them (fields Kibana manages
# itself included); rule bodies as in Kibana's detection engine OpenAPI document.
NEW_TERMS = {
    "id": "8f1c6a80-0000-4000-8000-000000000001", "created_at": "2024-05-02T09:10:11.000Z", "created_by": "elastic",
    "updated_at": "2025-01-15T08:00:00.000Z", "updated_by": "elastic", "immutable": False, "revision": 3,
    "rule_source": {"type": "internal"}, "output_index": "", "enabled": False,
    "rule_id": "0b7e2f3c-1d4a-4c55-9a6e-2f1b8d9c0a11", "name": "First Time Seen STS Federation Token Request",
    "description": "A principal requested a federation token for the first time in 10 days.", "type": "new_terms",
    "language": "kuery", "index": ["logs-aws.cloudtrail-*"], "query": "event.dataset:aws.cloudtrail and event.action:GetFederationToken",
    "new_terms_fields": ["user.name"], "history_window_start": "now-10d", "risk_score": 21, "severity": "low",
    "author": ["Security team"], "from": "now-9m", "interval": "5m", "to": "now", "max_signals": 100, "version": 4,
    "tags": ["Domain: Cloud", "Data Source: AWS"], "exceptions_list": [], "actions": [], "references": [],
    "false_positives": [], "threat": [], "risk_score_mapping": [], "severity_mapping": [], "setup": "",
    "related_integrations": [{"package": "aws", "version": "^2.0.0", "integration": "cloudtrail"}],
    "required_fields": [{"name": "event.action", "type": "keyword", "ecs": True}], "license": "Elastic License v2",
    "timestamp_override": "event.ingested",
}
QUERY_WITH_NOTE = {
    "id": "8f1c6a80-0000-4000-8000-000000000002", "created_at": "2023-11-20T10:00:00.000Z", "updated_at": "2023-11-21T10:00:00.000Z",
    "enabled": True, "rule_id": "3a9e6b1f-7c2d-4e8f-a0b1-c2d3e4f5a6b7", "name": "CloudTrail Trail Deleted",
    "description": "A trail was deleted.", "type": "query", "language": "kuery", "index": ["logs-aws.cloudtrail-*"],
    "query": "event.dataset:aws.cloudtrail and event.action:DeleteTrail and event.outcome:success",
    "risk_score": 47, "severity": "medium", "author": ["Security team"], "from": "now-9m", "interval": "5m",
    "note": "## Triage and analysis\n\nAsk the owner of the trail.\n", "meta": {"from": "1m"},
    "tags": ["Domain: Cloud"], "timestamp_override": "event.ingested",
}
EXCEPTION_LIST = {"list_id": "endpoint_list", "type": "endpoint", "name": "Endpoint Security Exception List", "description": "x"}
SUMMARY = {"exported_count": 3, "exported_rules_count": 2, "missing_rules": [], "missing_rules_count": 0}


def _lines(*bodies: object) -> str:
    return "".join((b if isinstance(b, str) else json.dumps(b)) + "\n" for b in bodies)


def test_export_import_export_is_identical_and_the_import_validates(tmp_path: Path, project_root: Path) -> None:
    first = RUNNER.invoke(cli, ["export", "--package", str(project_root), "-o", str(tmp_path / "first")], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    exported = tmp_path / "first" / "kibana" / "rules.ndjson"
    package = tmp_path / "imported"
    imported = RUNNER.invoke(cli, ["import", "kibana", str(exported), "--package", str(package)], catch_exceptions=False)
    assert imported.exit_code == 0, imported.output
    assert "0 not imported" in imported.output
    result = validate_paths([package])
    assert [p for p in result.problems if p.severity == "error"] == [] and result.exit_code == 0
    assert RUNNER.invoke(cli, ["fmt", "--check", str(package / "rules")]).exit_code == 0
    again = RUNNER.invoke(cli, ["export", "--package", str(package), "-o", str(tmp_path / "again")], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again" / "kibana" / "rules.ndjson").read_bytes() == exported.read_bytes()
    rules = exported.read_text().count("\n")
    assert rules >= 40 and len(list((package / "rules").rglob("*.toml"))) == rules


def test_a_kibana_export_keeps_kibanas_fields_and_reports_each_bad_line(tmp_path: Path) -> None:
    source = tmp_path / "rules_export.ndjson"
    duplicate = {**QUERY_WITH_NOTE, "name": "Another name"}
    source.write_text(_lines(NEW_TERMS, QUERY_WITH_NOTE, "{not json", {"name": "no id"}, duplicate, EXCEPTION_LIST, SUMMARY))
    package = tmp_path / "pkg"
    result = RUNNER.invoke(cli, ["import", "kibana", str(source), "--package", str(package)])
    assert result.exit_code == 1, result.output
    assert f"{source}:3: not a JSON line" in result.output
    assert f"{source}:4: skipped, no rule_id, type: not a detection rule" in result.output
    assert f"{source}:5: rule_id {QUERY_WITH_NOTE['rule_id']}" in result.output and "is already in" in result.output
    assert f"{source}:6: skipped, an exception list" in result.output
    assert "imported 2 rules" in result.output and "(1 with a stub playbook); 3 not imported" in result.output

    doc = tomllib.loads((package / "rules" / "first_time_seen_sts_federation_token_request.toml").read_text())
    assert doc["metadata"] == {"creation_date": "2024/05/02", "updated_date": "2025/01/15", "maturity": "production", "integration": ["aws"]}
    rule = doc["rule"]
    assert rule["new_terms"] == {"field": "new_terms_fields", "value": ["user.name"],
                                 "history_window_start": [{"field": "history_window_start", "value": "now-10d"}]}
    assert rule["enabled"] is False and rule["version"] == 4 and rule["license"] == "Elastic License v2"
    assert rule["required_fields"] == NEW_TERMS["required_fields"] and rule["related_integrations"] == NEW_TERMS["related_integrations"]
    for managed in ("id", "created_at", "updated_by", "immutable", "revision", "rule_source", "output_index", "new_terms_fields"):
        assert managed not in rule
    playbook = (package / "playbooks" / "first_time_seen_sts_federation_token_request.md").read_text()
    assert playbook.startswith(f'---\nrule_ids: ["{NEW_TERMS["rule_id"]}"]\n') and "## Response" in playbook

    trail = tomllib.loads((package / "rules" / "cloudtrail_trail_deleted.toml").read_text())["rule"]
    assert trail["note"] == QUERY_WITH_NOTE["note"] and trail["meta"] == {"from": "1m"} and "enabled" not in trail
    assert (package / "playbooks" / "cloudtrail_trail_deleted.md").read_text().endswith("Ask the owner of the trail.\n")

    checked = validate_paths([package])
    assert [p for p in checked.problems if p.severity == "error"] == [], checked.problems


def test_importing_twice_overwrites_nothing(tmp_path: Path) -> None:
    source = tmp_path / "one.ndjson"
    source.write_text(_lines(QUERY_WITH_NOTE))
    package = tmp_path / "pkg"
    assert RUNNER.invoke(cli, ["import", "kibana", str(source), "--package", str(package)]).exit_code == 0
    rule_file = package / "rules" / "cloudtrail_trail_deleted.toml"
    before = rule_file.read_text()
    again = RUNNER.invoke(cli, ["import", "kibana", str(source), "--package", str(package)])
    assert again.exit_code == 1 and "is already in" in again.output
    assert rule_file.read_text() == before
