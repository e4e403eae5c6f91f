"""Fields of data the catalogue does not describe: one 'not covered' note per integration,
not an error per field; an unknown field on covered data stays an error."""

from __future__ import annotations

from pathlib import Path

from ctdetect.catalogue import load_catalogue
from ctdetect.content.loaders import load_package
from ctdetect.validate.runner import run_checks

BROKEN = Path(__file__).resolve().parent / "broken"
GOOD = (BROKEN / "bad_uuid.toml").read_text().replace('rule_id = "rule-', 'rule_id = "')


def _rule(n: int, index: str, query: str, integration: str = "okta") -> str:
    return (
        GOOD.replace('index = ["logs-aws.cloudtrail-*"]', f"index = {index}")
        .replace('integration = ["aws"]', f'integration = ["{integration}"]')
        .replace("000000000016", f"0000000001{n:02d}")
        .replace("Broken corpus rule 16", f"Rule {n}")
        .replace('event.dataset: "aws.cloudtrail" and event.action: "ListBuckets"', query)
    )


def test_uncovered_integration_is_one_note(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(_rule(1, '["logs-okta*"]', "okta.event_type: x and okta.actor.id: y"))
    (tmp_path / "b.toml").write_text(_rule(2, '["filebeat-*", "logs-okta*"]', "okta.outcome.result: z"))
    (tmp_path / "c.toml").write_text(_rule(3, '["logs-aws.cloudtrail-*"]', "aws.cloudtrail.no_such_field: 1", "aws"))
    problems = run_checks(load_package(tmp_path)).problems
    [note] = [p for p in problems if p.check == "query.not-covered"]
    assert note.severity == "info" and "'okta'" in note.message and "3 field(s) its 2 rule(s)" in note.message
    assert [(p.check, p.file.name) for p in problems if p.severity == "error"] == [("query.unknown-field", "c.toml")]


def test_a_sequence_reaching_uncovered_streams_is_not_covered(tmp_path: Path) -> None:
    index = '["logs-endpoint.events.network-*", "logs-endpoint.events.process-*"]'
    (tmp_path / "a.toml").write_text(_rule(1, index, "process.Ext.token.integrity_level_name: high", "endpoint"))
    assert [p.check for p in run_checks(load_package(tmp_path)).problems] == ["query.not-covered"]


def test_catalogue_coverage_of_index_patterns() -> None:
    catalogue = load_catalogue()
    assert catalogue.covers_index("logs-aws.cloudtrail-*") and catalogue.covers_index("logs-auditd_manager.auditd-*")
    assert catalogue.covers_index("logs-endpoint.events.network-*")
    for pattern in ("logs-*", "filebeat-*", "logs-aws*", "logs-endpoint.events.*", "logs-okta*", "-logs-aws.cloudtrail-*"):
        assert not catalogue.covers_index(pattern), pattern
