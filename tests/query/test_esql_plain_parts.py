"""An aggregate's ``plain`` part (cells none of which is multi-valued) gives the very state its
general ``part`` gives (``aggregates.Mergeable.plain``, chosen per column by ``incremental._part``),
or raises ``NotMergeable`` where it does."""

from __future__ import annotations

import random
from typing import Any

import pytest

from ctdetect.query.esql.aggregates import MERGEABLE, NotMergeable
from ctdetect.query.esql.incremental import _part

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
