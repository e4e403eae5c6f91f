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

    def __init__(self, events: Sequence[dict[str, Any]], prefetch: Sequence[str] = ()) -> None:
        self.events = events
        self._raw: dict[str, list[Any]] = {}
        self._tuples: dict[str, list[tuple[str, ...]]] = {}
        if prefetch:
            self._read_rows(prefetch)

    def _read_rows(self, names: Sequence[str]) -> None:
        """``raw`` of each of ``names`` at once, event by event: every field of one event is
        read while its dictionary is in the processor's cache, where a column at a time
        comes back to every event once per field (the same ``event.get`` values)."""
        rows = [list(map(e.get, names)) for e in self.events]
        for name, col in zip(names, map(list, zip(*rows))):
            self._raw[name] = col

    def names(self) -> list[str]:
        """The fields read so far (what the next batch of the same jobs can ``prefetch``)."""
        return list(self._raw)

    def raw(self, name: str) -> list[Any]:
        """``event.get(name)`` of every event (flat key only, as the query predicates read it)."""
        col = self._raw.get(name)
        if col is None:
            col = self._raw[name] = [e.get(name) for e in self.events]
        return col

    def tuples(self, name: str) -> list[tuple[str, ...]]:
        """``fields.value_tuple(event, name)`` of every event: a string costs one look-up, only
        other values (lists, numbers, nested documents) take the general reader.

        A column of strings (and, when ``_flat``, missing values) holds few distinct values
        (users, addresses, actions): each distinct value's tuple is made once and the column
        is looked up from them (``by_distinct``), one tuple per value rather than per event."""
        col = self._tuples.get(name)
        if col is None:
            raw = self.raw(name)
            flat = self._flat(name)
            col = by_distinct(raw, flat)
            if col is None and flat:  # a missing value is no value: no nested walk to try
                col = [(v,) if v.__class__ is str and v else () if v is None or v.__class__ is str else value_tuple(e, name)
                       for v, e in zip(raw, self.events)]
            elif col is None:
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


def by_distinct(raw: list[Any], flat: bool) -> list[tuple[str, ...]] | None:
    """The value tuples of the column ``raw`` when every value is a ``str`` (or None, in a
    ``_flat`` column): ``(v,)`` for a non-empty string, ``()`` for an empty one or a missing
    value, as ``BatchColumns.tuples`` gives them, each made once per distinct value. None
    for any other column (lists, numbers, subclasses of str; a missing or empty value that
    a nested document might fill): those take the general reader."""
    try:
        distinct = set(raw)
    except TypeError:  # a list value
        return None
    missing = None in distinct
    if missing:
        if not flat:
            return None
        distinct.discard(None)
    for v in distinct:
        if v.__class__ is not str or not (v or flat):
            return None
    lookup: dict[Any, tuple[str, ...]] = {v: (v,) if v else () for v in distinct}
    if missing:
        lookup[None] = ()
    return list(map(lookup.__getitem__, raw))


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
