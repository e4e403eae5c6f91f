"""KQL parser: structure of the AST for each construct, and clean errors."""

from __future__ import annotations

import pytest

from ctdetect.query import ast, parse_query
from ctdetect.query.errors import QueryParseError
from ctdetect.query.kql import parse_kql


def test_field_value_is_match() -> None:
    assert parse_kql("event.action:ListBuckets") == ast.Match("event.action", "ListBuckets")


def test_quoted_value_is_phrase_and_star_inside_is_literal() -> None:
    assert parse_kql('user.name: "a b*"') == ast.Phrase("user.name", "a b*")


def test_precedence_or_and_not() -> None:
    node = parse_kql("a:1 or b:2 and not c:3")
    assert node == ast.Or((ast.Match("a", "1"), ast.And((ast.Match("b", "2"), ast.Not(ast.Match("c", "3"))))))


def test_keywords_are_case_insensitive_and_parentheses_group() -> None:
    node = parse_kql("(a:1 OR b:2) AND c:3")
    assert node == ast.And((ast.Or((ast.Match("a", "1"), ast.Match("b", "2"))), ast.Match("c", "3")))


def test_value_list_distributes_field() -> None:
    node = parse_kql("f:(x or y and not z)")
    assert node == ast.Or((ast.Match("f", "x"), ast.And((ast.Match("f", "y"), ast.Not(ast.Match("f", "z"))))))


def test_value_list_with_exists_and_wildcards() -> None:
    node = parse_kql('o:(* and not (Amazon* or "Google LLC"))')
    assert node == ast.And((ast.Exists("o"), ast.Not(ast.Or((ast.Wildcard("o", "Amazon*"), ast.Phrase("o", "Google LLC"))))))


def test_wildcard_value_escapes_question_mark() -> None:
    assert parse_kql("f:a?b*") == ast.Wildcard("f", "a\\?b*")


def test_escaped_star_is_literal() -> None:
    assert parse_kql(r"f:a\*b") == ast.Match("f", "a*b")


def test_escaped_specials_and_keyword() -> None:
    assert parse_kql(r"f:a\:b\(c\)") == ast.Match("f", "a:b(c)")
    assert parse_kql(r"f:\or") == ast.Match("f", "or")


def test_multi_word_unquoted_value_keeps_inner_whitespace() -> None:
    assert parse_kql("message: quick  brown fox") == ast.Match("message", "quick  brown fox")


def test_exists_and_match_all() -> None:
    assert parse_kql("f:*") == ast.Exists("f")
    assert parse_kql("*") == ast.MatchAll()
    assert parse_kql("   ") == ast.MatchAll()


def test_ranges() -> None:
    assert parse_kql("bytes >= 10") == ast.Range("bytes", gte="10")
    assert parse_kql("bytes<10") == ast.Range("bytes", lt="10")
    assert parse_kql('@timestamp > "now-1d"') == ast.Range("@timestamp", gt="now-1d")


def test_wildcard_field_name() -> None:
    assert parse_kql("aws.cloudtrail.*: x") == ast.Match("aws.cloudtrail.*", "x")


def test_nested_query_prefixes_fields() -> None:
    assert parse_kql("user:{ name: bob and id: 1 }") == ast.And((ast.Match("user.name", "bob"), ast.Match("user.id", "1")))


def test_free_text() -> None:
    assert parse_kql("foo") == ast.Match(None, "foo")
    assert parse_kql('"foo bar"') == ast.Phrase(None, "foo bar")
    assert parse_kql("fo*") == ast.Wildcard(None, "fo*")


def test_quoted_escapes() -> None:
    assert parse_kql(r'f:"a \"q\" \\ b"') == ast.Phrase("f", 'a "q" \\ b')


def test_positions_are_recorded() -> None:
    node = parse_kql("a:1 and\n  b:2")
    assert isinstance(node, ast.And)
    assert node.items[1].pos == ast.Position(2, 5)


def test_parse_query_dispatches() -> None:
    assert parse_query("a:b", "kuery") == ast.Match("a", "b")


@pytest.mark.parametrize(
    ("query", "line", "column"),
    [
        ("a:(b or", 1, 8),
        ("a:b and", 1, 8),
        ("a:\n  (b or c", 2, 10),
        ('a:"unclosed', 1, 3),
        (r"a:b\x", 1, 4),
        ("a:b)", 1, 4),
        ("a >= ", 1, 6),
    ],
)
def test_errors_have_line_and_column(query: str, line: int, column: int) -> None:
    with pytest.raises(QueryParseError) as info:
        parse_kql(query)
    assert (info.value.line, info.value.column) == (line, column)
    assert info.value.language == "kuery"


def test_field_uses_report_usage() -> None:
    uses = ast.field_uses(parse_kql("a:1 and b:x* and c >= 3 and d:* and e:\"p\""))
    assert [(u.field, u.usage) for u in uses] == [("a", "match"), ("b", "wildcard"), ("c", "range"), ("d", "exists"), ("e", "phrase")]
