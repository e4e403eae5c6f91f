"""Translate AST into Elasticsearch query DSL (for deploy, hunting queries and the ES backend).

``to_es_dsl(node, field_types)`` returns the body of ``"query"``. The output keeps the
meaning the evaluator gives the AST, so that running it in Elasticsearch selects the same
documents as ``predicate.compile_query`` does in-process (tests round-trip parse -> to_es_dsl ->
parse_dsl -> evaluate and compare).

Choices and why:

- ``Match`` becomes ``term`` on keyword-like, numeric, date, ip and boolean fields (the
  same documents as ``match`` there, and clearer), ``match`` on text fields;
- a leaf without a field (free text) becomes ``multi_match`` (``lenient``) or, for
  wildcards and regular expressions, ``query_string`` over every field; a ``*`` in a field
  name likewise goes through ``multi_match``/``query_string`` ``fields``, which expand it;
- ``Terms`` with ``case_insensitive`` becomes a ``should`` of case-insensitive ``term``s,
  as ``terms`` has no such flag;
- EQL event queries add a ``term`` on the category field; EQL functions Elasticsearch
  folds into queries (``stringContains``, ``endsWith`` -> ``wildcard``, ``startsWith`` ->
  ``prefix``, ``cidrMatch`` -> ``terms``) are translated the same way. Expressions that
  Elasticsearch runs as scripts (comparisons between fields, arithmetic, other functions)
  and sequences have no query DSL form: ``TranslationError`` names them.
"""

from __future__ import annotations

from typing import Any, Mapping

from ctdetect.query import ast
from ctdetect.query.eql_runtime import fold_function
from ctdetect.query.fields import field_kind


class TranslationError(ValueError):
    """The AST has no Elasticsearch query DSL equivalent (sequences, EQL scripts)."""


_QS_SPECIAL = set('+-=&|><!(){}[]^"~:\\/ ')


def _qs_escape(text: str, keep_wildcards: bool) -> str:
    """Escape ``text`` for query_string; with ``keep_wildcards`` a Lucene wildcard pattern keeps ``* ?``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if keep_wildcards and ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\\" + nxt)
            i += 2
            continue
        if keep_wildcards and ch in "*?":
            out.append(ch)
        elif ch in _QS_SPECIAL or ch in "*?":
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


class _Translator:
    def __init__(self, field_types: Mapping[str, str], category_field: str) -> None:
        self.types = field_types
        self.category_field = category_field

    def run(self, node: ast.Node) -> dict[str, Any]:
        method = getattr(self, "t_" + type(node).__name__, None)
        if method is None:
            raise TranslationError(f"{type(node).__name__} has no query DSL form")
        return method(node)

    # ----------------------------------------------------------------- boolean

    def t_MatchAll(self, node: ast.MatchAll) -> dict[str, Any]:
        return {"match_all": {}}

    def t_MatchNone(self, node: ast.MatchNone) -> dict[str, Any]:
        return {"match_none": {}}

    def t_And(self, node: ast.And) -> dict[str, Any]:
        if not node.items:
            return {"match_all": {}}
        filters = [self.run(i) for i in node.items if not isinstance(i, ast.Not)]
        must_not = [self.run(i.item) for i in node.items if isinstance(i, ast.Not)]
        body: dict[str, Any] = {}
        if filters:
            body["filter"] = filters
        if must_not:
            body["must_not"] = must_not
        return {"bool": body}

    def t_Or(self, node: ast.Or) -> dict[str, Any]:
        if not node.items:
            return {"match_none": {}}
        return {"bool": {"should": [self.run(i) for i in node.items], "minimum_should_match": 1}}

    def t_AtLeast(self, node: ast.AtLeast) -> dict[str, Any]:
        return {"bool": {"should": [self.run(i) for i in node.items], "minimum_should_match": node.minimum}}

    def t_Not(self, node: ast.Not) -> dict[str, Any]:
        return {"bool": {"must_not": [self.run(node.item)]}}

    # ----------------------------------------------------------------- leaves

    def _free(self, field: str | None) -> bool:
        return field is None or "*" in field

    def _fields(self, field: str | None) -> dict[str, Any]:
        return {} if field is None else {"fields": [field]}

    def t_Match(self, node: ast.Match) -> dict[str, Any]:
        if self._free(node.field):
            return {"multi_match": {"query": node.value, "type": "best_fields", "lenient": True, "operator": node.operator, **self._fields(node.field)}}
        assert node.field is not None
        if field_kind(node.field, self.types) == "text":
            if node.operator == "or":
                return {"match": {node.field: node.value}}
            return {"match": {node.field: {"query": node.value, "operator": node.operator}}}
        return {"term": {node.field: node.value}}

    def t_Phrase(self, node: ast.Phrase) -> dict[str, Any]:
        if self._free(node.field):
            return {"multi_match": {"query": node.text, "type": "phrase", "lenient": True, **self._fields(node.field)}}
        assert node.field is not None
        return {"match_phrase": {node.field: node.text}}

    def t_Term(self, node: ast.Term) -> dict[str, Any]:
        if node.case_insensitive:
            return {"term": {node.field: {"value": node.value, "case_insensitive": True}}}
        return {"term": {node.field: node.value}}

    def t_Terms(self, node: ast.Terms) -> dict[str, Any]:
        if node.case_insensitive:
            return {"bool": {"should": [{"term": {node.field: {"value": v, "case_insensitive": True}}} for v in node.values], "minimum_should_match": 1}}
        return {"terms": {node.field: list(node.values)}}

    def _query_string(self, query: str, field: str | None) -> dict[str, Any]:
        return {"query_string": {"query": query, **self._fields(field)}}

    def t_Wildcard(self, node: ast.Wildcard) -> dict[str, Any]:
        if self._free(node.field):
            if node.case_insensitive:
                raise TranslationError("a case-insensitive wildcard needs a concrete field")
            return self._query_string(_qs_escape(node.pattern, keep_wildcards=True), node.field)
        body: dict[str, Any] = {"value": node.pattern}
        if node.case_insensitive:
            body["case_insensitive"] = True
        return {"wildcard": {node.field: body}}

    def t_Prefix(self, node: ast.Prefix) -> dict[str, Any]:
        if node.case_insensitive:
            return {"prefix": {node.field: {"value": node.prefix, "case_insensitive": True}}}
        return {"prefix": {node.field: node.prefix}}

    def t_Regexp(self, node: ast.Regexp) -> dict[str, Any]:
        if self._free(node.field):
            if node.case_insensitive:
                raise TranslationError("a case-insensitive regular expression needs a concrete field")
            return self._query_string("/" + node.pattern.replace("/", "\\/") + "/", node.field)
        body: dict[str, Any] = {"value": node.pattern}
        if node.case_insensitive:
            body["case_insensitive"] = True
        return {"regexp": {node.field: body}}

    def t_Range(self, node: ast.Range) -> dict[str, Any]:
        bounds = {k: getattr(node, k) for k in ("gt", "gte", "lt", "lte") if getattr(node, k) is not None}
        return {"range": {node.field: bounds}}

    def t_Exists(self, node: ast.Exists) -> dict[str, Any]:
        return {"exists": {"field": node.field}}

    # ----------------------------------------------------------------- EQL

    def t_EventQuery(self, node: ast.EventQuery) -> dict[str, Any]:
        if node.category == "any":
            return self.run(node.condition)
        return self.t_And(ast.And((ast.Term(self.category_field, node.category), node.condition)))

    def t_Piped(self, node: ast.Piped) -> dict[str, Any]:
        if isinstance(node.query, ast.Sequence):
            raise TranslationError("an EQL sequence has no query DSL form")
        filters = [a for p in node.pipes if p.name == "filter" for a in p.args]
        if not filters:
            return self.run(node.query)
        return self.t_And(ast.And((node.query, *filters)))

    def t_Predicate(self, node: ast.Predicate) -> dict[str, Any]:
        folded = fold_function(node)
        if folded is not None:
            return self.run(folded)
        raise TranslationError(f"the EQL expression at {_where(node)} runs as a script in Elasticsearch and has no query DSL form")

    def t_Compare(self, node: ast.Compare) -> dict[str, Any]:
        raise TranslationError(f"the EQL comparison at {_where(node)} runs as a script in Elasticsearch and has no query DSL form")

    def t_Sequence(self, node: ast.Sequence) -> dict[str, Any]:
        raise TranslationError("an EQL sequence has no query DSL form")

    def t_Sample(self, node: ast.Sample) -> dict[str, Any]:
        raise TranslationError("an EQL sample has no query DSL form")


def _where(node: ast.Node) -> str:
    pos = getattr(node, "pos", None)
    return f"line {pos.line}, column {pos.column}" if pos else "an unknown position"


def to_es_dsl(node: ast.Node, field_types: Mapping[str, str] | None = None, *, category_field: str = "event.category") -> dict[str, Any]:
    """Elasticsearch query DSL (the value of ``"query"``) selecting what ``node`` matches."""
    return _Translator(field_types or {}, category_field).run(node)
