"""Elastic's own rules (../shared/anchors/detection-rules) load, parse and validate.

Skipped when ../shared is absent (a user's clone). The only problems ctdetect reports on
Elastic's 240 rules are notes that their ES|QL queries are not parsed yet: every KQL and
EQL query parses, every field is in the catalogue, every ATT&CK mapping matches the pinned
release.
"""

from __future__ import annotations

from collections import Counter

from conftest import shared_path

from ctdetect.content.loaders import load_rules
from ctdetect.content.model import LoadProblem
from ctdetect.query import parse_query
from ctdetect.services.validate import validate_paths


def test_every_rule_loads_and_every_kql_and_eql_query_parses() -> None:
    root = shared_path("anchors", "detection-rules")
    problems: list[LoadProblem] = []
    rules = load_rules(root, problems)
    assert problems == []
    files = sorted(root.rglob("*.toml"))
    assert len(rules) == len(files) >= 240
    by_folder = Counter(r.source.path.parent.name for r in rules)
    assert by_folder["aws"] >= 194 and by_folder["ml"] >= 45 and by_folder["_deprecated"] >= 1
    parsed = 0
    for rule in rules:
        if rule.language in ("kuery", "eql"):
            assert rule.query is not None
            parse_query(rule.query, rule.language)  # raises on failure
            parsed += 1
    assert parsed >= 160


def test_validate_finds_no_problem_in_elastic_rules_esql_included() -> None:
    """Elastic's own rules, the 23 AWS ES|QL rules among them, parse and resolve cleanly."""
    root = shared_path("anchors", "detection-rules")
    result = validate_paths([root])
    assert result.exit_code == 0
    assert result.problems == []
    esql = sum(1 for r in load_rules(root / "rules" / "integrations" / "aws") if r.language == "esql")
    assert esql >= 23
    [target] = result.summary["targets"]
    assert "ml.job-missing" in target["checks_skipped"]  # no ml_jobs/ folder: not applicable
    assert "query.unknown-field" in target["checks_run"] and "attack.name-mismatch" in target["checks_run"]
    assert {"esql.syntax", "esql.unknown-column", "esql.unknown-function", "esql.argument-type", "esql.rule-metadata"} <= set(target["checks_run"])


def test_elastic_rules_keep_elastic_conventions_under_both_profiles() -> None:
    """The convention checks mirror Elastic's unit tests, so Elastic's own rules pass them."""
    root = shared_path("anchors", "detection-rules")
    for profile in ("default", "elastic"):
        result = validate_paths([root], profile=profile)
        flagged = [p for p in result.problems if p.check.startswith(("elastic.", "fields."))]
        assert flagged == [], (profile, flagged[:5])
        [target] = result.summary["targets"]
        assert "elastic.timestamp-override" in target["checks_run"]
        assert ("elastic.note-triage" in target["checks_run"]) == (profile == "elastic")
