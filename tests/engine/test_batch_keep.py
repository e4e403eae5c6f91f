"""A batch of matches held at once is held as one at a time would be (``CompiledRule._keep_all``,
``SliceIndex.add_all``): the same slices, the same settles at the same points, the same executions."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Sequence

import pytest

from ctdetect.engine.rules.base import SETTLE_EVERY, CompiledRule, Match, sort_held
from ctdetect.engine.rules.esql_slices import SliceIndex, _Member
from ctdetect.engine.rules.schedule import Schedule

MINUTE = 60_000


@dataclass(slots=True)
class _Recording(CompiledRule):
    """A rule that records each execution: its time, the input positions of its window, and
    how many items had been placed (``placed``) when it ran."""

    placed: int = 0
    executions: list[tuple[int, list[int], int]] = field(default_factory=list)

    def _execute(self, executed_at: int, window: Sequence[Any]) -> None:
        self.executions.append((executed_at, [m.seq for m in window], self.placed))


def _stream(count: int, seed: int) -> list[Match]:
    """Matches nearly in time order over days (jitter of minutes), a few hours late now and then
    (counted ``late`` once their executions settled), and some sharing a time."""
    rng = random.Random(seed)
    items, now = [], 1_700_000_000_000
    for seq in range(count):
        now += rng.randrange(0, 40_000)
        ts = now - rng.randrange(0, 10 * MINUTE)
        if rng.random() < 0.01:
            ts -= rng.randrange(7, 30) * 3_600_000
        items.append(Match(ts, seq, {}))
    return items


@pytest.mark.parametrize("interval, lookback", [(5, 6), (60, 7 * 24 * 60), (15, 32)])
def test_a_batch_held_at_once_settles_as_items_held_one_by_one(interval: int, lookback: int) -> None:
    schedule = Schedule(interval * MINUTE, lookback * MINUTE)
    items = _stream(3 * SETTLE_EVERY + 517, seed=interval)
    one = _Recording(rule=None, schedule=schedule)  # type: ignore[arg-type] - the rule's content is not read
    for item in items:
        one.placed += 1
        one._keep(item)

    batched = _Recording(rule=None, schedule=schedule)  # type: ignore[arg-type]

    def hold(run: Sequence[Any]) -> None:
        batched.placed += len(run)

    rng, start = random.Random(7), 0
    while start < len(items):  # batches of every size, crossing the settle points
        size = rng.choice([1, 2, 37, 600, 2048, 5000])
        batched._keep_all(items[start:start + size], hold)
        start += size

    assert one.executions and (one.late > 0 or lookback > 24 * 60)  # a week's look-back: nothing is that late
    assert batched.executions == one.executions
    assert (batched.late, batched.newest, batched.settled_until) == (one.late, one.newest, one.settled_until)
    assert batched.matches == one.matches
    one.finish([])
    batched.finish([])
    assert batched.executions == one.executions


@pytest.mark.parametrize("interval, lookback", [(5, 6), (5, 35), (15, 32), (60, 7 * 24 * 60), (10, 65)])
def test_members_added_a_run_at_a_time_land_in_the_slice_their_time_keys(interval: int, lookback: int) -> None:
    """Every member is in the slice ``key`` gives its time, in the order given, including times
    on a cut (a slice of their own) and times out of order; each slice's soonest searchable time
    is its members' earliest, and every slice touched is dirty."""
    schedule = Schedule(interval * MINUTE, lookback * MINUTE)
    index = SliceIndex(None, schedule)  # type: ignore[arg-type] - placing members reads no plan
    rng = random.Random(lookback)
    cuts = sorted({k * schedule.interval_ms for k in range(1, 40)} | {k * schedule.interval_ms - schedule.lookback_ms for k in range(1, 60)})
    members = []
    for seq in range(3000):
        ts = rng.choice(cuts) if rng.random() < 0.1 else rng.randrange(0, 40 * schedule.interval_ms)
        if rng.random() < 0.2:
            ts = ts - ts % schedule.interval_ms + rng.randrange(0, 3)  # next to a cut
        members.append(_Member(ts, seq, None, (), ts + rng.randrange(0, 5 * MINUTE)))
    members.sort(key=lambda m: m.ts + rng.randrange(-2 * MINUTE, 2 * MINUTE))  # nearly in order

    for start in range(0, len(members), 700):
        index.add_all(members[start:start + 700])

    expected: dict[tuple[int, int], list[_Member]] = {}
    for m in members:
        expected.setdefault(index.key(m.ts), []).append(m)
    assert index.keys == sorted(expected)
    assert {k: s.members for k, s in index.slices.items()} == expected
    assert {k: s.soonest for k, s in index.slices.items()} == {k: min(m.searchable for m in ms) for k, ms in expected.items()}
    assert index.dirty == set(expected)
    assert any(k[1] == 0 for k in expected) and any(k[1] == 1 for k in expected)


def test_slice_members_sorted_as_they_are_come_in_match_order() -> None:
    """``sort_held`` sorts tuples (slice members) without a key: the order is ``MATCH_ORDER``'s,
    times shared by many members and their other fields (rows, bounds) never compared."""
    rng = random.Random(3)
    members = [_Member(rng.randrange(0, 50), seq, rng.choice([None, 5, 9]), ((rng.random(),),), 0) for seq in range(2000)]
    rng.shuffle(members)
    matches = [Match(m.ts, m.seq, {}) for m in members]
    sort_held(members)
    sort_held(matches)
    assert [(m.ts, m.seq) for m in members] == [(m.ts, m.seq) for m in matches] == sorted((m.ts, m.seq) for m in members)
