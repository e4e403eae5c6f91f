"""Which events are behind a finding (``services.evidence``): windows, fields, limits."""

from __future__ import annotations

from datetime import datetime, timezone

from ctdetect.findings import Finding
from ctdetect.services.evidence import collect, evidence_query

T0 = datetime(2026, 3, 16, 2, 0, tzinfo=timezone.utc)
MS = int(T0.timestamp() * 1000)


def event(minute: int, user: str, action: str = "ListBuckets", event_id: str | None = None) -> dict:
    return {"_ts": MS + minute * 60_000, "user.name": [user], "event.action": action, "event.id": event_id or f"{user}-{minute}"}


def anomaly() -> Finding:
    doc = {"job_id": "rare", "result_type": "record", "timestamp": MS, "bucket_span": 900,
           "partition_field_name": "user.name", "partition_field_value": "waf-role", "by_field_name": "event.action", "by_field_value": "ListBuckets"}
    return Finding("anomaly", "rare", "rare", T0, 80.0, doc)


def test_an_anomaly_is_its_entity_in_its_bucket() -> None:
    q = evidence_query(anomaly(), {}, {})
    events = [event(1, "waf-role"), event(14, "waf-role"), event(15, "waf-role"), event(3, "alice"), event(5, "waf-role", "GetObject"), event(-1, "waf-role")]
    [found] = collect([q], events, limit=10)
    assert [e["_ts"] for e in found.events] == [MS + 60_000, MS + 14 * 60_000]  # bucket [02:00, 02:15)
    assert "user.name=waf-role, event.action=ListBuckets" in found.how


def test_the_limit_counts_what_it_leaves_out() -> None:
    [found] = collect([evidence_query(anomaly(), {}, {})], [event(m, "waf-role") for m in range(10)], limit=3)
    assert len(found.events) == 3 and found.more == 7


def test_an_alert_on_one_event_is_that_event() -> None:
    doc = {"event": {"id": "abc"}, "kibana": {"alert": {"original_time": T0.isoformat()}}}
    f = Finding("alert", "r", "r", T0, 50.0, doc)
    [found] = collect([evidence_query(f, {}, {})], [event(0, "x", event_id="abc"), event(0, "y", event_id="abd")], limit=5)
    assert [e["event.id"] for e in found.events] == ["abc"]


def test_a_sequence_is_its_building_blocks() -> None:
    related = [{"event": {"id": i}, "kibana": {"alert": {"original_time": T0.isoformat()}}} for i in ("s1", "s2")]
    f = Finding("alert", "r", "r", T0, 50.0, {"kibana": {"alert": {}}}, related=related)
    events = [event(0, "a", event_id="s1"), event(1, "a", event_id="other"), event(2, "a", event_id="s2")]
    [found] = collect([evidence_query(f, {}, {})], events, limit=5)
    assert [e["event.id"] for e in found.events] == ["s1", "s2"]


def test_a_threshold_alert_is_its_group_in_the_window() -> None:
    threshold = {"terms": [{"field": "user.name", "value": "mallory"}], "count": 2, "from": T0.isoformat()}
    doc = {"kibana": {"alert": {"original_time": datetime(2026, 3, 16, 2, 10, tzinfo=timezone.utc).isoformat(), "threshold_result": threshold}}}
    f = Finding("alert", "r", "r", T0, 50.0, doc)
    events = [event(-5, "mallory"), event(2, "mallory"), event(9, "mallory"), event(11, "mallory"), event(3, "alice")]
    [found] = collect([evidence_query(f, {}, {})], events, limit=5)
    assert [e["_ts"] for e in found.events] == [MS + 2 * 60_000, MS + 9 * 60_000]


def test_an_aggregate_row_has_no_events() -> None:
    f = Finding("alert", "r", "r", T0, 50.0, {"kibana": {"alert": {"original_time": T0.isoformat()}}, "denied": 12})
    q = evidence_query(f, {}, {})
    [found] = collect([q], [event(0, "x")], limit=5)
    assert q.match is None and found.events == [] and found.how.startswith("none:")
