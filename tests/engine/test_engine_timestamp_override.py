"""``timestamp_override`` as Kibana applies it, with late-delivered CloudTrail.

An execution at ``t`` searches only what is indexed by ``t``. An event that happened at
10:00 and was indexed at 10:20 (``event.ingested``) is invisible to every execution of a
5-minute rule windowed on ``@timestamp`` that could see 10:00; windowed on
``event.ingested`` the 10:20 execution finds it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctdetect.content.loaders import load_rules
from ctdetect.ecs import CloudTrailMapper
from embedded_run import run_embedded

ROOT = Path(__file__).resolve().parents[2]
RULE = ROOT / "rules" / "defense_evasion_cloudtrail_logging_stopped_or_deleted.toml"
OVERRIDE = 'timestamp_override = "event.ingested"\n'


def _stop_logging(ingested: str | None) -> dict:
    records = [json.loads(line) for line in (ROOT / "scenarios" / "rule-cloudtrail-stopped-fires" / "events.ndjson").read_text().splitlines()]
    record = next(r for r in records if r.get("eventName") == "StopLogging")
    record = dict(record, eventTime="2026-11-03T10:00:00Z")
    event = {k: v for k, v in CloudTrailMapper().map(record).items() if k != "_ts"}
    if ingested is not None:
        event["event.ingested"] = ingested
    return event


def _alerts(tmp_path: Path, event: dict, *, override: bool = True, schedule: str | None = None, no_fallback: bool = False) -> list:
    text = RULE.read_text()
    assert OVERRIDE in text
    if not override:
        text = text.replace(OVERRIDE, "")
    if schedule is not None:
        text = text.replace('from = "now-20m"', f'from = "{schedule}"')
    if no_fallback:
        text = text.replace(OVERRIDE, OVERRIDE + "timestamp_override_fallback_disabled = true\n")
    (tmp_path / RULE.name).write_text(text)
    findings, _ = run_embedded(load_rules(tmp_path), [event])
    return findings


@pytest.mark.parametrize(("schedule", "delay"), [("now-5m", "10:20"), ("now-20m", "10:30")])
def test_late_event_is_caught_with_the_override_and_missed_without(tmp_path: Path, schedule: str, delay: str) -> None:
    event = _stop_logging(f"2026-11-03T{delay}:00.000Z")
    [alert] = _alerts(tmp_path, event, schedule=schedule)
    assert alert.document["@timestamp"] == f"2026-11-03T{delay}:00.000Z"  # the execution after indexing
    assert _alerts(tmp_path, event, override=False, schedule=schedule) == []


def test_on_time_event_is_caught_either_way(tmp_path: Path) -> None:
    event = _stop_logging("2026-11-03T10:00:40.000Z")
    assert len(_alerts(tmp_path, event, schedule="now-5m")) == 1
    assert len(_alerts(tmp_path, event, override=False, schedule="now-5m")) == 1


def test_without_event_ingested_the_override_falls_back_to_timestamp(tmp_path: Path) -> None:
    event = _stop_logging(None)
    assert len(_alerts(tmp_path, event)) == 1
    assert _alerts(tmp_path, event, no_fallback=True) == []  # Kibana then never searches the event
    assert len(_alerts(tmp_path, _stop_logging("2026-11-03T10:02:00.000Z"), no_fallback=True)) == 1
