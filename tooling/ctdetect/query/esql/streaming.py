"""Streaming evaluation of an aggregating ES|QL query: fold each event into its window's groups.

Why: a rule whose look-back equals its interval sees each event in one execution (two for an
event exactly on a cut, both ends of a window being inclusive), so nothing is gained by
holding the window's events until the execution and running the whole query over them then:
the event can go through the query's row-level part as it arrives and be folded at once into
per-group aggregation state (``WindowFold``), which is all a window holds. An execution then
finalises the aggregates and runs the commands after the ``STATS`` (``StatsPlan.result``).

The split is ``incremental.plan_stats``' (``StatsPlan``: row-level part, mergeable partial
aggregates, the rest per execution). ``plan_stream`` adds what streaming needs beyond merging
slices: the rows of a window arrive in input order, which need not be the ``(time, input
position)`` order the whole-window run reads them in, so the result must not depend on it:

- groups come out in the order of their first row in time order: each group remembers the
  position of its first row (time, input position, row of the document, key of the row), and a
  window that received a row earlier than one already folded orders its groups by it;
- ``COUNT(*)``, ``COUNT`` and ``COUNT_DISTINCT`` do not depend on the order of their rows;
  ``VALUES`` keeps the first occurrence of equal values (``1`` and ``1.0`` are one value, the
  first row's object is the one shown): each value remembers its first row's position, and a
  row earlier than it brings its own object;
- ``MIN``/``MAX`` are streamed only over a date column of the source (epoch-millisecond
  integers: equal values are the same value in any order); ``SUM`` (a float sum depends on the
  order of its additions) and the others refuse: the rule then holds its events as before.

References: ``incremental`` (the plan), ``aggregates.MERGEABLE`` (the partial states
``StatsPlan.result`` finalises), ES|QL's STATS reference (a multi-valued key puts the row
in the group of each of its values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ctdetect.query.esql import ast as e
from ctdetect.query.esql.aggregates import MERGEABLE, ROWS
from ctdetect.query.esql.expressions import DATE_TYPES
from ctdetect.query.esql.incremental import MASKED, SliceRows, StatsPlan, plan_stats
from ctdetect.query.esql.table import Table

__all__ = ["Batch", "StreamPlan", "WindowFold", "plan_stream"]

Order = tuple[int, int]  # (time ms, input position) of a document: the whole-window run's row order

# What each aggregate's state is while a window folds (``_fold_*``), by its ``MERGEABLE`` kind.
_ROWS, _COUNT, _DISTINCT, _VALUES, _MIN, _MAX = range(6)
_KIND_CODES = {id(ROWS): _ROWS, id(MERGEABLE["count"]): _COUNT, id(MERGEABLE["count_distinct"]): _DISTINCT,
               id(MERGEABLE["values"]): _VALUES, id(MERGEABLE["min"]): _MIN, id(MERGEABLE["max"]): _MAX}
_FAMILY = "number"  # the family ``aggregates._extreme_part`` gives an int: what ``final`` reads past


@dataclass(frozen=True, slots=True)
class Batch:
    """The row-level result of a batch of documents, with each document's rows."""

    rows: SliceRows
    spans: list[tuple[int, int]]  # per document: its rows are rows[start:end]

    @property
    def last(self) -> list[int | None]:
        """Per document: the last execution its time bounds allow (None: any)."""
        return self.rows.last


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """A query that streams: its ``StatsPlan`` and how each aggregate folds."""

    plan: StatsPlan
    codes: tuple[int, ...]  # per inner aggregate of the plan
    # a new group's states, made once (``new_states``): the immutable ones (counts 0, no
    # extreme yet) copied from ``blank``, the containers (COUNT_DISTINCT's set, VALUES' dict)
    # made afresh at the places ``fresh`` names
    blank: list[Any] = field(init=False, repr=False, compare=False)
    fresh: tuple[tuple[int, type], ...] = field(init=False, repr=False, compare=False)
    extremes: tuple[int, ...] = field(init=False, repr=False, compare=False)  # the MIN/MAX aggregates

    def __post_init__(self) -> None:
        codes = self.codes
        object.__setattr__(self, "blank", [0 if c in (_ROWS, _COUNT) else None for c in codes])
        object.__setattr__(self, "fresh", tuple((i, set if c == _DISTINCT else dict)
                                                for i, c in enumerate(codes) if c in (_DISTINCT, _VALUES)))
        object.__setattr__(self, "extremes", tuple(i for i, c in enumerate(codes) if c in (_MIN, _MAX)))

    def new_states(self) -> list[Any]:
        """The states of a group's first row: one per aggregate, each empty."""
        states = self.blank.copy()
        for i, make in self.fresh:
            states[i] = make()
        return states

    def __deepcopy__(self, memo: dict) -> "StreamPlan":
        return self  # compiled once, never changed by a run (as ``StatsPlan``)

    def rows(self, docs: list[dict], cells: dict[str, list] | None = None) -> Batch:
        """The row-level part of ``docs`` (each passed the rule's prefilter), once per document;
        ``cells``: columns already read from them (``StatsPlan.rows``)."""
        rows = self.plan.rows(docs, cells)
        size = len(docs)
        if len(rows.source) == size and rows.source == list(range(size)):  # the usual case: a row per document
            return Batch(rows, list(zip(range(size), range(1, size + 1))))
        return Batch(rows, [rows.rows_of(doc, doc + 1) for doc in range(size)])

    def window(self) -> "WindowFold":
        """An empty window's aggregation state."""
        return WindowFold(self)


@dataclass(slots=True)
class WindowFold:
    """The groups of one execution's window: per group, a state per aggregate, folded as
    documents arrive (``add``); ``result`` is the table the whole query gives over them."""

    stream: StreamPlan
    groups: dict[tuple, list[Any]] = field(default_factory=dict)  # group key -> states
    first: dict[tuple, tuple] = field(default_factory=dict)  # group key -> position of its first row
    newest: Order | None = None  # the latest document folded so far
    disordered: bool = False  # a document arrived earlier than one already folded

    def add(self, batch: Batch, docs: Sequence[int], orders: Sequence[Order]) -> None:
        """Fold the rows of documents ``docs`` of ``batch`` (``orders``: their positions), in input order."""
        rows = batch.rows
        spans = batch.spans
        groups, first = self.groups, self.first
        codes = self.stream.codes
        new_states = self.stream.new_states
        width = len(codes)
        row_keys = rows.keys
        # (states, row, its document's position): rows of one document arrive in their order,
        # so a value or group seen again in the same document is never an earlier occurrence
        targets: list[tuple[list[Any], int, Order]] = []
        newest = self.newest
        for doc, order in zip(docs, orders):
            if newest is not None and order < newest:
                self.disordered = True
            else:
                newest = order
            start, end = spans[doc]
            for r in range(start, end):
                for j, key in enumerate(row_keys[r]):
                    states = groups.get(key)
                    if states is None:
                        states = groups[key] = new_states()
                        first[key] = (order[0], order[1], r - start, j)
                    elif self.disordered and order < first[key][:2]:
                        first[key] = (order[0], order[1], r - start, j)
                    targets.append((states, r, order))
        self.newest = newest
        for i in range(width):
            _FOLDS[codes[i]](targets, i, rows.cells[i], self.disordered)

    def result(self, now_ms: int, limit: int | None) -> Table:
        """The query's result for the window (``NOW()`` is ``now_ms``; at most ``limit`` rows).

        The folded states are handed on as ``aggregates.MERGEABLE`` holds them (what
        ``StatsPlan.result`` finalises): counts, the distinct set and VALUES' dict of first
        occurrences as they are (the groups themselves when in order: a window's states are
        read once, by its one execution), a MIN/MAX as its ``(family, value)`` part."""
        groups = self.groups
        if self.disordered:
            groups = {key: groups[key] for key in sorted(groups, key=self.first.__getitem__)}
        extremes = self.stream.extremes
        if extremes:
            part = {}
            for key, folded in groups.items():
                states = part[key] = folded.copy()
                for i in extremes:
                    value = folded[i]
                    states[i] = None if value is None else (_FAMILY, value)
            groups = part
        return self.stream.plan.result([groups], now_ms, limit)


def _values_of(cell: Any) -> Any:
    return () if cell is None else cell if cell.__class__ is list else (cell,)


def _fold_rows(targets: list, i: int, cells: list, disordered: bool) -> None:
    for states, r, _ in targets:
        if cells[r] is not MASKED:
            states[i] += 1


def _fold_count(targets: list, i: int, cells: list, disordered: bool) -> None:
    for states, r, _ in targets:
        cell = cells[r]
        if cell is not MASKED and cell is not None:
            states[i] += len(cell) if cell.__class__ is list else 1


def _fold_distinct(targets: list, i: int, cells: list, disordered: bool) -> None:
    for states, r, _ in targets:
        cell = cells[r]
        if cell is not MASKED and cell is not None:
            if cell.__class__ is list:
                states[i].update(cell)
            else:
                states[i].add(cell)


def _fold_values(targets: list, i: int, cells: list, disordered: bool) -> None:
    for states, r, at in targets:
        cell = cells[r]
        if cell is MASKED or cell is None:
            continue
        seen = states[i]
        for value in _values_of(cell):
            found = seen.get(value)
            if found is None:
                seen[value] = at
            elif disordered and at < found:
                del seen[value]  # an earlier row's object is the one VALUES keeps
                seen[value] = at


def _extreme(pick_lower: bool) -> Callable[[list, int, list, bool], None]:
    def fold(targets: list, i: int, cells: list, disordered: bool) -> None:
        for states, r, _ in targets:
            cell = cells[r]
            if cell is MASKED or cell is None:
                continue
            for value in _values_of(cell):
                current = states[i]
                if current is None or (value < current if pick_lower else value > current):
                    states[i] = value

    return fold


_FOLDS: dict[int, Callable[[list, int, list, bool], None]] = {
    _ROWS: _fold_rows, _COUNT: _fold_count, _DISTINCT: _fold_distinct, _VALUES: _fold_values,
    _MIN: _extreme(True), _MAX: _extreme(False),
}


def plan_stream(query: e.Query, source_columns: Callable[[tuple[str, ...]], dict[str, str] | None]) -> StreamPlan | str:
    """The streaming plan of an aggregating ``query``, or why it has none (its rule then
    holds its events and runs the whole query per execution)."""
    plan = plan_stats(query, source_columns)
    if isinstance(plan, str):
        return plan
    codes: list[int] = []
    for inner in plan.inner:
        code = _KIND_CODES.get(id(inner.kind))
        if code is None:
            return "an aggregate whose value depends on the order of its rows"
        if code in (_MIN, _MAX) and not _source_date(plan, inner.agg, inner.placeholder, query):
            return "MIN/MAX over something else than a date field of the source"
        codes.append(code)
    return StreamPlan(plan, tuple(codes))


def _source_date(plan: StatsPlan, agg: int, placeholder: str, query: e.Query) -> bool:
    """Whether the aggregate call behind ``placeholder`` reads a date field of the source
    directly (its cells are epoch-ms integers): no command before the STATS makes a column of
    that name, and none makes columns it cannot name in advance (DISSECT, GROK)."""
    step = plan.stats.aggs[agg]
    call = next((c for c, _ in step.inner if step.replace[id(c)] == placeholder), None)
    if call is None or len(call.args) != 1 or not isinstance(call.args[0], e.FieldRef):
        return False
    name = call.args[0].name
    if plan.program.source_types.get(name) not in DATE_TYPES:
        return False
    before = query.commands[: next(i for i, c in enumerate(query.commands) if isinstance(c, e.Stats))]
    for cmd in before:
        if isinstance(cmd, (e.Dissect, e.Grok)):
            return False
        if isinstance(cmd, e.Eval) and any(f.name == name for f in cmd.fields):
            return False
        if isinstance(cmd, e.Rename) and any(new == name for _, new, _ in cmd.pairs):
            return False
    return True
