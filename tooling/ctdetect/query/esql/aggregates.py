"""ES|QL aggregate functions over the values of one group.

Each takes the cells of the group's rows (a cell may be multi-valued: aggregates see
every value, as ES|QL's do) and returns one cell. ``COUNT(*)`` counts rows, ``COUNT(x)``
counts values; ``VALUES`` returns the distinct values (ES|QL does not promise an order:
ours are sorted so that results are reproducible).
"""

from __future__ import annotations

import statistics
from typing import Any, Callable

from ctdetect.query.esql.table import values_of


def _flat(cells: list[Any]) -> list[Any]:
    return [v for c in cells for v in values_of(c)]


def _sorted(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _values(cells: list[Any]) -> Any:
    distinct = _sorted(list(dict.fromkeys(_flat(cells))))
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
