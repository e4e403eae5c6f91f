"""The mapper's one bounded cache.

Real trails repeat themselves: the same principal, user agent, request parameters and
whole calls come back thousands of times, so the mapper keeps what it computed for a
value keyed by that value. ``BoundedCache`` holds at most ``limit`` entries and is
emptied when full: cheaper per hit than LRU bookkeeping, and since the repeated values
are the frequent ones, they are back in the cache right after a clear. Memory stays flat
whatever the input length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """``get_or_make(key, make)``: the cached value, or ``make()`` stored under ``key``."""

    __slots__ = ("limit", "_items")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def getter(self) -> Callable[[K], V | None]:
        """``get`` without a method call of its own, for a look-up made for every event: the
        dict's bound ``get``, valid for the cache's life (``put`` clears it, never replaces it)."""
        return self._items.get

    def put(self, key: K, value: V) -> V:
        items = self._items
        if len(items) >= self.limit:
            items.clear()
        items[key] = value
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        value = self._items.get(key)
        if value is None:
            value = self.put(key, make())
        return value


def compact(blob: bytes) -> bytes:
    """A copy of ``orjson.dumps``'s output that holds only its own length.

    Why: the bytes ``orjson.dumps`` returns keep the whole block it wrote into (about 4 kB
    whatever the length; ``tracemalloc``: 4,097 bytes each for a 40-byte text), so such bytes
    kept for long (a cache's keys, an event's raw record) must be copied, or each holds 4 kB."""
    return memoryview(blob).tobytes()


def json_key(value: Any) -> bytes | None:
    """A cache key for a JSON value (its serialisation); None when it cannot be one.

    For a look-up: a key that is kept (``put``) should be ``compact``'s copy."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return None
