"""Time slices of an aggregating ES|QL rule's events, each with its partial aggregates.

Why: executions ``[t - lookback, t]`` every ``interval`` overlap (Elastic's 7-day look-back
run hourly sees every event 168 times). ``SliceIndex`` cuts time at every execution time
(``k * interval``) and every window start (``k * interval - lookback``), so that every window
is exactly a run of consecutive slices. Since both window ends are inclusive, a time equal to a
cut is a slice of its own (``(cut, 0)``), and the times strictly between a cut and the next
one are another (``(cut, 1)``). A slice's events go through the query's row-level part once
(``StatsPlan.rows``) and are folded once into partial aggregates; an execution merges the
partial aggregates of its slices (``StatsPlan.result``). Slices are grouped in blocks of
about the square root of a window's length in slices; a block wholly inside a window is
merged once and its merged state reused by every window that contains it (while none of its
slices changes), so an execution merges some blocks and the slices at its two ends.

An execution must see exactly what the whole-window run sees (``CompiledRule._searchable``):
an event indexed after the execution (``event.ingested`` later than the execution) is left
out of it, and so is one whose ``@timestamp`` bound (``TimeBound``) has passed. A slice in
which every event is in is merged from its cached partial aggregates; one in which some are
out (the newest slices while their events are still being delivered) is folded again from
its members' rows, without those events. An event arriving late into a slice already folded
makes the slice compute again.

The row-level part runs as events arrive, over each batch of the rule's matches at once
(``admit``: one run per batch, since a run has a fixed cost that a 5-minute slice of a few
events would pay alone), and a slice keeps its members' rows (``_Member``), not their
documents: a week of events is held as the cells the ``STATS`` reads. At each settle of the
rule (``horizon``, its limit) the changed slices its executions will see gather their
members' rows in time order and fold them. An execution whose slices cannot be merged
exactly (``NotMergeable``) computes the ``STATS`` over all the rows of its window instead
(``whole``): what the whole query would compute from the documents, which are not held. An
execution's window reaches the rule as a view (``esql_rule._Window``): only that fallback
reads it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, repeat
from math import isqrt
from operator import itemgetter
from typing import Any, NamedTuple, Sequence

from ctdetect.engine.rules.base import sort_held
from ctdetect.engine.rules.schedule import Schedule
from ctdetect.query.esql.bounds import PartSummary
from ctdetect.query.esql.incremental import UNBOUNDED, NotMergeable, SliceRows, StatsPlan
from ctdetect.query.esql.table import Table

NO_BLOCK = 1 << 62  # ``SliceIndex.oldest_block`` when it has none
SliceKey = tuple[int, int]  # (cut, 0): events at the cut; (cut, 1): events after it, before the next cut


class _Member(NamedTuple):
    """A match of the rule as its slice keeps it: its time and input position (the order of
    rows, ``MATCH_ORDER``), the last execution its time bounds allow (``SliceRows.last``),
    its rows, each ``(group keys, cell of each inner aggregate...)``, and when it became
    searchable (>= its time). ``doc`` holds the match's ``@timestamp`` fields only when
    ``last`` is ``UNBOUNDED`` (its bounds are then evaluated per execution,
    ``StatsPlan.bound_passes``).

    A tuple, made in C over a whole batch (``admit``: ``tuple.__new__`` mapped over the
    columns, no Python ``__init__`` per match), which the cyclic collector stops tracking
    once its cells are plain values: a week of members is held."""

    ts: int
    seq: int
    last: Any
    rows: tuple[tuple, ...]
    searchable: int
    doc: dict | None = None


_new_member = partial(tuple.__new__, _Member)  # _Member from one tuple of its fields, in C
_ROWS = itemgetter(3)  # a member's rows (``_Member.rows``), read in C over a slice's members
_LAST = itemgetter(2)  # its ``last``


def _gathered(members: Sequence[_Member], width: int) -> SliceRows:
    """The ``SliceRows`` of members (in order): their rows one after another, ``width`` being
    the number of inner aggregates."""
    per_member = list(map(_ROWS, members))
    rows = list(chain.from_iterable(per_member))
    if len(rows) == len(members) and set(map(len, per_member)) == {1}:  # a row per member, nearly always: in C
        source: list[int] = list(range(len(rows)))
    else:
        source = [i for i, member_rows in enumerate(per_member) for _ in member_rows]
    columns = list(zip(*rows)) if rows else [()] * (width + 1)
    return SliceRows(source, list(columns[0]), [list(c) for c in columns[1:]], list(map(_LAST, members)))


@dataclass(slots=True)
class _Slice:
    # In time order once computed. Their rows are gathered into a ``SliceRows`` only to fold
    # (not kept: a week of slices' cell lists would be walked by every full collection).
    members: list[_Member] = field(default_factory=list)
    computed: int = 0  # how many members ``partial`` covers
    partial: dict[tuple, list[Any]] | None = None
    summary: PartSummary | None = None  # ``StatsPlan.summarise`` of ``partial``
    latest_first: int = 0
    soonest: int | None = None  # when the first member became searchable
    earliest_last: int | None = None

    def compute(self, plan: StatsPlan) -> None:
        """Partial aggregates of every member's rows (in time order)."""
        sort_held(self.members)
        self.take(plan, _gathered(self.members, len(plan.inner)))

    def take(self, plan: StatsPlan, rows: SliceRows) -> None:
        """Its members' rows (in time order) and their partial aggregates."""
        self.computed = 0
        if UNBOUNDED in rows.last:
            raise NotMergeable("a member's @timestamp is not epoch milliseconds: its bounds are evaluated per execution")
        self.latest_first = max([m.searchable for m in self.members])
        bounded = [x for x in rows.last if x is not None]
        self.earliest_last = min(bounded) if bounded else None
        self.partial = plan.fold(rows)
        self.summary = plan.summarise(self.partial)
        self.computed = len(self.members)

    def part_at(self, plan: StatsPlan, executed_at: int) -> tuple[dict[tuple, list[Any]], PartSummary | None]:
        """The partial aggregates of the members the execution at ``executed_at`` sees, and
        their summary (None: computed by the merge if it needs one)."""
        if self.stable_at(executed_at):
            assert self.partial is not None
            return self.partial, self.summary
        seen = [m.searchable <= executed_at and (m.last is None or executed_at <= m.last) for m in self.members]
        return plan.fold(_gathered(self.members, len(plan.inner)), seen), None

    def stable_at(self, executed_at: int) -> bool:
        """Whether the execution at ``executed_at`` sees every member."""
        return _sees_all(self.latest_first, self.earliest_last, executed_at)


def _sees_all(latest_first: int, earliest_last: int | None, executed_at: int) -> bool:
    """Whether an execution sees every member of a slice (or block) with these bounds."""
    return latest_first <= executed_at and (earliest_last is None or executed_at <= earliest_last)


@dataclass(slots=True)
class _Block:
    """The merged partial aggregates of the slices of one block, while they are unchanged."""

    version: int
    state: dict[tuple, list[Any]]
    latest_first: int
    earliest_last: int | None
    summary: PartSummary | None = None  # ``StatsPlan.summarise`` of ``state``


@dataclass(slots=True)
class SliceIndex:
    """The live slices of one rule (those a later execution can still see)."""

    plan: StatsPlan
    schedule: Schedule
    slices: dict[SliceKey, _Slice] = field(default_factory=dict)
    keys: list[SliceKey] = field(default_factory=list)  # sorted
    blocks: dict[int, _Block] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)  # block -> times one of its slices computed
    block_ms: int = 0  # time a block covers (0: no blocks)
    # the oldest block of ``versions`` (or above it): ``_forget`` scans the blocks only when
    # one is due (every execution of a 5-minute rule scanned them all)
    oldest_block: int = NO_BLOCK
    dirty: set[SliceKey] = field(default_factory=set)  # slices with members their rows do not cover
    # executions up to this time run before any slice gains a member (the rule's settle limit; None: all)
    horizon: int | None = None

    def __post_init__(self) -> None:
        intervals = self.schedule.lookback_ms // self.schedule.interval_ms
        size = isqrt(max(intervals, 1))
        self.block_ms = size * self.schedule.interval_ms if size > 1 else 0

    def key(self, ts: int) -> SliceKey:
        step, back = self.schedule.interval_ms, self.schedule.lookback_ms
        cut = max(ts // step * step, (ts + back) // step * step - back)
        return (cut, 0 if cut == ts else 1)

    def admit(self, docs: list[dict], times: list[int], seqs: list[int], delayed: dict[int, int],
              cells: dict[str, list] | None = None) -> list[_Member]:
        """The members of a batch of the rule's matches (their documents, times and input
        positions; passed its prefilter): the row-level part run once over the documents, its
        rows split by document, each member searchable from its time or from its later
        indexing time (``delayed``, by input position). The documents are not kept (only the
        ``@timestamp`` fields of one whose bounds cannot be computed). ``cells``: columns
        already read from the documents (``StatsPlan.rows``)."""
        rows = self.plan.rows(docs, cells)
        tuples = list(zip(rows.keys, *rows.cells))
        source = rows.source
        last = rows.last
        searchable = [delayed.get(s, t) for s, t in zip(seqs, times)] if delayed else times
        if len(source) == len(docs) and source == list(range(len(docs))):  # one row per document
            per_doc: Any = zip(tuples)  # each row as a one-row tuple
        else:
            per_doc = [tuple(tuples[slice(*rows.rows_of(i, i + 1))]) for i in range(len(docs))]
        members = list(map(_new_member, zip(times, seqs, last, per_doc, searchable, repeat(None))))
        if UNBOUNDED in last:
            for i, (member, doc) in enumerate(zip(members, docs)):
                if member.last is UNBOUNDED:
                    members[i] = member._replace(doc={k: doc[k] for k in ("@timestamp", "_ts") if k in doc})
        return members

    def add_all(self, members: Sequence[_Member]) -> None:
        """The members ``admit`` made, each into its slice (by ``key``), a slice at a time: the members of a batch come
        nearly in time order, so most follow one of their own slice (tested by the slice's
        bounds, not ``key`` per member), and a slice's bookkeeping (its key, ``dirty``, its
        soonest searchable time) is done once per run of its members."""
        n, i = len(members), 0
        while i < n:
            key = self.key(members[i].ts)
            lo, hi = self._between(key)
            j = i + 1
            while j < n and lo < members[j].ts < hi:
                j += 1
            run = members[i:j]
            found = self.slices.get(key)
            if found is None:
                found = self.slices[key] = _Slice()
                if not self.keys or key > self.keys[-1]:
                    self.keys.append(key)
                else:
                    insort(self.keys, key)
            found.members.extend(run)
            self.dirty.add(key)
            soonest = min([m.searchable for m in run])
            if found.soonest is None or soonest < found.soonest:
                found.soonest = soonest
            i = j

    def _between(self, key: SliceKey) -> tuple[int, int]:
        """The times strictly between which every time has slice ``key`` (an empty span for a
        cut's own slice): from its cut to the next cut, the nearer of the next execution time
        and the next window start."""
        cut, after = key
        if not after:
            return cut, cut
        step, back = self.schedule.interval_ms, self.schedule.lookback_ms
        return cut, min((cut // step + 1) * step, ((cut + back) // step + 1) * step - back)

    def whole(self, executed_at: int, window: Sequence[_Member], limit: int | None) -> Table:
        """The query's result at ``executed_at`` over the window's members (its searchable
        matches, in time order), computed without partial states (``StatsPlan.whole``): for
        an execution whose slices do not merge exactly."""
        unbounded = [m for m in window if m.last is UNBOUNDED]
        passing = {id(m) for m, ok in zip(unbounded, self.plan.bound_passes([m.doc or {} for m in unbounded], executed_at)) if ok}
        seen = [m for m in window if m.last is None or (id(m) in passing if m.last is UNBOUNDED else executed_at <= m.last)]
        return self.plan.whole(_gathered(seen, len(self.plan.inner)), executed_at, limit)

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
        width = self.block_ms
        if self.dirty:
            self._compute_due(executed_at)
        for k, piece in zip(self.keys[lo:hi], live):
            if piece.computed != len(piece.members):  # left by ``_compute_due`` (its fold raised)
                piece.compute(self.plan)
                self.dirty.discard(k)
                self._changed(k)
        parts: list[dict[tuple, list[Any]]] = []
        summaries: list[PartSummary | None] = []
        live_keys = self.keys[lo:hi]
        i, n = 0, len(live_keys)
        while i < n:
            j = i + 1
            if width:
                block = live_keys[i][0] // width
                while j < n and live_keys[j][0] // width == block:
                    j += 1
                if j - i > 1 and block * width >= start and (block + 1) * width <= executed_at:
                    merged = self._block_state(block, live[i:j], executed_at)
                    if merged is not None:
                        parts.append(merged.state)
                        summaries.append(merged.summary)
                        i = j
                        continue
            for piece in live[i:j]:
                part, summary = piece.part_at(self.plan, executed_at)
                parts.append(part)
                summaries.append(summary)
            i = j
        return self.plan.result(parts, executed_at, limit, summaries)

    def _changed(self, key: SliceKey) -> None:
        if self.block_ms:
            block = key[0] // self.block_ms
            self.versions[block] = self.versions.get(block, 0) + 1
            if block < self.oldest_block:
                self.oldest_block = block

    def _compute_due(self, executed_at: int) -> None:
        """Fold every changed slice the executions up to the horizon see. A slice whose fold
        raises is left to its execution, which computes it alone (and falls back if it raises
        again)."""
        bound = executed_at if self.horizon is None or self.horizon < executed_at else self.horizon
        due = sorted(k for k in self.dirty if self.horizon is None or k[0] <= bound)
        width = len(self.plan.inner)
        for k in due:
            piece = self.slices[k]
            sort_held(piece.members)
            try:
                piece.take(self.plan, _gathered(piece.members, width))
            except Exception:
                piece.computed = 0
                continue
            self.dirty.discard(k)
            self._changed(k)

    def _block_state(self, block: int, pieces: list[_Slice], executed_at: int) -> _Block | None:
        """The merged partial aggregates of a block's slices (with their summary), None when
        the execution does not see every member of them."""
        version = self.versions.get(block, 0)
        cached = self.blocks.get(block)
        if cached is None or cached.version != version:
            bounded = [p.earliest_last for p in pieces if p.earliest_last is not None]
            cached = _Block(version, {}, max(p.latest_first for p in pieces), min(bounded) if bounded else None)
            if not _sees_all(cached.latest_first, cached.earliest_last, executed_at):
                return None
            cached.state = self.plan.combine([p.partial or {} for p in pieces])
            cached.summary = self.plan.summarise(cached.state)
            self.blocks[block] = cached
        elif not _sees_all(cached.latest_first, cached.earliest_last, executed_at):
            return None
        return cached

    def _forget(self, first_live: SliceKey) -> None:
        """Drop the slices before ``first_live``: no later execution sees them."""
        cut = bisect_left(self.keys, first_live)
        if cut:
            for k in self.keys[:cut]:
                del self.slices[k]
                self.dirty.discard(k)
            del self.keys[:cut]
        if self.block_ms and self.versions and self.oldest_block * self.block_ms < first_live[0]:
            for block in [b for b in self.versions if b * self.block_ms < first_live[0]]:
                del self.versions[block]
                self.blocks.pop(block, None)
            self.oldest_block = min(self.versions, default=NO_BLOCK)

    def clear(self) -> None:
        self.slices.clear()
        self.dirty.clear()
        self.keys.clear()
        self.blocks.clear()
        self.versions.clear()
        self.oldest_block = NO_BLOCK
