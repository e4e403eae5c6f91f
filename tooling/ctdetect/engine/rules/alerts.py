"""Kibana alert documents for rule matches, wrapped as ``Finding``s.

The shape follows the alerts-as-data schema of Kibana's security solution (the
``.alerts-security.alerts-*`` indices): ``kibana.alert.rule.*`` describes the rule,
``kibana.alert.original_time`` is the source event's time while ``@timestamp`` is the
time the alert was written (here: the emulated execution time), ``kibana.alert.ancestors``
points at the source document, the source event's ``event.*`` fields are kept under
``kibana.alert.original_event.*`` and the source's own fields are copied in, with
``event.kind`` set to ``signal``. The rules read projected events (only the fields the
content reads, ``ecs.projected``); an alert is built from the whole document
(``full_document``), rebuilt from the raw record for the few events that alert. Threshold alerts carry ``kibana.alert.threshold_result``,
new-terms alerts ``kibana.alert.new_terms``, EQL sequences a shell alert plus one
building-block alert per event sharing ``kibana.alert.group.id``.

Alert ids: Kibana derives an alert's ``_id`` from the source document and the rule, which
is what stops overlapping look-backs creating the same alert twice. ``alert_uuid`` does
the same: a SHA-256 over the rule id and the identities of the source events.

Reference: Kibana docs "Alert schema" (Elastic Security) and the detection engine's
field list ``kibana.alert.*``.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Iterable

from ctdetect.content.model import Rule
from ctdetect.ecs.flat import nest
from ctdetect.ecs.projected import full_document
from ctdetect.query.esql.sources import document_index
from ctdetect.engine.rules.timeutil import iso_ms
from ctdetect.findings import Finding, alert_finding

_NAMESPACE = uuid.UUID("6f1f0a5c-3c1e-4b9a-9a47-0c7f3b1d2e11")

RULE_TYPE_IDS = {
    "query": "siem.queryRule",
    "saved_query": "siem.savedQueryRule",
    "eql": "siem.eqlRule",
    "threshold": "siem.thresholdRule",
    "new_terms": "siem.newTermsRule",
    "machine_learning": "siem.mlRule",
}


def alert_uuid(rule_id: str, *identities: Any) -> str:
    """Deterministic alert id from the rule and its source event identities."""
    digest = hashlib.sha256()
    digest.update(rule_id.encode())
    for identity in identities:
        digest.update(b"\x1f")
        digest.update(str(identity).encode())
    return digest.hexdigest()


def event_identity(event: dict, seq: int) -> str:
    """The source document's id: ``event.id`` / ``_id`` when it has one, else its position."""
    ident = event.get("_id") or event.get("event.id")
    if isinstance(ident, list):
        ident = ident[0] if ident else None
    return str(ident) if ident else f"ctdetect-event-{seq}"


def event_index(event: dict) -> str:
    """The data stream an event would be indexed into, e.g. ``logs-aws.cloudtrail-default``."""
    return document_index(event)


def rule_fields(rule: Rule) -> dict[str, Any]:
    """``kibana.alert.rule.*`` (and the top-level copies Kibana writes) for ``rule``."""
    r = rule.rule
    fields: dict[str, Any] = {
        "kibana.alert.rule.rule_id": rule.rule_id,
        "kibana.alert.rule.uuid": str(uuid.uuid5(_NAMESPACE, rule.rule_id)),
        "kibana.alert.rule.name": rule.name,
        "kibana.alert.rule.type": rule.type,
        "kibana.alert.rule.rule_type_id": RULE_TYPE_IDS.get(rule.type, f"siem.{rule.type}Rule"),
        "kibana.alert.rule.category": _category(rule.type),
        "kibana.alert.rule.consumer": "siem",
        "kibana.alert.rule.producer": "siem",
        "kibana.alert.rule.description": rule.description,
        "kibana.alert.rule.severity": rule.severity,
        "kibana.alert.rule.risk_score": rule.risk_score,
        "kibana.alert.rule.from": rule.from_,
        "kibana.alert.rule.interval": rule.interval,
        "kibana.alert.rule.max_signals": rule.max_signals,
        "kibana.alert.rule.enabled": rule.enabled,
        "kibana.alert.rule.tags": list(rule.tags),
        "kibana.alert.rule.threat": r.get("threat", []),
        "kibana.alert.rule.references": r.get("references", []),
        "kibana.alert.rule.author": r.get("author", []),
        "kibana.alert.rule.license": r.get("license", ""),
        "kibana.alert.rule.version": r.get("version", 1),
        "kibana.alert.severity": rule.severity,
        "kibana.alert.risk_score": rule.risk_score,
        "kibana.alert.status": "active",
        "kibana.alert.workflow_status": "open",
        "kibana.space_ids": ["default"],
    }
    if rule.query is not None:
        fields["kibana.alert.rule.parameters.query"] = rule.query
        fields["kibana.alert.rule.parameters.language"] = rule.language
    if rule.index:
        fields["kibana.alert.rule.parameters.index"] = list(rule.index)
    if rule.investigation_fields:
        fields["kibana.alert.rule.parameters.investigation_fields"] = {"field_names": list(rule.investigation_fields)}
    return fields


def _category(rule_type: str) -> str:
    return {
        "query": "Custom Query Rule",
        "saved_query": "Saved Query Rule",
        "eql": "Event Correlation Rule",
        "threshold": "Threshold Rule",
        "new_terms": "New Terms Rule",
        "machine_learning": "Machine Learning Rule",
    }.get(rule_type, rule_type)


def reason(rule: Rule, source: dict) -> str:
    """A sentence like Kibana's ``kibana.alert.reason``."""
    parts = [f"{_first(source.get('event.category')) or 'event'} event"]
    if source.get("source.ip"):
        parts.append(f"with source {_first(source.get('source.ip'))}")
    if source.get("user.name"):
        parts.append(f"by {_first(source.get('user.name'))}")
    parts.append(f"created {rule.severity or 'an'} alert {rule.name}.")
    return " ".join(parts)


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _source_fields(event: dict) -> dict[str, Any]:
    """The source event's fields as an alert carries them (private ``_`` keys dropped)."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key.startswith("_"):
            continue
        out[key] = value
        if key.startswith("event."):
            out["kibana.alert.original_event." + key[6:]] = value
    out["event.kind"] = "signal"
    return out


def event_alert(
    rule: Rule,
    rule_flat: dict[str, Any],
    event: dict,
    seq: int,
    event_ms: int,
    executed_ms: int,
    extra: dict[str, Any] | None = None,
    identities: Iterable[Any] | None = None,
) -> Finding:
    """An alert on one source event (query, single-event EQL, new terms). A projected event
    (``ecs.projected``) is completed first: the alert shows the whole source document."""
    event = full_document(event)
    ident = event_identity(event, seq)
    flat = _source_fields(event)
    flat.update(rule_flat)
    flat.update(
        {
            "@timestamp": iso_ms(executed_ms),
            "kibana.alert.original_time": iso_ms(event_ms),
            "kibana.alert.uuid": alert_uuid(rule.rule_id, *(identities if identities is not None else (ident,))),
            "kibana.alert.depth": 1,
            "kibana.alert.ancestors": [{"id": ident, "type": "event", "index": event_index(event), "depth": 0}],
            "kibana.alert.reason": reason(rule, event),
        }
    )
    if extra:
        flat.update(extra)
    entity = {k: v for k, v in event.items() if not k.startswith("_")}
    return alert_finding(rule, event_ms, nest(flat), entity)
