"""Findings: what a backend reports, in Elastic's own shapes.

An ``Alert`` wraps a document shaped like a Kibana alert (``kibana.alert.rule.rule_id``,
``kibana.alert.rule.name``, ``kibana.alert.severity``, ``kibana.alert.risk_score``,
``kibana.alert.original_time`` plus the source event's fields). An ``Anomaly`` wraps a
document shaped like an Elasticsearch ML record result (``job_id``, ``result_type:
record``, ``timestamp`` in epoch ms, ``bucket_span``, ``function``, ``by_field_*``,
``partition_field_*``, ``over_field_*``, ``record_score``, ``initial_record_score``,
``probability``, ``influencers``, ``actual``, ``typical``). Users can index either beside
real ones; the typed attributes exist for ranking, filtering and scenario checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
