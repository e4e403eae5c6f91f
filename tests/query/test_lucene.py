"""Lucene query_string parser, including Lucene's classic (non-precedence) boolean logic."""

from __future__ import annotations

import pytest

from ctdetect.query import ast
from ctdetect.query.errors import QueryParseError
from ctdetect.query.lucene import parse_lucene

A, B, C = ast.Match(None, "a"), ast.Match(None, "b"), ast.Match(None, "c")


def test_field_value_and_boolean_operators() -> None:
    assert parse_lucene("x:1 AND y:2") == ast.And((ast.Match("x", "1"), ast.Match("y", "2")))
    assert parse_lucene("x:1 && !y:2") == ast.And((ast.Match("x", "1"), ast.Not(ast.Match("y", "2"))))
    assert parse_lucene("a || b") == ast.Or((A, B))


def test_lucene_has_no_and_precedence() -> None:
    # a AND b OR c == +a +b c: the optional c changes nothing once a clause is required
    assert parse_lucene("a AND b OR c") == ast.And((A, B))
    assert parse_lucene("a OR b AND c") == ast.And((B, C))


def test_modifiers_and_default_operator() -> None:
    assert parse_lucene("+a b -c") == ast.And((A, ast.Not(C)))
    assert parse_lucene("a b") == ast.Or((A, B))
    and_a, and_b = ast.Match(None, "a", "and"), ast.Match(None, "b", "and")
    assert parse_lucene("a b", default_operator="and") == ast.And((and_a, and_b))
    assert parse_lucene("a OR b", default_operator="and") == ast.Or((and_a, and_b))


def test_pure_negative_query() -> None:
    assert parse_lucene("NOT a") == ast.Not(A)
    assert parse_lucene("-a -b") == ast.And((ast.Not(A), ast.Not(B)))


def test_grouping_and_field_groups() -> None:
    assert parse_lucene("x:(a b)") == ast.Or((ast.Match("x", "a"), ast.Match("x", "b")))
    assert parse_lucene("(a OR b) AND c") == ast.And((ast.Or((A, B)), C))


def test_phrases_wildcards_regex() -> None:
    assert parse_lucene('x:"a b"') == ast.Phrase("x", "a b")
    assert parse_lucene("x:ab*c?") == ast.Wildcard("x", "ab*c?")
    assert parse_lucene(r"x:a\*b") == ast.Match("x", "a*b")
    assert parse_lucene(r"x:a\*b*") == ast.Wildcard("x", r"a\*b*")
    assert parse_lucene("x:/ab.*/") == ast.Regexp("x", "ab.*")


def test_ranges() -> None:
    assert parse_lucene("n:[1 TO 5]") == ast.Range("n", gte="1", lte="5")
    assert parse_lucene("n:{1 TO 5}") == ast.Range("n", gt="1", lt="5")
    assert parse_lucene("n:[1 TO *}") == ast.Range("n", gte="1")
    assert parse_lucene("t:[2024-01-01T00:00:00Z TO now-1d]") == ast.Range("t", gte="2024-01-01T00:00:00Z", lte="now-1d")
    assert parse_lucene("n:>=10") == ast.Range("n", gte="10")
    assert parse_lucene("n:<3") == ast.Range("n", lt="3")


def test_exists_and_match_all() -> None:
    assert parse_lucene("_exists_:user.name") == ast.Exists("user.name")
    assert parse_lucene("user.name:*") == ast.Exists("user.name")
    assert parse_lucene("*:*") == ast.MatchAll()


def test_escapes_in_field_and_value() -> None:
    assert parse_lucene(r"aws.cloudtrail.flattened.x\-amz:a\:b") == ast.Match("aws.cloudtrail.flattened.x-amz", "a:b")


def test_default_fields() -> None:
    assert parse_lucene("a", default_fields=("f", "g")) == ast.Or((ast.Match("f", "a"), ast.Match("g", "a")))


def test_boost_is_ignored() -> None:
    assert parse_lucene("x:a^2") == ast.Match("x", "a")


def test_empty_query_matches_nothing() -> None:
    assert parse_lucene("") == ast.MatchNone()


@pytest.mark.parametrize(
    ("query", "column"),
    [("AND a", 1), ("a:(b", 5), ("x:foo~2", 6), ('x:"a b"~3', 8), ("x:[1 TO", 8), ("x:/(/", 3), ("[1 TO 2]", 1)],
)
def test_errors(query: str, column: int) -> None:
    with pytest.raises(QueryParseError) as info:
        parse_lucene(query)
    assert info.value.language == "lucene"
    assert (info.value.line, info.value.column) == (1, column), info.value
