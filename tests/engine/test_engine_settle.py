"""Settling keeps the held matches in order incrementally: the same executions, over the same
windows, as sorting every held match again at each settle (the way it was done before)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from rulekit import ev, rule

from ctdetect.engine.rules import base
from ctdetect.engine.rules.base import CompiledRule
from ctdetect.engine.rules.query_rule import QueryRule
from ctdetect.engine.rules.schedule import Schedule

MINUTE = 60_000


def _full_sort_settle(self: CompiledRule, limit: int | None) -> None:
    """The settle before the incremental order: every held match sorted at each call, the
    windows walked from the first held match, executions up to the settled one skipped."""
    items = self.matches
    if not items:
        return
    items.sort(key=lambda m: (m.ts, m.seq))
    times = [m.ts for m in items]
    done = self.settled_until
    due = [w for w in self.schedule.windows(times) if (done is None or w[0] > done) and (limit is None or w[0] <= limit)]
    for t, lo, hi in due:
        seen = self._searchable(t, items[lo:hi])
        if seen:
            self._execute(t, seen)
    if due:
        self.settled_until = due[-1][0]
    if limit is None:
        items.clear()
        self._delayed.clear()
    elif self.settled_until is not None:
        keep_from = self.settled_until + self.schedule.interval_ms - self.schedule.lookback_ms
        first = next((i for i, ts in enumerate(times) if ts >= keep_from), len(times))
        if self._delayed:
            for m in items[:first]:
                self._delayed.pop(m.seq, None)
        del items[:first]


def _executions(events: list[dict], reference: bool, monkeypatch: pytest.MonkeyPatch, interval: str, from_: str) -> tuple[list[Any], int, int]:
    seen: list[Any] = []
    original = QueryRule._execute

    def recording(self: Any, executed_at: int, window: Any) -> None:
        seen.append((executed_at, [(m.ts, m.seq) for m in window]))
        original(self, executed_at, window)

    with monkeypatch.context() as m:
        m.setattr(base, "SETTLE_EVERY", 37)
        m.setattr(base, "SETTLE_SLACK_MS", 45 * MINUTE)
        m.setattr(QueryRule, "_execute", recording)
        if reference:
            m.setattr(CompiledRule, "_settle", _full_sort_settle)
        r = rule(interval=interval, from_=from_, max_signals=3, rule_id="settle-test")
        compiled = QueryRule(r, Schedule.of(r.interval, r.from_), predicate=lambda e: e["event.action"] == "CreateUser")
        for i, event in enumerate(events):
            compiled.offer(event, i)
        alerts = compiled.finish([])
    return seen + [f.document["kibana"]["alert"]["uuid"] for f in alerts], compiled.late, len(alerts)


@pytest.mark.parametrize("interval, from_", [("5m", "now-6m"), ("5m", "now-35m"), ("1h", "now-7h"), ("10m", "now-2h")])
def test_incremental_order_gives_the_executions_of_a_full_sort(interval: str, from_: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(hash((interval, from_)) & 0xFFFF)
    minutes = sorted(rng.uniform(0, 3 * 24 * 60) for _ in range(3000))
    # shuffled within half an hour (as hunt delivers), some much later, some at equal times,
    # and some long after their executions settled (counted late)
    order = sorted(range(len(minutes)), key=lambda i: minutes[i] + rng.choice([0, 0, rng.uniform(0, 30), rng.uniform(0, 200)]))
    events = []
    for i in order:
        m = minutes[i] if rng.random() > 0.05 else round(minutes[i])
        if rng.random() < 0.01:
            m -= rng.uniform(60, 600)
        events.append(ev(m, "CreateUser" if rng.random() < 0.9 else "ListUsers", user__name=f"u{i % 7}"))
    got, got_late, got_alerts = _executions(events, False, monkeypatch, interval, from_)
    want, want_late, want_alerts = _executions(events, True, monkeypatch, interval, from_)
    assert got == want
    assert (got_late, got_alerts) == (want_late, want_alerts)
    assert got_late and got_alerts > 100
