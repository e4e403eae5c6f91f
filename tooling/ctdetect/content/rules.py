"""Build a typed ``Rule`` from a detection-rules TOML document.

The conversion is lenient on purpose: a value of the wrong type becomes the field's
default and the JSON-Schema check (``schema.*``) reports it with its line. That way one bad
value never hides the other problems of the same rule, and the loader never raises.
"""

from __future__ import annotations

from typing import Any

from ctdetect.content.model import Located, NewTermsSpec, Rule, Threat, ThreatEntry, ThresholdSpec


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_list(value: Any) -> list[str]:
    """A list of strings; a single string counts as a list of one (Elastic allows both for job ids)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entry(value: Any) -> ThreatEntry | None:
    table = _table(value)
    if not table:
        return None
    return ThreatEntry(id=_str(table.get("id")), name=_str(table.get("name")), reference=_str(table.get("reference")))


def parse_threats(value: Any) -> list[Threat]:
    """``[[rule.threat]]`` entries (also used by hunting queries)."""
    threats: list[Threat] = []
    if not isinstance(value, list):
        return threats
    for item in value:
        table = _table(item)
        tactic = _entry(table.get("tactic")) or ThreatEntry(id="", name="")
        techniques: list[ThreatEntry] = []
        subs: dict[str, list[ThreatEntry]] = {}
        raw_techniques = table.get("technique")
        for tech in raw_techniques if isinstance(raw_techniques, list) else []:
            entry = _entry(tech)
            if entry is None:
                continue
            techniques.append(entry)
            raw_subs = _table(tech).get("subtechnique")
            for sub in raw_subs if isinstance(raw_subs, list) else []:
                sub_entry = _entry(sub)
                if sub_entry is not None:
                    subs.setdefault(entry.id, []).append(sub_entry)
        threats.append(Threat(framework=_str(table.get("framework")), tactic=tactic, techniques=techniques, subtechniques=subs))
    return threats


def _threshold(value: Any) -> ThresholdSpec | None:
    table = _table(value)
    if not table:
        return None
    cardinality = []
    raw_card = table.get("cardinality")
    for item in raw_card if isinstance(raw_card, list) else []:
        card = _table(item)
        field_name, limit = _opt_str(card.get("field")), _int(card.get("value"))
        if field_name is not None and limit is not None:
            cardinality.append((field_name, limit))
    return ThresholdSpec(field=_str_list(table.get("field")), value=_int(table.get("value")) or 0, cardinality=cardinality)


def _new_terms(rule: dict[str, Any]) -> NewTermsSpec | None:
    """``[rule.new_terms]`` in detection-rules TOML: field = "new_terms_fields", value = [...], history_window_start."""
    table = _table(rule.get("new_terms"))
    if not table:
        return None
    fields = _str_list(table.get("value"))
    history = ""
    for item in table.get("history_window_start") or []:
        entry = _table(item)
        if entry.get("field") == "history_window_start":
            history = _str(entry.get("value"))
    return NewTermsSpec(fields=fields, history_window_start=history)


def rule_from_document(doc: dict[str, Any], source: Located) -> Rule:
    """The typed view of one rule document (``[metadata]`` + ``[rule]``)."""
    meta = _table(doc.get("metadata"))
    rule = _table(doc.get("rule"))
    investigation = _table(rule.get("investigation_fields"))
    enabled = rule.get("enabled")
    max_signals = _int(rule.get("max_signals"))
    return Rule(
        source=source,
        raw=doc,
        rule_id=_str(rule.get("rule_id")),
        name=_str(rule.get("name")),
        type=_str(rule.get("type")),
        description=_str(rule.get("description")),
        language=_opt_str(rule.get("language")),
        query=_opt_str(rule.get("query")),
        index=_str_list(rule.get("index")),
        severity=_str(rule.get("severity")),
        risk_score=_int(rule.get("risk_score")),
        from_=_str(rule.get("from"), "now-6m"),
        interval=_str(rule.get("interval"), "5m"),
        max_signals=max_signals if max_signals is not None else 100,
        enabled=enabled if isinstance(enabled, bool) else True,
        timestamp_override=_opt_str(rule.get("timestamp_override")),
        tags=_str_list(rule.get("tags")),
        note=_opt_str(rule.get("note")),
        threat=parse_threats(rule.get("threat")),
        investigation_fields=_str_list(investigation.get("field_names")),
        threshold=_threshold(rule.get("threshold")),
        new_terms=_new_terms(rule),
        machine_learning_job_id=_str_list(rule.get("machine_learning_job_id")),
        anomaly_threshold=_int(rule.get("anomaly_threshold")),
        maturity=_str(meta.get("maturity")),
        creation_date=_str(meta.get("creation_date")),
        updated_date=_str(meta.get("updated_date")),
    )
