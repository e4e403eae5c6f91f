"""Deterministic generator of the raw CloudTrail events of the ES|QL rules' scenarios.

Each of ctdetect's ES|QL rules has a scenario where it must fire and one where it must stay
silent; this script writes their ``events.ndjson`` (one raw CloudTrail record a line), the
same bytes for the same code. Run from the repository root::

    python generators/gen_esql_scenarios.py            # rewrite every file
    python generators/gen_esql_scenarios.py --check    # exit 1 if a committed file differs
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "210987654321"
START = datetime(2026, 11, 3, 10, 0, 0, tzinfo=timezone.utc)
BOTO = "Boto3/1.35.50 md/Botocore#1.35.50 ua/2.0 os/linux#5.10.227 lang/python#3.12.6 Botocore/1.35.50"
CLI = "aws-cli/2.18.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe"
NS = uuid.UUID("2b4a3e52-7e0f-4d51-9a43-5b1c7f0e9d21")
DISCOVERY = [
    ("ec2.amazonaws.com", "DescribeInstances"), ("ec2.amazonaws.com", "DescribeVpcs"), ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("ec2.amazonaws.com", "DescribeSnapshots"), ("lambda.amazonaws.com", "ListFunctions20150331"), ("rds.amazonaws.com", "DescribeDBInstances"),
    ("ssm.amazonaws.com", "DescribeParameters"), ("secretsmanager.amazonaws.com", "ListSecrets"), ("kms.amazonaws.com", "ListKeys"),
]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1"]


def identity_user(name: str, key: str) -> dict[str, Any]:
    return {"type": "IAMUser", "principalId": "AIDA" + key[4:], "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "accountId": ACCOUNT, "accessKeyId": key, "userName": name}


def identity_instance(role: str, instance: str, key: str) -> dict[str, Any]:
    return {
        "type": "AssumedRole", "principalId": f"AROA7C1D2E3F4A5B6C7D8E:{instance}", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{instance}",
        "accountId": ACCOUNT, "accessKeyId": key,
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROA7C1D2E3F4A5B6C7D8E", "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "accountId": ACCOUNT, "userName": role},
                           "attributes": {"creationDate": "2026-11-03T09:00:00Z", "mfaAuthenticated": "false"}},
    }


def record(seq: int, when: datetime, who: dict[str, Any], source: str, action: str, region: str, ip: str, agent: str, error: str | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "eventVersion": "1.10", "userIdentity": who, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": source,
        "eventName": action, "awsRegion": region, "sourceIPAddress": ip, "userAgent": agent, "requestParameters": None,
        "responseElements": None, "requestID": str(uuid.uuid5(NS, f"req-{seq}")), "eventID": str(uuid.uuid5(NS, f"evt-{seq}")),
        "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
    }
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = f"User: {who['arn']} is not authorized to perform: {source.split('.')[0]}:{action}"
    return rec


def multi_region_fires() -> Iterator[dict[str, Any]]:
    who = identity_user("build-bot", "AKIA4F7E2D1C0B9A8E7F")
    for i in range(24):  # 8 APIs x 3 passes, 4 regions, 4 minutes
        src, action = DISCOVERY[i % 8]
        yield record(i, START + timedelta(seconds=10 * i), who, src, action, REGIONS[i % 4], "203.0.113.77", CLI)


def multi_region_silent() -> Iterator[dict[str, Any]]:
    ops = identity_user("ops-alice", "AKIA9B8C7D6E5F4A3B2C")
    for i in range(30):  # many APIs, one region
        src, action = DISCOVERY[i % 9]
        yield record(100 + i, START + timedelta(seconds=8 * i), ops, src, action, "eu-west-1", "198.51.100.20", CLI)
    inv = identity_user("inventory", "AKIA1A2B3C4D5E6F7A8B")
    for i in range(12):  # every region, two APIs
        yield record(200 + i, START + timedelta(seconds=15 * i), inv, "ec2.amazonaws.com", ("DescribeInstances", "DescribeVolumes")[i % 2], REGIONS[i % 6], "198.51.100.21", BOTO)


DENIED = [("iam.amazonaws.com", "ListUsers", "AccessDenied"), ("s3.amazonaws.com", "ListBuckets", "AccessDenied"),
          ("ec2.amazonaws.com", "DescribeInstances", "Client.UnauthorizedOperation"), ("secretsmanager.amazonaws.com", "ListSecrets", "AccessDeniedException"),
          ("kms.amazonaws.com", "ListKeys", "AccessDeniedException"), ("lambda.amazonaws.com", "ListFunctions20150331", "AccessDeniedException")]


def denied_fires() -> Iterator[dict[str, Any]]:
    who = identity_user("svc-reporting", "AKIA7E6D5C4B3A2F1E0D")
    for i in range(14):
        src, action, err = DENIED[i % 6]
        yield record(300 + i, START + timedelta(seconds=20 * i), who, src, action, "us-east-1", "185.220.101.33", BOTO, err)


def denied_silent() -> Iterator[dict[str, Any]]:
    who = identity_user("svc-backup", "AKIA0F1E2D3C4B5A6F7E")
    for i in range(20):  # a misconfigured job: many denials, one service
        yield record(400 + i, START + timedelta(seconds=30 * i), who, "s3.amazonaws.com", "GetObject", "us-east-1", "198.51.100.30", BOTO, "AccessDenied")
    dev = identity_user("dev-bob", "AKIA2C3D4E5F6A7B8C9D")
    for i in range(6):  # a developer probing a few services, few times
        src, action, err = DENIED[i % 6]
        yield record(500 + i, START + timedelta(seconds=40 * i), dev, src, action, "us-east-1", "198.51.100.31", CLI, err)


def instance_creds_fires() -> Iterator[dict[str, Any]]:
    who = identity_instance("web-app-role", "i-0a1b2c3d4e5f60718", "ASIA5E6F7A8B9C0D1E2F")
    for i in range(6):
        yield record(600 + i, START + timedelta(minutes=2 * i), who, "s3.amazonaws.com", "ListBuckets" if i % 2 else "GetCallerIdentity", "us-east-1", "10.20.30.40", BOTO)
    for i in range(3):  # the same session token, from outside
        yield record(610 + i, START + timedelta(minutes=15 + i), who, ("sts.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com")[i], ("GetCallerIdentity", "ListRoles", "ListBuckets")[i], "us-east-1", "45.83.64.12", CLI)


def instance_creds_silent() -> Iterator[dict[str, Any]]:
    who = identity_instance("web-app-role", "i-0f9e8d7c6b5a40312", "ASIA0E1F2A3B4C5D6E7F")
    for i in range(10):
        yield record(700 + i, START + timedelta(minutes=3 * i), who, "s3.amazonaws.com", "GetObject", "us-east-1", "10.20.30.41", BOTO)
    user = identity_user("alice", "ASIA9F8E7D6C5B4A3F2E")
    user["type"] = "IAMUser"
    for i, ip in enumerate(["198.51.100.40", "198.51.100.41"]):  # a person on two networks: not an instance session
        yield record(720 + i, START + timedelta(minutes=5 * i), user, "s3.amazonaws.com", "ListBuckets", "us-east-1", ip, CLI)


SCENARIOS = {
    "rule-esql-multi-region-discovery-fires": multi_region_fires, "rule-esql-multi-region-discovery-silent": multi_region_silent,
    "rule-esql-access-denied-burst-fires": denied_fires, "rule-esql-access-denied-burst-silent": denied_silent,
    "rule-esql-instance-credentials-two-ips-fires": instance_creds_fires, "rule-esql-instance-credentials-two-ips-silent": instance_creds_silent,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = parser.parse_args(argv)
    differ = []
    for name, gen in SCENARIOS.items():
        path = ROOT / "scenarios" / name / "events.ndjson"
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in gen())
        if args.check:
            if not path.exists() or path.read_text() != text:
                differ.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for p in differ:
        print(f"{p}: differs from the generator", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
