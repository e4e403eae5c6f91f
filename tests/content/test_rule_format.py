"""``ctdetect fmt``: Elastic's detection-rules layout for rule TOML, checked on the package
(CI fails when a rule is not formatted), pinned on a small rule, idempotent, and never
allowed to change what a rule says."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from ctdetect.cli import cli
from ctdetect.content.rule_format import FormatError, format_rule
from ctdetect.services.fmt import format_paths

ROOT = Path(__file__).resolve().parents[2]
LONG = "A principal stopped the trail. " * 6

SOURCE = f'''[rule]
type = "query"
name = "Example"
description = "{LONG}"
tags = ["Domain: Cloud", "Data Source: AWS", "Data Source: Amazon Web Services", "Use Case: Threat Detection", "Tactic: Impact"]
index = [
  "logs-aws.cloudtrail-*",
]
note = """## Triage and analysis
Look at C:\\\\temp.
"""
query = """
event.action:StopLogging
"""

[[rule.threat]]
framework = "MITRE ATT&CK"
[rule.threat.tactic]
reference = "https://attack.mitre.org/tactics/TA0040/"
name = "Impact"
id = "TA0040"
[[rule.threat.technique]]
id = "T1490"
name = "Inhibit System Recovery"
reference = "https://attack.mitre.org/techniques/T1490/"
[[rule.threat.technique]]
id = "T1485"
name = "Data Destruction"
reference = "https://attack.mitre.org/techniques/T1485/"

[metadata]
maturity = "production"
creation_date = "2026/01/01"
'''

EXPECTED = '''[metadata]
creation_date = "2026/01/01"
maturity = "production"

[rule]
description = """
A principal stopped the trail. A principal stopped the trail. A principal stopped the trail. A principal stopped the
trail. A principal stopped the trail. A principal stopped the trail.
"""
index = ["logs-aws.cloudtrail-*"]
name = "Example"
note = """## Triage and analysis
Look at C:\\\\temp.
"""
tags = [
    "Domain: Cloud",
    "Data Source: AWS",
    "Data Source: Amazon Web Services",
    "Use Case: Threat Detection",
    "Tactic: Impact",
]
type = "query"

query = \'\'\'
event.action:StopLogging
\'\'\'


[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1485"
name = "Data Destruction"
reference = "https://attack.mitre.org/techniques/T1485/"

[[rule.threat.technique]]
id = "T1490"
name = "Inhibit System Recovery"
reference = "https://attack.mitre.org/techniques/T1490/"


[rule.threat.tactic]
id = "TA0040"
name = "Impact"
reference = "https://attack.mitre.org/tactics/TA0040/"

'''


def test_layout_is_elastics() -> None:
    """Tables in Elastic's order, keys sorted, text re-flowed at 120 columns, long arrays one
    item a line, the note verbatim, the query as a literal block, techniques sorted."""
    assert format_rule(SOURCE) == EXPECTED


def test_formatting_is_idempotent() -> None:
    assert format_rule(EXPECTED) == EXPECTED


def test_the_package_is_formatted() -> None:
    """CI: every rule of the package is in Elastic's layout (run `ctdetect fmt` to fix)."""
    result = format_paths([ROOT], check=True)
    assert result.failed == [] and result.changed == [], [str(p) for p in result.changed]
    assert len(result.unchanged) >= 51


def test_elastic_anchored_rules_format_safely_and_stably() -> None:
    """Every rule of Elastic's anchored set formats without changing meaning, and a second pass changes nothing."""
    root = shared_path("anchors", "detection-rules")
    files = sorted(root.rglob("*.toml"))
    assert len(files) >= 240
    for file in files:
        once = format_rule(file.read_text())
        assert format_rule(once) == once, file.name


def test_a_string_the_layout_cannot_hold_is_refused(tmp_path: Path) -> None:
    """Elastic writes a one-line note with a double quote and no single quote as a literal
    '...' after doubling its backslashes: the value would change, so fmt refuses."""
    text = '[rule]\ntype = "query"\nnote = "Run C:\\\\x.exe \\"now\\""\n'
    with pytest.raises(FormatError, match="change a value"):
        format_rule(text)
    file = tmp_path / "r.toml"
    file.write_text(text)
    result = CliRunner().invoke(cli, ["fmt", str(file)])
    assert result.exit_code == 1 and "cannot format" in result.output
    assert file.read_text() == text


def test_cli_check_rewrite_and_bad_path(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.toml").write_text(SOURCE)
    (tmp_path / "other.toml").write_text("x = 1\n")  # outside rules/: not looked at
    runner = CliRunner()
    check = runner.invoke(cli, ["fmt", str(tmp_path), "--check"])
    assert check.exit_code == 1 and "would reformat" in check.output
    assert (rules / "r.toml").read_text() == SOURCE
    assert runner.invoke(cli, ["fmt", str(tmp_path)]).exit_code == 0
    assert (rules / "r.toml").read_text() == EXPECTED
    assert runner.invoke(cli, ["fmt", str(tmp_path), "--check"]).exit_code == 0
    assert runner.invoke(cli, ["fmt", str(tmp_path / "absent")]).exit_code == 2


def test_non_rule_toml_in_a_folder_is_skipped_but_named_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "scenario.toml").write_text('name = "x"\n')
    assert format_paths([tmp_path]).failed == []
    [(path, why)] = format_paths([tmp_path / "scenario.toml"]).failed
    assert "no [rule] table" in why
