"""A small column table: what the ES|QL evaluator passes from command to command.

Why columns: an ES|QL query is a pipeline of operations over a table, and every
operation here works a column at a time (a filter computes one boolean column and takes
the rows it keeps; an ``EVAL`` computes one new column). The columnar data path planned
for the engine can hand its batches over as such columns without a per-event dict.

Values follow ES|QL: ``None`` is null; a multi-valued cell is a Python list of two or more
values (a one-element array is a single value, an empty one is null); dates are epoch
milliseconds (``int``). ``source_rows`` maps each row to the source document it came
from while the rows still are documents (``FROM``, ``WHERE``, ``EVAL``, ``SORT`` ...),
and becomes ``None`` once ``STATS`` made new rows: alerts of non-aggregating rules carry
their source document, as Kibana's do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable


@dataclass
class Table:
    columns: dict[str, list[Any]]
    types: dict[str, str | None]
    size: int
    source_rows: list[int] | None = None
    notes: list[str] = field(default_factory=list)  # warnings ES|QL would attach to the response

    @classmethod
    def empty(cls) -> "Table":
        return cls({}, {}, 0, None)

    def column(self, name: str) -> list[Any]:
        found = self.columns.get(name)
        return found if found is not None else [None] * self.size

    def take(self, rows: list[int]) -> "Table":
        """The table of ``rows`` (indices, in the order given; repeats allowed)."""
        cols = {name: [values[i] for i in rows] for name, values in self.columns.items()}
        src = [self.source_rows[i] for i in rows] if self.source_rows is not None else None
        return Table(cols, dict(self.types), len(rows), src, self.notes)

    def where(self, mask: Iterable[Any]) -> "Table":
        """Rows whose mask value is ``True`` (null and false both drop the row)."""
        return self.take([i for i, keep in enumerate(mask) if keep is True])

    def with_column(self, name: str, values: list[Any], type_: str | None) -> "Table":
        cols = {k: v for k, v in self.columns.items() if k != name}
        types = {k: v for k, v in self.types.items() if k != name}
        cols[name] = values
        types[name] = type_
        return Table(cols, types, self.size, self.source_rows, self.notes)

    def select(self, names: list[str]) -> "Table":
        return Table({n: self.columns[n] for n in names}, {n: self.types.get(n) for n in names}, self.size, self.source_rows, self.notes)

    def rows(self) -> list[dict[str, Any]]:
        names = list(self.columns)
        cols = [self.columns[n] for n in names]
        return [dict(zip(names, values)) for values in zip(*cols)] if names else [{} for _ in range(self.size)]


def normalise(value: Any) -> Any:
    """A document value as an ES|QL cell: ``[]`` -> null, ``[x]`` -> ``x``, nulls inside arrays dropped."""
    if value.__class__ is list or value.__class__ is tuple:
        items = [v for v in value if v is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else items
    return value


def values_of(cell: Any) -> list[Any]:
    """Every value of a cell (empty for null)."""
    if cell is None:
        return []
    return cell if cell.__class__ is list else [cell]
