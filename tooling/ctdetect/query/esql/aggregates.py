"""ES|QL aggregate functions over the values of one group.

Each takes the cells of the group's rows (a cell may be multi-valued: aggregates see
every value, as ES|QL's do) and returns one cell. ``COUNT(*)`` counts rows, ``COUNT(x)``
counts values; ``VALUES`` returns the distinct values (ES|QL does not promise an order:
ours are sorted so that results are reproducible).

``MERGEABLE`` gives, for the aggregates whose value over a set of rows can be computed
exactly from values over consecutive parts of those rows, a partial state per part and the
merge of the parts' states (in row order). The incremental evaluation of ES|QL rules
(``query.esql.incremental``) keeps one state per time slice so that an execution merges
slices rather than re-reading every row of its window. Exact means the merged value is the
very object the function above returns on all the rows: ``SUM`` merges only integers (a
float sum depends on the order of the additions), ``MIN``/``MAX`` only values of one kind
and no NaN (Python's ``min`` keeps the first of equal values, which merging in row order
preserves, but a NaN or an incomparable mix would not), ``VALUES`` keeps the first
occurrence of equal values as ``dict.fromkeys`` does. ``AVG``, ``MEDIAN`` and ``STD_DEV``
are not merged. ``COUNT_DISTINCT`` is exact here (a set, not Elasticsearch's HyperLogLog),
so a union of sets merges it exactly. A part that cannot be merged exactly raises
``NotMergeable``: the caller then computes the whole as before.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any, Callable, Sequence

from ctdetect.query.esql.table import values_of


def _flat(cells: list[Any]) -> list[Any]:
    if list in set(map(type, cells)):
        return [v for c in cells for v in values_of(c)]
    return [c for c in cells if c is not None]  # no multi-valued cell: what ``values_of`` yields


def _sorted(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _values(cells: list[Any]) -> Any:
    return _values_cell(list(dict.fromkeys(_flat(cells))))


def _values_cell(distinct: list[Any]) -> Any:
    """The cell ``VALUES`` returns for its distinct values (first occurrences, in row order)."""
    distinct = _sorted(distinct)
    return None if not distinct else distinct[0] if len(distinct) == 1 else distinct


def _min(cells: list[Any]) -> Any:
    values = _flat(cells)
    return min(values) if values else None


def _max(cells: list[Any]) -> Any:
    values = _flat(cells)
    return max(values) if values else None


def _sum(cells: list[Any]) -> Any:
    values = [v for v in _flat(cells) if not isinstance(v, bool)]
    return sum(values) if values else None


def _avg(cells: list[Any]) -> Any:
    values = [float(v) for v in _flat(cells)]
    return sum(values) / len(values) if values else None


def _median(cells: list[Any]) -> Any:
    values = [float(v) for v in _flat(cells)]
    return float(statistics.median(values)) if values else None


def _std_dev(cells: list[Any]) -> Any:
    values = [float(v) for v in _flat(cells)]
    return float(statistics.pstdev(values)) if values else None


def _count_distinct(cells: list[Any], *_precision: Any) -> int:
    return len(set(_flat(cells)))


AGGREGATES: dict[str, Callable[..., Any]] = {
    "count": lambda cells: len(_flat(cells)),
    "count_distinct": _count_distinct,
    "values": _values,
    "min": _min,
    "max": _max,
    "sum": _sum,
    "avg": _avg,
    "median": _median,
    "std_dev": _std_dev,
}


class NotMergeable(Exception):
    """A part's values whose partial state would not merge to exactly the whole's value."""


@dataclass(frozen=True, slots=True)
class Mergeable:
    """An aggregate as ``part`` (cells of consecutive rows -> a state), ``combine`` (states of
    consecutive parts, in row order -> their state; associative, so merged parts merge again)
    and ``final`` (a state -> the aggregate's value on all its rows)."""

    part: Callable[[list[Any]], Any]
    combine: Callable[[list[Any]], Any]
    final: Callable[[Any], Any] = lambda state: state
    # ``part`` of cells none of which is multi-valued (None: ``part``): the same state without
    # looking for lists in every group's cells, which was most of a fold's time
    plain: Callable[[list[Any]], Any] | None = None
    # ``uniform(cls, nullable)``: the same state as ``plain`` for cells that are all of class
    # ``cls`` (or None, when ``nullable``), or None when it has no shorter way for them. Why: a
    # fold calls its part once per group and aggregate (tens of thousands of small groups per
    # hour of events); a column's classes are known once per fold, so the per-value checks
    # (NaN, kinds, ``None``) and, where it can, the Python frame itself are left out.
    uniform: Callable[[type, bool], Callable[[Sequence[Any]], Any] | None] | None = None


def _family(value: Any) -> Any:
    """What ``value`` can be ordered against without a ``TypeError``: numbers with numbers."""
    cls = value.__class__
    return "number" if cls is int or cls is float or cls is bool else cls


def _extreme_part(pick: Callable[[list[Any]], Any], plain: bool = False) -> Callable[[list[Any]], Any]:
    def part(cells: list[Any]) -> Any:
        values = [c for c in cells if c is not None] if plain else _flat(cells)
        if not values:
            return None
        family = _family(values[0])
        for v in values:
            if (v.__class__ is float and v != v) or _family(v) != family:
                raise NotMergeable("NaN or values of several kinds")
        return (family, pick(values))

    return part


_FAMILY_OF = itemgetter(0)  # of a ``MIN``/``MAX`` state, ``(family, value)``
_VALUE_OF = itemgetter(1)


def _extreme_combine(pick: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    def combine(states: list[Any]) -> Any:
        found = [s for s in states if s is not None]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        # families and values read in C: an execution merges this for every group it keeps
        if len(set(map(_FAMILY_OF, found))) != 1:
            raise NotMergeable("values of several kinds")
        return (found[0][0], pick(map(_VALUE_OF, found)))

    return combine


def _sum_part(cells: list[Any]) -> tuple[int, bool]:
    values = [v for v in _flat(cells) if not isinstance(v, bool)]
    if any(v.__class__ is not int for v in values):
        raise NotMergeable("a float sum depends on the order of its additions")
    return sum(values), bool(values)


def _sum_plain(cells: list[Any]) -> tuple[int, bool]:
    """``_sum_part`` of cells none of which is multi-valued."""
    values = [v for v in cells if v is not None and v.__class__ is not bool]
    if any(v.__class__ is not int for v in values):
        raise NotMergeable("a float sum depends on the order of its additions")
    return sum(values), bool(values)


def _count_plain(cells: list[Any]) -> int:
    return len([c for c in cells if c is not None])


def _distinct_plain(cells: list[Any]) -> set[Any]:
    found = set(cells)
    found.discard(None)
    return found


def _values_plain(cells: list[Any]) -> dict[Any, None]:
    found = dict.fromkeys(cells)
    found.pop(None, None)  # the others keep their first occurrences' order
    return found


def _extreme_uniform(pick: Callable[[Sequence[Any]], Any]) -> Callable[[type, bool], Callable[[Sequence[Any]], Any] | None]:
    """``Mergeable.uniform`` of ``MIN``/``MAX``: cells of one class other than ``float`` hold
    no NaN and one family, which ``_extreme_part`` would check value by value."""

    def uniform(cls: type, nullable: bool) -> Callable[[Sequence[Any]], Any] | None:
        if cls is float or cls is list:
            return None
        family = "number" if cls is int or cls is bool else cls
        if nullable:
            def part(cells: Sequence[Any]) -> Any:
                values = [c for c in cells if c is not None]
                return (family, pick(values)) if values else None
        else:
            def part(cells: Sequence[Any]) -> Any:
                return (family, pick(cells)) if cells else None
        return part

    return uniform


def _sum_uniform(cls: type, nullable: bool) -> Callable[[Sequence[Any]], Any] | None:
    """``Mergeable.uniform`` of ``SUM``: integers need neither ``_sum_plain``'s class tests."""
    if cls is not int:
        return None
    if nullable:
        def part(cells: Sequence[Any]) -> tuple[int, bool]:
            values = [c for c in cells if c is not None]
            return sum(values), bool(values)
        return part
    return lambda cells: (sum(cells), bool(cells))


def _sum_combine(states: list[tuple[int, bool]]) -> tuple[int, bool]:
    seen = [total for total, any_value in states if any_value]
    return sum(seen), bool(seen)


ROWS = Mergeable(len, sum)  # COUNT(*): a state per part is its number of rows (cells are placeholders)
MERGEABLE: dict[str, Mergeable] = {
    # Without a null among the cells, ``COUNT``, ``COUNT_DISTINCT`` and ``VALUES`` are one C call.
    "count": Mergeable(lambda cells: len(_flat(cells)), sum, plain=_count_plain, uniform=lambda cls, nullable: None if nullable else len),
    "count_distinct": Mergeable(lambda cells: set(_flat(cells)), lambda states: set().union(*states), len, plain=_distinct_plain,
                                uniform=lambda cls, nullable: None if nullable else set),
    "values": Mergeable(lambda cells: dict.fromkeys(_flat(cells)), lambda states: dict.fromkeys(chain.from_iterable(states)),
                        lambda state: _values_cell(list(state)), plain=_values_plain, uniform=lambda cls, nullable: None if nullable else dict.fromkeys),
    "min": Mergeable(_extreme_part(min), _extreme_combine(min), lambda state: None if state is None else state[1], plain=_extreme_part(min, plain=True),
                     uniform=_extreme_uniform(min)),
    "max": Mergeable(_extreme_part(max), _extreme_combine(max), lambda state: None if state is None else state[1], plain=_extreme_part(max, plain=True),
                     uniform=_extreme_uniform(max)),
    "sum": Mergeable(_sum_part, _sum_combine, lambda state: state[0] if state[1] else None, plain=_sum_plain, uniform=_sum_uniform),
}
