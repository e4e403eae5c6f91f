"""The non-ECS schema: flattened sub-keys the package's content reads are declared, in
detection-rules' own shape, and the catalogue, the engine and validate all read that file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctdetect.catalogue import CatalogueError, load_catalogue
from ctdetect.catalogue.loader import NON_ECS_SCHEMA_PATH
from ctdetect.content.loaders import load_package
from ctdetect.backends.embedded import EmbeddedBackend
from ctdetect.validate.runner import run_checks

ROOT = Path(__file__).resolve().parents[2]
FOUR_RULES = (
    "execution_ssm_send_command_shell",
    "persistence_lambda_public_invocation",
    "privilege_escalation_administrator_policy_attached",
    "lateral_movement_ssm_session_new_target",
)
KEY = "aws.cloudtrail.flattened.request_parameters.documentName"


def test_schema_has_detection_rules_shape() -> None:
    doc = json.loads(NON_ECS_SCHEMA_PATH.read_text())
    assert doc and all(isinstance(fields, dict) for fields in doc.values())
    assert all(isinstance(t, str) for fields in doc.values() for t in fields.values())
    assert doc["logs-aws.cloudtrail-*"][KEY] == "keyword"


def test_the_four_rules_read_only_declared_keys(tmp_path: Path) -> None:
    for stem in FOUR_RULES:
        (tmp_path / f"{stem}.toml").write_text((ROOT / "rules" / f"{stem}.toml").read_text())
    report = run_checks(load_package(tmp_path))
    assert [p for p in report.problems if p.check == "fields.undeclared-flattened-key"] == []
    catalogue = load_catalogue()
    for key in ("documentName", "principal", "authType", "policyArn", "target"):
        assert catalogue.undeclared_subkey(f"aws.cloudtrail.flattened.request_parameters.{key}") is None


def test_removing_a_declaration_makes_the_rule_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads(NON_ECS_SCHEMA_PATH.read_text())
    del doc["logs-aws.cloudtrail-*"][KEY]
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(doc))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.toml").write_text((ROOT / "rules" / "execution_ssm_send_command_shell.toml").read_text())
    report = run_checks(load_package(rules), catalogue=load_catalogue(schema_path=schema))
    [found] = [p for p in report.problems if p.check == "fields.undeclared-flattened-key"]
    assert KEY in found.message and '"logs-aws.cloudtrail-*"' in found.message and found.line is not None


def test_engine_types_come_from_the_same_file() -> None:
    engine_types = EmbeddedBackend().field_types
    assert engine_types[KEY] == "keyword"
    # a boolean declaration stays a keyword for the engine: Elasticsearch indexes flattened leaves as keywords
    assert engine_types["aws.cloudtrail.flattened.request_parameters.withDecryption"] == "keyword"


def test_patterns_and_catalogued_sub_keys_are_not_undeclared() -> None:
    catalogue = load_catalogue()
    assert catalogue.undeclared_subkey("aws.cloudtrail.flattened.request_parameters.*") is None
    assert catalogue.undeclared_subkey("aws.cloudtrail.flattened.request_parameters") is None
    assert catalogue.undeclared_subkey("auditd.data.syscall") is None  # the integration lists it itself
    assert catalogue.undeclared_subkey("labels.team") is None  # ECS labels is an object of keywords, not flattened
    assert catalogue.undeclared_subkey("aws.cloudtrail.flattened.request_parameters.zzz") == "aws.cloudtrail.flattened.request_parameters"


def test_malformed_schema_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "schema.json"
    bad.write_text('{"logs-aws.cloudtrail-*": ["x"]}')
    with pytest.raises(CatalogueError, match="schema.json"):
        load_catalogue(schema_path=bad)
    assert load_catalogue(schema_path=tmp_path / "absent.json").declared == {}
