"""A record text's ``volatile_cut`` recognised from a text of the same shape, without the finds.

Why: the projected mapper cuts each record's text as ``mapper.volatile_cut`` cuts it (the
per-event members out: time, source address, request id, event id) to look its static
part up in the cache. That cut was a third of mapping a record of a hunt (four
``bytes.find``s over the whole text, each proving a first occurrence, then a join of the
pieces and hashing the new 1.2 kB key), and nearly every record repeats the shape of one
cut before (same principal, call and parameters, other per-event values).

``KnownCuts.cut(text, head)`` gives exactly what ``volatile_cut(text, head)`` gives.
For a text whose shape was cut before it proves that answer instead of searching for it:

- the shape is looked up by a cheap key: the cut text's length and the text's first and
  last ``EDGE`` bytes; a wrong guess costs one failed check, never a wrong answer;
- the proof: the text is exactly the remembered cut text ``K`` with this record's four
  members (``"name":<its JSON string>``, as ``volatile_cut`` writes its needles) put back
  at the remembered places, in CloudTrail's order: one join of the pieces and one
  comparison, no search. Only shapes whose ``K`` holds none of the four ``"name":`` texts are
  remembered, so no earlier occurrence of a member can exist in the text: a member can
  only match a whole member of a JSON object (``volatile_cut``), the four put back are
  string members (nothing nests in them) and ``K`` names none of the four. The put-back
  members are therefore the first occurrences ``volatile_cut`` finds, in the order its
  written-out path takes, and it would return ``K`` and the same places;
- anything else (a shape not seen, a guess that does not check, a record without the four
  string members) is cut by ``volatile_cut`` itself, and its shape remembered when it is
  one the proof covers.
"""

from __future__ import annotations

from typing import Any

from ctdetect.ecs.cache import BoundedCache
from ctdetect.ecs.mapper import ADDRESS_NEEDLE, EVENT_NEEDLE, REQUEST_NEEDLE, TIME_NEEDLE, cut_in_order, member_needles, volatile_cut

EDGE = 96  # bytes of the text's start and end in the shape's look-up key
_NAMES = (TIME_NEEDLE, EVENT_NEEDLE, REQUEST_NEEDLE, ADDRESS_NEEDLE)  # the four ``"name":`` texts

Cut = tuple[bytes, tuple[int, ...]]
# a cut (the cut text, and the places of time, event id, request id, address) and the cut
# text's five pieces around those places
_Shape = tuple[Cut, tuple[bytes, bytes, bytes, bytes, bytes]]


class KnownCuts:
    """``cut(text, head)``: ``volatile_cut(text, head)``, proven from a remembered shape when
    the text has one (see the module docstring); at most ``limit`` shapes, emptied when full
    (``BoundedCache``)."""

    __slots__ = ("_shapes", "_get")

    def __init__(self, limit: int) -> None:
        self._shapes: BoundedCache[tuple[int, bytes, bytes], _Shape] = BoundedCache(limit)
        self._get = self._shapes.getter()

    def cut(self, text: bytes, head: dict[str, Any]) -> Cut | None:
        """What ``volatile_cut(text, head)`` returns (``head``: the record's top-level values)."""
        needles = member_needles(head)
        if needles is None:
            return volatile_cut(text, head)
        n0, n3, n2, n1 = needles
        size = len(text) - len(n0) - len(n3) - len(n2) - len(n1)
        key = (size, text[:EDGE], text[-EDGE:])
        shape = self._get(key)
        if shape is not None:
            k0, k1, k2, k3, k4 = shape[1]
            if text == b"".join((k0, n0, k1, n3, k2, n2, k3, n1, k4)):
                return shape[0]
        found = cut_in_order(text, needles, head)  # volatile_cut, its needles already made
        if found is not None:
            self._remember(key, size, found)
        return found

    def _remember(self, key: tuple[int, bytes, bytes], size: int, found: Cut) -> None:
        """Keep ``found``'s shape when the proof covers it: the four members present, in
        CloudTrail's order, and none of their ``"name":`` texts in the cut text."""
        static, places = found
        p0, p1, p2, p3 = places
        if len(static) != size or not 0 <= p0 <= p3 <= p2 <= p1:
            return
        for name in _NAMES:
            if name in static:
                return
        self._shapes.put(key, (found, (static[:p0], static[p0:p3], static[p3:p2], static[p2:p1], static[p1:])))
