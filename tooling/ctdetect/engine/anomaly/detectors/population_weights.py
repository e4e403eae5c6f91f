"""Sample-rate weights of population counts: heavy hitters must not swamp an attribute's model.

In population analysis every person's bucket count of an attribute is one sample of that
attribute's model, so a person active on the attribute in every bucket would dominate it.
ml-cpp (``CPopulationModel::sampleRateWeight``, elastic/ml-cpp 7a29b4b34) weighs each
person's sample by how often the attribute's people are present compared with this person,
in our words:

- per attribute, each person's count of buckets in which it used the attribute, aged by
  ``e^−λ`` every bucket (λ: the job's decay rate), and their total;
- mean person count = total / distinct people that ever used the attribute (at most the
  people known to the partition);
- weight = min(mean person count / person's count, 1): 1 for everybody but the people seen
  more often than the attribute's average.

Ageing is lazy: a count remembers the bucket it was last brought up to date, and is aged on
read, so a bucket costs only the (person, attribute) pairs present in it. ml-cpp keeps the
counts in a count-min sketch and the people in a BJKST sketch, both exact at the sizes a
detector's attribute sees here; ours are exact dictionaries.
"""

from __future__ import annotations

import math
from typing import Any


class SampleRateWeights:
    """Decayed per-attribute bucket counts of each person, for one partition."""

    __slots__ = ("counts", "totals", "people", "last_bucket")

    def __init__(self) -> None:
        # attribute -> person -> [decayed bucket count, bucket number it is up to date at]
        self.counts: dict[Any, dict[str, list[float]]] = {}
        # attribute -> [decayed total, bucket number]
        self.totals: dict[Any, list[float]] = {}
        self.people: set[str] = set()
        self.last_bucket = 0  # the last bucket counted

    @staticmethod
    def _aged(entry: list[float], bucket: int, decay_rate: float) -> float:
        return entry[0] * math.exp(-decay_rate * (bucket - entry[1])) if bucket > entry[1] else entry[0]

    def add_bucket(self, pairs: set[tuple[Any, str]], bucket: int, decay_rate: float) -> None:
        """Count bucket number ``bucket`` once for each (attribute, person) present in it,
        then age every count by one bucket, as ml-cpp adds a bucket's counts and then ages
        them all (counts not present are aged when read)."""
        alpha = math.exp(-decay_rate)
        self.last_bucket = bucket
        present: dict[Any, int] = {}
        for attribute, person in pairs:
            self.people.add(person)
            per = self.counts.setdefault(attribute, {})
            entry = per.get(person)
            before = self._aged(entry, bucket - 1, decay_rate) if entry is not None else 0.0
            per[person] = [(before + 1.0) * alpha, bucket]
            present[attribute] = present.get(attribute, 0) + 1
        for attribute, n in present.items():
            total = self.totals.get(attribute)
            before = self._aged(total, bucket - 1, decay_rate) if total is not None else 0.0
            self.totals[attribute] = [(before + n) * alpha, bucket]

    def weight(self, attribute: Any, person: str, bucket: int, decay_rate: float) -> float:
        """The weight of ``person``'s sample of ``attribute`` at ``bucket`` (module docstring)."""
        per = self.counts.get(attribute)
        entry = per.get(person) if per else None
        if entry is None:
            return 1.0
        own = self._aged(entry, bucket, decay_rate)
        if own <= 0.0:
            return 1.0
        total = self._aged(self.totals[attribute], bucket, decay_rate)
        distinct = min(len(per), len(self.people))
        return min(total / distinct / own, 1.0)

    def to_state(self) -> dict[str, Any]:
        return {
            "counts": [[a, per] for a, per in self.counts.items()],
            "totals": [[a, t] for a, t in self.totals.items()],
            "people": sorted(self.people),
            "last": self.last_bucket,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "SampleRateWeights":
        obj = cls()
        obj.counts = {a: {p: [float(e[0]), int(e[1])] for p, e in per.items()} for a, per in state["counts"]}
        obj.totals = {a: [float(t[0]), int(t[1])] for a, t in state["totals"]}
        obj.people = set(state["people"])
        obj.last_bucket = int(state["last"])
        return obj
