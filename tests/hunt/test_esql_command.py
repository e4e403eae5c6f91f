"""``ctdetect esql``: an ES|QL hunting query over raw CloudTrail, offline."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ctdetect.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DENIED = str(ROOT / "scenarios" / "rule-esql-access-denied-burst-fires" / "events.ndjson")
QUERY = (
    'FROM logs-aws.cloudtrail-* | WHERE aws.cloudtrail.error_code IS NOT NULL'
    " | STATS denied = COUNT(*), services = COUNT_DISTINCT(event.provider), first = MIN(@timestamp) BY aws.cloudtrail.user_identity.access_key_id"
)


def test_rows_in_the_shape_of_an_esql_response() -> None:
    result = CliRunner().invoke(cli, ["esql", QUERY, DENIED, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [c["name"] for c in out["columns"]] == ["denied", "services", "first", "aws.cloudtrail.user_identity.access_key_id"]
    assert [c["type"] for c in out["columns"]][:3] == ["long", "long", "date"]
    assert out["values"] == [[14, 6, "2026-11-03T10:00:00.000Z", "AKIA7E6D5C4B3A2F1E0D"]]
    assert out["summary"]["events_read"] == 14


def test_now_and_table_output() -> None:
    query = "FROM logs-aws.cloudtrail-* | WHERE @timestamp >= NOW() - 2 minutes | KEEP event.action"
    result = CliRunner().invoke(cli, ["esql", query, DENIED, "--now", "2026-11-03T10:06:00Z", "--format", "ndjson"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output.splitlines() == [json.dumps({"event.action": "ListUsers"}), json.dumps({"event.action": "ListBuckets"})]  # 10:04:00 and 10:04:20


def test_a_query_a_cluster_would_refuse_exits_2_with_the_reason() -> None:
    for query, reason in [("FROM logs-aws.cloudtrail-* | WHERE", "unexpected end"), ("FROM logs-aws.cloudtrail-* | KEEP nope.field", "unknown column"), ("FROM logs-aws.cloudtrail-* | ENRICH p ON user.name", "ENRICH")]:
        result = CliRunner().invoke(cli, ["esql", query, DENIED])
        assert result.exit_code == 2 and reason in result.output and "Traceback" not in result.output, result.output
