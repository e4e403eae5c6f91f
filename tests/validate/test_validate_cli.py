"""``ctdetect validate``: output formats, exit codes, strict mode, skipped checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from ctdetect.cli import cli

BROKEN = Path(__file__).resolve().parent / "broken"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of a few broken targets, with the working directory inside it."""
    for name in ("bad_toml.toml", "unknown_field.toml", "lookback_gap.toml", "ml_job_missing"):
        src = BROKEN / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy(src, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_json_shape(corpus: Path) -> None:
    code, out = _run("bad_toml.toml", "unknown_field.toml", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert set(doc) == {"problems", "summary"}
    assert all(set(p) == {"file", "line", "column", "check", "severity", "message"} for p in doc["problems"])
    assert [p["file"] for p in doc["problems"]] == ["bad_toml.toml", "unknown_field.toml"]
    assert doc["summary"]["errors"] == 2 and doc["summary"]["files"] == 2


def test_text_groups_by_file(corpus: Path) -> None:
    code, out = _run("bad_toml.toml", "unknown_field.toml", "lookback_gap.toml")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "bad_toml.toml" and "load.toml-syntax" in lines[1]
    assert "unknown_field.toml" in lines and "lookback_gap.toml" in lines
    assert lines[-1] == "2 error(s), 1 warning(s), 0 note(s)"
    assert "\x1b[" not in out  # no colour when not a terminal


def test_junit(corpus: Path) -> None:
    code, out = _run("bad_toml.toml", "lookback_gap.toml", "--format", "junit")
    assert code == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites" and root.get("failures") == "1"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert suites["bad_toml.toml"].find("testcase/failure") is not None
    assert suites["lookback_gap.toml"].find("testcase/failure") is None


def test_sarif(corpus: Path) -> None:
    code, out = _run("unknown_field.toml", "lookback_gap.toml", "--format", "sarif")
    assert code == 1
    doc = json.loads(out)
    assert doc["version"] == "2.1.0"
    [run] = doc["runs"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == sorted({"query.unknown-field", "schema.interval"})
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"query.unknown-field": "error", "schema.interval": "warning"}
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] in ("unknown_field.toml", "lookback_gap.toml")
        assert location["region"]["startLine"] >= 1


def test_strict_turns_warnings_into_errors(corpus: Path) -> None:
    assert _run("lookback_gap.toml")[0] == 0
    assert _run("lookback_gap.toml", "--strict")[0] == 1


def test_unreadable_path_and_bad_usage_exit_2(corpus: Path) -> None:
    code, out = _run("does-not-exist")
    assert code == 2 and "no such file or folder" in out
    assert _run("bad_toml.toml", "--format", "yaml")[0] == 2


def test_output_file(corpus: Path) -> None:
    code, out = _run("unknown_field.toml", "--format", "json", "-o", "report.json")
    assert code == 1 and out == ""
    assert json.loads(Path("report.json").read_text())["summary"]["errors"] == 1


def test_bare_folder_says_what_it_skipped(corpus: Path, tmp_path: Path) -> None:
    code, out = _run("unknown_field.toml", "--format", "json")
    [target] = json.loads(out)["summary"]["targets"]
    assert target["kind"] == "rules"
    assert "bare folder or file" in target["checks_skipped"]["ml.job-missing"]
    assert "scenario.coverage" in target["checks_skipped"]


def test_external_jobs_file_declares_prebuilt_jobs(corpus: Path) -> None:
    assert _run("ml_job_missing")[0] == 1
    Path("ml_job_missing/external_jobs.toml").write_text('job_ids = ["ctdetect_tests_absent_job"]\n')
    code, out = _run("ml_job_missing", "--format", "json")
    assert code == 0, out
    assert json.loads(out)["problems"] == []


def test_default_is_the_current_folder_only_when_it_is_a_package(corpus: Path) -> None:
    """Run in an unrelated folder (here loose TOML files), validate does not crawl it and
    report success: it says there is no package and exits 2. Named, the folder is checked."""
    code, out = _run("--format", "json")
    assert code == 2 and "is not a content package" in out and "--package DIR" in out
    code, out = _run(".", "--format", "json")
    assert code == 1 and [t["path"] for t in json.loads(out)["summary"]["targets"]] == ["."]
    (corpus / "rules").mkdir()
    (corpus / "rules" / "rule.toml").write_text((corpus / "unknown_field.toml").read_text())
    code, out = _run("--format", "json")
    assert [t["path"] for t in json.loads(out)["summary"]["targets"]] == ["."]


def test_a_folder_without_content_exits_2(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not content\n")
    code, out = _run(str(tmp_path))
    assert code == 2 and f"{tmp_path}: no content to validate" in out
    code, out = _run("--package", str(tmp_path))
    assert code == 2 and "not a content package" in out


def test_single_content_files_are_read_by_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lone job, playbook or scenario file is checked on its own; cross-file checks do not apply."""
    monkeypatch.chdir(BROKEN)
    code, out = _run("job_without_datafeed/ml_jobs/ctdetect_tests_lonely.json", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["problems"] == [] and doc["summary"]["targets"][0]["jobs"] == 1
    code, out = _run("rare_without_by/ml_jobs/ctdetect_tests_rare.json", "playbook_bad_front_matter/playbooks/broken.md", "--format", "json")
    assert code == 1
    assert [p["check"] for p in json.loads(out)["problems"]] == ["playbook.front-matter", "ml.rare-needs-by"]


def test_color_on_request(corpus: Path) -> None:
    code, out = _run("lookback_gap.toml", "--color")
    assert code == 0 and "\x1b[" in out and "schema.interval" in out
