"""Outside a package (a folder of someone else's rules), ES|QL reading data the field
catalogue does not cover is one note per index pattern, not a warning per rule."""

from __future__ import annotations

from pathlib import Path

from ctdetect.services.validate import validate_paths

RULE = Path(__file__).resolve().parents[2] / "rules" / "discovery_multi_region_api_burst_esql.toml"


def test_uncovered_from_is_one_note_per_pattern(tmp_path: Path) -> None:
    text = RULE.read_text()
    assert "\nfrom logs-aws.cloudtrail-*\n" in text  # the rule's query
    for n in range(2):
        body = text.replace("\nfrom logs-aws.cloudtrail-*\n", "\nfrom logs-okta.system-*\n")
        body = body.replace('rule_id = "', f'rule_id = "{n}', 1)
        (tmp_path / f"rule{n}.toml").write_text(body)
    result = validate_paths([tmp_path])
    notes = [p for p in result.problems if p.check == "esql.index-pattern"]
    assert [(p.severity, "logs-okta.system-*" in p.message, "2 ES|QL queries" in p.message) for p in notes] == [("info", True, True)]
    assert not [p for p in result.problems if p.check == "esql.unknown-column"]
