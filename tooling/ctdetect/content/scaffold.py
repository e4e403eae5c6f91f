"""New content, ready to edit: the files ``ctdetect init`` and ``ctdetect new`` write.

Why a scaffold rather than a page of instructions: a rule is only done when it has a
playbook (its ``note`` is generated from it), a scenario where it must fire and one where it
must stay silent, a fresh UUID and Elastic's file layout. Writing those five files by hand
took a newcomer ten minutes of reading; here they come out consistent, passing ``validate``,
``fmt --check`` and ``replay`` as written, so the author only changes what the rule is about.

This module builds file texts (``Scaffold``: relative path -> text) and writes nothing;
``services.scaffold`` puts them on disk. Texts come from ``data/templates`` (``$name``
placeholders, ``string.Template``); rule files are built as documents and written by
``rule_format.dump_rule``, the same writer as ``ctdetect fmt``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from string import Template
from typing import Any

from ctdetect import __version__
from pathlib import Path

from ctdetect.content.playbooks import note_text, parse_playbook
from ctdetect.content.rule_format import dump_rule

DEFAULT_PROVIDER = "s3.amazonaws.com"
DEFAULT_ACTION = "DeleteBucket"
AWS_INDICES = ["filebeat-*", "logs-aws.cloudtrail-*"]
CLOUDTRAIL_TAGS = [
    "Domain: Cloud",
    "Data Source: AWS",
    "Data Source: Amazon Web Services",
    "Data Source: AWS CloudTrail",
    "Use Case: Threat Detection",
    "Resources: Investigation Guide",
]
KINDS = ("rule", "job", "hunt")


class ScaffoldError(ValueError):
    """A name or option the scaffold cannot make content from."""


@dataclass(slots=True)
class Scaffold:
    """Files to write, by path relative to the package root, and what they are for people."""

    files: dict[str, str] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    def add(self, other: "Scaffold") -> None:
        self.files.update(other.files)
        self.summary.extend(other.summary)


def slug(name: str, sep: str = "_") -> str:
    """``"S3 Bucket Deleted!"`` -> ``s3_bucket_deleted``: file names and ids from a title."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    if not words:
        raise ScaffoldError(f"{name!r} has no letters or digits to name files after")
    return sep.join(words)


def _fill(kind: str, template: str, **values: str) -> str:
    """``data/templates/<kind>/<template>`` with its ``$placeholders`` filled (all must be given)."""
    text = resources.files("ctdetect").joinpath("data", "templates", kind, template).read_text(encoding="utf-8")
    return Template(text).substitute(values)


def _note(playbook_text: str) -> str:
    """The rule ``note`` a playbook gives: its body after the front matter, trimmed, one final newline
    (what ``playbooks sync`` writes)."""
    playbook = parse_playbook(Path("playbook.md"), playbook_text, [])
    assert playbook is not None, "the playbook templates have front matter"
    return note_text(playbook)


def _today() -> str:
    return date.today().strftime("%Y/%m/%d")


def _rule_document(name: str, rule_id: str, note: str, rule: dict[str, Any]) -> dict[str, Any]:
    """The fields every scaffolded rule has, Elastic's conventions included (``validate``'s ``elastic.*``)."""
    today = _today()
    table = {
        "author": ["ctdetect new"],
        "from": "now-9m",
        "interval": "5m",
        "license": "Apache-2.0",
        "name": name,
        "note": note,
        "risk_score": 47,
        "rule_id": rule_id,
        "severity": "medium",
        "tags": list(CLOUDTRAIL_TAGS),
        **rule,
    }
    return {
        "metadata": {"creation_date": today, "integration": ["aws"], "maturity": "development", "updated_date": today},
        "rule": table,
    }


def new_rule(name: str, *, provider: str = DEFAULT_PROVIDER, action: str = DEFAULT_ACTION) -> Scaffold:
    """A query rule firing on successful ``action`` calls to ``provider``, its playbook and two scenarios."""
    if not re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com", provider):
        raise ScaffoldError(f"--provider {provider!r} is not a CloudTrail event source such as s3.amazonaws.com")
    if not re.fullmatch(r"[A-Za-z0-9]+", action):
        raise ScaffoldError(f"--action {action!r} is not a CloudTrail event name such as DeleteBucket")
    stem = slug(name)
    rule_id = str(uuid.uuid4())
    values = {"name": name, "rule_id": rule_id, "provider": provider, "action": action}
    playbook = _fill("rule", "playbook.md", **values)
    query = f"event.dataset:aws.cloudtrail and event.provider:{provider} and event.action:{action} and event.outcome:success"
    doc = _rule_document(
        name,
        rule_id,
        _note(playbook),
        {
            "description": f"A successful {action} call to {provider}. Scaffolded by ctdetect new rule: say what the rule "
            "finds, why it matters and what it misses.",
            "false_positives": [f"Planned {action} calls by the administrators or pipelines that own {provider}."],
            "index": list(AWS_INDICES),
            "language": "kuery",
            "timestamp_override": "event.ingested",
            "type": "query",
            "query": query,
        },
    )
    out = Scaffold()
    out.files[f"rules/{stem}.toml"] = dump_rule(doc)
    out.files[f"playbooks/{stem}.md"] = playbook
    for outcome in ("fires", "silent"):
        scenario = f"rule-{slug(name, '-')}-{outcome}"
        out.files[f"scenarios/{scenario}/scenario.toml"] = _fill("rule", f"scenario-{outcome}.toml", scenario=scenario, **values)
        out.files[f"scenarios/{scenario}/events.ndjson"] = _fill(
            "rule", f"events-{outcome}.ndjson", event_id_fires=_event_id(), event_id_denied=_event_id(),
            event_id_other=_event_id(), **values,
        )
    out.summary.append(f"rule {name!r} (rule_id {rule_id}): rules/{stem}.toml, playbooks/{stem}.md, two scenarios")
    return out


def new_job(name: str) -> Scaffold:
    """An anomaly-detection job (rare region per account) with its datafeed, the
    ``machine_learning`` rule alerting on it, its playbook and two scenarios."""
    stem = slug(name)
    job_id = stem
    rule_id = str(uuid.uuid4())
    values = {"name": name, "rule_id": rule_id, "job_id": job_id}
    playbook = _fill("job", "playbook.md", **values)
    doc = _rule_document(
        name,
        rule_id,
        _note(playbook),
        {
            "anomaly_threshold": 50,
            "description": f"The anomaly-detection job {job_id} scored an anomaly of at least 50. Scaffolded by ctdetect "
            "new job: say what the job finds, why it matters and what it misses.",
            "false_positives": ["A team starting work in a new region, or a disaster-recovery test."],
            "from": "now-2h",
            "interval": "15m",
            "machine_learning_job_id": [job_id],
            "type": "machine_learning",
        },
    )
    out = Scaffold()
    out.files[f"ml_jobs/{job_id}.json"] = _fill("job", "job.json", **values)
    out.files[f"datafeeds/datafeed-{job_id}.json"] = _fill("job", "datafeed.json", **values)
    out.files[f"rules/ml/{stem}.toml"] = dump_rule(doc)
    out.files[f"playbooks/{stem}.md"] = playbook
    for outcome in ("fires", "silent"):
        scenario = f"ml-{slug(name, '-')}-{outcome}"
        out.files[f"scenarios/{scenario}/scenario.toml"] = _fill("job", f"scenario-{outcome}.toml", scenario=scenario, **values)
    ids = {f"event_id_{i}": _event_id() for i in range(3)}
    out.files[f"scenarios/ml-{slug(name, '-')}-fires/events.ndjson"] = _fill("job", "events-fires.ndjson", **ids)
    out.summary.append(
        f"job {job_id} with its datafeed, rule {name!r} (rule_id {rule_id}) in rules/ml/{stem}.toml, playbooks/{stem}.md, two scenarios"
    )
    return out


def new_hunt(name: str, *, provider: str = DEFAULT_PROVIDER, action: str = DEFAULT_ACTION) -> Scaffold:
    """A hunting query (a Kibana saved query once deployed)."""
    stem = slug(name, "-")
    hunt_id = f"ctdetect-hunt-{stem}"
    out = Scaffold()
    out.files[f"playbooks/hunting/{stem}.toml"] = _fill("hunt", "hunt.toml", name=name, hunt_id=hunt_id, provider=provider, action=action)
    out.summary.append(f"hunting query {hunt_id}: playbooks/hunting/{stem}.toml")
    return out


def new_repository(title: str, *, example: bool = True) -> Scaffold:
    """A content repository: README, CI workflow, pre-commit hooks, .gitignore, the content
    folders, and (``example``) one example rule with its playbook and scenarios."""
    values = {"title": title, "version": __version__}
    out = Scaffold()
    out.files["README.md"] = _fill("repo", "README.md", **values)
    out.files[".gitignore"] = _fill("repo", "gitignore", **values)
    out.files[".github/workflows/ctdetect.yml"] = _fill("repo", "github-workflow.yml", **values)
    out.files[".pre-commit-config.yaml"] = _fill("repo", "pre-commit-config.yaml", **values)
    out.summary.append("README.md, .github/workflows/ctdetect.yml (validate, fmt --check, replay), .pre-commit-config.yaml")
    if example:
        out.add(new_rule("Example S3 Bucket Deleted"))
    return out


def _event_id() -> str:
    return str(uuid.uuid4())
