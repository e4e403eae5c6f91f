"""Flat (dotted) <-> nested ECS documents.

Events inside ctdetect are flat dicts keyed by dotted ECS names (docs/ARCHITECTURE.md).
``flatten`` follows how Elasticsearch indexes an object: sub-objects become dotted
names, and an array of objects is merged into per-leaf arrays (``items: [{group: all}]``
becomes ``items.group: ["all"]``), which is what a query on that path sees. ``nest`` is
the inverse for output and indexing; it cannot split merged arrays back into objects.

A ``geo_point`` object (exactly ``lat`` and ``lon``, e.g. ``source.geo.location``) is one
field in Elasticsearch, so it stays a ``{"lat": ..., "lon": ...}`` value, as
``ctdetect.geoip`` returns it.
"""

from __future__ import annotations

from typing import Any


def flatten(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten a nested document into dotted keys (keys already dotted are kept)."""
    out: dict[str, Any] = {}
    _flatten_into(out, nested, prefix)
    return out


def _flatten_into(out: dict[str, Any], obj: dict[str, Any], prefix: str) -> None:
    for key, value in obj.items():
        name = prefix + key
        if isinstance(value, dict):
            if len(value) == 2 and "lat" in value and "lon" in value:
                out[name] = value  # geo_point
            else:
                _flatten_into(out, value, name + ".")
        elif isinstance(value, list):
            _flatten_list(out, value, name)
        else:
            out[name] = value


def _flatten_list(out: dict[str, Any], values: list[Any], name: str) -> None:
    if not any(isinstance(v, (dict, list)) for v in values):
        _merge(out, name, list(values))
        return
    scalars: list[Any] = []
    for value in values:
        if isinstance(value, dict):
            sub: dict[str, Any] = {}
            _flatten_into(sub, value, "")
            for key, leaf in sub.items():
                _merge(out, f"{name}.{key}", leaf if isinstance(leaf, list) else [leaf])
        elif isinstance(value, list):
            _flatten_list(out, value, name)
        else:
            scalars.append(value)
    if scalars:
        _merge(out, name, scalars)


def _merge(out: dict[str, Any], name: str, values: list[Any]) -> None:
    existing = out.get(name)
    if existing is None:
        out[name] = values
    elif isinstance(existing, list):
        existing.extend(values)
    else:
        out[name] = [existing, *values]


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Nest dotted keys into objects. A key that is both a leaf and a parent keeps the
    leaf under its dotted name at the level where the clash happens."""
    out: dict[str, Any] = {}
    for key in sorted(flat, key=lambda k: k.count(".")):
        value = flat[key]
        parts = key.split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                node[".".join(parts[i:])] = value
                break
            node = child
        else:
            node[parts[-1]] = value
    return out
