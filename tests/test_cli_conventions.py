"""One vocabulary across commands (``commands.options``): ``--package``, ``-o/--output``,
the same ``--format`` names, validated choices, date math, old spellings still working
with a warning, and honest exits when there is no package."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ctdetect.cli import COMMANDS, cli
from ctdetect.timeutil import BadTimestamp, parse_date_math

ROOT = Path(__file__).resolve().parents[1]
#: commands that read a content package (stack: the folder holding docker-compose.yml)
PACKAGE_COMMANDS = {"validate", "fmt", "replay", "hunt", "coverage", "deploy", "view-rule", "export"}
FORMAT_NAMES = {"text", "json", "ndjson", "junit", "sarif", "markdown", "s3"}


def _params(name: str) -> dict[str, click.Parameter]:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    return {p.name: p for p in command.params if p.name}


def run(*args: str) -> "click.testing.Result":
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("name", sorted(PACKAGE_COMMANDS))
def test_every_package_command_takes_package(name: str) -> None:
    option = _params(name)["package"]
    assert "--package" in option.opts and not option.hidden


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_format_names_are_one_vocabulary(name: str) -> None:
    params = _params(name)
    if "fmt" in params:
        assert set(params["fmt"].type.choices) <= FORMAT_NAMES, name
    if name in {"validate", "replay", "hunt", "coverage", "deploy", "esql", "map", "synth"}:
        assert "-o" in params["output"].opts, name


def test_backend_is_a_validated_choice() -> None:
    res = run("replay", "--package", str(ROOT), "--backend", "nosuch")
    assert res.exit_code == 2 and "'nosuch' is not one of" in res.output


def test_old_spellings_still_work_with_a_warning(tmp_path: Path) -> None:
    res = run("coverage", "--root", str(ROOT), "--format", "json")
    assert res.exit_code == 0
    assert "warning: --root is deprecated; use --package" in res.stderr
    assert json.loads(res.stdout)["rows"]
    res = run("hunt", "--package", str(ROOT), "--format", "table", "--rule", "nosuchrule", str(ROOT / "scenarios" / "rule-root-console-login-fires"))
    assert "warning: --format table is deprecated; use --format text" in res.stderr
    res = run("synth", "--root", "--days", "7", "--events-per-day", "50", "-o", str(tmp_path / "h.ndjson"))
    assert res.exit_code == 0 and "warning: --root is deprecated; use --root-logins" in res.stderr
    assert '"userIdentity":{"type":"Root"' in (tmp_path / "h.ndjson").read_text().replace(" ", "")
    res = run("coverage", "--root", str(ROOT), "--package", str(ROOT))
    assert res.exit_code == 2 and "give --package or --root, not both" in res.output


def test_playbooks_positional_path_is_deprecated() -> None:
    res = run("playbooks", "list", str(ROOT))
    assert res.exit_code == 0 and "deprecated; use --package" in res.stderr and "ctdetect-hunt-" in res.stdout


def test_a_package_that_does_not_exist_exits_2(tmp_path: Path) -> None:
    for args in (["coverage"], ["replay"], ["export", "-o", str(tmp_path / "out")], ["view-rule", "x"], ["playbooks", "list"], ["deploy", "--dry-run", "--offline"]):
        res = run(*args, "--package", "/nonexistent")
        assert res.exit_code == 2, (args, res.output)
        assert "/nonexistent: no such folder" in res.stderr, args


def test_outside_a_package_commands_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (["validate"], ["fmt", "--check"], ["deploy", "--dry-run"], ["playbooks", "sync"]):
        res = run(*args)
        assert res.exit_code == 2, (args, res.output)
        assert "is not a content package" in res.stderr and "--package DIR" in res.stderr


def test_outside_a_package_read_only_commands_run_the_bundled_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = run("coverage")
    assert res.exit_code == 0, res.output
    assert "is not a content package" not in res.stderr
    res = run("playbooks", "list")
    assert res.exit_code == 0, res.output


def test_coverage_writes_to_output(tmp_path: Path) -> None:
    out = tmp_path / "coverage.md"
    assert run("coverage", "--package", str(ROOT), "-o", str(out)).exit_code == 0
    assert "| kind | name |" in out.read_text()


NOW = datetime(2026, 3, 15, 13, 45, 10, 123000, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "round_up", "expected"),
    [
        ("now", False, "2026-03-15T13:45:10.123"),
        ("now-7d", False, "2026-03-08T13:45:10.123"),
        ("now-7d/d", False, "2026-03-08T00:00:00.000"),
        ("now-7d/d", True, "2026-03-08T23:59:59.999"),  # an upper bound rounds up, as ES rounds lte
        ("now/w", False, "2026-03-09T00:00:00.000"),  # weeks start on Monday
        ("now-1M/M", False, "2026-02-01T00:00:00.000"),
        ("now-1M/M", True, "2026-02-28T23:59:59.999"),
        ("now+1h-30m", False, "2026-03-15T14:15:10.123"),
        ("2026-01-31||+1M", False, "2026-02-28T00:00:00.000"),  # calendar months, day clamped
        ("2026-03-01", False, "2026-03-01T00:00:00.000"),
        ("2026-03-01", True, "2026-03-01T23:59:59.999"),  # a bare date as an upper bound: the whole day
        ("2026-03-01T12:00:00+02:00", False, "2026-03-01T10:00:00.000"),
    ],
)
def test_date_math_as_elastic_writes_it(text: str, round_up: bool, expected: str) -> None:
    got = parse_date_math(text, now=NOW, round_up=round_up)
    assert got.tzinfo is not None
    assert got.strftime("%Y-%m-%dT%H:%M:%S.") + f"{got.microsecond // 1000:03d}" == expected


@pytest.mark.parametrize("text", ["now-7x", "now-7d/", "yesterday", "now - 7d", "", "2026-13-01"])
def test_bad_date_math_names_the_forms(text: str) -> None:
    with pytest.raises(BadTimestamp):
        parse_date_math(text, now=NOW)
