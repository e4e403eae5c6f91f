"""Findings: what a backend reports, in Elastic's own shapes.

An ``Alert`` wraps a document shaped like a Kibana alert (``kibana.alert.rule.rule_id``,
``kibana.alert.rule.name``, ``kibana.alert.severity``, ``kibana.alert.risk_score``,
``kibana.alert.original_time`` plus the source event's fields). An ``Anomaly`` wraps a
document shaped like an Elasticsearch ML record result (``job_id``, ``result_type:
record``, ``timestamp`` in epoch ms, ``bucket_span``, ``function``, ``by_field_*``,
``partition_field_*``, ``over_field_*``, ``record_score``, ``initial_record_score``,
``probability``, ``influencers``, ``actual``, ``typical``). Users can index either beside
real ones; the typed attributes exist for ranking, filtering and scenario checks.

Findings are made here and nowhere else, one constructor per kind, so every engine and
backend fills the typed attributes the same way: ``alert_finding(rule, ...)`` and
``anomaly_finding(record, job_id)`` (a test forbids ``Finding(`` elsewhere in the package).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ctdetect.timeutil import to_datetime


@dataclass(slots=True)
class Finding:
    kind: str  # "alert" | "anomaly"
    source_id: str  # rule_id for alerts, job_id for anomalies
    name: str  # rule name, or job id
    timestamp: datetime  # event time (alerts: original time), bucket start (anomalies)
    score: float  # alerts: risk_score; anomalies: record_score
    document: dict[str, Any]  # the Elastic-shaped document (nested, as indexed)
    entity: dict[str, Any] = field(default_factory=dict)  # flat field -> value, for matching and display
    # companion documents written with this one: the building-block alerts of an EQL
    # sequence's shell alert (Kibana writes one per event of the sequence)
    related: list[dict[str, Any]] = field(default_factory=list)

    def get(self, dotted: str) -> Any:
        """Read a dotted field from ``entity`` first, then from the nested document."""
        if dotted in self.entity:
            return self.entity[dotted]
        node: Any = self.document
        for part in dotted.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, dict) and dotted in node:
                return node[dotted]
            else:
                return None
        return node


class RuleIdentity(Protocol):
    """What an alert needs of its rule (``content.model.Rule`` has it)."""

    rule_id: str
    name: str
    risk_score: Any


def alert_finding(
    rule: RuleIdentity,
    when: datetime | int,
    document: dict[str, Any],
    entity: dict[str, Any],
    *,
    score: float | None = None,
    related: list[dict[str, Any]] | None = None,
) -> Finding:
    """An alert of ``rule``: ``when`` is the original event time (datetime or epoch ms),
    ``document`` the nested alert document; the score is the rule's ``risk_score`` unless
    the document carries its own (``score``, e.g. an alert read back from Kibana)."""
    return Finding(
        kind="alert",
        source_id=rule.rule_id,
        name=rule.name,
        timestamp=when if isinstance(when, datetime) else to_datetime(when),
        score=float(rule.risk_score or 0) if score is None else float(score),
        document=document,
        entity=entity,
        related=related if related is not None else [],
    )


def anomaly_finding(record: dict[str, Any], job_id: str) -> Finding:
    """An ML record result (Elasticsearch's shape, ``timestamp`` in epoch ms) as a finding of ``job_id``.

    The entity is what a scenario or a reader matches on: the partition, by and over
    field values, then the first value of each influencer. ``record`` itself is the
    document (not copied: the embedded engine renormalises scores in place until it ends).
    """
    entity: dict[str, Any] = {}
    for kind in ("partition", "by", "over"):
        name = record.get(f"{kind}_field_name")
        value = record.get(f"{kind}_field_value")
        if name and value is not None:
            entity[name] = value
    for infl in record.get("influencers") or []:
        values = infl.get("influencer_field_values") or []
        if values:
            entity.setdefault(infl.get("influencer_field_name"), values[0])
    return Finding(
        kind="anomaly",
        source_id=job_id,
        name=job_id,
        timestamp=to_datetime(int(record["timestamp"])),
        score=float(record.get("record_score", 0.0)),
        document=record,
        entity=entity,
    )
