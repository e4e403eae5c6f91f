"""Builds small packages (rules, jobs, scenarios) in a temp folder for replay/hunt tests."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

RULE_ID = "5b0c8f1e-3d0a-4c59-9e55-3a7c4d2a9b10"
RULE_NAME = "Test Snapshot Shared"


def rule_toml(name: str = RULE_NAME, rule_id: str = RULE_ID, query: str = "event.action:ModifySnapshotAttribute", rtype: str = "query", language: str = "kuery", extra: str = "") -> str:
    return f'''[metadata]
creation_date = "2026/03/01"
integration = ["aws"]
maturity = "production"
updated_date = "2026/03/01"

[rule]
author = ["tests"]
description = "test rule"
from = "now-9m"
index = ["filebeat-*", "logs-aws.cloudtrail-*"]
interval = "5m"
language = "{language}"
license = "Apache-2.0"
name = "{name}"
risk_score = 73
rule_id = "{rule_id}"
severity = "high"
tags = ["Domain: Cloud"]
type = "{rtype}"
query = \'\'\'
{query}
\'\'\'
{extra}
'''


def ct_record(minute: int, action: str, user: str = "alice", source: str = "ec2.amazonaws.com", day: int = 2, **extra) -> dict:
    rec = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": f"arn:aws:iam::111122223333:user/{user}",
            "accountId": "111122223333",
            "userName": user,
        },
        "eventTime": f"2026-03-{day:02d}T10:{minute:02d}:00Z",
        "eventSource": source,
        "eventName": action,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"snapshotId": "snap-1"},
        "responseElements": None,
        "requestID": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{minute}{action}{user}{day}")),
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{minute}{action}{user}{day}")),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
    }
    rec.update(extra)
    return rec


def write_ndjson(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def scenario(root: Path, name: str, records: list[dict] | None, expects: list[str], synth: str = "") -> Path:
    folder = root / "scenarios" / name
    folder.mkdir(parents=True, exist_ok=True)
    events = ""
    if records is not None:
        write_ndjson(folder / "events.ndjson", records)
        events = '[[events]]\npath = "events.ndjson"\n'
    (folder / "scenario.toml").write_text(f'name = "{name}"\ndescription = "test"\ntags = ["attack"]\n\n{events}\n{synth}\n' + "\n".join(expects))
    return folder


def expect(rule: str = RULE_ID, fires: bool = True, entity: str = "", extra: str = "") -> str:
    ent = f"entity = {{ {entity} }}\n" if entity else ""
    return f'[[expect]]\nrule = "{rule}"\nfires = {"true" if fires else "false"}\n{ent}{extra}\n'


def package(root: Path, rules: dict[str, str] | None = None) -> Path:
    (root / "rules").mkdir(parents=True, exist_ok=True)
    for fname, text in (rules or {"test_rule.toml": rule_toml()}).items():
        (root / "rules" / fname).write_text(text)
    return root
