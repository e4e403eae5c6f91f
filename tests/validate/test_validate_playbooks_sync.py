"""``ctdetect playbooks sync`` rewrites only the note (of a file already in ``ctdetect fmt``'s
layout); ``validate`` then finds the rule in sync and ``fmt --check`` the file formatted."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctdetect.cli import cli

BROKEN = Path(__file__).resolve().parent / "broken"


def _without_note(text: str) -> str:
    return re.sub(r"note = (\'\'\'|\"\"\")(.*?)\1\n", "note = ...\n", text, count=1, flags=re.S)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    shutil.copytree(BROKEN / "note_out_of_sync", root)
    return root


def test_check_reports_and_changes_nothing(package: Path) -> None:
    rule_file = package / "rules" / "out_of_sync.toml"
    before = rule_file.read_text()
    result = CliRunner().invoke(cli, ["playbooks", "sync", "--package", str(package), "--check"])
    assert result.exit_code == 1 and "out of sync" in result.output
    assert rule_file.read_text() == before


def test_sync_edits_only_the_note_and_validate_agrees(package: Path) -> None:
    rule_file = package / "rules" / "out_of_sync.toml"
    before = rule_file.read_text()
    result = CliRunner().invoke(cli, ["playbooks", "sync", "--package", str(package)])
    assert result.exit_code == 0, result.output
    after = rule_file.read_text()
    doc_before, doc_after = tomllib.loads(before), tomllib.loads(after)
    assert doc_after["rule"]["note"].startswith("## Triage and analysis\nCheck the principal.")
    doc_before["rule"].pop("note")
    doc_after["rule"].pop("note")
    assert doc_before == doc_after
    # every byte outside the note's value is unchanged
    assert _without_note(before) == _without_note(after)
    assert CliRunner().invoke(cli, ["playbooks", "sync", "--package", str(package), "--check"]).exit_code == 0
    assert CliRunner().invoke(cli, ["validate", str(package)]).exit_code == 0
    assert CliRunner().invoke(cli, ["fmt", str(package), "--check"]).exit_code == 0


def test_sync_adds_a_missing_note(package: Path) -> None:
    rule_file = package / "rules" / "out_of_sync.toml"
    text = rule_file.read_text()
    start = text.index('note = """')
    end = text.index('"""', start + 10) + 3
    rule_file.write_text(text[:start] + text[end + 1 :])
    assert "note" not in tomllib.loads(rule_file.read_text())["rule"]
    assert CliRunner().invoke(cli, ["playbooks", "sync", "--package", str(package)]).exit_code == 0
    doc = tomllib.loads(rule_file.read_text())
    assert doc["rule"]["note"].endswith("Rotate keys.\n")
    assert doc["rule"]["threat"][0]["tactic"]["id"] == "TA0007"


def test_list_hunting_queries() -> None:
    result = CliRunner().invoke(cli, ["playbooks", "list", str(BROKEN / "hunting_bad_query")])
    assert result.exit_code == 0 and "ctdetect-hunt-broken" in result.output
