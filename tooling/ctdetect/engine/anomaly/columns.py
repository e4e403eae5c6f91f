"""One batch of events read as columns, each field read once for every job of the batch.

The package's jobs read the same few fields (``user.name``, ``source.ip``, the identity's
ARN...) as datafeed clauses, influencers and split fields. Reading them per job per event
repeats the same dictionary look-ups twelve times; here a field is read once per batch
(``raw``), and its ML values (``tuples``: the value tuple ``fields.value_tuple`` gives for
each event) are built once too, then shared by every job through ``BatchColumns.take``
(a job's selected rows of a column).
"""

from __future__ import annotations

from typing import Any, Sequence

from ctdetect.engine.anomaly.fields import value_tuple


def all_strings(column: list[Any]) -> bool:
    """Every value is a non-empty string (checked over the distinct values): the rows a
    detector can group without the general field reader."""
    try:
        distinct = set(column)
    except TypeError:  # a list value
        return False
    return all(v.__class__ is str and v for v in distinct)


class BatchColumns:
    """Lazily built, cached columns of one batch: raw values and ML value tuples per field."""

    __slots__ = ("events", "_raw", "_tuples")

    def __init__(self, events: Sequence[dict[str, Any]]) -> None:
        self.events = events
        self._raw: dict[str, list[Any]] = {}
        self._tuples: dict[str, list[tuple[str, ...]]] = {}

    def raw(self, name: str) -> list[Any]:
        """``event.get(name)`` of every event (flat key only, as the query predicates read it)."""
        col = self._raw.get(name)
        if col is None:
            col = self._raw[name] = [e.get(name) for e in self.events]
        return col

    def tuples(self, name: str) -> list[tuple[str, ...]]:
        """``fields.value_tuple(event, name)`` of every event: a string costs one look-up, only
        other values (lists, numbers, nested documents) take the general reader."""
        col = self._tuples.get(name)
        if col is None:
            raw = self.raw(name)
            if self._flat(name):  # a missing value is no value: no nested walk to try
                col = [(v,) if v.__class__ is str and v else () if v is None or v.__class__ is str else value_tuple(e, name)
                       for v, e in zip(raw, self.events)]
            else:
                col = [(v,) if v.__class__ is str and v else value_tuple(e, name) for v, e in zip(raw, self.events)]
            self._tuples[name] = col
        return col

    def _flat(self, name: str) -> bool:
        """True when no event of the batch holds a value under a dotted prefix of ``name``
        (``a`` or ``a.b`` of ``a.b.c``): ``fields.raw_value`` then finds nothing nested, so an
        event without the flat key has no value."""
        parts = name.split(".")
        for j in range(1, len(parts)):
            prefix = self.raw(".".join(parts[:j]))
            if prefix.count(None) != len(prefix):
                return False
        return True

    @staticmethod
    def take(column: list[Any], indices: Sequence[int] | None) -> list[Any]:
        """The rows ``indices`` of ``column`` (None: every row, the column itself)."""
        if indices is None:
            return column
        return [column[i] for i in indices]


class RowRun:
    """The selected rows of one job that fall in one bucket: what a detector accumulates at once.

    ``events`` and ``infls`` (the influencer tuples, aligned to the job's influencers) are the
    run's own; ``raw`` and ``tuples`` read a field's values for the run from the batch's
    shared columns."""

    __slots__ = ("columns", "rows", "start", "end", "events", "infls")

    def __init__(
        self, columns: BatchColumns, rows: Sequence[int] | None, start: int, end: int,
        events: list[dict[str, Any]], infls: list[tuple[tuple[str, ...], ...]],
    ) -> None:
        self.columns = columns
        self.rows = rows  # the job's selected rows of the batch (None: all of them)
        self.start = start  # this run is rows[start:end]
        self.end = end
        self.events = events
        self.infls = infls

    def _slice(self, column: list[Any]) -> list[Any]:
        if self.rows is None:
            return column[self.start : self.end]
        return [column[i] for i in self.rows[self.start : self.end]]

    def raw(self, name: str) -> list[Any]:
        """``event.get(name)`` of the run's events."""
        return self._slice(self.columns.raw(name))

    def tuples(self, name: str) -> list[tuple[str, ...]]:
        """``fields.value_tuple(event, name)`` of the run's events."""
        return self._slice(self.columns.tuples(name))
