"""The per-row work of the ES|QL rules done a column at a time gives what row by row gave.

``CASE`` runs a list comprehension per pair (last pair first) instead of a Python loop per
row and pair; ``bounds._gathered`` orders the groups of a part by a C pass over its keys
instead of a position per group and a sort; a slice's rows are gathered in C
(``esql_slices._gathered``); ``MIN``/``MAX`` states and ``StatsPlan._merge_some`` read the
parts' states with ``itemgetter``. Each is checked here against a row-by-row reference
over random cells (nulls, booleans that are not ``True``, multi-valued cells, several
pairs, with and without an else), so a reordering or a dropped row shows."""

from __future__ import annotations

import random
from typing import Any

import pytest

from ctdetect.engine.rules.esql_slices import _gathered as gathered_rows, _Member
from ctdetect.query.esql import aggregates
from ctdetect.query.esql.aggregates import MERGEABLE, NotMergeable
from ctdetect.query.esql.bounds import _gathered as gathered_states
from ctdetect.query.esql.evaluate import Program
from ctdetect.query.esql.parser import parse_esql
from ctdetect.query.esql.sources import source_columns
from ctdetect.catalogue import load_catalogue

CATALOGUE = load_catalogue()
T0 = 1_722_470_400_000
CONDITIONS = [True, False, None, [True, False], "true", 1]  # only ``True`` takes a pair


def _case_reference(conditions: list[list[Any]], values: list[list[Any]], otherwise: list[Any] | None) -> list[Any]:
    """CASE row by row: the value of the first pair whose condition is ``True``, else the else (or null)."""
    out = []
    for row in range(len(conditions[0]) if conditions else len(otherwise or [])):
        for cond, value in zip(conditions, values):
            if cond[row] is True:
                out.append(value[row])
                break
        else:
            out.append(otherwise[row] if otherwise is not None else None)
    return out


@pytest.mark.parametrize("pairs", [1, 2, 3])
@pytest.mark.parametrize("has_else", [True, False])
def test_case_a_column_per_pair_equals_row_by_row(pairs: int, has_else: bool) -> None:
    rng = random.Random(pairs * 10 + has_else)
    size = 300
    docs = []
    for row in range(size):
        d: dict[str, Any] = {"@timestamp": T0 + row, "event.dataset": "aws.cloudtrail"}
        for p in range(pairs):
            d[f"c{p}"] = rng.choice(CONDITIONS)
            d[f"v{p}"] = rng.choice(["a", "b", None, ["x", "y"], 7])
        d["other"] = rng.choice(["z", None, ["p", "q"]])
        docs.append(d)
    args = ", ".join(f"c{p}, v{p}" for p in range(pairs)) + (", other" if has_else else "")
    query = f"FROM logs-aws.cloudtrail-* | EVAL out = CASE({args}) | KEEP out"
    program = Program.prepare(parse_esql(query), lambda idx: source_columns(idx, CATALOGUE))
    table = program.table(docs)
    got = program.run(docs, T0, unbounded=True).column("out")
    conditions = [table.column(f"c{p}") if f"c{p}" in table.columns else [None] * size for p in range(pairs)]
    values = [table.column(f"v{p}") if f"v{p}" in table.columns else [None] * size for p in range(pairs)]
    otherwise = (table.column("other") if "other" in table.columns else [None] * size) if has_else else None
    assert got == _case_reference(conditions, values, otherwise)
    assert any(v is not None for v in got)  # the reference is not trivially all nulls


def _gathered_reference(parts: list[dict], keys: set) -> dict:
    """Every key's states in each part holding it, keys in the order of their first row."""
    order: list = []
    for part in parts:
        order.extend(k for k in part if k in keys and k not in order)
    return {k: [part[k] for part in parts if k in part] for k in order}


def test_bounds_gathered_keeps_the_first_rows_order() -> None:
    rng = random.Random(3)
    for _ in range(200):
        universe = [(f"u{i}",) for i in range(rng.randint(1, 30))]
        parts = [{k: [rng.random()] for k in rng.sample(universe, rng.randint(0, len(universe)))} for _ in range(rng.randint(1, 8))]
        present = {k for part in parts for k in part}
        keys = set(rng.sample(sorted(present), rng.randint(0, len(present)))) if present else set()
        got = gathered_states(parts, keys)
        want = _gathered_reference(parts, keys)
        assert list(got) == list(want) and got == want


def test_slice_rows_gathered_with_members_of_no_one_and_several_rows() -> None:
    rng = random.Random(5)
    for _ in range(100):
        members = []
        for i in range(rng.randint(0, 12)):
            rows = tuple(((f"g{rng.randint(0, 3)}",), rng.random(), rng.choice([None, 1])) for _ in range(rng.choice([1, 1, 1, 0, 2])))
            members.append(_Member(i, i, rng.choice([None, 5]), rows, i))
        got = gathered_rows(members, 2)
        flat = [(i, r) for i, m in enumerate(members) for r in m.rows]
        assert got.source == [i for i, _ in flat]
        assert got.keys == [r[0] for _, r in flat]
        assert got.cells == [[r[1] for _, r in flat], [r[2] for _, r in flat]]
        assert got.last == [m.last for m in members]


@pytest.mark.parametrize("name", ["min", "max"])
def test_extreme_combine_reads_states_as_before(name: str) -> None:
    combine = MERGEABLE[name].combine
    pick = min if name == "min" else max
    assert combine([None, None]) is None
    assert combine([None, ("number", 3)]) == ("number", 3)
    assert combine([("number", 3), None, ("number", 1), ("number", 3.0)]) == ("number", pick([3, 1, 3.0]))
    first, second = "b", "b"
    got = combine([(str, first), (str, second)])
    assert got[1] is first  # the first of equal values, as ``min``/``max`` of a list keeps it
    with pytest.raises(NotMergeable):
        combine([("number", 1), (str, "a")])
    assert aggregates._FAMILY_OF(("number", 2)) == "number"


def _program(query: str) -> Program:
    return Program.prepare(parse_esql(query), lambda idx: source_columns(idx, CATALOGUE))


@pytest.mark.parametrize("command", ["KEEP user.name, Esql.*, event.*", "DROP Esql.b*, user.name"])
def test_keep_and_drop_remember_their_names_per_column_list(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The names a KEEP/DROP picks are remembered per list of columns, and are those it
    picks afresh: for tables whose columns differ (other names, another order), and past
    ``NAMES_KEPT`` lists."""
    from ctdetect.query.esql import evaluate

    monkeypatch.setattr(evaluate, "NAMES_KEPT", 3)
    program = _program("FROM logs-aws.cloudtrail-* | " + command)
    step = program.steps[-1]
    rng = random.Random(11)
    pool = ["user.name", "Esql.a", "Esql.b", "Esql.bc", "event.action", "event.outcome", "source.ip"]
    from fnmatch import fnmatchcase

    patterns = [p.strip() for p in command.split(" ", 1)[1].split(",")]
    for _ in range(60):
        names = rng.sample(pool, rng.randint(1, len(pool)))
        table = evaluate.Table({n: [1] for n in names}, {n: None for n in names}, 1, None)
        got = list(step(table, evaluate.Context(T0, [])).columns)
        if command.startswith("KEEP"):
            want: list[str] = []
            for p in patterns:
                want += [n for n in names if fnmatchcase(n, p) and n not in want]
        else:
            want = [n for n in names if not any(fnmatchcase(n, p) for p in patterns)]
        assert got == want


def test_memo_rows_with_a_multi_valued_cell_are_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """An expression over two fields memoised per distinct tuple: rows whose cells include
    a list (in either column) get their own evaluation, the others share their tuple's."""
    rng = random.Random(2)
    docs = []
    for row in range(400):
        a = ["x", "y"] if row % 11 == 0 else rng.choice(["x", "y", None])
        b = ["q", "p"] if row % 13 == 0 else rng.choice(["p", "q"])
        docs.append({"@timestamp": T0 + row, "event.dataset": "aws.cloudtrail", "a": a, "b": b})
    query = 'FROM logs-aws.cloudtrail-* | EVAL out = CASE(a == "x" OR b == "q", MV_COUNT(a), 0) | KEEP out'
    from ctdetect.query.esql import memo

    calls: list[int] = []
    real = memo._spread
    monkeypatch.setattr(memo, "_spread", lambda distinct, answers, keys: calls.append(len(distinct)) or real(distinct, answers, keys))
    memoised = _program(query).run(docs, T0, unbounded=True).column("out")
    assert calls and calls[0] < 100  # the memo ran (a few tuples and the multi-valued rows)
    memo.MEMO = False
    try:
        plain = _program(query).run(docs, T0, unbounded=True).column("out")
    finally:
        memo.MEMO = True
    assert memoised == plain
