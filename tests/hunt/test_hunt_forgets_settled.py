"""hunt lets the embedded backend forget settled anomaly records under the floors: the
findings shown and the "below the floor, not shown" count are the same as when every
record is held to the end, with or without ``since``/``until``."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ctdetect.engine.anomaly import runner as runner_module
from ctdetect.services import hunt as hunt_service
from ctdetect.services.hunt import HuntOptions, run_hunt

ROOT = Path(__file__).resolve().parents[2]
HISTORY = ROOT / "scenarios" / "_data" / "cloudtrail" / "org-history.ndjson.gz"  # two weeks of named principals


def _shown(result: Any) -> list[tuple]:
    return [(f.kind, f.source_id, f.timestamp, f.score, sorted(f.entity.items(), key=str)) for f in result.findings]


def test_forgetting_changes_nothing_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    since = datetime(2026, 3, 10, tzinfo=timezone.utc)  # records forgotten before it are not counted
    # a one-day renormalisation window: the scenario's two weeks settle most records
    monkeypatch.setattr(runner_module, "renormalization_window_s", lambda spec: 86400)
    opts = HuntOptions(paths=[str(HISTORY)], package_root=str(ROOT), workers=1, since=since)
    forgetting = run_hunt(opts)
    monkeypatch.setattr(hunt_service, "forget_floors", lambda content, min_score: {})
    holding = run_hunt(opts)
    assert forgetting.stats.anomalies_forgotten, "the case must forget records"
    assert holding.stats.anomalies_forgotten == {}
    assert _shown(forgetting) == _shown(holding)
    assert forgetting.hidden_below_floor == holding.hidden_below_floor > 0
    before = [ms for per in forgetting.stats.anomalies_forgotten.values() for ms in per if hunt_service.to_datetime(ms) < since]
    assert before, "some records forgotten before `since` (and so not counted)"
