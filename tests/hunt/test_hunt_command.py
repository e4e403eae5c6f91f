"""``ctdetect hunt``: formats, filters, ranking, strictness, content replacement."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "replay"))
from pkgkit import RULE_ID, ct_record, package, rule_toml, write_ndjson

from ctdetect.cli import cli

OTHER_ID = "9d6f2a41-7c1b-4e0a-8f3d-2b5e6c7a8d90"


def hunt(*args):
    return CliRunner().invoke(cli, ["hunt", *args], catch_exceptions=False)


def setup(tmp_path):
    rules = {
        "share.toml": rule_toml(),
        "trail.toml": rule_toml(name="Trail Stopped", rule_id=OTHER_ID, query="event.action:StopLogging", extra="").replace("risk_score = 73", "risk_score = 99").replace('severity = "high"', 'severity = "critical"'),
    }
    pkg = package(tmp_path / "pkg", rules)
    logs = write_ndjson(
        tmp_path / "logs" / "events.ndjson",
        [
            ct_record(1, "ModifySnapshotAttribute", user="mallory"),
            ct_record(2, "StopLogging", user="mallory", source="cloudtrail.amazonaws.com"),
            ct_record(3, "ListBuckets"),
            ct_record(4, "ModifySnapshotAttribute", user="alice", day=5),
        ],
    )
    return pkg, logs


def test_table_ranks_by_score_then_time_and_summarises(tmp_path):
    pkg, logs = setup(tmp_path)
    res = hunt("--package", str(pkg), str(logs))
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.index("Trail Stopped") < out.index("Test Snapshot Shared")
    assert "events read: 4" in out
    assert "3 findings" in out


def test_ndjson_writes_alert_documents_only_to_stdout(tmp_path):
    pkg, logs = setup(tmp_path)
    res = hunt("--package", str(pkg), "--format", "ndjson", str(logs))
    docs = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(docs) == 3
    assert docs[0]["kibana"]["alert"]["rule"]["rule_id"] == OTHER_ID
    assert {d["kibana"]["alert"]["rule"]["type"] for d in docs} == {"query"}
    assert all(d["event"]["kind"] == "signal" for d in docs)


def test_json_has_findings_and_summary(tmp_path):
    pkg, logs = setup(tmp_path)
    data = json.loads(hunt("--package", str(pkg), "--format", "json", str(logs)).stdout)
    assert data["summary"]["events_read"] == 4
    assert data["summary"]["findings_by_rule"] == {"Test Snapshot Shared": 2, "Trail Stopped": 1}
    assert [f["score"] for f in data["findings"]] == [99, 73, 73]


def test_filters(tmp_path):
    pkg, logs = setup(tmp_path)

    def ids(*args):
        res = hunt("--package", str(pkg), "--format", "json", *args, str(logs))
        assert res.exit_code == 0, res.output
        return [f["source_id"] for f in json.loads(res.stdout)["findings"]]

    assert ids("--rule", RULE_ID) == [RULE_ID, RULE_ID]
    assert ids("--rule", "trail stopped") == [OTHER_ID]
    assert ids("--min-score", "80") == [OTHER_ID]
    assert ids("--since", "2026-03-03") == [RULE_ID]
    assert ids("--until", "2026-03-02T10:01:30Z") == [RULE_ID]


def test_a_filter_naming_nothing_is_an_error_not_a_clean_result(tmp_path):
    pkg, logs = setup(tmp_path)
    for option, value, message in (("--rule", "nosuchrule", "--rule 'nosuchrule' names no rule"),
                                   ("--job", "no_such_job", "--job 'no_such_job' names no ML job")):
        res = hunt("--package", str(pkg), option, value, str(logs))
        assert res.exit_code == 2, res.output
        assert message in res.stderr and res.stdout == ""


def test_no_content_or_contradictory_times_exit_2(tmp_path):
    pkg, logs = setup(tmp_path)
    empty_rules = tmp_path / "no_rules_here"
    empty_rules.mkdir()
    (empty_rules / "notes.txt").write_text("not a rule\n")
    res = hunt("--package", str(pkg), "--rules", str(empty_rules), str(logs))
    assert res.exit_code == 2 and f"--rules {empty_rules}: no rule loaded from it" in res.stderr
    bare = tmp_path / "bare"
    (bare / "rules").mkdir(parents=True)  # a package with a rules folder and nothing in it
    res = hunt("--package", str(bare), str(logs))
    assert res.exit_code == 2 and "no rule and no ML job loaded" in res.stderr
    res = hunt("--package", str(tmp_path / "nowhere"), str(logs))
    assert res.exit_code == 2 and "no such folder" in res.stderr
    res = hunt("--package", str(pkg), "--since", "2026-03-05", "--until", "2026-03-01", str(logs))
    assert res.exit_code == 2 and "is later than --until" in res.stderr


def test_time_bounds_take_elastic_date_math(tmp_path):
    pkg, logs = setup(tmp_path)
    res = hunt("--package", str(pkg), "--format", "json", "--since", "2026-03-03||-1d/d", "--until", "2026-03-02", str(logs))
    assert res.exit_code == 0, res.output
    # --until a bare date is the whole day, as Elasticsearch reads an lte bound
    assert [f["source_id"] for f in json.loads(res.stdout)["findings"]] == [OTHER_ID, RULE_ID]
    res = hunt("--package", str(pkg), "--since", "now-7x", str(logs))
    assert res.exit_code == 2 and "not a date or date math" in res.output


def test_rules_option_replaces_package_rules(tmp_path):
    pkg, logs = setup(tmp_path)
    only = tmp_path / "other_rules"
    only.mkdir()
    (only / "list.toml").write_text(rule_toml(name="Bucket Listing", rule_id="0a1b2c3d-0000-4000-8000-000000000001", query="event.action:ListBuckets"))
    data = json.loads(hunt("--package", str(pkg), "--rules", str(only), "--format", "json", str(logs)).stdout)
    assert [f["name"] for f in data["findings"]] == ["Bucket Listing"]


def test_skipped_input_is_summarised_and_strict_fails(tmp_path):
    pkg, logs = setup(tmp_path)
    with open(logs, "a") as fh:
        fh.write("{broken\n")
    res = hunt("--package", str(pkg), str(logs))
    assert res.exit_code == 0
    assert "skipped: 1" in res.output and "invalid JSON" in res.output
    assert hunt("--package", str(pkg), "--strict", str(logs)).exit_code == 1


def test_missing_path_and_bad_dates_are_usage_errors(tmp_path):
    pkg, logs = setup(tmp_path)
    assert hunt("--package", str(pkg), str(tmp_path / "nope")).exit_code == 2
    assert hunt("--package", str(pkg), "--since", "last tuesday", str(logs)).exit_code == 2


def test_stdin_input(tmp_path):
    pkg, logs = setup(tmp_path)
    res = CliRunner().invoke(cli, ["hunt", "--package", str(pkg), "--format", "json", "-"], input=logs.read_bytes())
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["findings"]) == 3


def test_unreadable_geoip_database_is_a_usage_error(tmp_path):
    pkg, logs = setup(tmp_path)
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"not a database")
    res = hunt("--package", str(pkg), "--geoip-db", str(bad), str(logs))
    assert res.exit_code == 2
    assert "bad.mmdb" in res.output and "Traceback" not in res.output
