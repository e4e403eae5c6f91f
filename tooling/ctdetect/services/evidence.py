"""The events behind a finding, found again by a second pass over the same events.

Why a second pass: hunt streams its input and keeps only matches, and anomalies exist only
once a bucket closes, so which events matter is known only at the end. The report asks
for the events of its detailed findings, each described by an ``EvidenceQuery`` (a time
window, a predicate, and a sentence saying what the events are), and ``collect`` reads the
events once more and keeps at most ``limit`` per finding, counting the rest.

What "behind" means per finding:

- an alert on one event (query, EQL, new_terms, non-aggregating ES|QL): that event, by
  ``event.id``; an EQL sequence: the events of its building-block alerts;
- a threshold alert: the events of its group (``threshold_result.terms``) in the rule's
  window (``threshold_result.from`` to the alert) that match the rule's query;
- an anomaly record, and a machine_learning rule's alert on one: the events of the
  record's partition/by/over values in the scored bucket that the job's datafeed selects;
- an aggregating ES|QL alert: none (its alert is a row of the query's table); the report
  shows the row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from ctdetect.content.model import Datafeed, Rule
from ctdetect.findings import Finding
from ctdetect.services.inputs import event_time
from ctdetect.timeutil import parse_iso_ms

HOUR_MS = 3_600_000
SLACK_MS = HOUR_MS  # around an alert's time when matching by event.id (override fields move it)
MAX_WINDOW_HOURS = 24 * 31  # a longer window is cut: the report is for reading, not for export

Predicate = Callable[[dict[str, Any]], bool]


@dataclass(slots=True)
class EvidenceQuery:
    """Which events are behind one finding."""

    how: str  # what the events are, shown above them
    start_ms: int = 0
    end_ms: int = -1  # inclusive; below start_ms: no events to look for
    match: Predicate | None = None


@dataclass(slots=True)
class Evidence:
    how: str
    events: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0  # matching events beyond the limit


def evidence_query(f: Finding, rules: dict[str, Rule], feeds: dict[str, Datafeed | None], field_types: Mapping[str, str] | None = None) -> EvidenceQuery:
    """The ``EvidenceQuery`` of ``f``; ``rules`` by rule_id and ``feeds`` by job_id give the
    queries that select events (a rule or datafeed not given matches on fields alone), read
    with ``field_types`` (default: the field catalogue's, as the engine reads them)."""
    doc = f.document
    types = _catalogue_types() if field_types is None else field_types
    if doc.get("result_type") == "record":
        return _anomaly_query(doc, feeds, types)
    alert = (doc.get("kibana") or {}).get("alert") or {}
    original = parse_iso_ms(alert.get("original_time")) or int(f.timestamp.timestamp() * 1000)
    if f.related:
        ids = {i for i in (_event_id(r) for r in f.related) if i}
        times = [t for t in (parse_iso_ms((r.get("kibana", {}).get("alert") or {}).get("original_time")) for r in f.related) if t]
        start, end = (min(times), max(times)) if times else (original, original)
        return EvidenceQuery("the events of the sequence", start - SLACK_MS, end + SLACK_MS, lambda e: _first(e.get("event.id")) in ids)
    threshold = alert.get("threshold_result")
    if isinstance(threshold, dict):
        return _threshold_query(threshold, original, rules.get(f.source_id), types)
    event_id = _event_id(doc)
    if event_id:
        return EvidenceQuery("the event that matched", original - SLACK_MS, original + SLACK_MS, lambda e: _first(e.get("event.id")) == event_id)
    return EvidenceQuery("none: this alert is a row of an aggregating query's result, not an event (its fields are below)")


def collect(queries: list[EvidenceQuery], events: Iterable[dict[str, Any]], limit: int) -> list[Evidence]:
    """One pass over ``events``: for each query, the first ``limit`` matching events in time
    order and how many more matched. Queries are indexed by hour, so the cost per event does
    not grow with the number of findings."""
    out = [Evidence(q.how) for q in queries]
    by_hour: dict[int, list[int]] = defaultdict(list)
    for i, q in enumerate(queries):
        if q.match is None or q.end_ms < q.start_ms:
            continue
        first = q.start_ms // HOUR_MS
        last = min(q.end_ms // HOUR_MS, first + MAX_WINDOW_HOURS)
        for hour in range(first, last + 1):
            by_hour[hour].append(i)
    if not by_hour:
        return out
    for event in events:
        ts = event_time(event)
        for i in by_hour.get(ts // HOUR_MS, ()):
            q = queries[i]
            if q.start_ms <= ts <= q.end_ms and q.match(event):  # type: ignore[misc]
                found = out[i]
                if len(found.events) < limit:
                    found.events.append(event)
                else:
                    found.more += 1
    for found in out:
        found.events.sort(key=event_time)
    return out


# --------------------------------------------------------------------------- per kind


def _anomaly_query(doc: dict[str, Any], feeds: dict[str, Datafeed | None], field_types: Mapping[str, str]) -> EvidenceQuery:
    start = int(doc.get("timestamp") or 0)
    span_ms = int(doc.get("bucket_span") or 0) * 1000
    wanted = {
        doc[f"{kind}_field_name"]: doc.get(f"{kind}_field_value")
        for kind in ("partition", "by", "over")
        if doc.get(f"{kind}_field_name")
    }
    job_id = str(doc.get("job_id", ""))
    selects = _datafeed_predicate(feeds.get(job_id), job_id, field_types)
    entity = ", ".join(f"{k}={v}" for k, v in wanted.items()) or "every entity"
    how = f"events of {entity} in the bucket the job scored ({span_ms // 60000} min)"
    how += ", as its datafeed selects them" if selects is not None else ""

    def match(event: dict[str, Any]) -> bool:
        return all(_has(event, name, value) for name, value in wanted.items()) and (selects is None or selects(event))

    return EvidenceQuery(how, start, start + span_ms - 1, match)


def _threshold_query(result: dict[str, Any], original: int, rule: Rule | None, field_types: Mapping[str, str]) -> EvidenceQuery:
    terms = [(t.get("field"), t.get("value")) for t in result.get("terms") or [] if isinstance(t, dict) and t.get("field")]
    start = parse_iso_ms(result.get("from")) or original
    selects = _rule_predicate(rule, field_types)
    group = ", ".join(f"{name}={value}" for name, value in terms) or "all events"
    how = f"events of {group} in the rule's window" + (" that match its query" if selects is not None else "")

    def match(event: dict[str, Any]) -> bool:
        return all(_has(event, name, value) for name, value in terms) and (selects is None or selects(event))

    return EvidenceQuery(how, start, original, match)


def _rule_predicate(rule: Rule | None, field_types: Mapping[str, str]) -> Predicate | None:
    """The rule's query over flat events, or ``None`` when it cannot be compiled here."""
    if rule is None:
        return None
    from ctdetect.engine.rules.compile import RuleNotEvaluable, parse_rule_query
    from ctdetect.query.predicate import compile_query

    try:
        return compile_query(parse_rule_query(rule), field_types)
    except (RuleNotEvaluable, TypeError):
        return None


def _datafeed_predicate(feed: Datafeed | None, job_id: str, field_types: Mapping[str, str]) -> Predicate | None:
    if feed is None or not feed.query:
        return None
    from ctdetect.engine.anomaly.config import JobConfigError, compile_datafeed_query

    try:
        return compile_datafeed_query(feed.query, job_id, field_types)
    except JobConfigError:
        return None


def _catalogue_types() -> Mapping[str, str]:
    from ctdetect.catalogue import load_catalogue

    return load_catalogue().field_types()


def _event_id(doc: dict[str, Any]) -> str | None:
    event = doc.get("event")
    value = event.get("id") if isinstance(event, dict) else doc.get("event.id")
    return _first(value)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _has(event: dict[str, Any], name: str, wanted: Any) -> bool:
    value = event.get(name)
    if isinstance(value, list):
        return wanted in value or str(wanted) in (str(v) for v in value)
    return value == wanted or (value is not None and str(value) == str(wanted))
