"""The shipped JSON Schemas are valid Draft 2020-12, and the fast evaluator agrees with jsonschema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.content.loaders import load_jobs, load_rules
from ctdetect.schemas import SCHEMAS, load_schema
from ctdetect.validate.schema_lite import iter_errors, is_valid

BROKEN = Path(__file__).resolve().parent / "broken"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_valid_draft_2020_12_and_printed_by_the_cli(name: str) -> None:
    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    result = CliRunner().invoke(cli, ["schema", name])
    assert result.exit_code == 0
    assert json.loads(result.output) == schema


def test_unknown_schema_name_is_bad_usage() -> None:
    result = CliRunner().invoke(cli, ["schema", "nope"])
    assert result.exit_code == 2


def _mutations(doc: dict) -> list[dict]:
    """A few broken variants of a good rule document."""
    out = []
    for path, value in [
        (("rule", "risk_score"), "high"),
        (("rule", "severity"), "urgent"),
        (("rule", "type"), 3),
        (("rule", "rule_id"), "not-a-uuid"),
        (("rule", "bogus"), 1),
        (("metadata", "maturity"), "gold"),
        (("rule", "threat"), [{"framework": "MITRE ATT&CK"}]),
        (("rule", "max_signals"), 0),
    ]:
        mutated = copy.deepcopy(doc)
        mutated[path[0]][path[1]] = value
        out.append(mutated)
    dropped = copy.deepcopy(doc)
    dropped["rule"].pop("name", None)
    dropped["rule"].pop("query", None)
    out.append(dropped)
    return out


def _paths(errors) -> set[tuple]:
    return {tuple(e.absolute_path) for e in errors}


def test_fast_evaluator_agrees_with_jsonschema_on_rules() -> None:
    validator = jsonschema.Draft202012Validator(load_schema("rule"))
    schema = load_schema("rule")
    docs = [r.raw for r in load_rules(BROKEN)]
    docs += [m for r in load_rules(BROKEN / "bad_uuid.toml") for m in _mutations(r.raw)]
    assert len(docs) > 30
    for doc in docs:
        assert is_valid(schema, doc) == validator.is_valid(doc)
        assert _paths(iter_errors(schema, doc)) == _paths(validator.iter_errors(doc))


def test_fast_evaluator_agrees_with_jsonschema_on_jobs_and_datafeeds() -> None:
    jobs, feeds = load_jobs(BROKEN)
    for name, objs in (("ml_job", jobs), ("datafeed", feeds)):
        schema = load_schema(name)
        validator = jsonschema.Draft202012Validator(schema)
        for obj in objs:
            for doc in (obj.raw, {**obj.raw, "extra": 1}, {k: v for k, v in obj.raw.items() if k != "job_id"}):
                assert is_valid(schema, doc) == validator.is_valid(doc)
                assert _paths(iter_errors(schema, doc)) == _paths(validator.iter_errors(doc))


def test_custom_rules_and_filter_schemas_follow_the_put_job_and_put_filter_apis() -> None:
    """The shipped schemas of ``custom_rules`` and of an ML filter take the keys and values
    Elasticsearch's OpenAPI document (8.17) gives the put-job and put-filter APIs."""
    from conftest import shared_path

    from ctdetect.schemas import load_schema

    doc = json.loads(shared_path("anchors", "api-specs", "elasticsearch", "8.17", "elasticsearch-openapi.json").read_text())
    components = doc["components"]["schemas"]
    rule = load_schema("ml_job")["properties"]["analysis_config"]["properties"]["detectors"]["items"]["properties"]["custom_rules"]["items"]
    assert set(rule["properties"]) == set(components["ml._types:DetectionRule"]["properties"])
    assert rule["properties"]["actions"]["items"]["enum"] == components["ml._types:RuleAction"]["enum"]
    condition = rule["properties"]["conditions"]["items"]
    api_condition = components["ml._types:RuleCondition"]
    assert set(condition["properties"]) == set(api_condition["properties"]) and condition["required"] == api_condition["required"]
    assert condition["properties"]["applies_to"]["enum"] == components["ml._types:AppliesTo"]["enum"]
    assert condition["properties"]["operator"]["enum"] == components["ml._types:ConditionOperator"]["enum"]
    put_filter = doc["paths"]["/_ml/filters/{filter_id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(load_schema("ml_filter")["properties"]) == set(put_filter["properties"]) | {"filter_id"}
