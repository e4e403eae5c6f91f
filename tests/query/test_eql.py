"""EQL parser: how each construct lands in the AST, and clean errors with positions."""

from __future__ import annotations

import pytest

from ctdetect.query import ast
from ctdetect.query.eql import parse_eql
from ctdetect.query.errors import QueryParseError


def cond(text: str) -> ast.Node:
    node = parse_eql(f"any where {text}")
    assert isinstance(node, ast.EventQuery)
    return node.condition


def test_event_query_category() -> None:
    node = parse_eql('process where process.name == "cmd.exe"')
    assert node == ast.EventQuery("process", ast.Term("process.name", "cmd.exe"))


def test_equality_inequality_and_null() -> None:
    assert cond('a != "x"') == ast.Not(ast.Term("a", "x"))
    assert cond("a == null") == ast.Not(ast.Exists("a"))
    assert cond("a != null") == ast.Exists("a")
    assert cond('"x" == a') == ast.Term("a", "x")


def test_case_insensitive_colon_with_and_without_wildcards() -> None:
    assert cond('a : "X"') == ast.Term("a", "X", case_insensitive=True)
    assert cond('a : "X*"') == ast.Wildcard("a", "X*", case_insensitive=True)
    assert cond('a : ("x", "y*")') == ast.Or((ast.Term("a", "x", True), ast.Wildcard("a", "y*", True)))


def test_in_forms() -> None:
    assert cond('a in ("x", "y")') == ast.Terms("a", ("x", "y"))
    assert cond('a in~ ("x", "y")') == ast.Terms("a", ("x", "y"), case_insensitive=True)
    assert cond('a not in ("x")') == ast.Not(ast.Terms("a", ("x",)))


def test_like_and_regex_forms() -> None:
    assert cond('a like "x*"') == ast.Wildcard("a", "x*")
    assert cond('a like~ ("x*", "?y")') == ast.Or((ast.Wildcard("a", "x*", True), ast.Wildcard("a", "?y", True)))
    assert cond('a regex "x.*"') == ast.Regexp("a", "x.*")
    assert cond('a regex~ "x.*"') == ast.Regexp("a", "x.*", case_insensitive=True)


def test_comparisons_become_ranges_and_flip() -> None:
    assert cond("a >= 5") == ast.Range("a", gte=5)
    assert cond("5 < a") == ast.Range("a", gt=5)


def test_field_to_field_comparison_and_arithmetic_stay_expressions() -> None:
    assert cond("a == b") == ast.Compare("==", ast.FieldRef("a"), ast.FieldRef("b"))
    node = cond("a + 2 * b > 10")
    assert node == ast.Compare(
        ">", ast.Arithmetic("+", ast.FieldRef("a"), ast.Arithmetic("*", ast.Literal(2), ast.FieldRef("b"))), ast.Literal(10)
    )
    assert cond("-a < 3") == ast.Compare("<", ast.Arithmetic("*", ast.Literal(-1), ast.FieldRef("a")), ast.Literal(3))


def test_functions_and_tilde() -> None:
    assert cond('startsWith~(a, "X")') == ast.Predicate(ast.FunctionCall("startsWith", (ast.FieldRef("a"), ast.Literal("X")), True))
    assert cond("length(a) > 3") == ast.Compare(">", ast.FunctionCall("length", (ast.FieldRef("a"),)), ast.Literal(3))
    assert cond('STRINGCONTAINS(a, "x")') == ast.Predicate(ast.FunctionCall("stringContains", (ast.FieldRef("a"), ast.Literal("x"))))


def test_boolean_precedence_and_not() -> None:
    assert cond("a == 1 or b == 2 and not c == 3") == ast.Or(
        (ast.Term("a", 1), ast.And((ast.Term("b", 2), ast.Not(ast.Term("c", 3)))))
    )


def test_backquoted_and_optional_fields() -> None:
    node = parse_eql('any where `x-amz-id` == "1" and ?user.id == "2"')
    assert isinstance(node, ast.EventQuery)
    assert node.condition == ast.And((ast.Term("x-amz-id", "1"), ast.Term("user.id", "2")))
    assert node.optional_fields == ("user.id",)
    uses = {(u.field, u.optional) for u in ast.field_uses(node)}
    assert ("user.id", True) in uses and ("x-amz-id", False) in uses


def test_strings_escapes_and_raw() -> None:
    assert cond(r'a == "x\"y\\z\n"') == ast.Term("a", 'x"y\\z\n')
    assert cond('a == """C:\\raw\\"""') == ast.Term("a", "C:\\raw\\")
    assert cond(r'a == "\u{41}"') == ast.Term("a", "A")


def test_literals() -> None:
    assert cond("a == true") == ast.Term("a", True)
    assert cond("a == 1.5") == ast.Term("a", 1.5)
    assert cond("true") == ast.MatchAll()


def test_comments_are_ignored() -> None:
    assert cond('/* c */ a == "x" // trailing') == ast.Term("a", "x")


def test_sequence_full_form() -> None:
    node = parse_eql(
        "sequence by user.name with maxspan=15m\n"
        '  [any where a == 1] by host.id with runs=2\n'
        '  [process where b == 2] by host.name\n'
        "until [any where c == 3] by host.id"
    )
    assert isinstance(node, ast.Sequence)
    assert node.by == ("user.name",) and node.maxspan_ms == 15 * 60_000
    assert [s.by for s in node.steps] == [("host.id",), ("host.name",)]
    assert [s.runs for s in node.steps] == [2, 1]
    assert node.steps[1].query.category == "process"
    assert node.until is not None and node.until.by == ("host.id",)
    uses = [(u.field, u.usage) for u in ast.field_uses(node)]
    assert ("user.name", "sequence_by") in uses and ("host.id", "sequence_by") in uses


@pytest.mark.parametrize(("span", "ms"), [("500ms", 500), ("30s", 30_000), ("2h", 7_200_000), ("1d", 86_400_000)])
def test_maxspan_units(span: str, ms: int) -> None:
    node = parse_eql(f"sequence with maxspan={span} [any where true] [any where true]")
    assert isinstance(node, ast.Sequence) and node.maxspan_ms == ms


def test_pipes() -> None:
    node = parse_eql("any where a == 1 | filter b == 2 | head 5 | tail 2")
    assert isinstance(node, ast.Piped)
    assert [p.name for p in node.pipes] == ["filter", "head", "tail"]
    assert node.pipes[0].args == (ast.Term("b", 2),)
    assert node.pipes[1].args == (ast.Literal(5),)


@pytest.mark.parametrize(
    ("query", "line", "column", "needle"),
    [
        ("any where foo(a)", 1, 11, "unknown function"),
        ("any where a == 'x'", 1, 16, "double quotes"),
        ('any where a == "\\q"', 1, 17, "escape"),
        ("any where length(a, b)", 1, 11, "takes 1 arguments"),
        ("any where length~(a) > 1", 1, 11, "case-insensitive"),
        ("sequence [any where true]", 1, 1, "at least two"),
        ("sequence with maxspan=5 [any where true] [any where true]", 1, 23, "time unit"),
        ("any where a == 1 | sort a", 1, 20, "unsupported pipe"),
        ("any where a ==", 1, 15, "end of query"),
        ("any where\n  a == 1 and", 2, 13, "end of query"),
        ("any where a regex \"(x\"", 1, 19, "regular expression"),
        ("any where a.", 1, 11, ""),
        ("any where 1 + \"x\" == 2", 1, 13, "numbers"),
    ],
)
def test_errors(query: str, line: int, column: int, needle: str) -> None:
    with pytest.raises(QueryParseError) as info:
        parse_eql(query)
    err = info.value
    assert err.language == "eql"
    assert (err.line, err.column) == (line, column), err
    assert needle in err.message


def test_sample_by_join_keys() -> None:
    node = parse_eql("sample by host.id, process.pid\n  [process where true]\n  [network where event.type == \"start\"]")
    assert isinstance(node, ast.Sample) and node.by == ("host.id", "process.pid") and len(node.steps) == 2
    assert {u.field for u in ast.field_uses(node) if u.usage == "sequence_by"} == {"host.id", "process.pid"}
    with pytest.raises(QueryParseError, match="at least two"):
        parse_eql("sample by host.id [process where true]")


def test_missing_event_steps() -> None:
    node = parse_eql("sequence by host.id with maxspan=5m\n [any where a == 1]\n ![any where b == 2]")
    assert isinstance(node, ast.Sequence) and [s.missing for s in node.steps] == [False, True]
    with pytest.raises(QueryParseError):
        parse_eql("sequence ![any where a == 1] ![any where b == 2]")
    with pytest.raises(QueryParseError):
        parse_eql("sample by h [any where a == 1] ![any where b == 2]")


def test_backticks_inside_a_dotted_field_path() -> None:
    node = parse_eql('any where azure.target_resources.`0`.display_name like "DESKTOP-*" and a.`b``c`.d == 1')
    assert [u.field for u in ast.field_uses(node)] == ["azure.target_resources.0.display_name", "a.b`c.d"]
