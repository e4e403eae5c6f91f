"""Streaming ES|QL rules (look-back == interval, ``engine.rules.esql_stream``) give what holding gives.

Every ES|QL rule of the package and Elastic's AWS ES|QL rules (skipped when ../shared is
absent), each with its look-back set to its interval, plus a copy of each aggregating rule
that stops at its first STATS (every group compared, not only the rows a last WHERE keeps),
run over generated events (``test_esql_incremental._events``: every literal a query compares
with is a value its field takes, times on the window cuts as well as between them, most
events indexed late, some by hours) with ``STREAMING`` on and off. Compared exactly: every
execution's result rows, every alert in order, and the run's problems (late and untimed
counts). Variants: input out of time order (within 40 minutes, and a few events by more
than the 6-hour settling slack, so ``late`` counts them) and settling every 64 matches, so
executions settle mid-batch as they do in a dense archive.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Any

import pytest
from conftest import shared_path
from embedded_run import catalogue_types, run_embedded
from test_esql_incremental import PACKAGE_RULES, _esql_rules, _events, _stats_only

from ctdetect.content.loaders import load_rules
from ctdetect.content.model import Rule
from ctdetect.engine.rules import RuleEngine, base, esql_rule
from ctdetect.engine.rules.timeutil import duration_ms


def _one_interval(rules: list[Rule]) -> list[Rule]:
    """Each rule looking back exactly one interval (the case that streams)."""
    out = []
    for r in rules:
        interval = r.interval or "5m"
        out.append(replace(r, interval=interval, from_=f"now-{duration_ms(interval) // 1000}s"))
    return out


def _streamed(rules: list[Rule]) -> int:
    engine = RuleEngine.build(rules, catalogue_types())
    return sum(1 for c in engine.compiled if getattr(c, "stream", None) is not None)


def _run(rules: list[Rule], events: list[dict], streaming: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[tuple], list[str]]:
    """Alerts (as JSON, in order), every execution's result rows, the run's problems."""
    executions: list[tuple] = []
    original_rows = esql_rule.EsqlRule.alert_rows

    def recording(self: Any, executed_at: int, table: Any, window: Any) -> None:
        executions.append((self.rule.rule_id, executed_at, json.dumps(table.rows(), default=repr), json.dumps(table.types)))
        if not self.rule.rule_id.endswith("-stats"):
            original_rows(self, executed_at, table, window)

    with monkeypatch.context() as patch:
        patch.setattr(esql_rule, "STREAMING", streaming)
        patch.setattr(esql_rule.EsqlRule, "alert_rows", recording)
        findings, stats = run_embedded(rules, [dict(ev) for ev in events])
    assert not stats.not_run
    alerts = [json.dumps([f.kind, f.source_id, f.document], default=repr) for f in findings]
    return alerts, executions, list(stats.problems)


def _compare(rules: list[Rule], events: list[dict], monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[tuple], list[str]]:
    """Both ways over ``events``: the same rows per execution, alerts and problems (those of streaming returned)."""
    held = _run(rules, events, False, monkeypatch)
    streamed = _run(rules, events, True, monkeypatch)
    for name, got, want in zip(("rows", "alerts", "problems"), (streamed[1], streamed[0], streamed[2]), (held[1], held[0], held[2])):
        assert got == want, name
    return streamed


def _disordered(events: list[dict], seed: int) -> list[dict]:
    """``events`` shuffled within 40-minute horizons, and one in 200 moved back by 7 hours
    (later than the settling slack: such an event is ``late``)."""
    rng = random.Random(seed)
    keyed = [(i + rng.uniform(0, 40) * len(events) / (9 * 24 * 60), ev) for i, ev in enumerate(events)]
    keyed.sort(key=lambda kv: kv[0])
    out = [ev for _, ev in keyed]
    for i in range(0, len(out) - 1, 200):
        j = min(len(out) - 1, i + int(7 * 60 * len(out) / (9 * 24 * 60)))
        out.insert(j, out.pop(i))
    return out


def _package_rules() -> list[Rule]:
    rules = _one_interval(_esql_rules(load_rules(PACKAGE_RULES, [])))
    assert len(rules) >= 3
    return _stats_only(rules)


def _elastic_rules() -> list[Rule]:
    root = shared_path("anchors", "detection-rules", "rules", "integrations", "aws")
    rules = _one_interval(_esql_rules(load_rules(root, [])))
    assert len(rules) >= 20
    return _stats_only(rules)


def test_package_esql_rules_stream_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = _package_rules()
    assert _streamed(rules) >= 6  # the three rules and their STATS-only copies all stream
    alerts, rows, _ = _compare(rules, list(_events(rules, 2500, seed=31)), monkeypatch)
    assert len(rows) > 300 and alerts


def test_elastic_esql_rules_stream_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = _elastic_rules()
    assert _streamed(rules) >= 10
    alerts, rows, _ = _compare(rules, list(_events(rules, 900, seed=37)), monkeypatch)
    assert len(rows) > 300 and alerts


@pytest.mark.parametrize(("which", "settle_every"), [("package", 64), ("elastic", 8)])
def test_out_of_order_input_and_frequent_settling_stream_identically(which: str, settle_every: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = _package_rules() if which == "package" else _elastic_rules()
    events = _disordered(list(_events(rules, 2500 if which == "package" else 900, seed=41)), seed=43)
    monkeypatch.setattr(base, "SETTLE_EVERY", settle_every)
    alerts, rows, problems = _compare(rules, events, monkeypatch)
    assert any("out of time order" in p for p in problems)  # the late events were counted, the same way
    assert len(rows) > 300 and alerts
