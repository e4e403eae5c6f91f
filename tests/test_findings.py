"""Findings are built by one constructor per kind (``findings.alert_finding`` / ``anomaly_finding``).

Every engine and backend must fill the typed attributes (score, time, entity) the same way,
so nothing in the package calls ``Finding(...)`` itself.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from ctdetect.findings import alert_finding, anomaly_finding

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "tooling" / "ctdetect"
_DIRECT = re.compile(r"(?<![\w.])Finding\(")


def test_no_finding_is_built_outside_the_findings_module() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{number}"
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        if path.name != "findings.py" or path.parent != PACKAGE_DIR
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _DIRECT.search(line) and not line.lstrip().startswith(("class ", "#"))
    ]
    assert offenders == [], "build findings with findings.alert_finding / anomaly_finding: " + ", ".join(offenders)


def test_the_check_sees_a_direct_construction() -> None:
    assert _DIRECT.search('    return Finding(kind="alert", source_id=x)')
    assert not _DIRECT.search("def alert_finding(rule) -> Finding:")


class _Rule:
    rule_id = "r-1"
    name = "Snapshot shared"
    risk_score = 47


def test_alert_finding_takes_epoch_ms_or_datetime_and_the_rule_score_unless_given() -> None:
    a = alert_finding(_Rule(), 1_700_000_000_123, {"k": 1}, {"user.name": "m"})
    assert (a.kind, a.source_id, a.name, a.score) == ("alert", "r-1", "Snapshot shared", 47.0)
    assert a.timestamp == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=timezone.utc)
    b = alert_finding(_Rule(), a.timestamp, {}, {}, score=73, related=[{"x": 1}])
    assert (b.timestamp, b.score, b.related) == (a.timestamp, 73.0, [{"x": 1}])


def test_anomaly_finding_entity_is_partition_by_over_then_first_influencer_values() -> None:
    record = {
        "job_id": "j", "timestamp": 1_700_000_400_000, "record_score": 61.5,
        "partition_field_name": "user.name", "partition_field_value": "alice",
        "by_field_name": "event.action", "by_field_value": "ListBuckets",
        "influencers": [
            {"influencer_field_name": "user.name", "influencer_field_values": ["bob"]},
            {"influencer_field_name": "source.ip", "influencer_field_values": ["198.51.100.7", "203.0.113.9"]},
            {"influencer_field_name": "empty", "influencer_field_values": []},
        ],
    }
    f = anomaly_finding(record, "j")
    assert (f.kind, f.source_id, f.name, f.score) == ("anomaly", "j", "j", 61.5)
    assert f.entity == {"user.name": "alice", "event.action": "ListBuckets", "source.ip": "198.51.100.7"}
    assert f.document is record
    assert f.timestamp == datetime(2023, 11, 14, 22, 20, tzinfo=timezone.utc)
