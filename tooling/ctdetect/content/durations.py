"""Durations as content files write them, in the units ``ctdetect.timeutil`` accepts
(the engine reads the same strings with the same functions, so validation and evaluation
agree on every rule and job).

``es_time_nanos`` / ``es_time_seconds``: Elasticsearch time values (``bucket_span``);
``rule_interval_seconds`` / ``rule_from_seconds``: a Kibana rule's ``interval`` and
``from``; each returns None for a malformed value (a check reports it).
"""

from __future__ import annotations

from typing import Any

from ctdetect.timeutil import TimeSpecError, es_time_nanos, es_time_seconds, rule_interval_ms, rule_lookback_ms

__all__ = ["es_time_nanos", "es_time_seconds", "rule_from_seconds", "rule_interval_seconds"]


def rule_interval_seconds(text: Any) -> int | None:
    """Seconds of a Kibana rule ``interval`` (``5m``), or None when malformed."""
    try:
        return rule_interval_ms(text) // 1000
    except TimeSpecError:
        return None


def rule_from_seconds(text: Any) -> int | None:
    """Look-back seconds of a Kibana rule ``from`` (``now-6m``), or None when malformed."""
    try:
        return rule_lookback_ms(text) // 1000
    except TimeSpecError:
        return None
