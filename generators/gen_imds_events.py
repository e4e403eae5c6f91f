"""Deterministic generator of host connections to the instance metadata service (IMDS).

Why: the metadata-service anomaly jobs read ECS network events (Elastic Defend
``endpoint.events.network`` and Auditd Manager), not CloudTrail, so ``ctdetect.synth`` cannot
give them a history. Their scenarios need one long enough for a ``rare`` model (at least 20
buckets; several days of 15-minute buckets so that a never-seen value gets a probability low
enough to score): this script writes that history as committed NDJSON, the same bytes for the
same arguments.

What it writes: one nested ECS document per connection to 169.254.169.254:80, shaped like the
Elastic Defend network event (``event.category: network``, ``event.type: start``,
``destination.ip``, ``process.*``, ``user.name``, ``host.*``). Each *profile* line names a
process, its user, and its mean interval between calls; calls jitter around that interval, as
agents that poll on a timer do.

Usage (the scenarios' files were made with these commands)::

    python generators/gen_imds_events.py baseline --os linux --start 2026-03-01T00:00:00Z --days 15 \
        --hosts waf-1,app-2 --seed 11 --output scenarios/_data/imds/linux-baseline.ndjson.gz
    python generators/gen_imds_events.py baseline --os windows --start 2026-03-01T00:00:00Z --days 15 \
        --hosts win-iis-1,win-dc-2 --seed 12 --output scenarios/_data/imds/windows-baseline.ndjson.gz
    python generators/gen_imds_events.py event --os linux --at 2026-03-16T02:14:07Z --host waf-1 \
        --process curl --executable /usr/bin/curl --user www-data --pid 31337

The scenarios' small attack files (``events.ndjson``, ``host.ndjson``) were made with ``event``
lines like the last one, one per connection.

Documents are written in time order. An output path ending in ``.gz`` is gzip-compressed with
a zero timestamp, so the bytes stay the same from run to run.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator, TextIO

IMDS_IP = "169.254.169.254"


@dataclass(frozen=True, slots=True)
class Profile:
    """A process that calls the metadata service on a timer."""

    process: str
    executable: str
    user: str
    every_minutes: float  # mean interval between calls
    hours: tuple[int, int] = (0, 24)  # active hours (UTC), start inclusive, end exclusive


# What normally queries the metadata service. Linux: the SSM agent (credentials refresh),
# the CloudWatch agent (instance identity), the ECS agent on container hosts, and cloud-init's
# hourly check. Windows: the SSM agent, EC2Launch and the CloudWatch agent, all as SYSTEM.
PROFILES: dict[str, list[Profile]] = {
    "linux": [
        Profile("amazon-ssm-agent", "/usr/bin/amazon-ssm-agent", "root", 20),
        Profile("amazon-cloudwatch-agent", "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent", "cwagent", 30),
        Profile("cloud-init", "/usr/bin/cloud-init", "root", 60),
        Profile("aws", "/usr/local/bin/aws", "ec2-user", 60, (7, 19)),
    ],
    "windows": [
        Profile("amazon-ssm-agent.exe", "C:\\Program Files\\Amazon\\SSM\\amazon-ssm-agent.exe", "SYSTEM", 20),
        Profile("EC2Launch.exe", "C:\\Program Files\\Amazon\\EC2Launch\\EC2Launch.exe", "SYSTEM", 60),
        Profile("amazon-cloudwatch-agent.exe", "C:\\Program Files\\Amazon\\AmazonCloudWatchAgent\\amazon-cloudwatch-agent.exe", "SYSTEM", 30),
        Profile("powershell.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "SYSTEM", 60, (2, 3)),
    ],
}

OS_FIELDS = {
    "linux": {"type": "linux", "family": "debian", "name": "Ubuntu", "platform": "ubuntu"},
    "windows": {"type": "windows", "family": "windows", "name": "Windows Server 2022 Datacenter", "platform": "windows"},
}


def parse_time(text: str) -> datetime:
    """ISO-8601 with a ``Z`` or offset; naive times are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def host_ip(host: str) -> str:
    """A stable private address per host name (documentation only: never contacted)."""
    total = sum(host.encode())
    return f"10.0.{total % 250 + 1}.{len(host) * 7 % 250 + 2}"


def document(os_name: str, ts: datetime, host: str, process: str, executable: str, user: str, pid: int) -> dict:
    """One Elastic Defend-shaped network connection event to the metadata service."""
    return {
        "@timestamp": iso(ts),
        "event": {
            "dataset": "endpoint.events.network",
            "module": "endpoint",
                        "category": ["network"],
            "type": ["start"],
            "action": "connection_attempted",
            "outcome": "unknown",
        },
        "host": {"name": host, "id": f"{host}-0001", "os": dict(OS_FIELDS[os_name])},
        "process": {"name": process, "executable": executable, "pid": pid},
        "user": {"name": user},
        "source": {"ip": host_ip(host)},
        "destination": {"ip": IMDS_IP, "port": 80},
        "network": {"transport": "tcp", "direction": "egress"},
    }


def baseline(os_name: str, hosts: list[str], start: datetime, days: int, seed: int) -> Iterator[dict]:
    """Every profile on every host, for ``days`` from ``start``, in time order."""
    rng = random.Random(seed)
    end = start + timedelta(days=days)
    pending: list[tuple[datetime, dict]] = []
    for host in hosts:
        for profile in PROFILES[os_name]:
            pid = rng.randrange(300, 30000)
            ts = start + timedelta(seconds=rng.uniform(0, profile.every_minutes * 60))
            while ts < end:
                if profile.hours[0] <= ts.hour < profile.hours[1]:
                    pending.append((ts, document(os_name, ts, host, profile.process, profile.executable, profile.user, pid)))
                ts += timedelta(seconds=profile.every_minutes * 60 * rng.uniform(0.8, 1.2))
    pending.sort(key=lambda pair: (pair[0], pair[1]["host"]["name"], pair[1]["process"]["name"]))
    for _, doc in pending:
        yield doc


def write(docs: Iterator[dict], out: TextIO) -> int:
    count = 0
    for doc in docs:
        out.write(json.dumps(doc, separators=(",", ":")) + "\n")
        count += 1
    return count


def write_path(docs: Iterator[dict], path: str) -> int:
    """Write to ``path`` (``-`` is stdout); ``.gz`` paths are gzip with mtime 0 (reproducible)."""
    if path == "-":
        return write(docs, sys.stdout)
    if path.endswith(".gz"):
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            with io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as text:
                return write(docs, text)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        return write(docs, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    base = sub.add_parser("baseline", help="a benign history of metadata-service calls")
    base.add_argument("--os", choices=sorted(PROFILES), required=True)
    base.add_argument("--start", required=True)
    base.add_argument("--days", type=int, required=True)
    base.add_argument("--hosts", required=True, help="comma-separated host names")
    base.add_argument("--seed", type=int, default=1)
    base.add_argument("--output", default="-", help="file to write (.gz: gzip); default stdout")
    one = sub.add_parser("event", help="one connection (an injected attack or benign event)")
    one.add_argument("--os", choices=sorted(PROFILES), required=True)
    one.add_argument("--at", required=True)
    one.add_argument("--host", required=True)
    one.add_argument("--process", required=True)
    one.add_argument("--executable", default="")
    one.add_argument("--user", required=True)
    one.add_argument("--pid", type=int, default=4242)
    args = parser.parse_args(argv)
    try:
        if args.mode == "baseline":
            if args.days <= 0:
                parser.error("--days must be positive")
            hosts = [h for h in args.hosts.split(",") if h]
            docs = baseline(args.os, hosts, parse_time(args.start), args.days, args.seed)
        else:
            executable = args.executable or args.process
            docs = iter([document(args.os, parse_time(args.at), args.host, args.process, executable, args.user, args.pid)])
    except ValueError as exc:
        print(f"gen_imds_events: {exc}", file=sys.stderr)
        return 2
    try:
        write_path(docs, getattr(args, "output", "-"))
    except OSError as exc:
        print(f"gen_imds_events: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
