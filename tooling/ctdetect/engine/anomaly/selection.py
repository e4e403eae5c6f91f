"""Which events of a batch each job's datafeed selects, each distinct query clause run once.

A package's jobs read the same data with nearly the same datafeed queries: eight of the
twelve here are ``event.dataset: aws.cloudtrail`` plus one or two ``exists``, four read the
metadata-service connections. Asking every job's whole query of every event repeats the
same leaf tests many times. Here each query is split into the clauses of its top-level
conjunction (a DSL ``bool`` ``filter``/``must``/``must_not`` list is one ``And``), equal
clauses (the AST compares by value) are compiled and run once per batch, and a job's
selection is the logical AND of its clauses' columns (numpy boolean arrays).

Same answers as the job's own predicate, event by event: a conjunction selects an event
exactly when each clause does. Only errors need care: a clause that raises on an event may
not be reached by the job's own predicate (an earlier clause false) or may be; for such
events, rare by nature, the job's whole predicate is asked again and its answer (or error)
is the one used.

A clause that reads one plain field (a ``term``, ``terms`` or ``exists`` on a keyword-like
field, and any ``bool`` of such leaves on that one field) depends on that field's value
alone, so it is evaluated per distinct value of the field's column, not per event: the
predicate is asked of a one-field document holding the value, and the answer is kept for
the next batches (``_Clause.MAX_CACHED`` values at most). Only string and missing values
take this path (other values, e.g. lists, and ``1`` against ``True`` which hash alike, take
the event-by-event one); dates are excluded (``now`` moves).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ctdetect.engine.anomaly.collector import collector_paused
from ctdetect.engine.anomaly.columns import BatchColumns
from ctdetect.engine.anomaly.config import compile_clause, match_all_events
from ctdetect.engine.anomaly.runner import AnomalyJobRunner
from ctdetect.query import ast
from ctdetect.query.ast import And
from ctdetect.query.fields import FieldAccess

Predicate = Callable[[dict[str, Any]], bool]


# leaves whose answer depends on their one field's value only (none reads another field)
_ONE_FIELD_LEAVES = (ast.Term, ast.Terms, ast.Exists, ast.Match, ast.Phrase, ast.Wildcard, ast.Prefix, ast.Regexp, ast.Range)
_CONNECTIVES = (ast.And, ast.Or, ast.Not)


def single_field(node: Any, field_types: Any) -> str | None:
    """The one field ``node`` reads when its answer depends on ``doc.get(field)`` alone: a
    tree of and/or/not over field leaves of one plain field (``FieldAccess.getter`` is None:
    no multi-field parent, object gathering or ``ignore_above``), not a date. Else None."""
    names: set[str] = set()
    for sub in node.walk():
        if isinstance(sub, _CONNECTIVES):
            continue
        if not isinstance(sub, _ONE_FIELD_LEAVES) or sub.field is None:
            return None
        names.add(sub.field)
    if len(names) != 1:
        return None
    (name,) = names
    access = FieldAccess(field_types)
    if "*" in name or name in ("@timestamp", "_ts") or access.kind(name) == "date" or access.getter(name) is not None:
        return None
    return name


class _Clause:
    """One distinct clause: its predicate and, for the current batch, its column and errors."""

    __slots__ = ("predicate", "field", "answers", "column", "failed")

    #: distinct values whose answer is kept; past it the table starts afresh (memory stays flat)
    MAX_CACHED = 1 << 16

    def __init__(self, predicate: Predicate, field: str | None = None) -> None:
        self.predicate = predicate
        self.field = field  # the one field it reads (``single_field``), or None
        self.answers: dict[str | None, bool] = {}
        self.column: np.ndarray = np.zeros(0, dtype=bool)
        self.failed: set[int] = set()

    def run(self, events: Sequence[dict[str, Any]], columns: BatchColumns | None = None) -> None:
        """Evaluate over the batch; events it raises on are False in the column and listed."""
        self.failed = set()
        if self.field is not None and columns is not None and self._run_by_value(columns.raw(self.field)):
            return
        predicate = self.predicate
        try:
            values = [predicate(e) for e in events]
        except Exception:  # noqa: BLE001 - redo event by event to find which ones fail
            values = []
            for i, event in enumerate(events):
                try:
                    values.append(predicate(event))
                except Exception:  # noqa: BLE001 - the job's own predicate reports it
                    values.append(False)
                    self.failed.add(i)
        self.column = np.array(values, dtype=bool) if values else np.zeros(0, dtype=bool)

    def _run_by_value(self, raw: list[Any]) -> bool:
        """The column from one answer per distinct value of the field (strings and missing
        values only); False, nothing done, when the column holds any other value."""
        try:
            distinct = set(raw)
        except TypeError:  # a list or another unhashable value: event by event
            return False
        if any(v is not None and v.__class__ is not str for v in distinct):
            return False
        answers = self.answers
        if len(answers) > self.MAX_CACHED:
            answers.clear()
        bad: set[str | None] = set()
        name = self.field
        for value in distinct:
            if value in answers:
                continue
            try:
                answers[value] = bool(self.predicate({} if value is None else {name: value}))
            except Exception:  # noqa: BLE001 - the job's own predicate reports it, event by event
                bad.add(value)
        if bad:
            self.failed = {i for i, v in enumerate(raw) if v in bad}
            get = answers.get
            self.column = np.fromiter((get(v, False) for v in raw), dtype=bool, count=len(raw))
        else:
            self.column = np.fromiter(map(answers.__getitem__, raw), dtype=bool, count=len(raw))
        return True


class SharedSelection:
    """Batch selection for a set of runners (``select(events)`` -> per runner, in order)."""

    def __init__(self, runners: Sequence[AnomalyJobRunner]) -> None:
        self.runners = list(runners)
        clauses: dict[Any, _Clause] = {}
        # per runner: its clauses (empty: selects everything), or None: only its own predicate
        self._plans: list[list[_Clause] | None] = []
        for runner in self.runners:
            node = runner.query_node
            if node is None:
                # match_all, or a runner built from a bare predicate: ask the predicate itself
                self._plans.append(None)
                continue
            parts = node.items if isinstance(node, And) else (node,)
            plan = []
            types = runner.field_types
            for part in parts:
                key = (part, id(types))  # the same clause under other field types may differ
                clause = clauses.get(key)
                if clause is None:
                    clause = clauses[key] = _Clause(compile_clause(part, types), single_field(part, types))
                plan.append(clause)
            self._plans.append(plan)
        self._clauses = list(clauses.values())
        self._fields: list[str] = []  # the fields the last batch read (``_feed_batch``)

    @property
    def clause_count(self) -> int:
        """Distinct clauses run per event (against one predicate per job before)."""
        return len(self._clauses)

    def select(
        self, events: Sequence[dict[str, Any]], columns: BatchColumns | None = None
    ) -> list[tuple[list[int], dict[int, Exception]]]:
        """For each runner: the indices of the events its datafeed selects (ascending) and
        the events its query raised on (index -> error). ``columns``: the batch's shared
        columns (one is made when not given)."""
        if columns is None:
            columns = BatchColumns(events)
        for clause in self._clauses:
            clause.run(events, columns)
        out: list[tuple[list[int], dict[int, Exception]]] = []
        for runner, plan in zip(self.runners, self._plans):
            if plan is None:
                if runner.predicate is match_all_events:  # no query: every event, nothing to ask
                    out.append((list(range(len(events))), {}))
                else:
                    out.append(_one_by_one(runner.predicate, events, range(len(events))))
                continue
            column = plan[0].column.copy()
            doubtful: set[int] = set()
            for clause in plan[1:]:
                column &= clause.column
            for clause in plan:
                doubtful |= clause.failed
            if not doubtful:
                out.append((np.flatnonzero(column).tolist(), {}))
                continue
            # events a clause raised on: the job's whole predicate decides, as per event
            again, failed = _one_by_one(runner.predicate, events, sorted(doubtful))
            column[list(doubtful)] = False
            column[again] = True
            out.append((np.flatnonzero(column).tolist(), failed))
        return out


    def feed(self, events: Sequence[dict[str, Any]]) -> None:
        """Offer a batch of events to every runner (``AnomalyJobRunner.feed_selected``).

        The cyclic collector is paused for the batch (``collector``): its columns, the
        selections and every run's tuples die with the batch, and the buckets it closes
        make their own short-lived containers. They die inside the pause (``_feed_batch``
        holds them in its own frame, and the batch's columns are let go inside it): the
        batch allocates far more than the collector's threshold, so its first collection
        starts as the pause ends, and would otherwise walk every column and value tuple of
        the batch, all still referenced here."""
        with collector_paused():
            # the fields the last batch read are read again, each event's at once (``BatchColumns._read_rows``)
            columns = BatchColumns(events, self._fields)
            self._feed_batch(columns)
            self._fields = columns.names()
            del columns

    def feed_columns(self, names: Sequence[str], columns: Sequence[list[Any] | None], count: int) -> None:
        """``feed`` of a batch of ``count`` events received as columns (``columns.read_columns``
        of ``names`` in the process that read them): the columns are the batch's, and an
        event is made from its row only where something reads it whole (``RowEvents``)."""
        with collector_paused():
            self._feed_batch(BatchColumns.from_columns(names, columns, count))

    def _feed_batch(self, columns: BatchColumns) -> None:
        events = columns.events
        for runner, (selected, failed) in zip(self.runners, self.select(events, columns)):
            runner.feed_selected(events, selected, failed, columns)


def _one_by_one(predicate: Predicate, events: Sequence[dict[str, Any]], indices: Any) -> tuple[list[int], dict[int, Exception]]:
    """Selected indices and errors of one predicate asked of ``events[i]`` for each index."""
    selected: list[int] = []
    failed: dict[int, Exception] = {}
    for i in indices:
        try:
            if predicate(events[i]):
                selected.append(i)
        except Exception as exc:  # noqa: BLE001 - reported by the runner, the run goes on
            failed[i] = exc
    return selected, failed
