"""Time slices of an aggregating ES|QL rule's events, each with its partial aggregates.

Why: executions ``[t - lookback, t]`` every ``interval`` overlap (Elastic's 7-day look-back
run hourly sees every event 168 times). ``SliceIndex`` cuts time at every execution time
(``k * interval``) and every window start (``k * interval - lookback``), so that every window
is exactly a run of consecutive slices. Since both window ends are inclusive, a time equal to a
cut is a slice of its own (``(cut, 0)``), and the times strictly between a cut and the next
one are another (``(cut, 1)``). A slice's events go through the query's row-level part once
(``StatsPlan.rows``) and are folded once into partial aggregates; an execution merges the
partial aggregates of its slices (``StatsPlan.result``).

An execution must see exactly what the whole-window run sees (``CompiledRule._searchable``):
an event indexed after the execution (``event.ingested`` later than the execution) is left
out of it, and so is one whose ``@timestamp`` bound (``TimeBound``) has passed. A slice in
which every event is in is merged from its cached partial aggregates; one in which some are
out (the newest slices while their events are still being delivered) is folded again from
its cached rows, without those events. An event arriving late into a slice already folded
makes the slice compute again.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field
from typing import Any

from ctdetect.engine.rules.base import Match
from ctdetect.engine.rules.schedule import Schedule
from ctdetect.query.esql.incremental import SliceRows, StatsPlan
from ctdetect.query.esql.table import Table

SliceKey = tuple[int, int]  # (cut, 0): events at the cut; (cut, 1): events after it, before the next cut


@dataclass(slots=True)
class _Slice:
    members: list[Match] = field(default_factory=list)
    searchable: dict[int, int] = field(default_factory=dict)  # seq -> when the event became searchable
    computed: int = 0  # how many members ``rows`` and ``partial`` cover
    rows: SliceRows | None = None
    partial: dict[tuple, list[Any]] | None = None
    first: list[int] = field(default_factory=list)  # per member (time order): earliest execution that sees it
    last: list[int | None] = field(default_factory=list)  # per member: latest execution its time bounds allow
    latest_first: int = 0
    soonest: int | None = None  # when the first member became searchable
    earliest_last: int | None = None

    def compute(self, plan: StatsPlan) -> None:
        """Row-level part and partial aggregates of every member (in time order)."""
        self.members.sort(key=lambda m: (m.ts, m.seq))
        self.computed = 0
        self.rows = plan.rows([m.event for m in self.members])
        self.first = [self.searchable[m.seq] for m in self.members]
        self.last = self.rows.last
        self.latest_first = max(self.first)
        bounded = [x for x in self.last if x is not None]
        self.earliest_last = min(bounded) if bounded else None
        self.partial = plan.fold(self.rows)
        self.computed = len(self.members)

    def part_at(self, plan: StatsPlan, executed_at: int) -> dict[tuple, list[Any]]:
        """The partial aggregates of the members the execution at ``executed_at`` sees."""
        if self.latest_first <= executed_at and (self.earliest_last is None or executed_at <= self.earliest_last):
            assert self.partial is not None
            return self.partial
        assert self.rows is not None
        seen = [f <= executed_at and (x is None or executed_at <= x) for f, x in zip(self.first, self.last)]
        return plan.fold(self.rows, seen)


@dataclass(slots=True)
class SliceIndex:
    """The live slices of one rule (those a later execution can still see)."""

    plan: StatsPlan
    schedule: Schedule
    slices: dict[SliceKey, _Slice] = field(default_factory=dict)
    keys: list[SliceKey] = field(default_factory=list)  # sorted

    def key(self, ts: int) -> SliceKey:
        step, back = self.schedule.interval_ms, self.schedule.lookback_ms
        cut = max(ts // step * step, (ts + back) // step * step - back)
        return (cut, 0 if cut == ts else 1)

    def add(self, match: Match, searchable_at: int) -> None:
        """A match of the rule's prefilter, searchable from ``searchable_at`` (>= its time)."""
        key = self.key(match.ts)
        found = self.slices.get(key)
        if found is None:
            found = self.slices[key] = _Slice()
            if not self.keys or key > self.keys[-1]:
                self.keys.append(key)
            else:
                insort(self.keys, key)
        found.members.append(match)
        found.searchable[match.seq] = searchable_at
        if found.soonest is None or searchable_at < found.soonest:
            found.soonest = searchable_at

    def result(self, executed_at: int, limit: int | None) -> Table | None:
        """The query's result at ``executed_at``; None when no event of the window is
        searchable yet (the execution is skipped, as the whole-window run skips it)."""
        start = executed_at - self.schedule.lookback_ms
        self._forget((start, 0))
        lo = bisect_left(self.keys, (start, 0))
        hi = bisect_right(self.keys, (executed_at, 0))
        live = [self.slices[k] for k in self.keys[lo:hi]]
        if not any(s.soonest is not None and s.soonest <= executed_at for s in live):
            return None
        parts = []
        for piece in live:
            if piece.computed != len(piece.members):
                piece.compute(self.plan)
            parts.append(piece.part_at(self.plan, executed_at))
        return self.plan.result(parts, executed_at, limit)

    def _forget(self, first_live: SliceKey) -> None:
        """Drop the slices before ``first_live``: no later execution sees them."""
        cut = bisect_left(self.keys, first_live)
        if cut:
            for k in self.keys[:cut]:
                del self.slices[k]
            del self.keys[:cut]

    def clear(self) -> None:
        self.slices.clear()
        self.keys.clear()
