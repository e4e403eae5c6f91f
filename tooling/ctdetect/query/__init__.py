"""Query layer: KQL, EQL, Lucene and ES query DSL into one AST (see ``ast``).

Public API (stable; other layers use only this):

- ``parse_query(text_or_dsl, language) -> ast.Node`` with language one of
  ``"kuery"``, ``"eql"``, ``"lucene"``, ``"dsl"`` (``dsl`` takes a dict or JSON text);
  ``"esql"`` gives an ``esql.ast.Query`` (a pipeline, not a filter: see ``query.esql``).
  Raises ``QueryParseError`` with 1-based line and column.
- ``ast.field_uses(node)`` / ``ast.fields(node)``: the fields a query reads.
- ``compile_query(node, field_types) -> Callable[[dict], bool]`` (module ``predicate``, the
  lowering pass): evaluate over flat ECS documents with Elasticsearch's semantics, built on
  ``fields`` (field kinds and readers), ``leaves`` (what one leaf means on each kind),
  ``exact`` (which exact values a query needs: fused set tests, the rule index,
  ``required_terms``) and ``eql_runtime`` (EQL scripts and function folding).
- ``to_es_dsl(node, field_types) -> dict`` (module ``translate``).
"""

from __future__ import annotations

from functools import lru_cache

from ctdetect.query.errors import QueryParseError

__all__ = ["LANGUAGES", "QueryParseError", "parse_query"]

LANGUAGES = ("kuery", "eql", "lucene", "dsl", "esql")


def parse_query(source, language: str):  # type: ignore[no-untyped-def]
    """Parse ``source`` written in ``language`` into an AST node.

    A query text is parsed once per process (``_parse_text``): ``hunt`` and ``replay`` read
    every rule's fields (``engine.needed_fields``) before compiling the same rules, and
    ``validate``'s checks each parse the rule they look at. The nodes are frozen, so callers
    may share one tree."""
    if isinstance(source, str) and language in _TEXT_LANGUAGES:
        return _parse_text(source, language)
    return _parse(source, language)


#: Languages whose source is a text (``dsl`` also takes a dict, which cannot be a cache key).
_TEXT_LANGUAGES = frozenset({"kuery", "eql", "lucene", "esql"})


@lru_cache(maxsize=4096)
def _parse_text(text: str, language: str):  # type: ignore[no-untyped-def]
    """``_parse`` of a query text, remembered (a text that does not parse raises each time)."""
    return _parse(text, language)


def _parse(source, language: str):  # type: ignore[no-untyped-def]
    if language == "kuery":
        from ctdetect.query.kql import parse_kql

        return parse_kql(source)
    if language == "eql":
        from ctdetect.query.eql import parse_eql

        return parse_eql(source)
    if language == "lucene":
        from ctdetect.query.lucene import parse_lucene

        return parse_lucene(source)
    if language == "dsl":
        from ctdetect.query.dsl import parse_dsl

        return parse_dsl(source)
    if language == "esql":
        from ctdetect.query.esql.parser import parse_esql

        return parse_esql(source)
    raise QueryParseError(f"unknown query language {language!r} (expected one of {', '.join(LANGUAGES)})", 1, 1, str(language))
