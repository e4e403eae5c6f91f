"""Detection rules on a real cluster for one replay: Kibana's rule preview, then the alerts.

The preview API runs a rule as the detection engine would, ``invocationCount`` times, one
``interval`` apart, the last ending at ``timeframeEnd``, each looking back to its ``from``;
it writes alerts to ``.preview.alerts-security.alerts-<space>`` tagged with the preview
id. To cover a scenario that spans ``[t0, t1]``, the last run ends one interval after t1
and the first starts at t0. Very long scenarios are capped at ``MAX_INVOCATIONS`` runs (the
most recent ones); the cap is reported, never silent.

The rule body is the one ``deploy`` sends, with ``index`` pointed at the replay index and,
for machine_learning rules, the job ids mapped to this run's temporary jobs.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from ctdetect.content.durations import rule_interval_seconds
from ctdetect.content.model import Rule
from ctdetect.elastic.requests_model import Request, kibana_path
from ctdetect.elastic.rule_body import rule_body
from ctdetect.findings import Finding, alert_finding
from ctdetect.timeutil import iso_from_ms

MAX_INVOCATIONS = 2000
MAX_ALERTS = 10_000


def preview_window(rule: Rule, start_ms: int, end_ms: int) -> tuple[int, str, bool]:
    """(invocationCount, timeframeEnd, capped) covering ``[start_ms, end_ms]``."""
    interval_ms = (rule_interval_seconds(rule.interval or "5m") or 300) * 1000
    last = end_ms + interval_ms
    count = max(1, math.ceil((last - start_ms) / interval_ms))
    capped = count > MAX_INVOCATIONS
    return min(count, MAX_INVOCATIONS), iso_from_ms(last), capped


def preview_request(rule: Rule, index: str, space: str, start_ms: int, end_ms: int, job_ids: dict[str, str]) -> tuple[Request, bool]:
    body = rule_body(rule)
    body.pop("enabled", None)
    if "index" in body or rule.type not in ("machine_learning", "esql"):
        body["index"] = [index]
    body.pop("data_view_id", None)
    if rule.type == "machine_learning":
        body["machine_learning_job_id"] = [job_ids.get(j, j) for j in body.get("machine_learning_job_id", [])]
    count, end, capped = preview_window(rule, start_ms, end_ms)
    body["invocationCount"] = count
    body["timeframeEnd"] = end
    return Request("POST", kibana_path(space, "/api/detection_engine/rules/preview"), body), capped


def alerts_index(space: str) -> str:
    return f".preview.alerts-security.alerts-{space or 'default'}"


def alerts_search(space: str, preview_id: str) -> Request:
    """The preview's alerts, oldest first, built with ``elasticsearch.dsl``."""
    from elasticsearch.dsl import Search

    search = (
        Search()
        .filter("term", **{"kibana.alert.rule.uuid": preview_id})
        .sort("kibana.alert.original_time", "@timestamp")
        .extra(size=MAX_ALERTS, track_total_hits=True)
    )
    return Request("POST", f"/{alerts_index(space)}/_search", search.to_dict())


def alert_findings(hits: list[dict[str, Any]], rule: Rule) -> list[Finding]:
    """Kibana alert documents as ``Finding``s: building-block alerts (the events of an EQL
    sequence) become the ``related`` documents of their sequence's shell alert."""
    from ctdetect.ecs import flatten

    shells: list[dict[str, Any]] = []
    blocks: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        source = hit.get("_source") or {}
        flat = flatten(source)
        if flat.get("kibana.alert.building_block_type"):
            for group in _as_list(flat.get("kibana.alert.group.id")):
                blocks.setdefault(str(group), []).append(source)
            continue
        shells.append(source)
    out = []
    for source in shells:
        flat = flatten(source)
        entity = {k: v for k, v in flat.items() if not k.startswith("kibana.") and k != "signal" and not k.startswith("signal.")}
        original = flat.get("kibana.alert.original_time") or flat.get("@timestamp")
        related = [b for g in _as_list(flat.get("kibana.alert.group.id")) for b in blocks.get(str(g), [])]
        score = flat.get("kibana.alert.risk_score", rule.risk_score or 0) or 0
        out.append(alert_finding(rule, _parse_time(original), source, entity, score=score, related=related))
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _parse_time(value: Any) -> datetime:
    text = str(value).replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return datetime.fromtimestamp(0, tz=timezone.utc)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)

