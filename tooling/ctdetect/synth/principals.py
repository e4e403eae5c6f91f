"""The principals of a synthetic account and their habits, built once from the seed.

Every principal carries precomputed *templates*: everything of a CloudTrail record that
does not change from one call to the next (source, name, region, agent, request and
response objects, TLS details, the error codes it may get). The generator then only
adds time, ids, source address and identity per event, which keeps it fast.

Kinds:

- ``human``: an IAM user (or an SSO role session) with a persona (developer,
  operations, security, analyst) from which a stable small set of habits is drawn, a
  home city from the default GeoIP table (its time zone sets the working hours), a
  console/CLI preference, and a region near home.
- ``role``: an EC2 instance-profile role or a Lambda execution role, calling from the
  AWS ranges of its region around the clock.
- ``service``: the AWS service itself (``AWSService``) assuming those roles
  (``ec2.amazonaws.com`` / ``lambda.amazonaws.com`` ``AssumeRole``), about hourly.
- ``root``: a weekly console login with MFA and a few billing reads (optional).
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from typing import Any

from ctdetect.synth.catalog import (
    ACTIONS,
    BROWSERS,
    CLI_AGENTS,
    CONTINENT_REGION,
    FIRST_NAMES,
    LAST_NAMES,
    PERSONAS,
    REGION_CITY,
    SERVICE_AGENTS,
    SERVICE_ROLES,
    SSM_AGENT,
    TZ_OFFSETS,
    Action,
)
from ctdetect.synth.params import SynthParams
from ctdetect.synth.records import tls_details

EVENT_VERSION = "1.09"
HOURS_PER_WEEK = 168


@dataclass(slots=True)
class Template:
    """The constant part of one kind of call by one principal."""

    source: str
    name: str
    region: str
    agent: str
    request: Any
    response: Any
    read_only: bool
    tls: dict[str, str]
    errors: tuple[tuple[str, str], ...]
    error_rate: float
    console: bool = False
    event_type: str = "AwsApiCall"
    resources: list[dict[str, str]] | None = None
    make: Any = None  # its synth.records maker, set by the generator on first use


@dataclass(slots=True)
class Principal:
    """One actor. ``profile[h]``: expected events in UTC hour-of-week ``h`` (Monday 00 = 0)."""

    index: int
    kind: str
    name: str
    tz_offset: float
    home: Any  # GeoEntry
    ips: list[str]
    identity_base: dict[str, Any]
    templates: list[Template]
    cumulative: list[float]
    profile: list[float] = field(default_factory=list)
    can_login: bool = False
    mfa_arn: str | None = None
    session_ip: str = ""
    # per-day state (see Generator.roll_day)
    day: int = -1
    identity: dict[str, Any] | None = None
    console_identity: dict[str, Any] | None = None
    need_login: bool = False


def _hex_id(rng: random.Random, prefix: str, length: int = 17) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(alphabet[rng.getrandbits(5)] for _ in range(length))


def _host(rng: random.Random, network: str) -> str:
    net = ipaddress.ip_network(network)
    span = min(net.num_addresses - 2, 250)
    return str(net.network_address + 1 + rng.randrange(span))


def _fill(value: Any, values: dict[str, str]) -> Any:
    """Replace ``{placeholders}`` in every string of a request-parameter template."""
    if isinstance(value, str):
        return value.format(**values) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def _kebab(name: str) -> str:
    out = []
    for i, ch in enumerate(name.rstrip("0123456789v")):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


def _tls(action: Action, region: str) -> dict[str, str]:
    host = f"{action.service}.amazonaws.com" if action.global_service else f"{action.service}.{region}.amazonaws.com"
    return tls_details(host)


def _weekday_profile(tz_offset: float, weekend: float = 0.04) -> list[float]:
    """Working-hours activity in UTC hour-of-week, normalised to a mean of 1 per hour."""
    local = []
    for h in range(HOURS_PER_WEEK):
        day, hour = divmod(h, 24)
        if 9 <= hour < 12 or 13 <= hour < 18:
            w = 1.0
        elif hour == 12:
            w = 0.5
        elif hour in (8, 18):
            w = 0.35
        elif 19 <= hour <= 22 or hour == 7:
            w = 0.04
        else:
            w = 0.005
        local.append(w * (weekend if day >= 5 else 1.0))
    shift = int(round(tz_offset))
    utc = [local[(h + shift) % HOURS_PER_WEEK] for h in range(HOURS_PER_WEEK)]
    mean = sum(utc) / HOURS_PER_WEEK
    return [w / mean for w in utc]


def _flat_profile(rng: random.Random) -> list[float]:
    """Around the clock, with a mild daily wave and a nightly batch hour."""
    batch_hour = rng.randrange(24)
    prof = [1.0 + (0.6 if h % 24 == batch_hour else 0.0) + 0.15 * ((h % 24) in range(8, 20)) for h in range(HOURS_PER_WEEK)]
    mean = sum(prof) / HOURS_PER_WEEK
    return [w / mean for w in prof]


def build_principals(params: SynthParams) -> list[Principal]:
    """All principals for ``params``, deterministic for its seed."""
    from ctdetect.geoip import default_table

    rng = random.Random(f"ctdetect-synth/{params.seed}/principals")
    table = default_table()
    homes = [e for e in table if e.kind in ("office", "home")]
    aws = {e.city: e for e in table if e.kind == "aws"}
    n_roles = 0 if params.principals < 2 else max(1, round(params.principals * 0.4))
    n_humans = params.principals - n_roles
    epd = float(params.events_per_day)

    principals: list[Principal] = []
    used_names: set[str] = set()
    activities: list[float] = []
    for _ in range(n_humans):
        while True:
            name = f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}"
            if name not in used_names:
                break
            name = f"{name}{rng.randrange(2, 99)}"
            if name not in used_names:
                break
        used_names.add(name)
        principals.append(_human(rng, len(principals), name, homes, aws, params))
        activities.append(rng.lognormvariate(0.0, 0.6))
    for i in range(n_roles):
        kind = ("ec2-app", "lambda", "ec2-batch")[i % 3]
        principals.append(_role(rng, len(principals), kind, i, aws, params))

    fixed = 0.0
    services: list[Principal] = []
    for role in [p for p in principals if p.kind == "role"]:
        services.append(_service(rng, len(principals) + len(services), role, params))
    per_service = min(24.0, 0.05 * epd / max(1, len(services))) if services else 0.0
    fixed += per_service * len(services)
    root = _root(rng, len(principals) + len(services), homes[0], params) if params.include_root else None
    if root is not None:
        fixed += 4.0 / 7.0

    budget = max(epd - fixed, epd * 0.5)
    human_budget = budget * (0.55 if n_roles else 1.0)
    role_budget = budget - human_budget
    total_activity = sum(activities) or 1.0
    for p, act in zip([p for p in principals if p.kind == "human"], activities, strict=True):
        _scale(p, human_budget * act / total_activity)
    for p in principals:
        if p.kind == "role":
            _scale(p, role_budget / n_roles)
    for s in services:
        _scale(s, per_service)
    principals.extend(services)
    if root is not None:
        _scale(root, 4.0 / 7.0)
        principals.append(root)
    return principals


def _scale(p: Principal, per_day: float) -> None:
    p.profile = [w * per_day / 24.0 for w in p.profile]


def _human(rng: random.Random, index: int, name: str, homes: list[Any], aws: dict[str, Any], params: SynthParams) -> Principal:
    account, org = params.account_id, params.org
    home = rng.choice(homes)
    tz = TZ_OFFSETS.get(home.time_zone, 0)
    region = rng.choice(CONTINENT_REGION.get(home.continent_code, ("us-east-1",)))
    persona = rng.choice(sorted(PERSONAS))
    sso = rng.random() < 0.25
    console_share = rng.choice((0.0, 0.2, 0.5, 0.8))
    if sso:
        role_name = f"AWSReservedSSO_{persona.capitalize()}_{rng.getrandbits(64):016x}"
        session = f"{name}@{org}.example"
        arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"
        role_id = _hex_id(rng, "AROA")
        identity = {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": arn,
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": role_id,
                                  "arn": f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{role_name}",
                                  "accountId": account, "userName": role_name},
                "webIdFederationData": {},
                "attributes": {"creationDate": "", "mfaAuthenticated": "false"},
            },
        }
    else:
        arn = f"arn:aws:iam::{account}:user/{name}"
        identity = {"type": "IAMUser", "principalId": _hex_id(rng, "AIDA"), "arn": arn, "accountId": account,
                    "userName": name}
    cli_agent = rng.choice(CLI_AGENTS)
    browser = rng.choice(BROWSERS)
    pool = PERSONAS[persona]
    habits = rng.sample(pool, k=min(len(pool), rng.randint(5, 9)))
    values = {"org": org, "account": account, "region": region, "user": name, "role": f"{org}-app-role",
              "instance": f"i-{rng.getrandbits(68):017x}", "function": f"{org}-{rng.choice(('orders', 'billing', 'auth'))}-handler"}
    templates: list[Template] = []
    weights: list[float] = []
    for rank, key in enumerate(habits):
        action = ACTIONS[key]
        habit_weight = 1.0 / (rank + 1) ** 0.8
        act_region = "us-east-1" if action.global_service else region
        errors = tuple((code, msg.format(arn=arn, service=action.service, action=action.name, resource=action.source, user=name, role=values["role"], org=org))
                       for code, msg in action.errors) or (("AccessDenied", f"User: {arn} is not authorized to perform: {action.service}:{action.name}"),)
        error_rate = action.error_rate + 0.004
        for variant in action.variants:
            request = _fill(variant, values)
            for console in (False, True):
                share = console_share if console else 1.0 - console_share
                if share <= 0:
                    continue
                agent = browser if console else cli_agent.format(command=f"{action.service}.{_kebab(action.name)}", service=action.service)
                templates.append(Template(action.source, action.name, act_region, agent, request, action.response,
                                          action.read_only, _tls(action, act_region), errors, error_rate, console=console))
                weights.append(habit_weight * share / len(action.variants))
    ip_entry = home
    ips = [_host(rng, ip_entry.network), _host(rng, ip_entry.network)]
    p = Principal(index, "human", name, tz, home, ips, identity, templates, _cumulative(weights),
                  profile=_weekday_profile(tz), can_login=(not sso and console_share > 0),
                  mfa_arn=f"arn:aws:iam::{account}:mfa/{name}")
    return p


def _role(rng: random.Random, index: int, kind: str, number: int, aws: dict[str, Any], params: SynthParams) -> Principal:
    account, org = params.account_id, params.org
    region = ("us-east-1", "eu-west-1", "eu-west-3", "eu-north-1")[number % 4]
    entry = aws[REGION_CITY[region]]
    role_name = {"ec2-app": f"{org}-web-ec2-role-{number}", "ec2-batch": f"{org}-batch-ec2-role-{number}",
                 "lambda": f"{org}-fn-role-{number}"}[kind]
    instance = f"i-{rng.getrandbits(68):017x}"
    function = f"{org}-fn-{number}"
    session = function if kind == "lambda" else instance
    role_id = _hex_id(rng, "AROA")
    identity = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": f"arn:aws:iam::{account}:role/{role_name}",
                              "accountId": account, "userName": role_name},
            "webIdFederationData": {},
            "attributes": {"creationDate": "", "mfaAuthenticated": "false"},
        },
    }
    if kind != "lambda":
        identity["sessionContext"]["ec2RoleDelivery"] = "2.0"
    values = {"org": org, "account": account, "region": region, "user": role_name, "role": role_name,
              "instance": instance, "function": function}
    arn = identity["arn"]
    templates: list[Template] = []
    weights: list[float] = []
    for key, weight in SERVICE_ROLES[kind]:
        action = ACTIONS[key]
        act_region = "us-east-1" if action.global_service else region
        agent = SSM_AGENT if key == "ssm:UpdateInstanceInformation" else SERVICE_AGENTS[kind]
        errors = tuple((code, msg.format(arn=arn, service=action.service, action=action.name, resource=action.source, user=role_name, role=role_name, org=org))
                       for code, msg in action.errors) + (("ThrottlingException", "Rate exceeded"),)
        for variant in action.variants:
            templates.append(Template(action.source, action.name, act_region, agent, _fill(variant, values), action.response,
                                      action.read_only, _tls(action, act_region), errors, action.error_rate + 0.002))
            weights.append(weight / len(action.variants))
    ips = [_host(rng, entry.network)]
    p = Principal(index, "role", role_name, 0, entry, ips, identity, templates, _cumulative(weights),
                  profile=_flat_profile(rng))
    p.session_ip = session
    return p


def _service(rng: random.Random, index: int, role: Principal, params: SynthParams) -> Principal:
    """``AWSService`` refreshing a role's credentials (``sts:AssumeRole``)."""
    account = params.account_id
    invoker = "lambda.amazonaws.com" if "-fn-" in role.name else "ec2.amazonaws.com"
    role_arn = role.identity_base["sessionContext"]["sessionIssuer"]["arn"]
    session = role.session_ip
    role_id = role.identity_base["sessionContext"]["sessionIssuer"]["principalId"]
    region = role.templates[0].region
    response = {
        "credentials": {"accessKeyId": _hex_id(rng, "ASIA", 16), "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE",
                        "expiration": "Mar 1, 2026, 6:00:00 PM"},
        "assumedRoleUser": {"assumedRoleId": f"{role_id}:{session}",
                            "arn": f"arn:aws:sts::{account}:assumed-role/{role.name}/{session}"},
    }
    template = Template("sts.amazonaws.com", "AssumeRole", region, invoker,
                        {"roleArn": role_arn, "roleSessionName": session}, response, True,
                        {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                         "clientProvidedHostHeader": f"sts.{region}.amazonaws.com"},
                        (), 0.0, resources=[{"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}])
    identity = {"type": "AWSService", "invokedBy": invoker}
    prof = [1.0] * HOURS_PER_WEEK
    return Principal(index, "service", invoker, 0, role.home, [invoker], identity, [template], [1.0], profile=prof)


def _root(rng: random.Random, index: int, home: Any, params: SynthParams) -> Principal:
    account = params.account_id
    tz = TZ_OFFSETS.get(home.time_zone, 0)
    identity = {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root", "accountId": account}
    browser = BROWSERS[0]
    templates = []
    for key in ("ce:GetCostAndUsage", "iam:GetAccountSummary"):
        action = ACTIONS[key]
        templates.append(Template(action.source, action.name, "us-east-1", browser, _fill(action.variants[0], {}),
                                  action.response, action.read_only, _tls(action, "us-east-1"), (), 0.0, console=True))
    # Monday 10:00 local, one hour a week
    prof = [0.0] * HOURS_PER_WEEK
    prof[int((10 - round(tz)) % HOURS_PER_WEEK)] = float(HOURS_PER_WEEK)  # mean 1 per hour
    return Principal(index, "root", "root", tz, home, [_host(rng, home.network)], identity, templates, _cumulative([1.0, 1.0]),
                     profile=prof, can_login=True, mfa_arn=f"arn:aws:iam::{account}:mfa/root-account-mfa-device")


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out
