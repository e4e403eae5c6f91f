"""The one CloudTrail record builder (``ctdetect.synth.records``): key order, optional keys,
and that nothing else builds records (the synthetic history and every generator use it)."""

from __future__ import annotations

import random
from pathlib import Path

from ctdetect.synth.records import cloudtrail_record, console_login_record, tls_details, uuid4

ROOT = Path(__file__).resolve().parents[2]
# the order CloudTrail writes a record's keys in
CLOUDTRAIL_ORDER = [
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
    "errorCode", "errorMessage", "requestParameters", "responseElements", "additionalEventData", "requestID", "eventID",
    "readOnly", "resources", "eventType", "managementEvent", "recipientAccountId", "eventCategory", "tlsDetails",
    "sessionCredentialFromConsole",
]
BASE = {"version": "1.09", "identity": {"type": "IAMUser"}, "time": "2026-03-01T00:00:00Z", "source": "s3.amazonaws.com", "name": "ListBuckets",
        "region": "us-east-1", "ip": "192.0.2.1", "agent": "aws-cli", "account": "111122223333", "event_id": "e", "read_only": True}


def test_every_key_in_cloudtrail_order() -> None:
    rec = cloudtrail_record(**BASE, error_code="AccessDenied", error_message="no", request={}, response=None,
                            additional={"additionalEventData": {}}, request_id="r", resources=[{"ARN": "a"}],
                            tls=tls_details("s3.us-east-1.amazonaws.com"), from_console=True)
    assert list(rec) == CLOUDTRAIL_ORDER


def test_optional_keys_only_when_given() -> None:
    rec = cloudtrail_record(**BASE)
    assert [k for k in CLOUDTRAIL_ORDER if k not in rec] == ["errorCode", "errorMessage", "additionalEventData", "requestID", "resources", "tlsDetails", "sessionCredentialFromConsole"]
    assert list(cloudtrail_record(**BASE, extra={"errorCode": "x"}))[-1] == "errorCode"  # extra goes last


def test_a_failed_console_login() -> None:
    rec = console_login_record(version="1.09", identity={}, time="2026-03-01T00:00:00Z", ip="192.0.2.1", agent="Mozilla", account="1",
                               event_id="e", success=False, additional_data={"MFAUsed": "No"})
    assert rec["errorMessage"] == "Failed authentication" and rec["responseElements"] == {"ConsoleLogin": "Failure"}
    assert rec["eventType"] == "AwsConsoleSignIn" and "requestID" not in rec and rec["awsRegion"] == "us-east-1"


def test_uuid4_is_reproducible() -> None:
    assert uuid4(random.Random(1)) == uuid4(random.Random(1)) != uuid4(random.Random(2))
    assert uuid4(random.Random(1))[14] == "4"


def test_nothing_else_builds_cloudtrail_records() -> None:
    builders = [*(ROOT / "generators").glob("*.py"), *(ROOT / "tooling" / "ctdetect" / "synth").glob("*.py")]
    others = [p.relative_to(ROOT).as_posix() for p in builders if '"eventVersion"' in p.read_text(encoding="utf-8") and p.name != "records.py"]
    assert others == [], f"build CloudTrail records with ctdetect.synth.records: {others}"
