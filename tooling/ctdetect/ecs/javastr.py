"""Render JSON values the way Java's ``Object.toString()`` does inside Elasticsearch.

Why: Elastic's CloudTrail pipeline stores ``requestParameters``, ``responseElements``,
``additionalEventData`` and ``serviceEventDetails`` as a *string* made by a Painless
``toString()`` of the parsed JSON. Detection rules match on that string (for example
``aws.cloudtrail.request_parameters: *createVolumePermission*``), so we must produce the
same text: ``{key=value, key2=[a, b]}``.

The ingest ``json`` processor parses objects into ``java.util.HashMap``, whose iteration
order is neither insertion nor sorted order. It is the order of the hash table's buckets:
bucket = ``spread(String.hashCode(key)) & (capacity - 1)``; keys in one bucket keep
insertion order (a resize splits a bucket while preserving relative order). The capacity
starts at 16 and doubles whenever the size exceeds 3/4 of it. We reproduce that order
exactly, which the golden pairs confirm (e.g. ``{snapshotId=…, attributeType=…,
createVolumePermission=…}``). Tree bins (8+ colliding keys in one bucket) are not emulated.

A table never shrinks: the pipeline drops empty values *after* parsing, so a map keeps
the capacity of the key count it was parsed with. ``java_str_parsed`` renders a raw value
as it reads after that drop, ordering each object by the capacity of its parsed key
count (``hashmap_order``'s ``size``; seen on ``RunInstances`` with an empty ``blockDeviceMapping`` and SSM ``SendCommand``
responses, where the surviving keys land in the buckets of the larger table).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

_HASH_CACHE: dict[str, int] = {}


def java_string_hash(text: str) -> int:
    """``String.hashCode()`` over UTF-16 code units, as a signed 32-bit int, then spread."""
    cached = _HASH_CACHE.get(text)
    if cached is not None:
        return cached
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    spread = h ^ (h >> 16)
    if len(_HASH_CACHE) > 200_000:
        _HASH_CACHE.clear()
    _HASH_CACHE[text] = spread
    return spread


def _capacity(size: int) -> int:
    cap = 16
    while size > cap * 3 // 4:
        cap *= 2
    return cap


def hashmap_order(keys: list[str], size: int | None = None) -> list[str]:
    """Keys of a ``HashMap`` filled in ``keys`` order, in the map's iteration order.

    ``size``: the most keys the map ever held (default ``len(keys)``), which fixed its capacity."""
    if len(keys) < 2:
        return keys
    mask = _capacity(max(len(keys), size or 0)) - 1
    return sorted(keys, key=lambda k: java_string_hash(k) & mask)  # sorted() is stable


def java_double(value: float) -> str:
    """``Double.toString``: plain notation in [1e-3, 1e7), else ``d.dddE±n`` (shortest digits)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    exp = exponent + len(digits) - 1  # type: ignore[operator]
    mantissa = text[0] + "." + (text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{exp}"


def java_str(value: Any) -> str:
    """``toString()`` of a parsed JSON value (HashMap, ArrayList, String, Boolean, number)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [f"{k}={java_str(value[k])}" for k in hashmap_order(list(value))]
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return java_double(value)
    return str(value)


def java_str_parsed(value: Any) -> str | None:
    """``toString()`` of a raw JSON value after the pipeline's drop-empties script
    (null, "" and containers left empty removed at any depth), each object's keys in the
    order of a table sized for the keys it was *parsed* with. None: the value is dropped."""
    if isinstance(value, dict):
        kept: dict[str, str] = {}
        for key, item in value.items():
            if item is None or item == "":
                continue
            text = java_str_parsed(item)
            if text is not None:
                kept[key] = text
        if not kept:
            return None
        return "{" + ", ".join(f"{k}={kept[k]}" for k in hashmap_order(list(kept), len(value))) + "}"
    if isinstance(value, list):
        items = [text for text in (java_str_parsed(v) for v in value if not (v is None or v == "")) if text is not None]
        return "[" + ", ".join(items) + "]" if items else None
    if value is None or value == "":
        return None
    return java_str(value)
