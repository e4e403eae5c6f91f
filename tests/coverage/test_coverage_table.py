"""The generated coverage table: rows from content, volumes from the quiet-month results file,
and the README section replaced in place."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from ctdetect.content.loaders import load_package
from ctdetect.findings import Finding
from ctdetect.reporting.coverage import render_markdown
from ctdetect.services import coverage as svc

RULE = '''[metadata]
creation_date = "2026/11/28"
maturity = "production"
updated_date = "2026/11/28"

[rule]
author = ["t"]
description = "d"
name = "Snapshot shared"
risk_score = 47
rule_id = "11111111-1111-4111-8111-111111111111"
severity = "medium"
type = "query"
language = "kuery"
index = ["logs-aws.cloudtrail-*"]
query = "event.action:ModifySnapshotAttribute"

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1537"
name = "Transfer Data to Cloud Account"
reference = "https://attack.mitre.org/techniques/T1537/"
[rule.threat.tactic]
id = "TA0010"
name = "Exfiltration"
reference = "https://attack.mitre.org/tactics/TA0010/"
'''

JOB = '''{"job_id": "ctdetect_t", "description": "d", "groups": ["security"],
"analysis_config": {"bucket_span": "15m", "detectors": [{"function": "rare", "by_field_name": "process.name"}], "influencers": ["process.name"]},
"data_description": {"time_field": "@timestamp"}}'''


def _package(tmp: Path) -> Path:
    (tmp / "rules").mkdir()
    (tmp / "rules" / "snap.toml").write_text(RULE)
    (tmp / "ml_jobs").mkdir()
    (tmp / "ml_jobs" / "ctdetect_t.json").write_text(JOB)
    for name, fires in (("snap-fires", "true"), ("snap-quiet", "false")):
        (tmp / "scenarios" / name).mkdir(parents=True)
        (tmp / "scenarios" / name / "scenario.toml").write_text(
            f'name = "{name}"\n[[expect]]\nrule = "Snapshot shared"\nfires = {fires}\n'
            f'[[expect]]\njob = "ctdetect_t"\nfires = {fires}\n'
        )
    (tmp / "README.md").write_text("# x\n\nintro\n")
    return tmp


def test_rows_carry_attack_and_scenarios(tmp_path: Path) -> None:
    package = load_package(_package(tmp_path))
    cov = svc.build_coverage(package, None)
    rule = next(r for r in cov.rows if r.kind == "rule")
    assert rule.tactics == ["Exfiltration (TA0010)"] and rule.techniques == ["T1537"]
    assert rule.fires_in == ["snap-fires"] and rule.silent_in == ["snap-quiet"]
    assert rule.volume == "not run"
    job = next(r for r in cov.rows if r.kind == "job")
    assert job.fires_in == ["snap-fires"] and job.rule_type == "job: rare"
    assert not cov.missing_scenarios
    text = render_markdown(cov)
    assert "| rule | Snapshot shared | query | Exfiltration (TA0010) | T1537 | snap-fires | snap-quiet | not run |" in text


def test_volumes_count_alerts_and_anomalies_at_threshold(tmp_path: Path) -> None:
    package = load_package(_package(tmp_path))
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    findings = [
        Finding("alert", "11111111-1111-4111-8111-111111111111", "Snapshot shared", when, 47, {}),
        Finding("alert", "11111111-1111-4111-8111-111111111111", "Snapshot shared", when, 47, {}),
        Finding("anomaly", "ctdetect_t", "ctdetect_t", when, 12.0, {}),
    ]
    vol = svc.volumes_from_findings(findings, package, days=30, principals=50)
    assert vol.alerts == {"11111111-1111-4111-8111-111111111111": 2}
    assert vol.anomalies["ctdetect_t"] == {"records": 1, "at_threshold": 0}  # no ML rule uses the job
    path = tmp_path / "scenarios" / "quiet-month" / "results.json"
    svc.write_volumes(vol, path)
    back = svc.load_volumes(path)
    assert back is not None and back.total_alerts == 2 and back.principals == 50
    cov = svc.build_coverage(package, back)
    assert next(r for r in cov.rows if r.kind == "rule").volume == "2 (0.07/day)"
    assert "2 alerts in total, 0.07 a day (within the target of 5 a day)" in render_markdown(cov)


def test_unreadable_results_file_reads_as_not_run(tmp_path: Path) -> None:
    bad = tmp_path / "results.json"
    bad.write_text("{not json")
    assert svc.load_volumes(bad) is None
    assert svc.load_volumes(tmp_path / "absent.json") is None


def test_replace_section_keeps_the_rest_of_the_readme() -> None:
    readme = "# t\n\n## Coverage\n\n<!-- coverage:start -->\nold\n<!-- coverage:end -->\n\n## After\n"
    out = svc.replace_section(readme, "new\n")
    assert out == "# t\n\n## Coverage\n\n<!-- coverage:start -->\nnew\n<!-- coverage:end -->\n\n## After\n"
    assert svc.current_section(out) == "new\n"
    appended = svc.replace_section("# t\n", "table\n")
    assert appended.endswith("## Coverage\n\n<!-- coverage:start -->\ntable\n<!-- coverage:end -->\n")


def test_command_writes_then_checks_the_readme(tmp_path: Path) -> None:
    from ctdetect.commands.coverage import command

    root = _package(tmp_path)
    runner = CliRunner()
    stale = runner.invoke(command, ["--root", str(root), "--check"])
    assert stale.exit_code == 1 and "out of date" in stale.output
    assert runner.invoke(command, ["--root", str(root), "--write-readme"]).exit_code == 0
    assert "intro" in (root / "README.md").read_text()
    assert runner.invoke(command, ["--root", str(root), "--check"]).exit_code == 0
    shown = runner.invoke(command, ["--root", str(root), "--format", "json"])
    assert shown.exit_code == 0 and '"fires_in"' in shown.output
