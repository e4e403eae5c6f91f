"""Small builders shared by the engine tests (not a test module)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ctdetect.content.model import Located, NewTermsSpec, Rule, ThresholdSpec

BASE = datetime(2026, 3, 2, 10, 0, 0, tzinfo=timezone.utc)


def at(minutes: float = 0, seconds: float = 0) -> str:
    """ISO time ``minutes`` after BASE, as Elasticsearch writes it."""
    t = BASE + timedelta(minutes=minutes, seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def ev(minutes: float, action: str, **fields: Any) -> dict:
    """A flat ECS CloudTrail-ish event at BASE + minutes."""
    doc = {
        "@timestamp": at(minutes),
        "event.action": action,
        "event.provider": fields.pop("provider", "iam.amazonaws.com"),
        "event.dataset": "aws.cloudtrail",
        "data_stream.dataset": "aws.cloudtrail",
        "event.outcome": fields.pop("outcome", "success"),
        "event.category": fields.pop("category", ["iam"]),
    }
    for key, value in fields.items():
        doc[key.replace("__", ".")] = value
    return doc


def rule(rtype: str = "query", query: str | None = "event.action:CreateUser", **kw: Any) -> Rule:
    language = kw.pop("language", "eql" if rtype == "eql" else ("kuery" if query is not None else None))
    rule_id = kw.pop("rule_id", str(uuid.uuid4()))
    name = kw.pop("name", f"test {rtype} rule")
    threshold = kw.pop("threshold", None)
    new_terms = kw.pop("new_terms", None)
    raw = {"rule": {"rule_id": rule_id, "name": name, "type": rtype, "threat": []}, "metadata": {}}
    r = Rule(
        source=Located(Path(f"/tmp/{name}.toml")),
        raw=raw,
        rule_id=rule_id,
        name=name,
        type=rtype,
        language=language,
        query=query,
        severity=kw.pop("severity", "high"),
        risk_score=kw.pop("risk_score", 73),
        from_=kw.pop("from_", "now-6m"),
        interval=kw.pop("interval", "5m"),
        max_signals=kw.pop("max_signals", 100),
        index=kw.pop("index", ["logs-aws.cloudtrail-*", "filebeat-*"]),
        **kw,
    )
    if threshold is not None:
        fields, value, *card = threshold
        r.threshold = ThresholdSpec(field=list(fields), value=value, cardinality=list(card[0]) if card else [])
    if new_terms is not None:
        fields, window = new_terms
        r.new_terms = NewTermsSpec(fields=list(fields), history_window_start=window)
    return r
