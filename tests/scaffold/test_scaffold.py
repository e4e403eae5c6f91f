"""``ctdetect init`` and ``ctdetect new``: what they write passes validate, fmt and replay,
and they never overwrite or write outside a package."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctdetect.cli import cli
from ctdetect.content.bundled import bundled_root, content_root
from ctdetect.content.locate import PackageNotFound, resolve_package
from ctdetect.services.replay import run_replay
from ctdetect.services.validate import validate_paths

RUNNER = CliRunner()


def _ok(args: list[str]) -> str:
    result = RUNNER.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_then_new_rule_job_hunt_pass_validate_fmt_and_replay(tmp_path: Path) -> None:
    repo = tmp_path / "detections"
    _ok(["init", str(repo)])
    _ok(["new", "rule", "Access key created", "--provider", "iam.amazonaws.com", "--action", "CreateAccessKey", "--package", str(repo)])
    _ok(["new", "job", "Rare region for account", "--package", str(repo)])
    _ok(["new", "hunt", "Bucket deletions", "--package", str(repo)])
    result = validate_paths([repo])
    assert [p for p in result.problems if p.severity != "info"] == [], result.problems
    assert result.exit_code == 0
    _ok(["fmt", "--check", str(repo / "rules")])
    replay = run_replay([], package_root=str(repo), workers=1)
    assert replay.ok, [(s.scenario.name, [(o.status, o.detail) for o in s.outcomes]) for s in replay.scenarios]
    summary = replay.summary()
    assert summary["scenarios"] == 6 and summary["met"] == summary["expectations"] == 8
    assert replay.content_source == f"package {repo}"


def test_each_scaffold_has_a_fresh_uuid(tmp_path: Path) -> None:
    _ok(["init", str(tmp_path / "r")])
    first = _ok(["new", "rule", "One", "--package", str(tmp_path / "r")])
    second = _ok(["new", "rule", "Two", "--package", str(tmp_path / "r")])
    ids = [re.search(r"rule_id ([0-9a-f-]{36})", out).group(1) for out in (first, second)]  # type: ignore[union-attr]
    assert ids[0] != ids[1]


def test_new_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    _ok(["init", str(repo)])
    (repo / "scenarios" / "rule-again-silent").mkdir()
    (repo / "scenarios" / "rule-again-silent" / "scenario.toml").write_text("mine\n")
    result = RUNNER.invoke(cli, ["new", "rule", "Again", "--package", str(repo)])
    assert result.exit_code == 2
    assert "would overwrite" in result.output and "rule-again-silent" in result.output
    assert not (repo / "rules" / "again.toml").exists()
    assert (repo / "scenarios" / "rule-again-silent" / "scenario.toml").read_text() == "mine\n"


def test_new_outside_a_package_and_bad_names_are_usage_errors(tmp_path: Path) -> None:
    result = RUNNER.invoke(cli, ["new", "rule", "X", "--package", str(tmp_path)])
    assert result.exit_code == 2 and "not a content package" in result.output and "ctdetect init" in result.output
    _ok(["init", str(tmp_path / "r")])
    for args, needle in (
        (["new", "rule", "!!!"], "no letters or digits"),
        (["new", "rule", "X", "--provider", "s3"], "not a CloudTrail event source"),
        (["new", "rule", "X", "--action", "Delete Bucket"], "not a CloudTrail event name"),
    ):
        result = RUNNER.invoke(cli, [*args, "--package", str(tmp_path / "r")])
        assert result.exit_code == 2 and needle in result.output, result.output


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    result = RUNNER.invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 2 and "not an empty folder" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_init_from_bundled_copies_the_shipped_content(tmp_path: Path) -> None:
    shipped = bundled_root()
    assert shipped is not None, "a checkout is its own bundled content"
    repo = tmp_path / "r"
    out = _ok(["init", str(repo), "--from-bundled"])
    assert "bundled with ctdetect" in out
    for folder in ("rules", "ml_jobs", "datafeeds", "playbooks", "scenarios"):
        names = sorted(p.relative_to(shipped / folder) for p in (shipped / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        assert names == sorted(p.relative_to(repo / folder) for p in (repo / folder).rglob("*") if p.is_file())
    assert not (repo / "rules" / "example_s3_bucket_deleted.toml").exists()
    result = validate_paths([repo])
    assert result.exit_code == 0


def test_read_only_commands_fall_back_to_the_bundled_content_only_when_no_package_is_named(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    shipped = resolve_package(None, bundled=True)
    assert shipped == bundled_root()
    fallback = content_root(shipped)
    assert fallback is not None and fallback.bundled
    assert fallback.describe().startswith("bundled with ctdetect ")
    with pytest.raises(PackageNotFound):
        resolve_package(None)  # a command that writes never falls back
    with pytest.raises(PackageNotFound):
        resolve_package(tmp_path / "nothing-here", bundled=True)  # a named folder is never replaced
    (tmp_path / "rules").mkdir()
    here = content_root(resolve_package(None, bundled=True))
    assert here is not None and not here.bundled and here.describe() == "package ."


def test_job_scaffold_files_are_the_api_bodies(tmp_path: Path) -> None:
    _ok(["init", str(tmp_path / "r")])
    _ok(["new", "job", "My Job", "--package", str(tmp_path / "r")])
    job = json.loads((tmp_path / "r" / "ml_jobs" / "my_job.json").read_text())
    feed = json.loads((tmp_path / "r" / "datafeeds" / "datafeed-my_job.json").read_text())
    assert job["job_id"] == feed["job_id"] == "my_job" and feed["datafeed_id"] == "datafeed-my_job"
