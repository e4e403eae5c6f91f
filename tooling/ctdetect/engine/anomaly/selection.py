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
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ctdetect.engine.anomaly.config import compile_clause
from ctdetect.engine.anomaly.runner import AnomalyJobRunner
from ctdetect.query.ast import And

Predicate = Callable[[dict[str, Any]], bool]


class _Clause:
    """One distinct clause: its predicate and, for the current batch, its column and errors."""

    __slots__ = ("predicate", "column", "failed")

    def __init__(self, predicate: Predicate) -> None:
        self.predicate = predicate
        self.column: np.ndarray = np.zeros(0, dtype=bool)
        self.failed: set[int] = set()

    def run(self, events: Sequence[dict[str, Any]]) -> None:
        """Evaluate over the batch; events it raises on are False in the column and listed."""
        predicate = self.predicate
        self.failed = set()
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
                    clause = clauses[key] = _Clause(compile_clause(part, types))
                plan.append(clause)
            self._plans.append(plan)
        self._clauses = list(clauses.values())

    @property
    def clause_count(self) -> int:
        """Distinct clauses run per event (against one predicate per job before)."""
        return len(self._clauses)

    def select(self, events: Sequence[dict[str, Any]]) -> list[tuple[list[int], dict[int, Exception]]]:
        """For each runner: the indices of the events its datafeed selects (ascending) and
        the events its query raised on (index -> error)."""
        for clause in self._clauses:
            clause.run(events)
        out: list[tuple[list[int], dict[int, Exception]]] = []
        for runner, plan in zip(self.runners, self._plans):
            if plan is None:
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
        """Offer a batch of events to every runner (``AnomalyJobRunner.feed_selected``)."""
        for runner, (selected, failed) in zip(self.runners, self.select(events)):
            runner.feed_selected(events, selected, failed)


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
