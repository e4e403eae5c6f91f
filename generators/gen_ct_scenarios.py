"""Deterministic generator of the CloudTrail events of ctdetect's anomaly-detection scenarios.

Why: the CloudTrail anomaly jobs only mean something against a history. ``ctdetect.synth``
gives each scenario an organisation's background noise; the scenarios also need a few
*named* principals with known habits (the WAF instance role of the Capital One story, two
engineers, a CI user) so that an attack can be told as "this principal, who always does X from
Y, now does Z from W". This script writes their fifteen-day history (2026-03-01 to
2026-03-15) and every scenario's injected events as raw CloudTrail records (NDJSON, one
record a line, the shape CloudTrail writes), the same bytes for the same code.

Run from the repository root::

    python generators/gen_ct_scenarios.py            # rewrite every file
    python generators/gen_ct_scenarios.py --check    # exit 1 if a committed file differs

IP addresses come from the default GeoIP table (``ctdetect.geoip.default_table()``): office
and home ranges for people, AWS prefixes for workloads, and the VPN / Tor / hosting ranges for
attackers, so ``source.geo.*`` and ``source.as.*`` are known. No real person's address is used.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "111122223333"
FOREIGN_ACCOUNT = "999988887777"  # the attacker's account in the snapshot story
HISTORY_START = datetime(2026, 3, 1, tzinfo=timezone.utc)
HISTORY_DAYS = 15
ATTACK_DAY = HISTORY_START + timedelta(days=HISTORY_DAYS)  # 2026-03-16, a Monday

# ------------------------------------------------------------------ addresses (default GeoIP table)
IP = {
    "waf": "52.94.12.34",  # WAF instance public address: AWS us-east-1 (Ashburn, AMAZON-02)
    "waf_replaced": "52.94.77.5",  # the WAF instance after an auto-scaling replacement
    "ci": "52.208.41.7",  # CI runners in eu-west-1 (Dublin, AMAZON-02)
    "alice": "192.0.2.10",  # Paris office
    "bob": "198.51.100.20",  # Seattle office
    "vpn": "198.19.0.23",  # commercial VPN exit (Amsterdam)
    "vpn_us": "198.19.6.23",  # commercial VPN exit in New York: an ordinary country for the WAF role
    "vpn_paris": "198.19.5.14",  # commercial VPN exit in Paris (a different network owner from the office)
    "tor": "198.19.1.77",  # Tor exit (Bucharest)
    "hosting": "198.19.3.9",  # rented VPS (Singapore)
    "guess": "198.19.2.41",  # bulletproof hosting (Moscow), password guessing
}

UA = {
    "waf": "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64",
    "ssm": "aws-sdk-go/1.44.302 (go1.21.6; linux; amd64) amazon-ssm-agent/3.3.40.0",
    "console": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "console_win": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "cli": "aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off command/s3.ls",
    "ci": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.ubuntu.22 prompt/off",
    "attacker": "aws-cli/1.32.60 Python/3.12.2 Linux/6.6.15-amd64 botocore/1.34.60",
}

# eventName -> (eventSource, readOnly, data event?)
ACTIONS: dict[str, tuple[str, bool, bool]] = {
    "UpdateInstanceInformation": ("ssm.amazonaws.com", False, False),
    "ListInstanceAssociations": ("ssm.amazonaws.com", True, False),
    "Decrypt": ("kms.amazonaws.com", True, False),
    "PutObject": ("s3.amazonaws.com", False, True),
    "GetObject": ("s3.amazonaws.com", True, True),
    "ListObjects": ("s3.amazonaws.com", True, True),
    "ListBuckets": ("s3.amazonaws.com", True, False),
    "GetBucketLocation": ("s3.amazonaws.com", True, False),
    "ConsoleLogin": ("signin.amazonaws.com", False, False),
    "DescribeInstances": ("ec2.amazonaws.com", True, False),
    "DescribeSecurityGroups": ("ec2.amazonaws.com", True, False),
    "DescribeVpcs": ("ec2.amazonaws.com", True, False),
    "RunInstances": ("ec2.amazonaws.com", False, False),
    "CreateSnapshot": ("ec2.amazonaws.com", False, False),
    "ModifySnapshotAttribute": ("ec2.amazonaws.com", False, False),
    "DescribeSnapshots": ("ec2.amazonaws.com", True, False),
    "DescribeAlarms": ("monitoring.amazonaws.com", True, False),
    "ListFunctions20150331": ("lambda.amazonaws.com", True, False),
    "GetFunction20150331v2": ("lambda.amazonaws.com", True, False),
    "DescribeLogGroups": ("logs.amazonaws.com", True, False),
    "ListRoles": ("iam.amazonaws.com", True, False),
    "ListUsers": ("iam.amazonaws.com", True, False),
    "GetAccountAuthorizationDetails": ("iam.amazonaws.com", True, False),
    "UpdateFunctionCode20150331v2": ("lambda.amazonaws.com", False, False),
    "PublishVersion20150331": ("lambda.amazonaws.com", False, False),
    "UpdateAlias20150331": ("lambda.amazonaws.com", False, False),
    "DescribeStacks": ("cloudformation.amazonaws.com", True, False),
    "GetCallerIdentity": ("sts.amazonaws.com", True, False),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """A CloudTrail ``userIdentity``: an IAM user, or a role assumed by an EC2 instance."""

    name: str
    kind: str  # "IAMUser" | "AssumedRole"
    principal_id: str
    access_key: str
    session: str = ""  # assumed roles: the session name (the instance id for EC2)

    @property
    def arn(self) -> str:
        if self.kind == "AssumedRole":
            return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.name}/{self.session}"
        return f"arn:aws:iam::{ACCOUNT}:user/{self.name}"

    def identity(self, mfa: bool = False, console: bool = False) -> dict[str, Any]:
        if self.kind == "AssumedRole":
            return {
                "type": "AssumedRole",
                "principalId": f"{self.principal_id}:{self.session}",
                "arn": self.arn,
                "accountId": ACCOUNT,
                "accessKeyId": self.access_key,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": self.principal_id,
                        "arn": f"arn:aws:iam::{ACCOUNT}:role/{self.name}",
                        "accountId": ACCOUNT,
                        "userName": self.name,
                    },
                    "attributes": {"creationDate": "2026-03-01T00:00:00Z", "mfaAuthenticated": "false"},
                    "ec2RoleDelivery": "2.0",
                },
            }
        ident: dict[str, Any] = {
            "type": "IAMUser",
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": ACCOUNT,
            "userName": self.name,
        }
        if not console:
            ident["accessKeyId"] = self.access_key
        if console or mfa:
            ident["sessionContext"] = {"attributes": {"creationDate": "2026-03-01T00:00:00Z", "mfaAuthenticated": "true" if mfa else "false"}}
        return ident


WAF = Principal("waf-role", "AssumedRole", "AROA4EXAMPLEWAFROLE01", "ASIA4EXAMPLEWAFKEY01", "i-0a7f3c91d2e4b5a60")
ALICE = Principal("alice", "IAMUser", "AIDA4EXAMPLEALICE0001", "AKIA4EXAMPLEALICE001")
BOB = Principal("bob", "IAMUser", "AIDA4EXAMPLEBOB000001", "AKIA4EXAMPLEBOB00001")
CI = Principal("ci-deploy", "IAMUser", "AIDA4EXAMPLECIDEPLOY1", "AKIA4EXAMPLECIDEPL01")


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Recorder:
    """Builds records with ids drawn from one seeded generator (so output is reproducible)."""

    rng: random.Random
    records: list[dict[str, Any]] = field(default_factory=list)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(
        self,
        ts: datetime,
        who: Principal,
        action: str,
        *,
        ip: str,
        ua: str,
        region: str = "us-east-1",
        request: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None,
        mfa: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        source, read_only, data_event = ACTIONS[action]
        console = action == "ConsoleLogin"
        rec: dict[str, Any] = {
            "eventVersion": "1.09" if not console else "1.08",
            "userIdentity": who.identity(mfa=mfa, console=console),
            "eventTime": iso(ts),
            "eventSource": source,
            "eventName": action,
            "awsRegion": region,
            "sourceIPAddress": ip,
            "userAgent": ua,
        }
        if error:
            rec["errorCode"], rec["errorMessage"] = error
        rec["requestParameters"] = request
        rec["responseElements"] = response
        if extra:
            rec.update(extra)
        rec["requestID"] = self._uuid() if not data_event else f"{self.rng.getrandbits(64):016X}"
        rec["eventID"] = self._uuid()
        rec["readOnly"] = read_only
        rec["eventType"] = "AwsConsoleSignIn" if console else "AwsApiCall"
        rec["managementEvent"] = not data_event
        rec["recipientAccountId"] = ACCOUNT
        rec["eventCategory"] = "Data" if data_event else "Management"
        if not console:
            rec["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": source.replace(".amazonaws.com", f".{region}.amazonaws.com")}
        self.records.append(rec)

    def sorted(self) -> list[dict[str, Any]]:
        return sorted(self.records, key=lambda r: (r["eventTime"], r["eventID"]))


def denied(who: Principal, action: str, resource: str) -> tuple[str, str]:
    service = ACTIONS[action][0].split(".")[0]
    return (
        "AccessDenied",
        f"User: {who.arn} is not authorized to perform: {service}:{action} on resource: {resource} "
        f"because no identity-based policy allows the {service}:{action} action",
    )


# ------------------------------------------------------------------ history: who does what, normally


def _jitter(rng: random.Random, ts: datetime, minutes: float) -> datetime:
    return ts + timedelta(seconds=rng.uniform(0, minutes * 60))


def waf_history(r: Recorder, start: datetime, days: int) -> None:
    """The WAF instance role: the SSM agent checks in and the WAF ships its logs to S3 every
    half hour, day and night, from the instance's AWS address; a KMS decrypt of its config
    every hour. It never lists buckets or reads objects."""
    slot = start
    end = start + timedelta(days=days)
    n = 0
    while slot < end:
        ts = _jitter(r.rng, slot, 25)
        r.add(ts, WAF, "UpdateInstanceInformation", ip=IP["waf"], ua=UA["ssm"], request={"instanceId": WAF.session, "agentVersion": "3.3.40.0", "platformType": "Linux"})
        r.add(ts + timedelta(seconds=3), WAF, "ListInstanceAssociations", ip=IP["waf"], ua=UA["ssm"], request={"instanceId": WAF.session, "maxResults": 20})
        key = f"AWSLogs/{ACCOUNT}/WAFLogs/{iso(ts)[:13].replace(':', '')}/{n:06d}.log.gz"
        r.add(ts + timedelta(seconds=40), WAF, "PutObject", ip=IP["waf"], ua=UA["waf"], request={"bucketName": f"waf-logs-{ACCOUNT}", "Host": f"waf-logs-{ACCOUNT}.s3.amazonaws.com", "key": key}, response={"x-amz-server-side-encryption": "aws:kms"}, extra={"resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::waf-logs-{ACCOUNT}/{key}"}]})
        if n % 2 == 0:
            r.add(ts + timedelta(seconds=41), WAF, "Decrypt", ip=IP["waf"], ua=UA["waf"], request={"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/2f1e9d2c-7b7a-4c4e-9a51-6f1f0a1b2c3d"})
        n += 1
        slot += timedelta(minutes=30)


def _workdays(start: datetime, days: int) -> Iterator[datetime]:
    for d in range(days):
        day = start + timedelta(days=d)
        if day.weekday() < 5:
            yield day


def alice_history(r: Recorder, start: datetime, days: int) -> None:
    """alice, a Paris engineer: console login with MFA each working morning (07:00-17:00 UTC),
    then EC2 and S3 reads from the office network; eu-west-3 for EC2, S3 listing in us-east-1."""
    habits = ["DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "ListBuckets", "DescribeAlarms"]
    for day in _workdays(start, days):
        login = day + timedelta(hours=7, minutes=r.rng.randint(0, 40))
        r.add(login, ALICE, "ConsoleLogin", ip=IP["alice"], ua=UA["console"], mfa=True, response={"ConsoleLogin": "Success"}, extra={"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"}})
        slot = day + timedelta(hours=7, minutes=30)
        while slot < day + timedelta(hours=17):
            if r.rng.random() < 0.8:
                for action in r.rng.sample(habits, 3):
                    region = "us-east-1" if action == "ListBuckets" else "eu-west-3"
                    r.add(_jitter(r.rng, slot, 28), ALICE, action, ip=IP["alice"], ua=UA["console"], region=region, request=None if action == "ListBuckets" else {"maxResults": 50})
            slot += timedelta(minutes=30)


def bob_history(r: Recorder, start: datetime, days: int) -> None:
    """bob, a Seattle engineer: CLI calls on Lambda, logs and EC2 in us-west-2 from the office,
    16:00-24:00 UTC on working days; twice a day he tries iam:ListRoles, which he may not."""
    habits = ["DescribeInstances", "ListFunctions20150331", "GetFunction20150331v2", "DescribeLogGroups", "DescribeAlarms"]
    for day in _workdays(start, days):
        slot = day + timedelta(hours=16)
        while slot < day + timedelta(hours=24):
            if r.rng.random() < 0.75:
                for action in r.rng.sample(habits, 3):
                    req = {"functionName": "orders-api"} if action == "GetFunction20150331v2" else None
                    r.add(_jitter(r.rng, slot, 28), BOB, action, ip=IP["bob"], ua=UA["cli"], region="us-west-2", request=req)
            slot += timedelta(minutes=30)
        for hour in r.rng.sample(range(16, 24), 2):
            r.add(day + timedelta(hours=hour, minutes=r.rng.randint(0, 59)), BOB, "ListRoles", ip=IP["bob"], ua=UA["cli"], error=denied(BOB, "ListRoles", f"arn:aws:iam::{ACCOUNT}:role/"))


def ci_history(r: Recorder, start: datetime, days: int) -> None:
    """ci-deploy, the CI user: four deployment windows a working day from the CI runners in
    eu-west-1, each a burst of artifact upload, Lambda update and stack checks, in eu-west-1 and
    us-east-1; CloudFormation throttles it about once a day."""
    for day in _workdays(start, days):
        for hour in (9, 11, 14, 16):
            t = day + timedelta(hours=hour, minutes=r.rng.randint(0, 20))
            for region in ("eu-west-1", "us-east-1"):
                t += timedelta(seconds=r.rng.randint(20, 90))
                key = f"builds/{day:%Y%m%d}-{hour}/orders-api.zip"
                r.add(t, CI, "PutObject", ip=IP["ci"], ua=UA["ci"], region=region, request={"bucketName": f"artifacts-{region}-{ACCOUNT}", "key": key})
                r.add(t + timedelta(seconds=5), CI, "UpdateFunctionCode20150331v2", ip=IP["ci"], ua=UA["ci"], region=region, request={"functionName": "orders-api", "s3Key": key})
                r.add(t + timedelta(seconds=9), CI, "PublishVersion20150331", ip=IP["ci"], ua=UA["ci"], region=region, request={"functionName": "orders-api"})
                r.add(t + timedelta(seconds=12), CI, "UpdateAlias20150331", ip=IP["ci"], ua=UA["ci"], region=region, request={"functionName": "orders-api", "name": "live"})
                if r.rng.random() < 0.12:
                    r.add(t + timedelta(seconds=14), CI, "DescribeStacks", ip=IP["ci"], ua=UA["ci"], region=region, error=("ThrottlingException", "Rate exceeded"))
                else:
                    r.add(t + timedelta(seconds=14), CI, "DescribeStacks", ip=IP["ci"], ua=UA["ci"], region=region, request={"stackName": "orders-api"})


def history() -> list[dict[str, Any]]:
    r = Recorder(random.Random(20260301))
    waf_history(r, HISTORY_START, HISTORY_DAYS)
    alice_history(r, HISTORY_START, HISTORY_DAYS)
    bob_history(r, HISTORY_START, HISTORY_DAYS)
    ci_history(r, HISTORY_START, HISTORY_DAYS)
    return r.sorted()


def usual_day(r: Recorder) -> None:
    """The day after the history, as usual (benign continuation for silent scenarios)."""
    waf_history(r, ATTACK_DAY, 1)
    alice_history(r, ATTACK_DAY, 1)
    bob_history(r, ATTACK_DAY, 1)
    ci_history(r, ATTACK_DAY, 1)


# ------------------------------------------------------------------ scenario events

BUCKETS = [f"{name}-{ACCOUNT}" for name in (
    "customer-exports", "card-applications-2019", "card-applications-2020", "credit-bureau-feeds",
    "marketing-segments", "fraud-models", "hr-payroll", "finance-ledger", "data-lake-raw",
    "data-lake-curated", "backups-rds", "backups-ebs", "partner-sftp", "analytics-scratch",
    "ml-training-sets", "legal-holds", "support-attachments", "audit-evidence", "web-assets",
    "terraform-state", "athena-results", "emr-logs", "glue-scripts", "redshift-unload",
    "kinesis-archive", "quicksight-exports", "compliance-reports", "kyc-documents",
    "dispute-letters", "statement-pdfs", "tax-forms", "risk-scores", "collections",
    "call-recordings", "chat-transcripts", "email-archive", "waf-logs",
)]


def stolen_waf_listing(r: Recorder, at: datetime, ip: str) -> None:
    """The WAF role's stolen credentials used from outside: who am I, then list every bucket."""
    r.add(at, WAF, "GetCallerIdentity", ip=ip, ua=UA["attacker"])
    r.add(at + timedelta(seconds=20), WAF, "ListBuckets", ip=ip, ua=UA["attacker"], response=None)


def collection_with_denials(r: Recorder, at: datetime, ip: str, readable: int = 6) -> None:
    """ListObjects then GetObject on every bucket: most are denied (the role may only write its
    own logs), a few allow reading; one burst of distinct AccessDenied messages in minutes."""
    t = at
    for i, bucket in enumerate(BUCKETS):
        t += timedelta(seconds=7)
        if i < readable:
            r.add(t, WAF, "ListObjects", ip=ip, ua=UA["attacker"], request={"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "prefix": ""})
            for k in range(3):
                key = f"exports/part-{k:04d}.csv"
                r.add(t + timedelta(seconds=2 + k), WAF, "GetObject", ip=ip, ua=UA["attacker"], request={"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "key": key}, extra={"resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}]})
        else:
            r.add(t, WAF, "ListObjects", ip=ip, ua=UA["attacker"], request={"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "prefix": ""}, error=denied(WAF, "ListObjects", f"arn:aws:s3:::{bucket}"))


Writer = Callable[[Recorder], None]


def scenario_events() -> dict[str, Writer]:
    """Scenario folder -> the function that writes its injected events."""
    day = ATTACK_DAY

    def waf_lists_buckets(r: Recorder) -> None:
        # from the WAF's own address: only the action is new (isolates the user-action job)
        r.add(day + timedelta(hours=3, minutes=12), WAF, "ListBuckets", ip=IP["waf"], ua=UA["waf"])
        r.add(day + timedelta(hours=3, minutes=12, seconds=30), WAF, "GetBucketLocation", ip=IP["waf"], ua=UA["waf"], request={"bucketName": BUCKETS[0]})

    def waf_from_vpn(r: Recorder) -> None:
        # its usual calls, but from a VPN exit: only the network owner is new
        waf_history_like(r, day + timedelta(hours=2), IP["vpn_us"])

    def waf_replaced_instance(r: Recorder) -> None:
        usual_day(r)
        waf_history_like(r, day + timedelta(hours=9), IP["waf_replaced"])

    def paris_vpn_discovery(r: Recorder) -> None:
        # alice's key used at night from a Paris VPN exit: IAM enumeration never made from France
        t = day + timedelta(hours=1, minutes=47)
        for i, action in enumerate(("GetCallerIdentity", "ListUsers", "ListRoles", "GetAccountAuthorizationDetails")):
            r.add(t + timedelta(seconds=30 * i), ALICE, action, ip=IP["vpn_paris"], ua=UA["attacker"])

    def denied_enumeration(r: Recorder) -> None:
        t = day + timedelta(hours=4, minutes=3)
        # a permission probe: RunInstances with DryRun answers DryRunOperation when it would be allowed
        r.add(t, WAF, "RunInstances", ip=IP["tor"], ua=UA["attacker"], region="us-east-1", request={"instanceType": "t3.micro", "minCount": 1, "maxCount": 1, "imageId": "ami-0f58b397bc5c1f2e8", "dryRun": True}, error=("Client.DryRunOperation", "Request would have succeeded, but DryRun flag is set."))
        collection_with_denials(r, t + timedelta(minutes=1), IP["tor"])

    def password_guessing(r: Recorder) -> None:
        t = day + timedelta(hours=5, minutes=20)
        for i in range(30):
            r.add(t + timedelta(seconds=17 * i), BOB, "ConsoleLogin", ip=IP["guess"], ua=UA["console_win"], error=("Failed authentication", "Failed authentication"), response={"ConsoleLogin": "Failure"}, extra={"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}})

    def mining_region(r: Recorder) -> None:
        t = day + timedelta(hours=10, minutes=5)
        for i in range(4):
            r.add(t + timedelta(seconds=40 * i), CI, "RunInstances", ip=IP["hosting"], ua=UA["attacker"], region="ap-south-1", request={"instanceType": "p3.16xlarge", "minCount": 4, "maxCount": 4, "imageId": "ami-0f58b397bc5c1f2e8"})
            r.add(t + timedelta(seconds=40 * i + 5), CI, "DescribeInstances", ip=IP["hosting"], ua=UA["attacker"], region="ap-south-1")

    def usual(r: Recorder) -> None:
        usual_day(r)
        # the day's ordinary errors: a throttled deployment and bob's ListRoles habit
        r.add(day + timedelta(hours=9, minutes=3), CI, "DescribeStacks", ip=IP["ci"], ua=UA["ci"], region="eu-west-1", error=("ThrottlingException", "Rate exceeded"))

    return {
        "ml-cloudtrail-waf-role-lists-buckets": waf_lists_buckets,
        "ml-cloudtrail-waf-role-from-vpn": waf_from_vpn,
        "ml-cloudtrail-waf-role-new-instance": waf_replaced_instance,
        "ml-cloudtrail-paris-vpn-discovery": paris_vpn_discovery,
        "ml-cloudtrail-denied-enumeration": denied_enumeration,
        "ml-cloudtrail-console-password-guessing": password_guessing,
        "ml-cloudtrail-mining-unused-region": mining_region,
        "ml-cloudtrail-usual-day": usual,
        "incident-waf-ssrf-lateral-movement": capital_one,
        "incident-snapshot-exfiltration": snapshot_exfiltration,
    }


def waf_history_like(r: Recorder, at: datetime, ip: str) -> None:
    """Two half-hours of the WAF role's usual calls from ``ip``."""
    for k in range(2):
        ts = at + timedelta(minutes=30 * k, seconds=r.rng.randint(0, 600))
        r.add(ts, WAF, "UpdateInstanceInformation", ip=ip, ua=UA["ssm"], request={"instanceId": WAF.session, "agentVersion": "3.3.40.0", "platformType": "Linux"})
        r.add(ts + timedelta(seconds=3), WAF, "ListInstanceAssociations", ip=ip, ua=UA["ssm"], request={"instanceId": WAF.session, "maxResults": 20})
        r.add(ts + timedelta(seconds=40), WAF, "PutObject", ip=ip, ua=UA["waf"], request={"bucketName": f"waf-logs-{ACCOUNT}", "key": f"AWSLogs/{ACCOUNT}/WAFLogs/late-{k}.log.gz"})


def capital_one(r: Recorder) -> None:
    """The Capital One pattern, CloudTrail side (the host side is ECS NDJSON written by
    generators/gen_imds_events.py): 02:14 the metadata service hands out the WAF role's credentials;
    from 03:05 they are used from a VPN exit (who am I, ListBuckets), from 03:40 from a Tor exit
    (ListObjects/GetObject across every bucket, most denied)."""
    day = ATTACK_DAY
    usual_day(r)
    stolen_waf_listing(r, day + timedelta(hours=3, minutes=5), IP["vpn"])
    collection_with_denials(r, day + timedelta(hours=3, minutes=40), IP["tor"])


def snapshot_exfiltration(r: Recorder) -> None:
    """An EBS snapshot made and shared with a foreign account by a stolen key of alice's,
    from a rented VPS: CreateSnapshot, then ModifySnapshotAttribute adding createVolumePermission
    for the attacker's account (T1537)."""
    day = ATTACK_DAY
    usual_day(r)
    t = day + timedelta(hours=2, minutes=31)
    ip = IP["hosting"]
    r.add(t, ALICE, "DescribeInstances", ip=ip, ua=UA["attacker"], region="eu-west-3")
    r.add(t + timedelta(minutes=1), ALICE, "CreateSnapshot", ip=ip, ua=UA["attacker"], region="eu-west-3",
          request={"volumeId": "vol-0c4f2a1e9b8d7c6b5", "description": "backup"},
          response={"snapshotId": "snap-0e1d2c3b4a5968776", "volumeId": "vol-0c4f2a1e9b8d7c6b5", "status": "pending", "ownerId": ACCOUNT})
    r.add(t + timedelta(minutes=9), ALICE, "DescribeSnapshots", ip=ip, ua=UA["attacker"], region="eu-west-3",
          request={"snapshotSet": {"items": [{"snapshotId": "snap-0e1d2c3b4a5968776"}]}})
    r.add(t + timedelta(minutes=10), ALICE, "ModifySnapshotAttribute", ip=ip, ua=UA["attacker"], region="eu-west-3",
          request={"snapshotId": "snap-0e1d2c3b4a5968776", "attributeType": "CREATE_VOLUME_PERMISSION",
                   "createVolumePermission": {"add": {"items": [{"userId": FOREIGN_ACCOUNT}]}}},
          response={"_return": True})


# ------------------------------------------------------------------ output


def encode(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(rec, separators=(",", ":"), ensure_ascii=False) + "\n" for rec in records).encode("utf-8")


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def outputs() -> dict[Path, bytes]:
    """Every file this script owns, path -> bytes."""
    out = {ROOT / "scenarios" / "_data" / "cloudtrail" / "org-history.ndjson.gz": gzip_bytes(encode(history()))}
    for i, (folder, writer) in enumerate(sorted(scenario_events().items())):
        r = Recorder(random.Random(1000 + i))
        writer(r)
        out[ROOT / "scenarios" / folder / "cloudtrail.ndjson"] = encode(r.sorted())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the CloudTrail events of the anomaly-detection scenarios.")
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed file differs from what the script makes")
    args = parser.parse_args(argv)
    stale = []
    for path, data in outputs().items():
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if stale:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run python generators/gen_ct_scenarios.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
