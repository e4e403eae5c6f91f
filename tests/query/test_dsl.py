"""ES query DSL parser: each supported query type, and clear errors."""

from __future__ import annotations

import json

import pytest

from ctdetect.query import ast
from ctdetect.query.dsl import parse_dsl
from ctdetect.query.errors import QueryParseError


def test_term_short_and_long_forms() -> None:
    assert parse_dsl({"term": {"a": "x"}}) == ast.Term("a", "x")
    assert parse_dsl({"term": {"a": {"value": "x", "case_insensitive": True, "boost": 2}}}) == ast.Term("a", "x", True)


def test_terms_match_phrase_exists() -> None:
    assert parse_dsl({"terms": {"a": ["x", "y"], "boost": 1}}) == ast.Terms("a", ("x", "y"))
    assert parse_dsl({"match": {"a": {"query": "x y", "operator": "AND"}}}) == ast.Match("a", "x y", operator="and")
    assert parse_dsl({"match": {"a": "x"}}) == ast.Match("a", "x")
    assert parse_dsl({"match_phrase": {"a": "x y"}}) == ast.Phrase("a", "x y")
    assert parse_dsl({"exists": {"field": "a"}}) == ast.Exists("a")


def test_range_wildcard_prefix_regexp() -> None:
    assert parse_dsl({"range": {"n": {"gte": 1, "lt": 5}}}) == ast.Range("n", gte=1, lt=5)
    assert parse_dsl({"range": {"n": {"from": 1, "to": 5, "include_upper": False}}}) == ast.Range("n", gte=1, lt=5)
    assert parse_dsl({"wildcard": {"a": {"value": "x*", "case_insensitive": True}}}) == ast.Wildcard("a", "x*", True)
    assert parse_dsl({"wildcard": {"a": "x*"}}) == ast.Wildcard("a", "x*")
    assert parse_dsl({"prefix": {"a": "x"}}) == ast.Prefix("a", "x")
    assert parse_dsl({"regexp": {"a": {"value": "x.*"}}}) == ast.Regexp("a", "x.*")


def test_bool_structure() -> None:
    node = parse_dsl(
        {"bool": {"must": {"term": {"a": 1}}, "filter": [{"term": {"b": 2}}], "should": [{"term": {"c": 3}}, {"term": {"d": 4}}], "must_not": [{"term": {"e": 5}}]}}
    )
    # should is optional when must/filter exist and no minimum_should_match is set
    assert node == ast.And((ast.Term("a", 1), ast.Term("b", 2), ast.Not(ast.Term("e", 5))))


def test_bool_should_only_needs_one() -> None:
    node = parse_dsl({"bool": {"should": [{"term": {"c": 3}}, {"term": {"d": 4}}]}})
    assert node == ast.Or((ast.Term("c", 3), ast.Term("d", 4)))


def test_should_with_only_must_not_still_needs_one() -> None:
    node = parse_dsl({"bool": {"should": [{"term": {"c": 3}}, {"term": {"d": 4}}], "must_not": {"term": {"e": 5}}}})
    assert node == ast.And((ast.Or((ast.Term("c", 3), ast.Term("d", 4))), ast.Not(ast.Term("e", 5))))


def test_minimum_should_match() -> None:
    should = [{"term": {"c": i}} for i in range(4)]
    node = parse_dsl({"bool": {"filter": {"term": {"a": 1}}, "should": should, "minimum_should_match": 2}})
    assert node == ast.And((ast.Term("a", 1), ast.AtLeast(2, tuple(ast.Term("c", i) for i in range(4)))))
    assert parse_dsl({"bool": {"should": should, "minimum_should_match": "50%"}}) == ast.AtLeast(2, tuple(ast.Term("c", i) for i in range(4)))
    assert parse_dsl({"bool": {"should": should, "minimum_should_match": -1}}) == ast.AtLeast(3, tuple(ast.Term("c", i) for i in range(4)))


def test_empty_bool_and_match_all_none() -> None:
    assert parse_dsl({"bool": {}}) == ast.MatchAll()
    assert parse_dsl({"match_all": {}}) == ast.MatchAll()
    assert parse_dsl({"match_none": {}}) == ast.MatchNone()


def test_json_text_input() -> None:
    assert parse_dsl('{"term": {"a": "x"}}') == ast.Term("a", "x")


@pytest.mark.parametrize(
    "query",
    [
        {"nope": {}},
        {"term": {"a": "x", "b": "y"}},
        {"term": {"a": {"value": "x", "fuzziness": 2}}},
        {"terms": {"a": "x"}},
        {"bool": {"must": [1]}},
        {"range": {"a": {"gte": 1, "time_zone": "Europe/Paris"}}},
        {"range": {"a": {"gte": 1, "format": "epoch_second"}}},
        {"regexp": {"a": "(unclosed"}},
        [],
        {},
        {"term": {"a": None}},
    ],
)
def test_bad_queries_raise_parse_error(query: object) -> None:
    with pytest.raises(QueryParseError) as info:
        parse_dsl(query)  # type: ignore[arg-type]
    assert info.value.language == "dsl"


def test_invalid_json_position() -> None:
    with pytest.raises(QueryParseError) as info:
        parse_dsl('{"term":\n  {"a": }}')
    assert (info.value.line, info.value.column) == (2, 9)


def test_error_points_at_clause_in_text() -> None:
    text = json.dumps({"bool": {"filter": [{"term": {"a": "x"}}, {"bogus": {}}]}}, indent=2)
    with pytest.raises(QueryParseError) as info:
        parse_dsl(text)
    assert "bogus" in info.value.message
    line = text.splitlines()[info.value.line - 1]
    assert '"bogus"' in line
