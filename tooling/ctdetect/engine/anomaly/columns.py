"""One batch of events read as columns, each field read once for every job of the batch.

The package's jobs read the same few fields (``user.name``, ``source.ip``, the identity's
ARN...) as datafeed clauses, influencers and split fields. Reading them per job per event
repeats the same dictionary look-ups twelve times; here a field is read once per batch
(``raw``), and its ML values (``tuples``: the value tuple ``fields.value_tuple`` gives for
each event) are built once too, then shared by every job through ``BatchColumns.take``
(a job's selected rows of a column).

A job process receives its batches as columns (``read_columns`` in the process that reads
the input, ``BatchColumns.from_columns`` here): the columns are taken as they come, and an
event's dictionary is made only for the rows something reads whole (``RowEvents``: a
query clause asked event by event, a detector's general path), never for every row.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, Iterator, Sequence

from ctdetect.engine.anomaly.fields import value_tuple


class Absent:
    """Stands, in a column of ``read_columns``, for an event that lacks the field: a missing
    key and a key holding None stay apart, so ``RowEvents`` rebuilds each event exactly.
    The class itself is the marker (it pickles by name: the same object on both sides)."""


def read_columns(events: Sequence[Any], names: Sequence[str]) -> list[list[Any] | None]:
    """The fields ``names`` of ``events`` as columns to send to a job process: ``event[name]``
    where the event holds the key, ``Absent`` where not (what the jobs' projection of an
    event, ``{name: event[name] for name in names if name in event}``, keeps); None for a
    column no event holds (nothing to send). A batch of plain dicts is read a column at a
    time in C (``map`` of ``dict.get``); any other mapping through its ``in`` and ``[]``."""
    if set(map(type, events)) <= {dict}:
        get = dict.get
        columns = [list(map(get, events, repeat(name), repeat(Absent))) for name in names]
    else:
        columns = [[e[name] if name in e else Absent for e in events] for name in names]
    count = len(events)
    return [None if count and col[0] is Absent and col.count(Absent) == count else col for col in columns]


class RowEvents:
    """The events of a batch received as columns (``read_columns``), as a sequence: an
    event's dictionary is made from its row only when asked for (and kept for the batch),
    so the rows nobody reads whole cost nothing. ``view`` gives some of the rows, in order,
    sharing the columns and the made events."""

    __slots__ = ("_pairs", "_made", "_order", "_count")

    def __init__(self, names: Sequence[str], columns: Sequence[list[Any] | None], count: int) -> None:
        self._pairs = [(name, col) for name, col in zip(names, columns) if col is not None]
        self._made: dict[int, dict[str, Any]] = {}
        self._order: Sequence[int] | None = None  # the rows of this view (None: every row)
        self._count = count

    def view(self, rows: Sequence[int]) -> "RowEvents":
        """The events of ``rows`` (positions in this sequence)."""
        out = RowEvents((), (), len(rows))
        out._pairs = self._pairs
        out._made = self._made
        out._order = rows if self._order is None else [self._order[i] for i in rows]
        return out

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("event index out of range")
        row = index if self._order is None else self._order[index]
        event = self._made.get(row)
        if event is None:
            absent = Absent
            event = self._made[row] = {name: v for name, col in self._pairs if (v := col[row]) is not absent}
        return event

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self.__getitem__, range(self._count))


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

    __slots__ = ("events", "count", "_raw", "_tuples", "_complete")

    def __init__(self, events: Sequence[dict[str, Any]], prefetch: Sequence[str] = ()) -> None:
        self.events = events
        self.count = len(events)
        self._raw: dict[str, list[Any]] = {}
        self._tuples: dict[str, list[tuple[str, ...]]] = {}
        # True when ``_raw`` holds every field the events have (``from_columns``): any other
        # is missing from every event
        self._complete = False
        if prefetch:
            self._read_rows(prefetch)

    @classmethod
    def from_columns(cls, names: Sequence[str], columns: Sequence[list[Any] | None], count: int) -> "BatchColumns":
        """The batch a job process receives from ``read_columns``: each column taken as sent
        (``Absent`` read as None, as ``event.get`` gives it), the events made row by row
        only where read whole (``RowEvents``)."""
        batch = cls(RowEvents(names, columns, count))
        raw = batch._raw
        absent = Absent
        for name, col in zip(names, columns):
            # (compiled, the comprehension is a pointer test per row: cheaper than asking first)
            raw[name] = [None] * count if col is None else [None if v is absent else v for v in col]
        batch._complete = True
        return batch

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
            col = self._raw[name] = [None] * self.count if self._complete else [e.get(name) for e in self.events]
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
            events = self.events  # indexed only where a value takes the general reader (``RowEvents``)
            if col is None and flat:  # a missing value is no value: no nested walk to try
                col = [(v,) if v.__class__ is str and v else () if v is None or v.__class__ is str else value_tuple(events[i], name)
                       for i, v in enumerate(raw)]
            elif col is None:
                col = [(v,) if v.__class__ is str and v else value_tuple(events[i], name) for i, v in enumerate(raw)]
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

    ``infls`` (the influencer tuples, aligned to the job's influencers) are the run's own;
    ``raw`` and ``tuples`` read a field's values for the run from the batch's shared
    columns; ``events``, the run's events, is taken from the batch only when a detector
    asks (its general path): a batch received as columns then makes those rows alone."""

    __slots__ = ("columns", "rows", "start", "end", "infls", "_events")

    def __init__(
        self, columns: BatchColumns, rows: Sequence[int] | None, start: int, end: int,
        infls: list[tuple[tuple[str, ...], ...]],
    ) -> None:
        self.columns = columns
        self.rows = rows  # the job's selected rows of the batch (None: all of them)
        self.start = start  # this run is rows[start:end]
        self.end = end
        self.infls = infls
        self._events: Sequence[dict[str, Any]] | None = None

    @property
    def events(self) -> Sequence[dict[str, Any]]:
        """The run's events (a list, or a ``RowEvents`` view making each when read)."""
        if self._events is None:
            source = self.columns.events
            rows = range(self.start, self.end) if self.rows is None else self.rows[self.start : self.end]
            self._events = source.view(rows) if source.__class__ is RowEvents else [source[i] for i in rows]
        return self._events

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
