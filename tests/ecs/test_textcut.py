"""``ecs.textcut.KnownCuts``: the cut of a record text proven from a shape seen before is
``volatile_cut``'s, whatever the text: shapes repeated, guesses that do not check, members
absent, reordered, repeated in a nested object or of another type."""

from __future__ import annotations

import random
from typing import Any

import orjson

from ctdetect.ecs import textcut
from ctdetect.ecs.mapper import volatile_cut
from ctdetect.ecs.textcut import EDGE, KnownCuts
from ctdetect.synth import SynthParams, generate

NAMES = ("eventTime", "eventID", "requestID", "sourceIPAddress")


def _records() -> list[dict[str, Any]]:
    params = SynthParams(seed=3, start="2026-03-02T00:00:00Z", days=2, principals=8, events_per_day=1200)
    return list(generate(params))


def _variants(record: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """The record, and shapes ``volatile_cut`` cuts otherwise or not at all."""
    keys = list(record)
    rng.shuffle(keys)
    absent = dict(record)
    absent.pop(rng.choice(NAMES), None)
    odd = dict(record)
    odd[rng.choice(NAMES)] = rng.choice([7, None, ["x"], ""])
    return [
        record,
        {k: record[k] for k in keys},  # another order
        absent,
        {"requestParameters": {n: record.get(n) for n in NAMES}, **record},  # each member repeated first, nested
        {**record, "requestParameters": {"eventID": record.get("eventID")}},  # one repeated after its place
        odd,
    ]


class _Counting:
    """Counts the calls of ``volatile_cut`` that ``KnownCuts`` makes (its searches)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: bytes, head: dict[str, Any]) -> Any:
        self.calls += 1
        return volatile_cut(text, head)


def test_known_cuts_are_the_volatile_cuts(monkeypatch) -> None:
    rng = random.Random(9)
    searches = _Counting()
    monkeypatch.setattr(textcut, "volatile_cut", searches)
    known = KnownCuts(64)  # small: the cache is emptied many times on the way
    texts = 0
    for record in _records()[:1500]:
        for variant in _variants(record, rng):
            text = orjson.dumps(variant)
            assert known.cut(text, variant) == volatile_cut(text, variant)
            other = dict(variant)  # values the text does not hold: volatile_cut finds nothing
            other[rng.choice(NAMES)] = "not-in-the-text"
            assert known.cut(text, other) == volatile_cut(text, other)
            texts += 2
    assert texts == 18_000
    # the synth records repeat their shapes: many cuts were proven, not searched (the plain
    # records; the other variants are one of a kind or not cut)
    assert texts - searches.calls > 1_500, searches.calls


def test_a_guess_that_does_not_check_is_searched() -> None:
    """Two texts with the same look-up key (length, first and last bytes) and different cut
    texts: the second is not taken for the first's shape."""
    record = _records()[0]
    filler = "x" * (2 * EDGE)
    first = {**record, "userAgent": "a" + filler}
    second = {**record, "userAgent": "b" + filler}
    known = KnownCuts(16)
    for variant in (first, second, first, second):
        text = orjson.dumps(variant)
        found = known.cut(text, variant)
        assert found == volatile_cut(text, variant)
        assert found is not None and (b'"a' + filler.encode() in found[0]) == (variant is first)


def test_a_shape_naming_a_member_is_not_remembered() -> None:
    """A cut text still holding one of the four ``"name":`` texts (a nested member with another
    value) could hide an earlier occurrence: such shapes are always searched."""
    record = _records()[1]
    nested = {**record, "requestParameters": {"requestID": "other"}}
    known = KnownCuts(16)
    text = orjson.dumps(nested)
    assert known.cut(text, nested) == volatile_cut(text, nested)
    assert len(known._shapes) == 0
    plain = orjson.dumps(record)
    assert known.cut(plain, record) == volatile_cut(plain, record)
    assert len(known._shapes) == 1
