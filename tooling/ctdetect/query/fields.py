"""Field access: what kind of value a field holds and how to read it from a flat document.

Every evaluator of the query layer (the predicate compiler, EQL scripts, the exact-value
analysis, the DSL translator) asks the same two questions about a field, and this module
is the one place that answers them with Elasticsearch's mapping rules:

- ``field_kind(field, field_types)``: the semantic kind (keyword, caseless, text, number,
  date, ip, boolean, object, flattened_root). Unknown fields are keyword; an unknown
  ``x.text`` is text and ``x.caseless`` a lower-cased keyword (ECS multi-fields).
- ``FieldAccess(field_types, ignore_above).getter(field)``: how the value is read, or None
  when it is simply ``doc[field]``. A multi-field reads its parent, a flattened or object
  field gathers its sub-keys, ``@timestamp`` prefers the reader's epoch-millis ``_ts``, and
  a keyword longer than the mapping's ``ignore_above`` is not indexed, so no query sees it.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ctdetect.query.values import DATE_TYPES, MULTI_FIELD_SUFFIXES, NUMERIC_TYPES, OBJECT_TYPES, TEXT_TYPES

Doc = Mapping[str, Any]
Getter = Callable[[Doc], Any]

__all__ = ["Doc", "FieldAccess", "Getter", "field_kind", "is_plain", "present"]

#: type of an unknown ``<parent>.<suffix>`` multi-field, by suffix
_MULTI_FIELD_TYPES = {"text": "text", "keyword": "keyword", "caseless": "caseless", "wildcard": "keyword"}


def field_kind(field: str, field_types: Mapping[str, str]) -> str:
    """The semantic kind of ``field``: keyword, caseless, text, number, date, ip, boolean, object, flattened_root.

    Unknown fields are keyword; an unknown ``x.text`` is text and ``x.caseless`` a
    lower-cased keyword (ECS multi-fields); a field under a flattened field is keyword.
    """
    ftype = field_types.get(field)
    if ftype is None:
        parent, _, suffix = field.rpartition(".")
        ftype = _MULTI_FIELD_TYPES[suffix] if parent and suffix in MULTI_FIELD_SUFFIXES else "keyword"
    if ftype in TEXT_TYPES:
        return "text"
    if ftype in NUMERIC_TYPES:
        return "number"
    if ftype in DATE_TYPES:
        return "date"
    if ftype in ("ip", "boolean", "caseless"):
        return ftype
    if ftype == "flattened":
        return "flattened_root"
    if ftype in OBJECT_TYPES:
        return "object"
    return "keyword"


def is_plain(field: str, kind: str) -> bool:
    """True when the field's value is simply ``doc[field]`` (no multi-field or object gathering)."""
    return kind not in ("flattened_root", "object") and field.rpartition(".")[2] not in MULTI_FIELD_SUFFIXES


def present(value: Any) -> bool:
    """Whether a read value counts as existing (``exists``): not None, not a list of only None."""
    if value is None:
        return False
    if value.__class__ is list:
        return any(v is not None for v in value)
    return True


def _structural_getter(field: str, kind: str) -> Getter:
    """How to read ``field`` by its mapping alone (sub-keys of objects, multi-field parents)."""
    if kind in ("flattened_root", "object"):
        prefix = field + "."

        def get_tree(doc: Doc) -> Any:
            own = doc.get(field)
            out = [] if own is None else (list(own) if isinstance(own, list) else [own])
            for key, value in doc.items():
                if key.startswith(prefix) and value is not None:
                    out.extend(value if isinstance(value, list) else (value,))
            return out or None

        return get_tree
    parent, _, suffix = field.rpartition(".")
    if parent and suffix in MULTI_FIELD_SUFFIXES:

        def get_multi(doc: Doc) -> Any:
            value = doc.get(field)
            return doc.get(parent) if value is None else value

        return get_multi
    return lambda doc: doc.get(field)


class FieldAccess:
    """Kinds and readers of fields under one mapping (field types plus ``ignore_above`` limits).

    Kinds are cached per field: a compiled query asks for the same few fields many times.
    """

    def __init__(self, field_types: Mapping[str, str], ignore_above: Mapping[str, int] | None = None) -> None:
        self.field_types = field_types
        self.ignore_above = ignore_above or {}
        self._kinds: dict[str, str] = {}

    def kind(self, field: str) -> str:
        """``field_kind`` of ``field``, cached."""
        kind = self._kinds.get(field)
        if kind is None:
            kind = self._kinds[field] = field_kind(field, self.field_types)
        return kind

    def getter(self, field: str) -> Getter | None:
        """How to read ``field``; None when it is a plain ``doc.get(field)``.

        ``@timestamp`` prefers the reader's epoch-millis ``_ts`` (no per-event date
        parsing). A keyword value longer than the field's ``ignore_above`` is not indexed
        by Elasticsearch, so no query sees it: it is dropped here.
        """
        kind = self.kind(field)
        limit = self.ignore_above.get(field) if kind in ("keyword", "caseless") else None
        if field == "@timestamp" and kind == "date":
            return lambda doc: doc.get("_ts") if doc.get("_ts") is not None else doc.get("@timestamp")
        if limit is None:
            return None if is_plain(field, kind) else _structural_getter(field, kind)
        base = _structural_getter(field, kind)

        def indexed(doc: Doc) -> Any:
            value = base(doc)
            if value.__class__ is str:
                return None if len(value) > limit else value
            if value.__class__ is list:
                kept = [v for v in value if not (v.__class__ is str and len(v) > limit)]
                return kept or None
            return value

        return indexed
