"""Rule TOML (Elastic detection-rules format) -> Kibana detection engine API body.

The TOML holds two tables: ``[metadata]`` (creation/update dates, maturity, integration:
bookkeeping of the detection-rules repository, unknown to Kibana) and ``[rule]`` (the
rule as Kibana stores it). The API body is the ``[rule]`` table with:

- only the keys Kibana's create API accepts for the rule's type (anything else would be
  rejected with a 400: the API schemas are closed);
- the two fields whose TOML form differs from the API form rewritten: ``new_terms``
  (``{field: new_terms_fields, value: [...], history_window_start: [{field, value}]}`` in
  TOML) becomes ``new_terms_fields`` + ``history_window_start``;
- the ownership tag and ``meta`` marker added (``elastic.ownership``), so deploy can find,
  and only ever touch, the rules it made;
- ``enabled`` made explicit (the TOML default is enabled), so a re-deploy restores it.

``from``, ``threat``, ``investigation_fields``, ``threshold`` (with ``cardinality``) and
the ML fields already have the API's shape and pass through unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

from ctdetect.content.model import Rule
from ctdetect.elastic.ownership import with_rule_marker

# Fields every rule type accepts on create (Kibana's shared rule parameters).
COMMON_FIELDS = frozenset(
    {
        "actions", "alert_suppression", "author", "building_block_type", "description", "enabled",
        "exceptions_list", "false_positives", "from", "interval", "investigation_fields", "license",
        "max_signals", "meta", "name", "namespace", "note", "outcome", "output_index", "references",
        "related_integrations", "required_fields", "response_actions", "risk_score", "risk_score_mapping",
        "rule_id", "rule_name_override", "setup", "severity", "severity_mapping", "tags", "threat",
        "throttle", "timeline_id", "timeline_title", "timestamp_override",
        "timestamp_override_fallback_disabled", "to", "type", "version",
    }
)

# Type-specific fields (from Kibana's per-type create schemas).
TYPE_FIELDS: dict[str, frozenset[str]] = {
    "query": frozenset({"query", "language", "index", "data_view_id", "filters", "saved_id"}),
    "saved_query": frozenset({"query", "language", "index", "data_view_id", "filters", "saved_id"}),
    "eql": frozenset(
        {"query", "language", "index", "data_view_id", "filters", "event_category_override", "tiebreaker_field", "timestamp_field"}
    ),
    "esql": frozenset({"query", "language"}),
    "threshold": frozenset({"query", "language", "index", "data_view_id", "filters", "saved_id", "threshold"}),
    "new_terms": frozenset({"query", "language", "index", "data_view_id", "filters", "new_terms_fields", "history_window_start"}),
    "machine_learning": frozenset({"anomaly_threshold", "machine_learning_job_id"}),
    "threat_match": frozenset(
        {
            "query", "language", "index", "data_view_id", "filters", "saved_id", "threat_query", "threat_mapping",
            "threat_index", "threat_filters", "threat_indicator_path", "threat_language", "concurrent_searches", "items_per_search",
        }
    ),
}


def allowed_fields(rule_type: str) -> frozenset[str]:
    return COMMON_FIELDS | TYPE_FIELDS.get(rule_type, frozenset())


def _new_terms(spec: Any) -> dict[str, Any]:
    """TOML ``[rule.new_terms]`` -> ``new_terms_fields`` and ``history_window_start``."""
    out: dict[str, Any] = {}
    if not isinstance(spec, dict):
        return out
    if spec.get("field") == "new_terms_fields":
        value = spec.get("value")
        out["new_terms_fields"] = list(value) if isinstance(value, list) else [value]
    for entry in spec.get("history_window_start") or []:
        if isinstance(entry, dict) and entry.get("field") == "history_window_start":
            out["history_window_start"] = entry.get("value")
    return out


def rule_body(rule: Rule) -> dict[str, Any]:
    """The create body (``POST /api/detection_engine/rules``) of ``rule``."""
    table = copy.deepcopy(rule.rule)
    rule_type = str(table.get("type", rule.type))
    if rule_type == "new_terms" and "new_terms" in table:
        table.update(_new_terms(table.pop("new_terms")))
    keep = allowed_fields(rule_type)
    body = with_rule_marker({k: v for k, v in table.items() if k in keep})
    body["enabled"] = bool(table.get("enabled", rule.enabled))
    return body


def dropped_fields(rule: Rule) -> list[str]:
    """``[rule]`` keys the API body leaves out (reported by ``deploy --dry-run`` as notes)."""
    rule_type = str(rule.rule.get("type", rule.type))
    keep = allowed_fields(rule_type) | ({"new_terms"} if rule_type == "new_terms" else set())
    return sorted(k for k in rule.rule if k not in keep)
