"""Incremental evaluation of an aggregating ES|QL query over overlapping time windows.

Why: a scheduled rule with a long look-back (Elastic's ``from = "now-7d"``, ``interval =
"1h"``) runs its whole pipeline over its whole window at each execution, so every event goes
through the row-level commands and the ``STATS`` about 168 times. A ``StatsPlan`` splits the
query in three:

- the **row-level part**: the commands before the first ``STATS`` (``WHERE``, ``EVAL``,
  ``DISSECT``, ``GROK``, ``MV_EXPAND``, ``KEEP``, ``DROP``, ``RENAME``), then the ``STATS``'
  group keys and aggregate inputs: each row depends on its own document only, so ``rows``
  computes it once per document, in batches (a time slice of the rule's events);
- the **partial aggregates**: ``fold`` turns the rows of a slice into one partial state per
  group and aggregate (``aggregates.MERGEABLE``); ``result`` merges the states of the slices
  of a window, in time order, into the very cells the ``STATS`` computes over all the rows;
- the **rest** (the aggregates' outer expressions, the commands after the ``STATS``, the row
  cap of the request), run per execution on the merged groups, as before.

Identity with the whole-pipeline run is kept by refusing (``plan_stats`` returns the reason)
whatever could make a row depend on more than its document or on the execution: ``NOW()``
anywhere in the row-level part, except the ``@timestamp >= NOW() - <fixed span>`` bound
Elastic's rules repeat in their first ``WHERE``, which becomes a per-document last execution
(``TimeBound``); ``_id`` (its fallback value is a position in the batch); a ``RENAME`` of a
column that may be absent from a batch; ``SORT``/``LIMIT``/``INLINE STATS`` before the
``STATS``; aggregates that do not merge exactly (``AVG``, ``MEDIAN``, ``STD_DEV``). Groups
come out in the order of their first row, as the ``STATS`` orders them, because slices are
merged in time order and rows keep their documents' order within a slice.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace
from itertools import repeat
from operator import is_, itemgetter
from types import NoneType
from typing import Any, Callable, Iterable, Sequence

from ctdetect.query.esql import ast as e
from ctdetect.query.esql.aggregates import AGGREGATES, MERGEABLE, ROWS, Mergeable, NotMergeable
from ctdetect.query.esql.bounds import Bound, PartSummary, candidate_groups, plan_bounds, summarise
from ctdetect.query.esql.evaluate import Program, StatsStep, conjuncts, reads_now, group_keys
from ctdetect.query.esql.expressions import Column, Context, EsqlUnsupported
from ctdetect.query.esql.scalars import Span
from ctdetect.query.esql.table import Table

__all__ = ["MASKED", "NEVER", "UNBOUNDED", "NotMergeable", "SliceRows", "StatsPlan", "TimeBound", "plan_stats"]

ROW_LEVEL = (e.Where, e.Eval, e.Dissect, e.Grok, e.MvExpand, e.Keep, e.Drop, e.Rename)
CALENDAR_UNITS = ("month", "quarter", "year")
NEVER = -(1 << 62)  # the last execution of a document no execution keeps (its bound is null)
MASKED = object()  # the cell of a row an aggregate's ``WHERE`` leaves out
# the last execution of a document whose ``@timestamp`` cell is not epoch milliseconds: its
# bound is decided by evaluating the bound itself at each execution (``StatsPlan.bound_passes``)
UNBOUNDED = object()
SCREEN = True  # merge and finish every aggregate only for the groups the WHERE after the STATS keeps (off: for all)
STAGES = True  # the screen's conditions on cheap aggregates alone drop groups first (``Screen.stages``; off: none)
BOUNDS = True  # a screen's ``MAX(...) >= <constant>`` gathers only the groups that can pass (``bounds``; off: every group)
SCREEN_ROW = "\x00group"  # the column that carries each group's position through the screen


@dataclass(frozen=True, slots=True)
class TimeBound:
    """``@timestamp >= NOW() - span`` (``>`` when ``strict``) in a leading ``WHERE``: a document
    passes in the executions at or before ``last_execution`` of its ``@timestamp`` cell."""

    span_ms: int
    strict: bool

    def last_execution(self, cell: Any) -> Any:
        """The last execution the cell passes in (an int), or ``UNBOUNDED`` when the cell is
        not epoch milliseconds (no slice merges such a document: ``_Slice.take`` refuses it)."""
        if cell is None or cell.__class__ is list:
            return NEVER  # a null or multi-valued comparison is null: the row never passes
        if cell.__class__ is not int:
            return UNBOUNDED
        return cell + self.span_ms - (1 if self.strict else 0)


@dataclass(slots=True)
class SliceRows:
    """The row-level result of a batch of documents (in time order)."""

    source: list[int]  # the document (its index in the batch) of each row
    keys: list[tuple[tuple, ...]]  # each row's group keys (one per combination of multi-valued keys)
    cells: list[list[Any]]  # per inner aggregate, each row's input cell (``MASKED``: left out)
    last: list[int | None]  # per document: the last execution its time bounds allow (None: any)

    def rows_of(self, first: int, end: int) -> tuple[int, int]:
        """The rows of documents ``first`` to ``end - 1``: ``[start, stop)`` (``source`` ascends)."""
        return bisect_left(self.source, first), bisect_left(self.source, end)


@dataclass(frozen=True, slots=True)
class _Inner:
    """One aggregate call inside a ``STATS`` assignment, as the merge runs it."""

    agg: int  # index of its assignment in the STATS
    placeholder: str  # the column the assignment's outer expression reads its value from
    kind: Mergeable
    arg: Column | None  # None: COUNT(*), a row count
    where: Column | None
    whole: Callable[[list[Any]], Any] | None = None  # the aggregate over all its cells (``AGGREGATES``); None: a row count


@dataclass
class StatsPlan:
    program: Program  # the query without its time bounds (its prefilter equals the rule's)
    prefix: list[Callable[[Table, Context], Table]]  # row-level steps not already applied by the prefilter
    stats: StatsStep
    post: list[Callable[[Table, Context], Table]]
    inner: list[_Inner]
    bounds: tuple[TimeBound, ...]
    screen: "Screen | None" = None  # the groups an execution returns are decided first (``_screened``)
    # the leading WHERE of the time bounds alone (``bound_passes``), None when there are none
    bound_filter: Program | None = None
    # the source columns the row-level part and the STATS read (``_row_reads``); None: all the query names
    row_names: frozenset[str] | None = None

    def __deepcopy__(self, memo: dict) -> "StatsPlan":
        return self  # compiled once, never changed by a run: copies of a rule engine share it

    # ------------------------------------------------------------------ once per document
    def rows(self, docs: list[dict], cells: dict[str, list] | None = None) -> SliceRows:
        """Run the row-level part over ``docs`` (each passed the rule's prefilter); ``cells``:
        columns already read from them (``Program.table``), e.g. by the prefilter."""
        ctx = Context(0, docs)  # the row-level part never reads NOW() (plan_stats)
        cells = {} if cells is None else cells
        # Exactly the row-level part's names: a ``KEEP`` pattern (``KEEP ..., Esql.*`` after the
        # STATS, in most of Elastic's rules) would otherwise have every key of every document
        # listed to find the source columns it matches, and no row-level command or STATS input
        # reads a column that is not among ``row_names`` (``_row_reads``), kept or not.
        names = set(self.row_names) if self.row_names is not None else None
        table = self.program.table(docs, names, exact=names is not None, cells=cells)
        last: list[Any] = [None] * len(docs)
        if self.bounds:  # read before any step runs: ``cells`` holds the columns as read
            stamps = self.program.table(docs, {"@timestamp"}, exact=True, cells=cells).column("@timestamp")
            last = _last_executions(self.bounds, stamps)
        for step in self.prefix:
            table = step(table, ctx)
        size = table.size
        source = table.source_rows if table.source_rows is not None else list(range(size))
        key_cols = [fn(table, ctx) for _, fn, _ in self.stats.groups]
        # Each row's keys as a tuple (of tuples): held for a week by a rule's slices, a tuple
        # of plain values is one the cyclic collector stops tracking, a list is walked by
        # every full collection.
        if key_cols:
            if any(list in set(map(type, col)) for col in key_cols):
                keys = [tuple(group_keys(list(key))) if any(v.__class__ is list for v in key) else (key,) for key in zip(*key_cols)]
            else:  # no multi-valued key: one group key per row
                keys = list(zip(zip(*key_cols)))  # each row's key in a one-key tuple, made in C
        else:
            keys = [((),)] * size
        masks: dict[int, list[Any]] = {}
        inputs: list[list[Any]] = []
        for inner in self.inner:
            column = inner.arg(table, ctx) if inner.arg is not None else [True] * size
            if inner.where is not None:
                mask = masks.get(inner.agg)
                if mask is None:
                    mask = masks[inner.agg] = inner.where(table, ctx)
                column = [c if keep is True else MASKED for c, keep in zip(column, mask)]
            inputs.append(column)
        return SliceRows(source, keys, inputs, last)

    def bound_passes(self, docs: list[dict], now_ms: int) -> list[bool]:
        """Whether each document passes the query's time bounds at ``now_ms``, evaluated as the
        whole query's ``WHERE`` evaluates them: for the documents whose ``last`` is ``UNBOUNDED``."""
        if self.bound_filter is None or not docs:
            return [True] * len(docs)
        table = self.bound_filter.run(docs, now_ms, unbounded=True)
        assert table.source_rows is not None  # a WHERE over the FROM table keeps its documents' positions
        kept = set(table.source_rows)
        return [i in kept for i in range(len(docs))]

    def fold(self, rows: SliceRows, docs: Sequence[bool] | None = None) -> dict[tuple, list[Any]]:
        """The partial state per group and aggregate of the rows of the documents kept
        (``docs[i]`` true; None: all), groups in the order of their first row."""
        members = _members(rows, docs)
        # The cells in group order, each column reordered once (in C): a group's cells are
        # then a slice of it, not a list gathered row by row per group and aggregate.
        order = [r for rs in members.values() for r in rs]
        if not order:
            return {}
        if len(order) == 1:
            columns = [[column[order[0]]] for column in rows.cells]
        elif len(members) == 1 and order == list(range(len(rows.keys))):  # one group of every row, in order
            columns = rows.cells
        else:
            pick = itemgetter(*order)
            columns = [pick(column) for column in rows.cells]
        plan = [(_part(inner.kind, column, inner.where is not None), column, _masking(column) if inner.where is not None else KEEP_ALL,
                 inner.kind is ROWS and inner.where is None)
                for inner, column in zip(self.inner, columns)]
        out: dict[tuple, list[Any]] = {}
        end = 0
        for key, rs in members.items():
            start, end = end, end + len(rs)
            states = []
            for part, column, masking, counting in plan:
                if counting:  # COUNT(*): its state is the number of rows (``ROWS.part`` is ``len``)
                    states.append(end - start)
                    continue
                if masking is KEEP_ALL:
                    cells = column[start:end]
                elif masking is DROP_ALL:
                    cells = []
                else:
                    cells = [c for c in column[start:end] if c is not MASKED]
                states.append(part(cells))
            out[key] = states
        return out

    def whole(self, rows: SliceRows, now_ms: int, limit: int | None) -> Table:
        """The query's result over the rows of a window's documents (those it sees, in time
        order), the ``STATS`` computed over all their cells as the whole query computes it: no
        partial state, so it holds when the slices' states do not merge exactly
        (``NotMergeable``). What an execution falls back on, read from the rows the slices
        keep instead of the documents."""
        ctx = Context(now_ms, [])
        groups = _members(rows, None)
        if not self.stats.groups and not groups:
            groups = {(): []}  # STATS without BY: one row, even over no rows
        keys = list(groups)
        per_agg: list[dict[str, list[Any]]] = [{} for _ in self.stats.aggs]
        for inner, column in zip(self.inner, rows.cells):
            masked = inner.where is not None
            out = []
            for key in keys:
                cells = [column[r] for r in groups[key]]
                if masked:
                    cells = [c for c in cells if c is not MASKED]
                out.append(len(cells) if inner.whole is None else inner.whole(cells))
            per_agg[inner.agg][inner.placeholder] = out
        table = self.stats.assemble(keys, [agg.finish(values, len(keys), ctx) for agg, values in zip(self.stats.aggs, per_agg)], [])
        for step in self.post:
            table = step(table, ctx)
        return self.program.capped(table, limit=limit)

    # ------------------------------------------------------------------ once per execution
    def combine(self, parts: Sequence[dict[tuple, list[Any]]]) -> dict[tuple, list[Any]]:
        """One partial state per group and aggregate for the rows of ``parts`` (consecutive, in
        time order), groups in the order of their first row. Inputs are never modified: a
        group in one part only keeps that part's states."""
        if not parts:
            return {}
        out = dict(parts[0])
        multi: dict[tuple, list[list[Any]]] = {}  # a group in several parts: their states, in order
        for part in parts[1:]:
            common = out.keys() & part.keys()
            if not common:
                out.update(part)  # new groups after the others, in the part's order
                continue
            for key in common:
                found = multi.get(key)
                if found is None:
                    multi[key] = [out[key], part[key]]
                else:
                    found.append(part[key])
            kept = {key: out[key] for key in common}
            out.update(part)
            out.update(kept)  # a group keeps its place and, until merged below, its first states
        combines = [inner.kind.combine for inner in self.inner]
        for key, found in multi.items():
            out[key] = [combine(list(states)) for combine, states in zip(combines, zip(*found))]
        return out

    def summarise(self, part: dict[tuple, list[Any]]) -> PartSummary | None:
        """What ``result`` reads of ``part`` before its groups when the screen has bounds
        (``bounds.PartSummary``; None: it has none). Callers that keep a part across
        executions keep its summary with it."""
        screen = self.screen
        if screen is None or not screen.bounds:
            return None
        return summarise(part, screen.checked, screen.bounds)

    def result(self, parts: Sequence[dict[tuple, list[Any]]], now_ms: int, limit: int | None,
               summaries: Sequence[PartSummary | None] | None = None) -> Table:
        """The query's result for an execution whose rows are those of ``parts`` (in time
        order); ``summaries``: ``summarise`` of each part, as far as the caller keeps them."""
        ctx = Context(now_ms, [])
        if self.screen is not None and len(parts) > 1:
            groups = self._screened(parts, ctx, summaries)
        else:
            groups = parts[0] if len(parts) == 1 else self.combine(parts)
        if not self.stats.groups and not groups:
            groups = {(): [inner.kind.part([]) for inner in self.inner]}  # STATS without BY: one row, even over no rows
        keys = list(groups)
        table = self.stats.assemble(keys, self._finals(groups, keys, range(len(self.inner)), ctx), [])
        for step in self.post:
            table = step(table, ctx)
        return self.program.capped(table, limit=limit)


    def _finals(self, groups: dict[tuple, list[Any]], keys: list[tuple], inners: Iterable[int], ctx: Context) -> list[list[Any]]:
        """Each aggregate's value per group of ``keys`` from the merged states of the inner
        aggregates ``inners`` (an aggregate none of whose inner aggregates is among them: nulls)."""
        per_agg: list[dict[str, list[Any]] | None] = [None] * len(self.stats.aggs)
        for i in inners:
            inner = self.inner[i]
            final = inner.kind.final
            values = per_agg[inner.agg]
            if values is None:
                values = per_agg[inner.agg] = {}
            values[inner.placeholder] = [final(groups[key][i]) for key in keys]
        return [agg.finish(values, len(keys), ctx) if values is not None else [None] * len(keys) for agg, values in zip(self.stats.aggs, per_agg)]

    @staticmethod
    def _merge_some(found: dict[tuple, list[list[Any]]], merged: dict[tuple, list[Any]], keys: list[tuple],
                    inners: Iterable[int], combines: list[Callable[[list[Any]], Any]]) -> None:
        """Merge the inner aggregates ``inners`` of the groups ``keys`` (their states in ``found``) into ``merged``."""
        picks = [(i, itemgetter(i), combines[i]) for i in sorted(inners)]  # an inner's state of each part, read in C
        size = len(combines)
        for key in keys:
            held = found[key]
            if len(held) == 1:
                merged[key] = held[0]
                continue
            states = merged.get(key)
            if states is None:
                states = merged[key] = [None] * size
            for i, pick, combine in picks:
                states[i] = combine(list(map(pick, held)))

    def _screened(self, parts: Sequence[dict[tuple, list[Any]]], ctx: Context,
                  summaries: Sequence[PartSummary | None] | None) -> dict[tuple, list[Any]]:
        """The merged states of the groups the leading ``EVAL``/``WHERE`` after the ``STATS``
        keep (``Screen``), in the order of their first row.

        Why: most executions of a detection rule alert on no group, and its ``WHERE`` reads
        a few of the aggregates; the others (``VALUES`` of addresses, agents, ...) are merged
        and finished only for the groups it keeps. Exact because those commands are row by
        row: run again over the kept groups only (``result``), they keep the same rows, and
        the commands after them see what they saw before. An aggregate that does not merge
        exactly still raises, from a kept group, as the full merge would."""
        screen = self.screen
        assert screen is not None
        found = self._bounded(parts, ctx, summaries) if screen.bounds else None
        if found is None:
            found = {}  # group -> its states in each part holding it, in order
            for part in parts:
                for key, states in part.items():
                    held = found.get(key)
                    if held is None:
                        found[key] = [states]
                    else:
                        held.append(states)
        combines = [inner.kind.combine for inner in self.inner]
        merged: dict[tuple, list[Any]] = {}  # group -> its states, merged for the inner aggregates done
        keys = list(found)
        done: set[int] = set()
        for uses, where in screen.stages:
            self._merge_some(found, merged, keys, uses - done, combines)
            done |= uses
            table = self.stats.assemble(keys, self._finals(merged, keys, uses, ctx), [])
            table = where(table.with_column(SCREEN_ROW, list(range(len(keys))), "integer"), ctx)
            keys = [keys[row] for row in table.column(SCREEN_ROW)]
        self._merge_some(found, merged, keys, screen.inner - done, combines)
        table = self.stats.assemble(keys, self._finals(merged, keys, screen.inner, ctx), [])
        table = table.with_column(SCREEN_ROW, list(range(len(keys))), "integer")
        for step in self.post[: screen.steps]:
            table = step(table, ctx)
        out: dict[tuple, list[Any]] = {}
        for row in table.column(SCREEN_ROW):
            key = keys[row]
            held = found[key]
            out[key] = held[0] if len(held) == 1 else [combine(list(states)) for combine, states in zip(combines, zip(*held))]
        return out


    def _bounded(self, parts: Sequence[dict[tuple, list[Any]]], ctx: Context,
                 summaries: Sequence[PartSummary | None] | None) -> dict[tuple, list[list[Any]]] | None:
        """The states, part by part, of the groups the screen's bounds let through (None: the
        bounds cannot be used for these parts; ``bounds.candidate_groups``)."""
        screen = self.screen
        assert screen is not None
        given = list(summaries) if summaries is not None else [None] * len(parts)
        known = [s if s is not None else summarise(part, screen.checked, screen.bounds) for s, part in zip(given, parts)]
        return candidate_groups(parts, known, screen.checked, screen.bounds, ctx)


def _members(rows: SliceRows, docs: Sequence[bool] | None) -> dict[tuple, list[int]]:
    """Group -> its rows (a row twice for a key it has twice), groups in the order of their
    first row; only the rows of the documents kept (``docs[i]`` true; None: all)."""
    members: dict[tuple, list[int]] = {}
    source = rows.source
    for r, keys in enumerate(rows.keys):
        if docs is not None and not docs[source[r]]:
            continue
        for key in keys:
            found = members.get(key)
            if found is None:
                members[key] = [r]
            else:
                found.append(r)
    return members


KEEP_ALL, DROP_ALL, DROP_SOME = "keep all", "drop all", "drop some"  # ``_masking``'s answers


def _masking(column: Sequence[Any]) -> str:
    """How a fold leaves out a masked aggregate's ``MASKED`` cells in each group of ``column``.

    Why: an aggregate's ``WHERE`` (Elastic's "self-created access key" rule has eleven,
    on two flags) was applied by a list comprehension per group and aggregate, yet a rare
    flag masks a whole slice's column and a common one none of it: decided once per column,
    in C, the groups of such a column take their cells as a slice, or none."""
    masked = sum(map(is_, column, repeat(MASKED, len(column))))  # by identity, as the comprehension tests
    return KEEP_ALL if not masked else DROP_ALL if masked == len(column) else DROP_SOME


def _last_executions(bounds: Sequence[TimeBound], stamps: list[Any]) -> list[Any]:
    """``_last_execution`` of each ``@timestamp`` cell of a batch: when every cell is epoch
    milliseconds (an ``int``, nearly always), the cell plus the tightest bound's offset, in
    one pass without a call per cell."""
    if set(map(type, stamps)) == {int}:
        offset = min(b.span_ms - (1 if b.strict else 0) for b in bounds)
        return [cell + offset for cell in stamps]
    return [_last_execution(bounds, cell) for cell in stamps]


def _last_execution(bounds: Sequence[TimeBound], cell: Any) -> Any:
    """The last execution a document with this ``@timestamp`` cell passes every bound in
    (``UNBOUNDED`` when one of them cannot say)."""
    lasts = [b.last_execution(cell) for b in bounds]
    return UNBOUNDED if UNBOUNDED in lasts else min(lasts)


def _part(kind: Mergeable, column: list[Any], masked: bool = False) -> Callable[[list[Any]], Any]:
    """The part function for a group's cells of ``column`` (``masked``: its ``MASKED`` cells
    are left out before): ``plain`` when no cell is a list, ``uniform`` when the cells are
    of one class (or null) and it has a shorter way for them (checked once per column rather
    than once per group)."""
    if kind.plain is None:
        return kind.part
    classes = set(map(type, column))
    if list in classes:
        return kind.part
    if masked:
        classes.discard(object)  # ``MASKED``'s class: no cell of a document is a bare object
    nullable = NoneType in classes
    classes.discard(NoneType)
    if len(classes) == 1 and kind.uniform is not None:
        return kind.uniform(classes.pop(), nullable) or kind.plain
    return kind.plain


@dataclass(frozen=True, slots=True)
class Screen:
    """The leading row-by-row commands after the ``STATS`` (``EVAL``s, at least one ``WHERE``)
    and the inner aggregates they read: what decides which groups an execution returns."""

    steps: int  # how many of ``StatsPlan.post``
    inner: frozenset[int]  # indices in ``StatsPlan.inner``
    # Conditions of its WHEREs on cheap aggregates alone, with the inner aggregates they read
    # (``_stages``): the groups they drop are never merged further.
    stages: tuple[tuple[frozenset[int], Callable[[Table, Context], Table]], ...] = ()
    # Conditions ``MAX(...) >= <constant>`` of its WHEREs (``bounds``): only the groups one of
    # whose parts passes them are gathered; ``checked``: the MIN/MAX it merges for every group.
    bounds: tuple[Bound, ...] = ()
    checked: tuple[int, ...] = ()


def _screen(commands: Sequence[e.Command], stats: e.Stats, inner: list[_Inner]) -> Screen | None:
    """The ``Screen`` of the commands after ``stats`` (None: they do not start with one, or
    it reads every aggregate, or a column could be named by a pattern)."""
    steps = 0
    reads: set[str] = set()
    for cmd in commands:
        if not isinstance(cmd, (e.Eval, e.Where)):
            break
        steps += 1
        reads |= {n.name for x in cmd.expressions() for n in x.walk() if isinstance(n, e.FieldRef)}
    if not any(isinstance(c, e.Where) for c in commands[:steps]):
        steps = 0
    names = [a.name for a in stats.aggregates]
    read = {i for i, x in enumerate(inner) if names[x.agg] in reads}
    if not steps or len(read) == len(inner) or SCREEN_ROW in reads:
        return None
    return Screen(steps, frozenset(read))


def _stages(query: e.Query, at: int, screen: Screen, stats: e.Stats, inner: list[_Inner],
            source_columns: Callable[[tuple[str, ...]], dict[str, str] | None]) -> tuple[tuple[frozenset[int], Callable[[Table, Context], Table]], ...]:
    """The ``Screen.stages`` of ``query`` (whose STATS is command ``at``): at most one, the
    conditions of the screen's ``WHERE``s that read only aggregates that merge cheaply, when
    the screen reads a costly one (``VALUES``, ``COUNT_DISTINCT``).

    Why: a detection rule's ``WHERE`` after its ``STATS`` is a conjunction, and one condition
    (``MAX(...) >= NOW() - 1 hour``: activity in the last interval) drops nearly every group;
    merging the ``COUNT_DISTINCT`` another condition reads for every group of a 7-day window
    was most of an execution. Exact: a group failing a condition of a ``WHERE`` fails the
    ``WHERE``, and each condition is row by row. Only conditions reading aggregate columns
    and nothing an ``EVAL`` of the screen assigns (which could shadow one) qualify. A screen
    without a costly aggregate has no stage: a stage's table costs more than it saves there."""
    costly = {i for i, x in enumerate(inner) if x.kind in (MERGEABLE["values"], MERGEABLE["count_distinct"])}
    if not costly & screen.inner:
        return ()
    commands = query.commands[at + 1 : at + 1 + screen.steps]
    assigned = {f.name for c in commands if isinstance(c, e.Eval) for f in c.fields}
    names = [a.name for a in stats.aggregates]
    picked: list[e.Expr] = []
    uses: set[int] = set()
    first: e.Where | None = None
    for cmd in commands:
        if not isinstance(cmd, e.Where):
            continue
        for part in conjuncts(cmd.condition):
            reads = {n.name for n in part.walk() if isinstance(n, e.FieldRef)}
            if not reads or reads & assigned or not reads <= set(names):
                continue
            read = {i for i, x in enumerate(inner) if names[x.agg] in reads}
            if read & costly:
                continue
            picked.append(part)
            uses |= read
            first = first or cmd
    if first is None:
        return ()
    condition = picked[0]
    for part in picked[1:]:
        condition = e.Binary(condition.pos, "and", condition, part)
    try:
        program = Program.prepare(replace(query, commands=(*query.commands[: at + 1], replace(first, condition=condition))), source_columns)
    except EsqlUnsupported:
        return ()
    return ((frozenset(uses), program.steps[at + 1]),)


def plan_stats(query: e.Query, source_columns: Callable[[tuple[str, ...]], dict[str, str] | None]) -> StatsPlan | str:
    """The incremental plan of ``query``, or why it has none (its rule then reruns the query)."""
    if not isinstance(query.source, e.From):
        return "not a FROM query"
    first = next((i for i, c in enumerate(query.commands) if isinstance(c, e.Stats)), None)
    if first is None:
        return "no STATS"
    stats_cmd = query.commands[first]
    assert isinstance(stats_cmd, e.Stats)
    if stats_cmd.inline:
        return "the first STATS is INLINE"
    commands, bounds, bound_parts = _time_bounds(query.commands[:first])
    reduced = replace(query, commands=(*commands, *query.commands[first:]))
    try:
        program = Program.prepare(reduced, source_columns)
    except EsqlUnsupported as exc:
        return str(exc)
    at = len(commands)
    stats = program.steps[at]
    if not isinstance(stats, StatsStep):
        return "the STATS step is not a StatsStep"
    reason = _row_level_reason(reduced.commands[program.covered:at], program) or _stats_reason(stats_cmd)
    if reason:
        return reason
    if any(_reads_field(c, "_id") for c in reduced.commands[: at + 1]):
        return "_id is read before the STATS (its fallback value is a position in the batch)"
    inner: list[_Inner] = []
    for index, agg in enumerate(stats.aggs):
        for call, args in agg.inner:
            if call.star or (call.name == "count" and not args):
                kind, arg = ROWS, None
            elif call.name in MERGEABLE and (len(args) == 1 or (call.name == "count_distinct" and len(args) == 2)):
                kind, arg = MERGEABLE[call.name], args[0]
            else:
                return f"{call.name.upper()} does not merge exactly"
            inner.append(_Inner(index, agg.replace[id(call)], kind, arg, agg.where, None if kind is ROWS else AGGREGATES[call.name]))
    screen = _screen(reduced.commands[at + 1 :], stats_cmd, inner) if SCREEN and stats_cmd.groups else None
    if screen is not None and STAGES:
        screen = replace(screen, stages=_stages(reduced, at, screen, stats_cmd, inner, source_columns))
    if screen is not None and BOUNDS:
        passing = plan_bounds(reduced, at, screen.steps, stats, [x.kind for x in inner], [x.agg for x in inner], source_columns)
        extremes = (MERGEABLE["min"], MERGEABLE["max"])
        checked = tuple(sorted(i for i in screen.inner if inner[i].kind in extremes))
        screen = replace(screen, bounds=passing, checked=checked if passing else ())
    bound_filter = _bound_filter(query, bound_parts, source_columns) if bounds else None
    return StatsPlan(program, program.steps[program.covered : at], stats, program.steps[at + 1 :], inner, tuple(bounds), screen,
                     bound_filter, _row_reads(reduced.commands[program.covered : at + 1]))


def _row_reads(commands: Sequence[e.Command]) -> frozenset[str]:
    """The columns ``commands`` (the row-level ones after the prefilter, then the ``STATS``)
    can read from the source table: every name an expression, a ``RENAME`` or an
    ``MV_EXPAND`` reads before an ``EVAL`` assigns it.

    Why: the ``FROM`` table of a query holds every name the query mentions, the names its
    ``EVAL``s create and the columns after its ``STATS`` among them, each a pass over the
    batch's documents (and ``_id``/``_index`` one string each per document); the row-level
    part reads only these. An ``EVAL`` sets its column on every row, so a source value of a
    name assigned before it is read is never seen; a ``GROK``/``DISSECT`` output is not
    counted as assigned (a name read after it stays a source read)."""
    assigned: set[str] = set()
    reads: set[str] = set()
    for cmd in commands:
        named = {n.name for x in cmd.expressions() for n in x.walk() if isinstance(n, e.FieldRef)}
        if isinstance(cmd, e.Rename):
            named |= {old for old, _, _ in cmd.pairs}
        elif isinstance(cmd, e.MvExpand):
            named.add(cmd.field)
        reads |= named - assigned
        if isinstance(cmd, e.Eval):
            assigned.update(f.name for f in cmd.fields)
    return frozenset(reads)


def _bound_filter(query: e.Query, picked: Sequence[e.Expr],
                  source_columns: Callable[[tuple[str, ...]], dict[str, str] | None]) -> Program:
    """``FROM ... | WHERE <the time bounds of the leading WHEREs>`` (``picked``, as
    ``_time_bounds`` took them out): what decides, at an execution, whether a document whose
    ``@timestamp`` cell is not epoch milliseconds passes them (``StatsPlan.bound_passes``),
    evaluated as the whole query evaluates them."""
    condition = picked[0]
    for part in picked[1:]:
        condition = e.Binary(condition.pos, "and", condition, part)
    return Program.prepare(replace(query, commands=(e.Where(condition.pos, condition),)), source_columns)


def _time_bounds(commands: Sequence[e.Command]) -> tuple[list[e.Command], list[TimeBound], list[e.Expr]]:
    """The commands without the ``@timestamp`` bounds of their leading ``WHERE``s, the bounds,
    and the conditions they were read from (``_bound_filter``)."""
    out: list[e.Command] = []
    bounds: list[TimeBound] = []
    parts_taken: list[e.Expr] = []
    leading = True
    for cmd in commands:
        if not isinstance(cmd, e.Where):
            leading = False
        elif leading:
            parts = conjuncts(cmd.condition)
            kept = []
            for part in parts:
                bound = _time_bound(part) if reads_now(part) else None
                if bound is not None:
                    bounds.append(bound)
                    parts_taken.append(part)
                else:
                    kept.append(part)
            if not kept:
                continue
            if len(kept) != len(parts):
                condition = kept[0]
                for part in kept[1:]:
                    condition = e.Binary(condition.pos, "and", condition, part)
                cmd = replace(cmd, condition=condition)
        out.append(cmd)
    return out, bounds, parts_taken


def _time_bound(expr: e.Expr) -> TimeBound | None:
    """``@timestamp >= NOW() - span`` (or ``>``, or mirrored) as a ``TimeBound``."""
    if not isinstance(expr, e.Binary) or expr.op not in (">=", ">", "<=", "<"):
        return None
    field, limit, op = (expr.left, expr.right, expr.op) if expr.op in (">=", ">") else (expr.right, expr.left, {"<=": ">=", "<": ">"}[expr.op])
    if not (isinstance(field, e.FieldRef) and field.name == "@timestamp"):
        return None
    if not (isinstance(limit, e.Binary) and limit.op == "-" and isinstance(limit.left, e.Call) and limit.left.name == "now" and not limit.left.args):
        return None
    span = limit.right
    if not isinstance(span, e.TimeSpan) or span.unit in CALENDAR_UNITS or not isinstance(span.amount, int):
        return None
    return TimeBound(Span(span.amount, span.unit).add_to(0), strict=op == ">")


def _row_level_reason(commands: Sequence[e.Command], program: Program) -> str | None:
    """Why the commands between the prefilter and the STATS are not row by row (None: they are)."""
    always_there = set(program.source_types)
    for cmd in commands:
        if not isinstance(cmd, ROW_LEVEL):
            return f"{cmd.keyword} before the STATS"
        if any(reads_now(x) for x in cmd.expressions()):
            return "NOW() before the STATS"
        if isinstance(cmd, e.Eval):
            always_there.update(f.name for f in cmd.fields)
        elif isinstance(cmd, e.Rename):
            for old, new, _ in cmd.pairs:
                if old not in always_there:
                    return f"RENAME of {old}, a column a batch may lack"
                always_there.add(new)
    return None


def _stats_reason(cmd: e.Stats) -> str | None:
    """Why the STATS' keys or aggregate inputs depend on the execution (None: they do not)."""
    for g in cmd.groups:
        if reads_now(g.expr):
            return "NOW() in a STATS group"
    for a in cmd.aggregates:
        if a.where is not None and reads_now(a.where):
            return "NOW() in an aggregate's WHERE"
        for call in (n for n in a.expr.walk() if isinstance(n, e.Call) and n.name in MERGEABLE):
            if any(reads_now(arg) for arg in call.args):
                return "NOW() inside an aggregate"
    return None


def _reads_field(cmd: e.Command, name: str) -> bool:
    """Whether ``cmd`` reads column ``name`` (in an expression, or by name)."""
    if any(isinstance(n, e.FieldRef) and n.name == name for x in cmd.expressions() for n in x.walk()):
        return True
    if isinstance(cmd, e.Rename):
        return any(old == name for old, _, _ in cmd.pairs)
    return isinstance(cmd, e.MvExpand) and cmd.field == name
