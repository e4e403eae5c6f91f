"""ES|QL constructs met in Elastic's whole rule repository, and what is checked where the
field catalogue does not describe the data a ``FROM`` reads."""

from __future__ import annotations

from ctdetect.catalogue import load_catalogue
from ctdetect.query.esql import ast as e
from ctdetect.query.esql.analyze import analyze
from ctdetect.query.esql.parser import parse_esql
from ctdetect.query.esql.sources import fully_covered, source_columns


def problems(text: str) -> list[tuple[str, str]]:
    catalogue = load_catalogue()
    return [(p.code, p.message) for p in analyze(parse_esql(text), lambda idx: source_columns(idx, catalogue))]


def test_completion_parses_in_both_forms_and_creates_its_column() -> None:
    new = parse_esql('FROM logs-aws.cloudtrail-* | EVAL p = "x" | COMPLETION r = p WITH { "inference_id": "a" } | KEEP r')
    assert new.commands[1] == e.Completion(new.commands[1].pos, "r", e.FieldRef(new.commands[1].prompt.pos, "p"))
    default = parse_esql('FROM logs-aws.cloudtrail-* | EVAL p = "x" | COMPLETION p WITH { "inference_id": "a" } | KEEP completion')
    assert default.commands[1].target == "completion"
    assert problems(default.text) == []
    # the prompt must be text
    assert [c for c, _ in problems('FROM logs-aws.cloudtrail-* | COMPLETION r = 3 WITH { "inference_id": "a" }')] == ["argument-type"]


def test_minute_abbreviation_used_by_elastic_rules() -> None:
    call = parse_esql("FROM logs-aws.cloudtrail-* | EVAL t = DATE_TRUNC(5m, @timestamp)").commands[0].fields[0].expr
    assert call.args[0].amount == 5 and call.args[0].unit == "minute"


def test_patterns_that_may_read_other_datasets_are_not_column_checked() -> None:
    assert fully_covered(("logs-aws.cloudtrail-*",))
    for broad in ("logs-*", "logs-aws.*", "logs-endpoint.events.*", ".alerts-security.*", "metrics-*"):
        assert not fully_covered((broad,)), broad
    assert [c for c, _ in problems("FROM logs-aws.cloudtrail-* | WHERE okta.outcome.result == \"x\"")] == ["unknown-column"]
    assert problems("FROM logs-* | WHERE okta.outcome.result == \"x\"") == []
