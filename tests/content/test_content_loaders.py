"""Loaders read every content type, keep key lines, and turn bad files into problems."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import shared_path

from ctdetect.content.loaders import load_jobs, load_package, load_playbooks, load_rules, load_scenarios
from ctdetect.content.model import LoadProblem
from ctdetect.content.positions import json_key_lines, toml_key_lines

RULE = '''[metadata]
creation_date = "2026/01/01"
maturity = "production"
updated_date = "2026/01/02"

[rule]
author = ["ctdetect"]
description = """
Multi-line text with [brackets] and key = "value" inside.
"""
from = "now-9m"
index = [
    "logs-aws.cloudtrail-*",
]
language = "kuery"
name = "Test rule"
risk_score = 47
rule_id = "0b8ae4b5-1c8c-4f5e-9c55-000000000001"
severity = "medium"
type = "query"
query = \'\'\'
event.action: "ListBuckets"
\'\'\'

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1530"
name = "Data from Cloud Storage"
reference = "https://attack.mitre.org/techniques/T1530/"

[rule.threat.tactic]
id = "TA0009"
name = "Collection"
reference = "https://attack.mitre.org/tactics/TA0009/"

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1562"
name = "Impair Defenses"
reference = "https://attack.mitre.org/techniques/T1562/"
[[rule.threat.technique.subtechnique]]
id = "T1562.008"
name = "Disable or Modify Cloud Logs"
reference = "https://attack.mitre.org/techniques/T1562/008/"

[rule.threat.tactic]
id = "TA0005"
name = "Defense Evasion"
reference = "https://attack.mitre.org/tactics/TA0005/"
'''


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(needle)


def test_toml_key_lines_follow_tables_arrays_and_multiline_values() -> None:
    lines = toml_key_lines(RULE)
    assert lines["rule.from"] == _line_of(RULE, 'from = "now-9m"')
    assert lines["rule.query"] == _line_of(RULE, "query = '''")
    assert lines["rule.threat.0.tactic.id"] == _line_of(RULE, 'id = "TA0009"')
    assert lines["rule.threat.1.technique.0.id"] == _line_of(RULE, 'id = "T1562"')
    assert lines["rule.threat.1.technique.0.subtechnique.0.name"] == _line_of(RULE, 'name = "Disable or Modify')
    # the "key = value" inside the multi-line description is text, not a key
    assert "rule.key" not in lines


def test_json_key_lines() -> None:
    text = json.dumps({"a": {"b": [1, {"c": "x\\"}]}, "d": "e"}, indent=2)
    lines = json_key_lines(text)
    assert lines["a"] == 2
    assert lines["a.b.1.c"] == _line_of(text, '"c"')
    assert lines["d"] == _line_of(text, '"d"')


def test_rule_loads_typed(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(RULE)
    problems: list[LoadProblem] = []
    [rule] = load_rules(tmp_path, problems)
    assert problems == []
    assert rule.rule_id.endswith("0001") and rule.language == "kuery" and rule.from_ == "now-9m"
    assert [t.tactic.id for t in rule.threat] == ["TA0009", "TA0005"]
    assert rule.threat[1].subtechniques["T1562"][0].id == "T1562.008"
    assert rule.source.line_of("rule.threat.1.tactic.name") == _line_of(RULE, 'name = "Defense Evasion"')


def test_bad_toml_is_a_problem_with_line_and_the_rest_still_loads(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(RULE)
    (tmp_path / "b.toml").write_text('[rule]\nname = "x"\nrisk_score = = 3\n')
    problems: list[LoadProblem] = []
    rules = load_rules(tmp_path, problems)
    assert len(rules) == 1
    [problem] = problems
    assert problem.check == "load.toml-syntax" and problem.line == 3 and problem.file.name == "b.toml"


def test_bad_types_do_not_raise(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text('[rule]\nrisk_score = "high"\nthreat = 3\nindex = [1, 2]\nmachine_learning_job_id = "job_a"\n')
    [rule] = load_rules(tmp_path)
    assert rule.risk_score is None and rule.threat == [] and rule.index == [] and rule.machine_learning_job_id == ["job_a"]


def test_module_layout_placeholders_are_resolved(tmp_path: Path) -> None:
    ml = tmp_path / "mod" / "ml"
    ml.mkdir(parents=True)
    (ml / "rare_thing.json").write_text(json.dumps({"analysis_config": {"bucket_span": "60m", "detectors": [{"function": "rare", "by_field_name": "event.action"}]}, "data_description": {"time_field": "@timestamp"}}))
    (ml / "datafeed_rare_thing.json").write_text(json.dumps({"job_id": "JOB_ID", "indices": ["INDEX_PATTERN_NAME"], "query": {"match_all": {}}}))
    jobs, feeds = load_jobs(tmp_path, indices=["logs-aws*"])
    assert [j.job_id for j in jobs] == ["rare_thing"] and jobs[0].bucket_span_seconds == 3600
    assert feeds[0].job_id == "rare_thing" and feeds[0].datafeed_id == "datafeed-rare_thing"
    assert feeds[0].indices == ["logs-aws*"]
    assert feeds[0].raw["job_id"] == "JOB_ID"  # the file as written is kept
    _, feeds = load_jobs(tmp_path)
    assert feeds[0].indices == ["logs-*", "filebeat-*"]


def test_bad_json_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "j.json").write_text('{\n  "job_id": "x",\n  "analysis_config": {,}\n}\n')
    problems: list[LoadProblem] = []
    assert load_jobs(tmp_path, problems) == ([], [])
    assert problems[0].check == "load.json-syntax" and problems[0].line == 3


def test_package_playbooks_and_scenarios(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(RULE)
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "r.md").write_text('---\nrule_ids: ["0b8ae4b5-1c8c-4f5e-9c55-000000000001"]\ntitle: "T"\n---\n## Triage\nLook.\n## Response\nAct.\n')
    (tmp_path / "playbooks" / "bad.md").write_text("no front matter\n")
    sc = tmp_path / "scenarios" / "s1"
    sc.mkdir(parents=True)
    (sc / "scenario.toml").write_text('name = "s1"\ndescription = "d"\ntags = ["attack"]\n[[events]]\npath = "e.ndjson"\n[[expect]]\nrule = "Test rule"\nfires = true\nentity = { "user.name" = "x" }\n')
    (tmp_path / "external_jobs.toml").write_text('job_ids = ["rare_method_for_a_username"]\n')
    package = load_package(tmp_path)
    assert package.is_package and package.components == {"rules", "playbooks", "scenarios"}
    assert len(package.rules) == 1 and package.external_job_ids == {"rare_method_for_a_username"}
    [playbook] = package.playbooks
    assert playbook.sections == {"Triage": "Look.", "Response": "Act."}
    assert [p.check for p in package.problems] == ["playbook.front-matter"]
    [scenario] = package.scenarios
    assert scenario.events[0].path == sc / "e.ndjson"
    assert scenario.expectations[0].entity == {"user.name": "x"} and scenario.expectations[0].rule == "Test rule"
    assert load_scenarios(sc)[0].name == "s1" and len(load_playbooks(tmp_path / "playbooks")) == 1


def test_bare_folder_is_not_a_package(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(RULE)
    package = load_package(tmp_path)
    assert not package.is_package and len(package.rules) == 1


def test_every_elastic_rule_loads() -> None:
    root = shared_path("anchors", "detection-rules")
    problems: list[LoadProblem] = []
    rules = load_rules(root, problems)
    assert problems == []
    assert len(rules) >= 240
    assert all(r.rule_id and r.name and r.type for r in rules)
    assert all(r.source.line_of("rule.rule_id") for r in rules)


def test_every_elastic_module_job_loads() -> None:
    root = shared_path("anchors", "kibana-ml-modules")
    problems: list[LoadProblem] = []
    jobs, feeds = load_jobs(root, problems)
    assert problems == []
    assert {"rare_method_for_a_username", "high_distinct_count_error_message"} <= {j.job_id for j in jobs}
    assert all(f.job_id != "JOB_ID" and "INDEX_PATTERN_NAME" not in f.indices for f in feeds)


def test_unlistable_folder_is_a_problem_and_the_rest_loads(tmp_path: Path, monkeypatch) -> None:
    import os

    (tmp_path / "r.toml").write_text(RULE)
    real_walk = os.walk

    def walk(top, onerror=None, **kwargs):  # type: ignore[no-untyped-def]
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))
        yield from real_walk(top, onerror=onerror, **kwargs)

    monkeypatch.setattr(os, "walk", walk)
    problems: list[LoadProblem] = []
    assert len(load_rules(tmp_path, problems)) == 1
    [problem] = problems
    assert problem.check == "load.unreadable" and problem.file == tmp_path / "locked" and "Permission denied" in problem.message
