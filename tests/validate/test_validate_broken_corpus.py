"""The broken-content corpus: every target yields exactly its expected problem.

``tests/validate/broken/cases.toml`` lists each broken file or mini-package with the check
id, severity and line it must produce. Each runs through the real CLI (``--format json``):
exactly that one problem, at that file and line, exit status 1, and never a traceback.
Warning-only cases run with ``--strict`` so that they, too, must fail the run.
"""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctdetect.cli import cli

BROKEN = Path(__file__).resolve().parent / "broken"
CASES = tomllib.loads((BROKEN / "cases.toml").read_text())["case"]


def test_corpus_is_large_and_complete() -> None:
    assert len(CASES) >= 25
    targets = {c["target"].split("/")[0] for c in CASES}
    on_disk = {p.name for p in BROKEN.iterdir() if p.name != "cases.toml"}
    assert targets == on_disk, "every broken file has a case and every case a file"


@pytest.mark.parametrize("case", CASES, ids=[c["target"] for c in CASES])
def test_broken_case(case: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    if "eql" in case["target"] and importlib.util.find_spec("ctdetect.query.eql") is None:
        pytest.skip("the EQL parser (ctdetect.query.eql) is not in this build yet")
    monkeypatch.chdir(BROKEN)
    args = ["validate", case["target"], "--format", "json"]
    if case["severity"] == "warning":
        args.append("--strict")
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    problems = json.loads(result.output)["problems"]
    expected = {"file": case["file"], "line": case["line"], "check": case["check"], "severity": "error"}
    assert [{k: p[k] for k in expected} for p in problems] == [expected], problems
    assert problems[0]["message"]
    if "column" in case:
        assert problems[0]["column"] == case["column"]


def test_without_strict_a_warning_does_not_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN)
    result = CliRunner().invoke(cli, ["validate", "lookback_gap.toml", "--format", "json"])
    assert result.exit_code == 0
    [problem] = json.loads(result.output)["problems"]
    assert problem["severity"] == "warning" and problem["check"] == "schema.interval"


def test_whole_corpus_in_one_run_reports_every_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validating every target at once reports them all: one bad file never hides another."""
    monkeypatch.chdir(BROKEN)
    targets = sorted({c["target"] for c in CASES})
    result = CliRunner().invoke(cli, ["validate", *targets, "--format", "json"])
    assert result.exit_code == 1
    found = {(p["file"], p["check"], p["line"]) for p in json.loads(result.output)["problems"]}
    skip_eql = importlib.util.find_spec("ctdetect.query.eql") is None
    for c in CASES:
        if skip_eql and "eql" in c["target"]:
            continue
        assert (c["file"], c["check"], c["line"]) in found, c
