"""An aggregate's ``plain`` part (cells none of which is multi-valued) gives the very state its
general ``part`` gives (``aggregates.Mergeable.plain``, chosen per column by ``incremental._part``),
or raises ``NotMergeable`` where it does."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

from ctdetect.query.esql.aggregates import MERGEABLE, NotMergeable
from ctdetect.query.esql.aggregates import ROWS
from ctdetect.query.esql.incremental import MASKED, SliceRows, StatsPlan, _Inner, _part

CELLS: list[Any] = [None, 1, 2, 3, 2.5, float("nan"), True, False, "a", "b", "a", 0, -1, 10**20]


def _state(fn: Any, cells: list[Any]) -> Any:
    try:
        state = fn(list(cells))
    except NotMergeable:
        return ("raises",)
    if isinstance(state, set):  # COUNT_DISTINCT: only its members count (its final is len)
        return ("ok", sorted(map(repr, state)), "set")
    return ("ok", repr(state), type(state).__name__)  # a VALUES dict's order is its first occurrences


@pytest.mark.parametrize("name", sorted(n for n, m in MERGEABLE.items() if m.plain is not None))
def test_plain_part_equals_the_general_part(name: str) -> None:
    kind = MERGEABLE[name]
    rng = random.Random(name)
    for _ in range(500):
        pool = rng.choice([CELLS, [None, "x", "y", "x"], [None, 4, 5, 4], [None]])
        cells = [rng.choice(pool) for _ in range(rng.randint(0, 8))]
        assert _state(kind.plain, cells) == _state(kind.part, cells), cells


def test_a_column_holding_a_list_keeps_the_general_part() -> None:
    kind = MERGEABLE["values"]
    assert _part(kind, ["a", None, "b"]) is kind.plain
    assert _part(kind, ["a", ["b", "c"]]) is kind.part
    assert _part(MERGEABLE["count"], [[1, 2], None]) is MERGEABLE["count"].part


# ---------------------------------------------------------------- one class per column
UNIFORM_POOLS: list[list[Any]] = [[1, 2, 3, 0, -7, 10**20], [True, False], ["a", "b", "c", "a"], [2.5, float("nan"), 1.0], [{"k": 1}]]


@pytest.mark.parametrize("name", sorted(n for n, m in MERGEABLE.items() if m.uniform is not None))
def test_uniform_part_equals_the_plain_part(name: str) -> None:
    """``Mergeable.uniform`` for cells of one class (with and without nulls): the very state
    ``plain`` gives, or the same refusal, or no shortcut (None) for that class."""
    kind = MERGEABLE[name]
    assert kind.plain is not None and kind.uniform is not None
    rng = random.Random(name)
    for pool in UNIFORM_POOLS:
        for nullable in (False, True):
            fast = kind.uniform(type(pool[0]), nullable)
            if fast is None:
                continue
            for _ in range(300):
                cells = [rng.choice(pool + [None] if nullable else pool) for _ in range(rng.randint(0, 8))]
                for given in (cells, tuple(cells)):  # a fold hands a group's cells as a slice of a list or a tuple
                    assert _outcome(fast, given) == _outcome(kind.plain, cells), (pool, cells)


def _outcome(fn: Any, cells: Any) -> Any:
    try:
        return _state(fn, cells)
    except TypeError as exc:  # e.g. MIN of dicts: the same error both ways
        return ("TypeError", type(exc).__name__)


def test_a_part_is_picked_per_column_by_its_classes() -> None:
    values, most, total = MERGEABLE["values"], MERGEABLE["max"], MERGEABLE["sum"]
    assert _part(values, ["a", "b"]) == dict.fromkeys  # no null: one C call per group
    assert _part(values, ["a", None]) is values.plain
    assert _part(values, ["a", 1]) is values.plain  # two classes
    assert _part(most, [1.5, 2.5]) is most.plain  # a float may be NaN: checked per value
    assert _part(most, [1, None]) not in (most.plain, most.part)
    assert _part(total, ["x"]) is total.plain  # the plain refusal for a string sum
    assert _part(MERGEABLE["count"], [MASKED, 1, 2], masked=True) is len  # the masked cells are left out before
    assert _part(MERGEABLE["count"], [MASKED, 1, 2]) is MERGEABLE["count"].plain


# ---------------------------------------------------------------- StatsPlan.fold
def _fold_by_groups(inner: list[_Inner], rows: SliceRows, docs: list[bool] | None) -> dict[tuple, list[Any]]:
    """A fold as it reads: each group's cells gathered row by row, each aggregate's general ``part``."""
    groups: dict[tuple, list[int]] = {}
    for r, keys in enumerate(rows.keys):
        if docs is None or docs[rows.source[r]]:
            for key in keys:
                groups.setdefault(key, []).append(r)
    out: dict[tuple, list[Any]] = {}
    for key, rs in groups.items():
        states = []
        for x, column in zip(inner, rows.cells):
            cells = [column[r] for r in rs]
            if x.where is not None:
                cells = [c for c in cells if c is not MASKED]
            states.append(x.kind.part(cells))
        out[key] = states
    return out


def test_fold_gives_each_group_the_states_of_its_cells_in_row_order() -> None:
    """``StatsPlan.fold`` (columns reordered by group once, a slice per group, parts picked
    per column by its classes) against gathering each group's cells one by one: the same
    groups in the same order, the same states, the same refusals; with rows of several keys,
    of a key twice, of no key, documents left out, a masked aggregate, one group in order."""
    names = ["count", "count_distinct", "values", "min", "max", "sum"]
    rng = random.Random(11)
    pools: list[list[Any]] = [[1, 2, 3, None], ["a", "b", "a"], ["a", None], [1, 2.5], [True, 1, None], [[1, 2], 3], [float("nan"), 1.0]]
    for trial in range(400):
        inner = [_Inner(0, "p", ROWS, None, None)]
        for n in range(rng.randint(1, 4)):
            inner.append(_Inner(n, "p", MERGEABLE[rng.choice(names)], None, object() if rng.random() < 0.3 else None))
        size = rng.randint(1, 12)
        one_group = trial % 5 == 0
        keys = []
        for _ in range(size):
            if one_group:  # now and then a row with the key twice, or none (as many rows as cells, not in order)
                keys.append(rng.choice([(("g",),)] * 6 + [(("g",), ("g",)), ()]))
            else:
                keys.append(tuple((rng.choice("xyz"),) for _ in range(rng.choice([1, 1, 1, 2, 0]))))
        source = list(range(size))
        cells = []
        for x in inner:
            pool = rng.choice(pools)
            column = [rng.choice(pool) for _ in range(size)]
            if x.where is not None:
                column = [MASKED if rng.random() < 0.3 else c for c in column]
            cells.append(column)
        rows = SliceRows(source, keys, cells, [None] * size)
        docs = None if rng.random() < 0.6 else [rng.random() < 0.7 for _ in range(size)]
        got = _outcome_fold(lambda: StatsPlan.fold(SimpleNamespace(inner=inner), rows, docs))  # type: ignore[arg-type]
        want = _outcome_fold(lambda: _fold_by_groups(inner, rows, docs))
        assert got == want, (keys, cells, docs)


def _outcome_fold(run: Any) -> Any:
    try:
        out = run()
    except NotMergeable:
        return ("raises",)
    return [(key, [_state(lambda cells, s=s: s, []) for s in states]) for key, states in out.items()]
