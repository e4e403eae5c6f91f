"""Builders for the search rules' scenarios (used by generators/gen_scenarios.py).

Each scenario is a folder with ``events.ndjson`` (raw CloudTrail records, one per line, shaped like
what CloudTrail delivers: userIdentity, sourceIPAddress, userAgent, requestParameters,
responseElements, eventID, recipientAccountId ...) and ``scenario.toml`` (expectations). The
records are written here, by hand, as small Python builders; the output is committed, and this
generator is only re-run when a scenario changes (``python generators/gen_scenarios.py``).

Why generated rather than typed: dozens of records share the same envelope, and one builder
keeps the envelope consistent (account, request ids, TLS details, event ids derived from a seed)
while each scenario states only what differs. Everything is deterministic.

Addresses come from the documentation ranges mapped by ``ctdetect.geoip.default_table()``:
offices 192.0.2.0/24 (Paris) and 198.51.100.0/24 (Seattle), home broadband 198.18.x.0/24,
VPN / TOR / hosting exits 198.19.x.0/24, and AWS ranges (52.94.0.0/16 ...) for workloads.
"""

from __future__ import annotations

import json
import random
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "scenarios"

ACCOUNT = "210987654321"
FOREIGN = "999988887777"
REGION = "eu-west-1"
T0 = datetime(2026, 11, 3, 10, 0, 0, tzinfo=UTC)

OFFICE_PARIS = "192.0.2.41"
OFFICE_SEATTLE = "198.51.100.23"
HOME_UK = "198.18.0.57"
VPN = "198.19.0.77"
TOR = "198.19.1.13"
HOSTING = "198.19.2.200"
AWS_IP = "52.94.133.17"
AWS_IP2 = "3.5.140.9"

# Global services: recorded in us-east-1, with the global endpoint as host.
GLOBAL_SERVICES = {"iam.amazonaws.com": "iam.amazonaws.com", "organizations.amazonaws.com": "organizations.us-east-1.amazonaws.com"}

UA_CLI = "aws-cli/2.18.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off"
UA_CONSOLE = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
UA_BOTO = "Boto3/1.35.50 md/Botocore#1.35.50 ua/2.0 os/linux#5.10.227-219.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.50"
UA_TF = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.74.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/iam#1.38.0"
UA_SSM = "aws-cli/2.18.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/command#ssm.start-session"


# --------------------------------------------------------------------------- identities


def iam_user(name: str) -> dict[str, Any]:
    pid = "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, "user:" + name).hex[:17].upper()
    key = "AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, "key:" + name).hex[:16].upper()
    return {"type": "IAMUser", "principalId": pid, "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "accountId": ACCOUNT, "accessKeyId": key, "userName": name}


def role(role_name: str, session: str, mfa: bool = False) -> dict[str, Any]:
    rid = "AROA" + uuid.uuid5(uuid.NAMESPACE_DNS, "role:" + role_name).hex[:17].upper()
    key = "ASIA" + uuid.uuid5(uuid.NAMESPACE_DNS, f"sess:{role_name}:{session}").hex[:16].upper()
    return {"type": "AssumedRole", "principalId": f"{rid}:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{session}", "accountId": ACCOUNT,
            "accessKeyId": key,
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": rid,
                                                 "arn": f"arn:aws:iam::{ACCOUNT}:role/{role_name}",
                                                 "accountId": ACCOUNT, "userName": role_name},
                               "attributes": {"creationDate": "2026-11-03T08:55:12Z",
                                              "mfaAuthenticated": "true" if mfa else "false"}}}


def root() -> dict[str, Any]:
    return {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}


# --------------------------------------------------------------------------- records


@dataclass
class Scenario:
    folder: str
    description: str
    tags: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    expects: list[dict[str, Any]] = field(default_factory=list)

    def add(self, *records: dict[str, Any]) -> Scenario:
        self.events.extend(records)
        return self

    def expect(self, rule: str, fires: bool, description: str, entity: dict[str, str] | None = None,
               after: datetime | None = None, **extra: Any) -> Scenario:
        item: dict[str, Any] = {"rule": rule, "fires": fires, "description": description}
        if entity:
            item["entity"] = entity
        if after is not None:
            item["after"] = iso(after)
        item.update(extra)
        self.expects.append(item)
        return self


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(minutes: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, days=days)


_rng = random.Random(20261103)


def _uuid() -> str:
    return str(uuid.UUID(int=_rng.getrandbits(128), version=4))


def api(t: datetime, source: str, name: str, who: dict[str, Any], params: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None, *, ip: str = OFFICE_PARIS, ua: str = UA_CLI,
        error: tuple[str, str] | None = None, region: str = REGION, read_only: bool = False,
        extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One management-event record as CloudTrail writes it.

    IAM and Organizations are global services: CloudTrail records them in us-east-1 with the
    global endpoint as host, whatever region the caller had configured.
    """
    rid = _uuid()
    host = f"{source.split('.')[0]}.{region}.amazonaws.com"
    if source in GLOBAL_SERVICES:
        region, host = "us-east-1", GLOBAL_SERVICES[source]
    rec: dict[str, Any] = {
        "eventVersion": "1.10", "userIdentity": who, "eventTime": iso(t), "eventSource": source,
        "eventName": name, "awsRegion": region, "sourceIPAddress": ip, "userAgent": ua,
    }
    if error:
        rec["errorCode"], rec["errorMessage"] = error
    rec["requestParameters"] = params
    rec["responseElements"] = response if not error else None
    rec.update({"requestID": rid, "eventID": _uuid(), "readOnly": read_only, "eventType": "AwsApiCall",
                "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                               "clientProvidedHostHeader": host}})
    if extra:
        rec.update(extra)
    return rec


def console_login(t: datetime, who: dict[str, Any], *, ok: bool = True, mfa: bool = True, ip: str = OFFICE_PARIS) -> dict[str, Any]:
    """A ConsoleLogin record (signin.amazonaws.com, eventType AwsConsoleSignIn)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.09", "userIdentity": who, "eventTime": iso(t), "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": UA_CONSOLE,
    }
    if not ok:
        rec["errorMessage"] = "Failed authentication"
    rec.update({
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if ok else "Failure"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                                "MobileVersion": "No", "MFAUsed": "Yes" if (mfa and ok) else "No"},
        "eventID": _uuid(), "readOnly": False, "eventType": "AwsConsoleSignIn", "managementEvent": True,
        "recipientAccountId": ACCOUNT, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": "signin.aws.amazon.com"},
    })
    return rec


def failed_login_identity(name: str | None) -> dict[str, Any]:
    """How CloudTrail names the user of a failed sign-in (hidden when the name does not exist)."""
    return {"type": "IAMUser", "principalId": "", "accountId": ACCOUNT, "accessKeyId": "",
            "userName": name or "HIDDEN_DUE_TO_SECURITY_REASONS"}


DENIED = ("AccessDenied", "User is not authorized to perform this operation because no identity-based policy allows it")
EC2_DENIED = ("Client.UnauthorizedOperation", "You are not authorized to perform this operation.")

# --------------------------------------------------------------------------- rules

RULE_IDS: dict[str, str] = {}


def rule_id(stem: str) -> str:
    """The rule_id of rules/<stem>.toml (expectations name rules by id, which survives renames)."""
    if stem not in RULE_IDS:
        path = ROOT / "rules" / f"{stem}.toml"
        RULE_IDS[stem] = tomllib.loads(path.read_text())["rule"]["rule_id"]
    return RULE_IDS[stem]


# --------------------------------------------------------------------------- output


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(v, ensure_ascii=False)


def write(s: Scenario, out: Path = OUT) -> None:
    """Write one scenario folder under ``out`` (the package's scenarios/ by default)."""
    folder = out / s.folder
    folder.mkdir(parents=True, exist_ok=True)
    events = sorted(s.events, key=lambda r: r["eventTime"])
    # Ids are drawn per scenario (seeded by its folder name), so editing one scenario never
    # renumbers the records of another.
    ids = random.Random(s.folder)
    for rec in events:
        rec["eventID"] = str(uuid.UUID(int=ids.getrandbits(128), version=4))
        if "requestID" in rec:
            rec["requestID"] = str(uuid.UUID(int=ids.getrandbits(128), version=4))
    (folder / "events.ndjson").write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in events))
    lines = [f"name = {toml_value(s.folder)}", f"description = {toml_value(s.description)}",
             f"tags = {json.dumps(s.tags)}", "", "[[events]]", 'path = "events.ndjson"', 'format = "cloudtrail"', ""]
    for e in s.expects:
        lines.append("[[expect]]")
        for k, v in e.items():
            lines.append(f"{k} = {toml_value(v)}")
        lines.append("")
    text = "\n".join(lines)
    tomllib.loads(text)  # never write a file we cannot read back
    (folder / "scenario.toml").write_text(text)
