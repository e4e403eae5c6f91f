"""Evaluate a pure ES|QL expression once per distinct tuple of the cells it reads.

Why: a rule's ``EVAL``/``WHERE``/``CASE`` over CloudTrail fields (``event.action``,
``source.as.organization.name``, ``user_agent.original``) sees a handful of distinct values
in a batch of thousands of events, yet the general evaluation walks the whole expression
tree cell by cell (an ``OR`` of four comparisons inside a ``CASE`` is five column passes
and thousands of Python calls). ``memoised`` runs the compiled expression over a table of
the batch's distinct input tuples and maps each row to its tuple's answer.

Exactness: the expression must depend on its row's cells only. Anything that reads the
execution (``NOW()``) or the row's source document (``KQL()``, ``QSTR()``, ``MATCH()``,
``:``) is never memoised. Evaluation never raises per cell (a failing function or operator
gives null, ``expressions._call``/``_apply2``) and never attaches a warning, so the same
tuples give the same cells; an error that does escape escapes from the same tuple. Two
cells share an answer only when Python's ``==`` cannot confuse kinds the evaluator tells
apart: columns holding floats (``0.0 == -0.0``), both booleans and integers (``True ==
1``) or any other class than str/int/bool/None run unmemoised, and a multi-valued cell
(a list, unhashable) is its row's own tuple. A list answer is copied per row, so no two
rows share a mutable cell. A batch with more distinct tuples than half its rows runs the
expression directly: the memo would only add its passes.
"""

from __future__ import annotations

from itertools import compress, count, repeat
from operator import is_
from typing import Any, Mapping

from ctdetect.query.esql import ast as e
from ctdetect.query.esql.expressions import DATE_TYPES, Column, Context
from ctdetect.query.esql.table import Table

# off = every expression cell by cell (tests compare the two)
MEMO = True
# functions whose value depends on more than the row's cells
IMPURE_CALLS = frozenset({"now", "kql", "qstr", "match", "match_phrase"})
LEAVES = (e.FieldRef, e.Literal, e.TimeSpan, e.ListLit, e.MapLit)
SAFE_KINDS = frozenset({str, int, bool, type(None), list})
_ROW = object()  # first item of the key of a row with a multi-valued cell (no cell is this object)


def memoised(node: e.Expr, column: Column, types: Mapping[str, str | None]) -> Column:
    """``column`` (the compiled ``node``), evaluated per distinct tuple of the cells it reads
    when ``node`` is pure and worth it; else ``column`` itself. ``types``: the columns'
    types where ``node`` is evaluated (a date column is a time per event: nothing repeats)."""
    if not MEMO or not worth_memoising(node):
        return column
    names = sorted({n.name for n in node.walk() if isinstance(n, e.FieldRef)})
    if not names or any(types.get(n) in DATE_TYPES for n in names):
        return column
    if len(names) == 1:
        return _one_field(names[0], column)
    return _fields(names, column)


def worth_memoising(node: e.Expr) -> bool:
    """Pure, and more than one operation: a single comparison or LIKE is already one pass."""
    operations = 0
    for n in node.walk():
        if isinstance(n, (e.MatchOp, e.Param)) or (isinstance(n, e.Call) and n.name in IMPURE_CALLS):
            return False
        if not isinstance(n, LEAVES):
            operations += 1
    return operations >= 2


def _hashable_kinds(column: list[Any]) -> set[type] | None:
    """The classes of ``column``'s cells when equal cells are interchangeable, else None."""
    kinds = set(map(type, column))
    if not kinds <= SAFE_KINDS or (int in kinds and bool in kinds):
        return None
    return kinds


def _one_field(name: str, column: Column) -> Column:
    def run(table: Table, ctx: Context) -> list:
        cells = table.column(name)
        kinds = _hashable_kinds(cells)
        if kinds is None:
            return column(table, ctx)
        keys: list[Any] = cells
        if list in kinds:
            keys = [(_ROW, i) if v.__class__ is list else v for i, v in enumerate(cells)]
        distinct = dict.fromkeys(keys)
        if 2 * len(distinct) > len(keys):
            return column(table, ctx)
        values = [cells[k[1]] if k.__class__ is tuple else k for k in distinct]
        small = Table({name: values}, {name: table.types.get(name)}, len(values), None)
        return _spread(distinct, column(small, ctx), keys)

    return run


def _fields(names: list[str], column: Column) -> Column:
    def run(table: Table, ctx: Context) -> list:
        columns = [table.column(n) for n in names]
        found = [_hashable_kinds(c) for c in columns]
        if any(k is None for k in found):
            return column(table, ctx)
        keys: list[Any] = list(zip(*columns))
        for cells, kinds in zip(columns, found):
            if list in kinds:  # type: ignore[operator]
                # the rows of its multi-valued cells, found in C (a row of each batch was tested in Python)
                for i in compress(count(), map(is_, map(type, cells), repeat(list))):
                    keys[i] = (_ROW, i)
        distinct = dict.fromkeys(keys)
        if 2 * len(distinct) > len(keys):
            return column(table, ctx)
        rows = [tuple(c[k[1]] for c in columns) if k[0] is _ROW else k for k in distinct]
        cells = list(zip(*rows)) if rows else [() for _ in names]
        small = Table({n: list(c) for n, c in zip(names, cells)}, {n: table.types.get(n) for n in names}, len(rows), None)
        return _spread(distinct, column(small, ctx), keys)

    return run


def _spread(distinct: dict[Any, Any], answers: list[Any], keys: list[Any]) -> list[Any]:
    """Each row's answer from its key's (a list answer copied per row)."""
    found = dict(zip(distinct, answers))
    out = list(map(found.__getitem__, keys))
    if list in set(map(type, answers)):
        out = [list(v) if v.__class__ is list else v for v in out]
    return out
