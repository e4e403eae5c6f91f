"""A pure ES|QL expression evaluated once per distinct input tuple gives the cells the
row-by-row evaluation gives (``query.esql.memo``), over nulls, multi-values, kinds Python's
``==`` confuses (``True == 1``, ``0.0 == -0.0``), list answers and failing expressions."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ctdetect.query.esql import ast as e
from ctdetect.query.esql import memo
from ctdetect.query.esql.evaluate import Program
from ctdetect.query.esql.expressions import Context
from ctdetect.query.esql.parser import parse_esql
from ctdetect.query.esql.table import Table

TYPES = {"event.action": "keyword", "user.name": "keyword", "n": "long", "flag": "boolean", "@timestamp": "date"}
ACTIONS: list[Any] = ["ListBuckets", "GetObject", "AssumeRole", "", None, ["ListA", "GetB"], ["GetObject", "GetObject2"], "12", "x"]
USERS: list[Any] = ["alice", "bob", None, ["alice", "carol"], "Amazon.com, Inc."]
NUMBERS: list[Any] = [0, 1, 2, -3, None, [1, 2], 0.0, -0.0, 1.5, True, False]
QUERIES = [
    # Elastic's shapes: CASE over an OR of comparisons, IN a constant list, both as booleans
    'from logs-* | eval t = case(user.name like "Amazon*" or user.name == "bob" or user.name == "alice", true, false) | keep t',
    'from logs-* | eval s = case(event.action in ("GetObject", "ListBuckets", "AssumeRole"), true, false) | keep s',
    'from logs-* | eval a = concat(event.action, "-", user.name), b = length(event.action) + 1 | keep a, b',
    'from logs-* | where event.action like "Get*" and user.name is not null | keep event.action, user.name',
    'from logs-* | eval x = to_integer(event.action) * 2, y = 10 / (n - 1), z = n % 2 == 0 | keep x, y, z',  # failing casts, division by zero
    'from logs-* | eval m = mv_append(event.action, user.name), c = mv_count(mv_append(event.action, "x")) | keep m, c',
    'from logs-* | eval b = case(flag, n + 1, not flag, n - 1, 0), k = to_string(n) | keep b, k',
    'from logs-* | eval d = case(event.action == "GetObject", @timestamp, null) | keep d',  # a date: never memoised
    'from logs-* | stats c = count(*), m = max(case(event.action like "List*" or event.action == "x", 1, 0)) by u = to_lower(user.name) | sort u | keep c, m, u',
]


def _docs(seed: str, size: int, few: bool) -> list[dict]:
    rng = random.Random(seed)
    actions = ACTIONS[:3] if few else ACTIONS
    return [
        {"event.action": rng.choice(actions), "user.name": rng.choice(USERS), "n": rng.choice(NUMBERS),
         "flag": rng.choice([True, False, None, [True, False]]), "@timestamp": 1_700_000_000_000 + i}
        for i in range(size)
    ]


def _run(text: str, docs: list[dict]) -> str:
    program = Program.prepare(parse_esql(text), lambda indices: TYPES)
    return json.dumps(program.run(docs, 0, unbounded=True).rows(), default=repr)


@pytest.mark.parametrize("few", [True, False], ids=["few distinct", "many kinds"])
@pytest.mark.parametrize("text", QUERIES)
def test_memoised_expressions_agree_with_row_by_row(text: str, few: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _docs(text, 400, few)
    memoised = _run(text, docs)
    monkeypatch.setattr(memo, "MEMO", False)  # every expression cell by cell
    assert _run(text, docs) == memoised


def _compiled(text: str) -> tuple[Program, e.Expr]:
    program = Program.prepare(parse_esql(f"from logs-* | eval v = {text}"), lambda indices: TYPES)
    command = program.query.commands[0]
    assert isinstance(command, e.Eval)
    return program, command.fields[0].expr


def test_only_pure_compound_expressions_are_memoised() -> None:
    assert memo.worth_memoising(_compiled('case(event.action == "a" or event.action == "b", 1, 0)')[1])
    assert not memo.worth_memoising(_compiled('event.action == "a"')[1])  # one pass already
    assert not memo.worth_memoising(_compiled("case(@timestamp > now() - 1 hour, 1, 0)")[1])  # reads the execution
    assert not memo.worth_memoising(_compiled('case(kql("event.action:a"), 1, 0) + 1')[1])  # reads the document


def test_the_memo_evaluates_each_distinct_tuple_once() -> None:
    seen: list[int] = []

    def column(table: Table, ctx: Context) -> list:
        seen.append(table.size)
        return [None if v is None else str(v) for v in table.column("event.action")]

    node = _compiled('case(event.action == "a" or event.action == "b", 1, 0)')[1]
    run = memo.memoised(node, column, TYPES)
    cells: list[Any] = ["a", "b", "a", None, ["a", "b"], "a", "b", "b", None, "a"]
    out = run(Table({"event.action": cells}, {"event.action": "keyword"}, len(cells)), Context(0))
    assert seen == [4]  # "a", "b", null and the multi-valued row
    assert out == [None if v is None else str(v) for v in cells]
    many = [str(i) for i in range(10)]
    run(Table({"event.action": many}, {"event.action": "keyword"}, 10), Context(0))
    assert seen[-1] == 10  # more distinct tuples than half the rows: run directly


def test_kinds_python_confuses_are_not_shared() -> None:
    node = _compiled("case(n == 1 or n == 2, 1, 0)")[1]
    calls: list[list] = []

    def column(table: Table, ctx: Context) -> list:
        calls.append(list(table.column("n")))
        return [repr(v) for v in table.column("n")]

    run = memo.memoised(node, column, TYPES)
    for cells in ([1, True, 1, True, 1, 1], [0.0, -0.0, 0.0, -0.0, 0.0, 0.0]):
        assert run(Table({"n": cells}, {"n": "long"}, len(cells)), Context(0)) == [repr(v) for v in cells]
        assert calls[-1] == cells  # run row by row
    ints = [1, 2, 1, 2, 1, 2]
    assert run(Table({"n": ints}, {"n": "long"}, 6), Context(0)) == [repr(v) for v in ints]
    assert calls[-1] == [1, 2]


def test_list_answers_are_not_shared_between_rows() -> None:
    node = _compiled('mv_append(event.action, "x")')[1]
    node = e.Call(0, "mv_dedupe", (node,))  # two operations: memoised
    run = memo.memoised(node, lambda t, c: [[v, "x"] for v in t.column("event.action")], TYPES)
    out = run(Table({"event.action": ["a"] * 4}, {"event.action": "keyword"}, 4), Context(0))
    assert out == [["a", "x"]] * 4
    assert len({id(v) for v in out}) == 4
