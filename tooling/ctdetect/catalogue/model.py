"""Typed view of the field catalogue: :class:`FieldInfo` and :class:`FieldCatalogue`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Mapping

# Elasticsearch field types, grouped the way query semantics care about them.
KEYWORD_TYPES = frozenset({"keyword", "constant_keyword", "wildcard"})
TEXT_TYPES = frozenset({"text", "match_only_text"})
NUMERIC_TYPES = frozenset(
    {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
)

# Sub-keys of these container fields are not catalogued one by one but still searchable:
# a ``flattened`` field indexes every leaf as a keyword; ECS ``labels`` holds keywords.
_KEYWORD_CHILDREN_OBJECTS = frozenset({"labels"})

_SOURCE_LABELS = {
    "ecs": "ECS",
    "aws-cloudtrail": "aws integration (cloudtrail data stream)",
    "auditd": "auditd_manager integration",
    "endpoint": "Elastic Defend (network events)",
}


#: the data stream each non-ECS source of the catalogue describes (a sample name of it)
SOURCE_STREAMS = {
    "aws-cloudtrail": "logs-aws.cloudtrail-default",
    "auditd": "logs-auditd_manager.auditd-default",
    "endpoint": "logs-endpoint.events.network-default",
}
#: sample names of data streams the catalogue does not describe: an index pattern that also
#: matches one of them (``logs-*``, ``logs-endpoint.events.*``) reaches beyond the catalogue
_UNCOVERED_PROBES = ("logs-aws.guardduty-default", "logs-endpoint.events.process-default", "logs-unknown.other-default")


class CatalogueError(Exception):
    """The catalogue data file is missing or malformed (the message names the file)."""


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field: its dotted name, Elasticsearch type and defining source.

    ``parent`` is set for a multi-field (``user_agent.original.text`` has parent
    ``user_agent.original``): the same source value indexed a second way. ``container`` is
    set for a sub-key of a ``flattened`` field (or of ECS ``labels``) that the catalogue
    does not list by itself; such a sub-key is searched like a ``keyword``.
    """

    name: str
    type: str
    source: str
    description: str = ""
    parent: str | None = None
    container: str | None = None

    @property
    def is_text(self) -> bool:
        """Analysed full-text field (``text`` or ``match_only_text``)."""
        return self.type in TEXT_TYPES

    @property
    def is_keyword(self) -> bool:
        """Exact-value string field (``keyword``, ``constant_keyword``, ``wildcard``)."""
        return self.type in KEYWORD_TYPES

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def is_multi_field(self) -> bool:
        return self.parent is not None


def _describe(name: str, ftype: str, source: str, parent: str | None, container: str | None) -> str:
    """A short description built from the facts we hold (no upstream prose is shipped)."""
    origin = _SOURCE_LABELS.get(source, source)
    if container:
        return f"Sub-key of the {origin} flattened/object field {container}; searched as keyword."
    if parent:
        return f"Multi-field of {parent} ({origin}): the same value indexed as {ftype}."
    group = name.split(".")[0] if "." in name else name
    return f"{origin} field ({group}), type {ftype}."


@lru_cache(maxsize=512)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Kibana field-name wildcard: ``*`` matches any run of characters, dots included."""
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


class FieldCatalogue:
    """Read-only lookup over the catalogue's fields.

    ``fields`` maps a dotted name to ``(type, source, parent)``. ``FieldInfo`` objects are
    built on demand: the evaluator mostly needs :meth:`field_types` and :meth:`type_of`.
    """

    def __init__(
        self,
        fields: Mapping[str, tuple[str, str, str | None]],
        *,
        ecs_version: str = "",
        sources: Mapping[str, str] | None = None,
        origin: str = "<memory>",
        declared: Mapping[str, tuple[str, str]] | None = None,
        schema_origin: str = "<memory>",
    ) -> None:
        self._fields = dict(fields)
        self.ecs_version = ecs_version
        self.sources = dict(sources or {})
        self.origin = origin
        self._flattened = {name for name, (ftype, _src, _parent) in self._fields.items() if ftype == "flattened"}
        self._containers = self._flattened | {name for name in _KEYWORD_CHILDREN_OBJECTS if name in self._fields}
        # non-ECS schema: {field: (declared type, index pattern)}
        self.declared: dict[str, tuple[str, str]] = dict(declared or {})
        self.schema_origin = schema_origin

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[FieldInfo]:
        for name in self._fields:
            info = self.get(name)
            assert info is not None
            yield info

    def names(self) -> list[str]:
        """Every catalogued field name (multi-fields included), sorted."""
        return sorted(self._fields)

    def get(self, name: str) -> FieldInfo | None:
        """The field called ``name``, or ``None`` if no data source carries it.

        A sub-key of a ``flattened`` field (``aws.cloudtrail.flattened.request_parameters.
        userName``) resolves to a ``keyword`` entry whose ``container`` is that field.
        """
        entry = self._fields.get(name)
        if entry is not None:
            ftype, source, parent = entry
            return FieldInfo(name, ftype, source, _describe(name, ftype, source, parent, None), parent)
        container = self._container_of(name)
        if container is None:
            return None
        source = self._fields[container][1]
        return FieldInfo(name, "keyword", source, _describe(name, "keyword", source, None, container), None, container)

    def type_of(self, name: str) -> str | None:
        """Elasticsearch type of ``name`` (``None`` when unknown)."""
        entry = self._fields.get(name)
        if entry is not None:
            return entry[0]
        return "keyword" if self._container_of(name) is not None else None

    def field_types(self) -> dict[str, str]:
        """``{name: type}`` for every catalogued field (a fresh dict the caller may keep).

        Declared sub-keys of flattened fields are included as ``keyword`` whatever type
        the non-ECS schema gives them: Elasticsearch indexes every leaf of a flattened
        field as a keyword, so that is how a query on one behaves.
        """
        types = {name: entry[0] for name, entry in self._fields.items()}
        for name in self.declared:
            if name not in types and self.flattened_container(name) is not None:
                types[name] = "keyword"
        return types

    def covers_index(self, pattern: str) -> bool:
        """Whether ``pattern`` searches only data streams whose fields the catalogue lists.

        ``logs-aws.cloudtrail-*`` is covered; ``logs-okta*``, ``logs-endpoint.events.process-*``
        and catch-alls such as ``logs-*`` or ``filebeat-*`` are not (they reach data the
        catalogue does not describe, so an unknown field there is not evidence of a typo).
        """
        pattern = pattern.strip()
        if not pattern or pattern.startswith("-"):
            return False
        regex = _pattern_regex(pattern)
        streams = [SOURCE_STREAMS[source] for source in self.sources if source in SOURCE_STREAMS]
        return any(regex.match(s) for s in streams) and not any(regex.match(p) for p in _UNCOVERED_PROBES)

    def flattened_container(self, name: str) -> str | None:
        """The ``flattened`` field ``name`` is a sub-key of, unless the catalogue lists ``name`` itself."""
        if name in self._fields:
            return None
        container = self._container_of(name)
        return container if container in self._flattened else None

    def undeclared_subkey(self, name: str) -> str | None:
        """The flattened container of ``name`` when ``name`` is a sub-key no schema declares.

        Elastic's tooling rejects a rule that reads such a key (it checks every field
        against ECS, the integrations' fields and its non-ECS schema); ``None`` otherwise.
        A name with ``*`` is a pattern, not a key, and is never undeclared.
        """
        if "*" in name or name in self.declared:
            return None
        return self.flattened_container(name)

    def matching(self, pattern: str) -> list[FieldInfo]:
        """Fields whose name matches a field-name wildcard such as ``aws.cloudtrail.*``.

        Without ``*`` this is an exact lookup (a list of zero or one field).
        """
        if "*" not in pattern:
            info = self.get(pattern)
            return [info] if info is not None else []
        regex = _pattern_regex(pattern)
        out = []
        for name in sorted(self._fields):
            if regex.match(name):
                info = self.get(name)
                assert info is not None
                out.append(info)
        return out

    def multi_fields(self, name: str) -> list[FieldInfo]:
        """The multi-fields of ``name`` (e.g. ``[user_agent.original.text]``)."""
        prefix = name + "."
        return [
            info
            for sub in sorted(self._fields)
            if sub.startswith(prefix) and self._fields[sub][2] == name
            for info in [self.get(sub)]
            if info is not None
        ]

    def _container_of(self, name: str) -> str | None:
        """The flattened (or keyword-holding object) field that ``name`` sits under."""
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in self._containers:
                return prefix
        return None
