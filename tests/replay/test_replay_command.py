"""``ctdetect replay``: table, json, junit, exit codes, zero-event scenarios, waiting."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from click.testing import CliRunner
from pkgkit import RULE_ID, RULE_NAME, ct_record, expect, package, scenario

from ctdetect.cli import cli


def replay(root, *args):
    return CliRunner().invoke(cli, ["replay", "--package", str(root), *args], catch_exceptions=False)


def test_met_expectations_exit_zero_and_show_in_the_table(tmp_path):
    package(tmp_path)
    scenario(
        tmp_path,
        "share",
        [ct_record(1, "DescribeSnapshots"), ct_record(2, "ModifySnapshotAttribute", user="mallory")],
        [expect(entity='"user.name" = "mallory"'), expect(fires=False, entity='"user.name" = "alice"')],
    )
    res = replay(tmp_path)
    assert res.exit_code == 0, res.output
    assert "met" in res.output and "unmet" not in res.output.replace("0 unmet", "")
    assert "2 met, 0 unmet" in res.output


def test_unmet_expectation_exits_one_and_names_it(tmp_path):
    package(tmp_path)
    scenario(tmp_path, "quiet", [ct_record(1, "ModifySnapshotAttribute")], [expect(fires=False)])
    res = replay(tmp_path)
    assert res.exit_code == 1
    assert "unmet" in res.output and "expected none" in res.output


def test_rule_named_by_name_and_counts(tmp_path):
    package(tmp_path)
    recs = [ct_record(m, "ModifySnapshotAttribute") for m in (1, 2, 3)]
    scenario(tmp_path, "three", recs, [expect(rule=RULE_NAME, extra="min_count = 3\nmax_count = 3")])
    assert replay(tmp_path).exit_code == 0
    scenario(tmp_path, "three", recs, [expect(rule=RULE_NAME, extra="max_count = 2")])
    assert replay(tmp_path).exit_code == 1


def test_zero_event_scenario_fails(tmp_path):
    package(tmp_path)
    scenario(tmp_path, "empty", [], [expect(fires=False)])
    res = replay(tmp_path, "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["scenarios"][0]["reason"] == "reads zero events"
    assert data["summary"]["scenarios_without_events"] == 1


def test_json_and_junit_formats(tmp_path):
    package(tmp_path)
    scenario(
        tmp_path,
        "mixed",
        [ct_record(2, "ModifySnapshotAttribute")],
        [expect(), expect(fires=False), expect(fires=False, extra='waits_for = "issue 9"')],
    )
    res = replay(tmp_path, "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    statuses = [e["status"] for e in data["scenarios"][0]["expectations"]]
    assert statuses == ["met", "unmet", "waiting"]
    assert data["summary"]["waiting"] == 1
    out = tmp_path / "report.xml"
    res = replay(tmp_path, "--format", "junit", "--output", str(out))
    assert res.exit_code == 1
    root = ET.parse(out).getroot()
    assert root.get("tests") == "3" and root.get("failures") == "1" and root.get("skipped") == "1"


def test_waiting_expectation_does_not_fail(tmp_path):
    package(tmp_path)
    scenario(tmp_path, "wait", [ct_record(2, "ListBuckets")], [expect(extra='waits_for = "the S3 data events mapping"')])
    res = replay(tmp_path)
    assert res.exit_code == 0
    assert "waiting" in res.output


def test_unknown_rule_is_unmet(tmp_path):
    package(tmp_path)
    scenario(tmp_path, "typo", [ct_record(2, "ListBuckets")], [expect(rule="no-such-rule", fires=False)])
    res = replay(tmp_path, "--format", "json")
    assert res.exit_code == 1
    assert "not in the package" in json.loads(res.stdout)["scenarios"][0]["expectations"][0]["detail"]


def test_explicit_scenario_path_and_bad_usage(tmp_path):
    package(tmp_path)
    folder = scenario(tmp_path, "one", [ct_record(2, "ModifySnapshotAttribute")], [expect()])
    scenario(tmp_path, "two", [ct_record(2, "ModifySnapshotAttribute")], [expect(fires=False)])
    assert replay(tmp_path, str(folder)).exit_code == 0  # only "one" runs
    assert replay(tmp_path, str(tmp_path / "nope")).exit_code == 2
    assert replay(tmp_path, "--backend", "nosuch").exit_code == 2


def test_bad_event_lines_are_reported_and_the_rest_runs(tmp_path):
    package(tmp_path)
    folder = scenario(tmp_path, "bad", [ct_record(2, "ModifySnapshotAttribute")], [expect()])
    with open(folder / "events.ndjson", "a") as fh:
        fh.write("{not json\n")
    res = replay(tmp_path, "--format", "json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["scenarios"][0]["skipped"] == 1
    assert RULE_ID


def test_bad_synth_table_fails_the_scenario_with_its_message(tmp_path):
    package(tmp_path)
    scenario(
        tmp_path,
        "badsynth",
        [ct_record(2, "ModifySnapshotAttribute")],
        [expect()],
        synth='[[synth]]\nseed = 1\ndays = 1\nprincipals = "many"\n',
    )
    res = replay(tmp_path, "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["scenarios"][0]["errors"] and "principals" in data["scenarios"][0]["errors"][0]


def test_synth_baseline_is_generated_and_merged(tmp_path):
    package(tmp_path)
    scenario(
        tmp_path,
        "withsynth",
        [ct_record(2, "ModifySnapshotAttribute", day=2)],
        [expect()],
        synth='[[synth]]\nseed = 3\nstart = "2026-03-01T00:00:00Z"\ndays = 1\nprincipals = 4\nevents_per_day = 200\n',
    )
    data = json.loads(replay(tmp_path, "--format", "json").stdout)
    assert data["scenarios"][0]["events"] > 50
    assert data["scenarios"][0]["status"] == "passed"


def test_a_scenario_file_that_does_not_load_fails_the_replay(tmp_path):
    package(tmp_path)
    scenario(tmp_path, "good", [ct_record(2, "ModifySnapshotAttribute")], [expect()])
    broken = tmp_path / "scenarios" / "broken"
    broken.mkdir()
    (broken / "scenario.toml").write_text('name = "broken"\n[[expect]\nrule = ')
    res = replay(tmp_path, "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["scenario_errors"] and "broken" in data["scenario_errors"][0]
    assert data["summary"]["met"] == 1


def test_report_names_rules_says_what_fired_instead_and_pluralises(tmp_path):
    """Expectations by UUID are shown by the rule's name; an unmet entity expectation says
    the rule did fire, and for whom; counts read "1 scenario", "2 findings"."""
    package(tmp_path)
    records = [ct_record(1, "ModifySnapshotAttribute", user="mallory"), ct_record(2, "ModifySnapshotAttribute", user="mallory"),
               ct_record(3, "ModifySnapshotAttribute", user="eve")]
    scenario(tmp_path, "share", records, [expect(entity='"user.name" = "alice"'), expect(fires=False)])
    res = replay(tmp_path)
    assert res.exit_code == 1
    out = res.stdout
    assert f"fires: {RULE_NAME} user.name=alice" in out and RULE_ID not in out
    assert "0 findings; expected >= 1; it fired 3 times for other entities: user.name=mallory (2), eve (1)" in out
    assert "3 findings, best score" in out and "expected none" in out
    assert "1 scenario (1 failed); 2 expectations: 0 met, 2 unmet, 0 waiting" in out
    long_line = next(line for line in out.splitlines() if "for other entities" in line)
    assert "user.name=alice" in long_line  # one expectation, one line: never wrapped
    data = json.loads(replay(tmp_path, "--format", "json").stdout)
    assert data["scenarios"][0]["expectations"][0]["target"] == RULE_NAME
