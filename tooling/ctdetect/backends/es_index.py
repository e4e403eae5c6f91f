"""The disposable replay index: its name, its mapping, and the requests that fill and drop it.

Every index the elasticsearch backend writes to is created by it, named
``ctdetect-replay-<random>``; ``OwnedIndices`` remembers them and every write goes through
``OwnedIndices.check``, so the backend cannot write into (or delete) an index it did not
create, even by a bug elsewhere. Creation uses ``PUT /<index>``, which fails if the
index already exists: an existing index is never adopted.

Mapping: each field present in the events gets its type from ctdetect's field catalogue
(the aws integration's and ECS's definitions), multi-fields included; sub-keys of a
``flattened`` field map the field itself as ``flattened``. Fields the catalogue does not
know fall to a dynamic template that maps strings as ``keyword``, as the integration's
``ecs@mappings`` does, so term queries behave as on real data.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Iterable

from ctdetect.elastic.requests_model import Request, seg

INDEX_PREFIX = "ctdetect-replay-"
# catalogue types Elasticsearch accepts as they are in a mapping
_PLAIN_TYPES = {
    "keyword", "constant_keyword", "wildcard", "text", "match_only_text", "ip", "date", "long", "integer",
    "short", "byte", "double", "float", "half_float", "boolean", "geo_point", "flattened", "unsigned_long",
}


class NotOwnedIndex(Exception):
    """A write aimed at an index this backend did not create."""


@dataclass(slots=True)
class OwnedIndices:
    names: set[str] = field(default_factory=set)

    def new_name(self) -> str:
        name = INDEX_PREFIX + secrets.token_hex(6)
        self.names.add(name)
        return name

    def check(self, name: str) -> str:
        if name not in self.names or not name.startswith(INDEX_PREFIX):
            raise NotOwnedIndex(f"refusing to write to index {name!r}: ctdetect did not create it in this run")
        return name


def _es_type(ftype: str) -> dict[str, Any] | None:
    if ftype in _PLAIN_TYPES:
        return {"type": ftype}
    if ftype == "scaled_float":
        return {"type": "scaled_float", "scaling_factor": 1000}
    return None  # object, nested, alias...: leave to dynamic mapping


def build_mapping(field_names: Iterable[str], catalogue: Any) -> dict[str, Any]:
    """An explicit mapping for ``field_names`` (flat dotted names), using ``catalogue``."""
    properties: dict[str, Any] = {}
    flattened: set[str] = set()
    for name in sorted(set(field_names)):
        if name.startswith("_"):
            continue
        info = catalogue.get(name) if catalogue is not None else None
        if info is None:
            continue
        if info.container:
            flattened.add(info.container)
            continue
        if info.parent:
            continue
        mapping = _es_type(info.type)
        if mapping is None:
            continue
        subs = {}
        for multi in catalogue.multi_fields(name):
            sub = _es_type(multi.type)
            if sub is not None:
                subs[multi.name[len(name) + 1 :]] = sub
        if subs:
            mapping["fields"] = subs
        properties[name] = mapping
    for container in flattened:
        properties[container] = {"type": "flattened"}
    # drop leaves that sit under a flattened container (the container holds them)
    for name in list(properties):
        if any(name.startswith(c + ".") for c in flattened):
            del properties[name]
    return {
        "dynamic": "true",
        "dynamic_templates": [{"strings_as_keyword": {"match_mapping_type": "string", "mapping": {"type": "keyword", "ignore_above": 1024}}}],
        "properties": _nest_properties(properties),
    }


def _nest_properties(flat: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``{"a.b": {...}}`` -> ``{"a": {"properties": {"b": {...}}}}``; a name that is both a
    leaf and a parent keeps the leaf (Elasticsearch cannot hold both)."""
    root: dict[str, Any] = {}
    for name in sorted(flat, key=lambda n: (n.count("."), n)):
        parts = name.split(".")
        node = root
        ok = True
        for part in parts[:-1]:
            entry = node.setdefault(part, {"properties": {}})
            if "properties" not in entry:
                ok = False
                break
            node = entry["properties"]
        if ok and parts[-1] not in node:
            node[parts[-1]] = flat[name]
    return root


def create_index_request(index: str, mapping: dict[str, Any]) -> Request:
    body = {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": mapping}
    return Request("PUT", f"/{seg(index)}", body)


def bulk_request(index: str, docs: list[tuple[str, dict[str, Any]]], pipeline: str | None = None) -> Request:
    """One ``_bulk`` of ``(id, nested document)`` pairs; the body is the NDJSON line list.
    ``pipeline``: the ingest pipeline every document goes through."""
    lines: list[dict[str, Any]] = []
    for doc_id, doc in docs:
        lines.append({"create": {"_id": doc_id}})
        lines.append(doc)
    query = f"?pipeline={seg(pipeline)}" if pipeline else ""
    return Request("POST", f"/{seg(index)}/_bulk{query}", lines)


def refresh_request(index: str) -> Request:
    return Request("POST", f"/{seg(index)}/_refresh")


def delete_index_request(index: str) -> Request:
    return Request("DELETE", f"/{seg(index)}")
