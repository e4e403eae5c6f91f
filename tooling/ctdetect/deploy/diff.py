"""Is what the cluster holds the same as what the package says? (desired-subset equality,
``elastic.confirm.contains``, shared with the client's check of an uncertain write)

Elasticsearch and Kibana answer with the object as stored: everything sent plus defaults
and bookkeeping (``create_time``, ``job_version``, ``revision``, ``updated_at``...). An
object is unchanged when every value the package sets is there, equal; values the package
does not set are the cluster's business. Dicts compare key by key, lists item by item
(same length), scalars by equality, with ints and floats equal when numerically equal.
"""

from __future__ import annotations

from typing import Any

from ctdetect.elastic.confirm import contains


def changed_keys(current: dict[str, Any], desired: dict[str, Any]) -> set[str]:
    """Top-level keys of ``desired`` whose value ``current`` does not hold."""
    return {k for k, v in desired.items() if k not in current or not contains(current[k], v)}


def same_query(current: Any, desired: Any) -> bool:
    """True when two ES queries mean the same: Elasticsearch may hand a stored query back
    in its long form (``{"term": {"f": {"value": "v", "boost": 1.0}}}``); both are parsed
    with ctdetect's DSL parser and their ASTs compared. Unparseable: plain equality."""
    if current == desired:
        return True
    from ctdetect.query import QueryParseError, parse_query

    try:
        return bool(parse_query(current, "dsl") == parse_query(desired, "dsl"))
    except (QueryParseError, TypeError, ValueError):
        return False


def _short(value: Any, limit: int = 60) -> str:
    import json

    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_changes(current: dict[str, Any], desired: dict[str, Any], keys: set[str]) -> str:
    """Field-level differences for a plan line: ``name: 'old' -> 'new'; tags: [...] -> [...]``."""
    parts = []
    for key in sorted(keys):
        before = _short(current[key]) if key in current else "(unset)"
        parts.append(f"{key}: {before} -> {_short(desired.get(key))}")
    return "; ".join(parts)
