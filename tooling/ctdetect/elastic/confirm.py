"""Was an uncertain write applied? Re-read the object and see.

A write whose answer was lost (a timeout after sending, a dropped connection, a 500, 502
or 504 from a proxy) may or may not have been applied. Sending it again blindly turns a
success into a failure ("already exists") or repeats a side effect. So each write that is
not safe to repeat carries a ``Confirm``: a read that tells whether the cluster already
holds the result. The client reads it after an uncertain outcome: applied -> success;
not applied -> the write is sent again, now known to be safe.

``contains`` is the comparison both this check and the planner use: Elasticsearch and
Kibana hand an object back as stored (what was sent plus defaults and bookkeeping), so
"holds" means every value sent is there, equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def contains(current: Any, desired: Any) -> bool:
    """True when ``current`` holds every value of ``desired``. Dicts compare key by key,
    lists item by item (same length), ints and floats numerically, bools strictly."""
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return False
        return all(k in current and contains(current[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(current, list) or len(current) != len(desired):
            return False
        return all(contains(c, d) for c, d in zip(current, desired))
    if isinstance(desired, bool) or isinstance(current, bool):
        return type(current) is type(desired) and current == desired
    if isinstance(desired, (int, float)) and isinstance(current, (int, float)):
        return float(current) == float(desired)
    return bool(current == desired)


@dataclass(frozen=True, slots=True)
class Confirm:
    """``GET path``: the write was applied when the answer is 404 (``absent``) or a 2xx
    whose body holds ``expect`` (``None``: any 2xx)."""

    path: str
    expect: Any = None
    absent: bool = False

    def applied(self, status: int, body: Any) -> bool:
        if self.absent:
            return status == 404
        return 200 <= status < 300 and (self.expect is None or contains(body, self.expect))
