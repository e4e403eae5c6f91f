"""Elasticsearch time values (``15m``, ``1h``, ``90s``) and Kibana's rule schedule forms.

Elasticsearch accepts ``d h m s ms micros nanos`` units on a whole number; Kibana's rule
``interval`` accepts ``s m h d`` and ``from`` is date math (``now-6m``). Kept apart from
the loaders because validation checks and the anomaly engine both need them.
"""

from __future__ import annotations

import re

_ES_UNITS_NS = {
    "nanos": 1,
    "micros": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
}
_ES_TIME = re.compile(r"^(\d+)(nanos|micros|ms|s|m|h|d)$")
_RULE_INTERVAL = re.compile(r"^(\d+)([smhd])$")
_RULE_FROM = re.compile(r"^now-(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def es_time_nanos(text: str) -> int | None:
    """Nanoseconds of an Elasticsearch time value, or ``None`` when it is not one."""
    m = _ES_TIME.match(text.strip()) if isinstance(text, str) else None
    if not m:
        return None
    return int(m.group(1)) * _ES_UNITS_NS[m.group(2)]


def es_time_seconds(text: str) -> float | None:
    """Seconds of an Elasticsearch time value (may be fractional), or ``None``."""
    nanos = es_time_nanos(text)
    return None if nanos is None else nanos / 1_000_000_000


def rule_interval_seconds(text: str) -> int | None:
    """Seconds of a Kibana rule ``interval`` (``5m``), or ``None`` when malformed."""
    m = _RULE_INTERVAL.match(text) if isinstance(text, str) else None
    return int(m.group(1)) * _SECONDS[m.group(2)] if m else None


def rule_from_seconds(text: str) -> int | None:
    """Look-back seconds of a Kibana rule ``from`` (``now-6m``), or ``None`` when malformed."""
    m = _RULE_FROM.match(text) if isinstance(text, str) else None
    return int(m.group(1)) * _SECONDS[m.group(2)] if m else None
