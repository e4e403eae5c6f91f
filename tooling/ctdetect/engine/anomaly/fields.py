"""Reading times and field values from flat ECS events, the way a datafeed hands them to ML.

Events are flat dicts keyed by dotted names (``docs/ARCHITECTURE.md``); a nested dict is
also walked so documents straight from Elasticsearch work. A field's values are turned
into strings (ML analyses by/over/partition/influencer values as strings); a list
yields each of its values. Missing, ``None`` and empty-string values are "no value":
the record is skipped for that detector unless ``use_null`` is set (ML-SEMANTICS §1).
"""

from __future__ import annotations

from typing import Any

from ctdetect.timeutil import parse_iso_ms


def raw_value(event: dict[str, Any], name: str) -> Any:
    """The value of a dotted field, flat key first, then a nested walk."""
    if name in event:
        return event[name]
    if "." not in name:
        return None
    node: Any = event
    parts = name.split(".")
    i = 0
    while i < len(parts):
        if not isinstance(node, dict):
            return None
        # try the longest dotted key first so {"a": {"b.c": 1}} works
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if key in node:
                node = node[key]
                i = j
                break
        else:
            return None
    return node


def _to_str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v if v != "" else None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return None
    return str(v)


def values(event: dict[str, Any], name: str) -> list[str]:
    """The string values of a field (empty list when it has none)."""
    v = event.get(name)
    if type(v) is str:  # the common case, kept cheap: this runs per event per field
        return [v] if v else []
    if v is None:
        v = raw_value(event, name)
    if isinstance(v, list):
        out = []
        for item in v:
            s = _to_str(item)
            if s is not None and s not in out:
                out.append(s)
        return out
    s = _to_str(v)
    return [] if s is None else [s]


def value_tuple(event: dict[str, Any], name: str) -> tuple[str, ...]:
    """``values`` as a tuple, with the one-string case kept to a dict lookup (hot path)."""
    v = event.get(name)
    if type(v) is str:
        return (v,) if v else ()
    return tuple(values(event, name))


def number(event: dict[str, Any], name: str) -> float | None:
    """A numeric field value (``summary_count_field_name``), or ``None``."""
    v = raw_value(event, name)
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, bool) or v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def event_time_ms(event: dict[str, Any], time_field: str = "@timestamp", time_format: str | None = None) -> int | None:
    """The event's time in epoch ms: ``_ts`` when present, else the job's time field.

    The time field may be ISO-8601 text, or epoch seconds / milliseconds as the job's
    ``data_description.time_format`` says (``epoch`` / ``epoch_ms``); a bare number
    without a format is taken as epoch ms, as Elasticsearch's ``date`` type does.
    """
    ts = event.get("_ts")
    if isinstance(ts, int) and not isinstance(ts, bool):
        return ts
    v = raw_value(event, time_field)
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return int(v * 1000) if time_format == "epoch" else int(v)
    if isinstance(v, str):
        s = v.strip()
        if s.lstrip("-").isdigit():
            n = int(s)
            return n * 1000 if time_format == "epoch" else n
        return parse_iso_ms(s)
    return None
