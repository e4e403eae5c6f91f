"""``machine_learning`` rules: anomaly records of the named jobs become alerts.

Kibana semantics emulated: each execution searches the anomaly results of the rule's
``machine_learning_job_id`` jobs for ``record`` results in the window with a score at or
above ``anomaly_threshold``; each record becomes one alert carrying the record's fields
(``job_id``, ``record_score``, ``function``, the by/over/partition values and the entity
fields such as ``user.name``) with ``kibana.alert.original_time`` = the record's bucket
time. At most ``max_signals`` per execution; a record seen by two overlapping executions
alerts once (alert id from the record's identity).

Score: a rule reads a record shortly after its bucket closes, before any later
renormalisation, so we compare ``initial_record_score`` (falling back to
``record_score``). Not modelled: the delay between a bucket's start and the moment its
results exist; every record is seen by the executions whose window holds its time.

Reference: Kibana docs "Create a machine learning rule" ("Anomaly score threshold") and
Elasticsearch "Anomaly detection results" (record results).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from typing import Any

from ctdetect.engine.rules.alerts import event_alert
from ctdetect.engine.rules.base import CompiledRule
from ctdetect.findings import Finding


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested document -> flat dotted keys (lists kept as values)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def record_score(finding: Finding) -> float:
    doc = finding.document
    score = doc.get("initial_record_score")
    if score is None:
        score = doc.get("record_score", finding.score)
    return float(score)


@dataclass(slots=True)
class MachineLearningRule(CompiledRule):
    def offer(self, event: dict, seq: int) -> None:
        return None  # ML rules read anomaly results, not events

    def finish(self, anomalies: list[Finding]) -> list[Finding]:
        jobs = set(self.rule.machine_learning_job_id)
        threshold = float(self.rule.anomaly_threshold or 0)
        records = [
            a
            for a in anomalies
            if a.kind == "anomaly"
            and a.source_id in jobs
            and a.document.get("result_type", "record") == "record"
            and record_score(a) >= threshold
        ]
        keyed = sorted(
            ((int(a.timestamp.astimezone(timezone.utc).timestamp() * 1000), i, a) for i, a in enumerate(records)),
            key=lambda item: (item[0], item[1]),
        )
        times = [k[0] for k in keyed]
        alerted: set[int] = set()
        findings: list[Finding] = []
        for t, lo, hi in self.schedule.windows(times):
            created = 0
            for ts, i, anomaly in keyed[lo:hi]:
                if created >= self.rule.max_signals:
                    break
                if i in alerted:
                    continue
                alerted.add(i)
                created += 1
                source = flatten(anomaly.document)
                for name, value in anomaly.entity.items():
                    source.setdefault(name, value)
                identity = "|".join(
                    str(source.get(k))
                    for k in ("job_id", "timestamp", "detector_index", "by_field_value", "over_field_value", "partition_field_value")
                )
                finding = event_alert(
                    self.rule,
                    self.rule_flat,
                    source,
                    i,
                    ts,
                    t,
                    extra={"kibana.alert.ancestors": [{"id": identity, "type": "event", "index": ".ml-anomalies-shared", "depth": 0}]},
                    identities=("anomaly", identity),
                )
                finding.entity = dict(anomaly.entity)
                finding.entity.update({"job_id": anomaly.source_id, "record_score": anomaly.score})
                findings.append(finding)
        return findings
