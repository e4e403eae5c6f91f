"""Translator: parse -> to_es_dsl -> parse_dsl -> evaluate answers like the original query."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdetect.query import ast, parse_query
from ctdetect.query.dsl import parse_dsl
from ctdetect.query.predicate import compile_query
from ctdetect.query.translate import TranslationError, to_es_dsl

TYPES = {"message": "text", "bytes": "long", "@timestamp": "date", "source.ip": "ip", "flag": "boolean"}
NOW = "2024-07-31T00:00:00Z"

DOCS: list[dict[str, Any]] = [
    {},
    {"event.action": "ListBuckets", "user.name": "alice", "bytes": 10, "source.ip": "10.1.2.3"},
    {"event.action": "GetObject", "user.name": "Bob", "bytes": "500", "message": "Access Denied for bob"},
    {"event.action": ["PutObject", "CopyObject"], "user.name": "svc-backup", "flag": True, "event.category": "file"},
    {"event.action": "AddPermission20150331", "message": "lambda add permission", "@timestamp": "2024-07-30T10:00:00.000Z"},
    {"user.name": "a*b", "source.ip": "192.168.1.1", "bytes": 0, "event.category": ["iam", "info"]},
    {"user.name": "", "message": "", "aws.cloudtrail.error_code": "AccessDenied", "@timestamp": "2024-01-01T00:00:00.000Z"},
    {"aws.cloudtrail.user_identity.type": "Root", "event.outcome": "failure", "flag": False},
    {"aws.cloudtrail.request_parameters": "{principal=*, action=lambda:InvokeFunction}", "event.category": "info"},
    {"flag": True, "event.action": "GetObject", "event.category": "file"},
    {"event.action": "PutObject", "event.category": "file", "user.name": "other"},
]

QUERIES: list[tuple[str, str]] = [
    ("kuery", "event.action: ListBuckets"),
    ("kuery", "event.action: (GetObject or PutObject) and not user.name: alice"),
    ("kuery", "user.name: a* or user.name: \"a*b\" or user.name: a\\*b"),
    ("kuery", "message: denied and bytes >= 100"),
    ("kuery", 'message: "access denied"'),
    ("kuery", "source.ip: 10.0.0.0/8 or source.ip: 192.168.1.1"),
    ("kuery", "@timestamp >= now-1d or @timestamp < 2024-06-01"),
    ("kuery", "aws.cloudtrail.*: Root or aws.*.error_code: Access*"),
    ("kuery", "bob or alice"),
    ("kuery", '"add permission"'),
    ("kuery", "flag: true and not user.name: *"),
    ("kuery", "user.name: *"),
    ("kuery", "AddPerm*"),
    ("lucene", "event.action:(ListBuckets OR GetObject) AND -user.name:alice"),
    ("lucene", "bytes:[1 TO 100] OR bytes:>=500"),
    ("lucene", "_exists_:flag AND NOT flag:false"),
    ("lucene", "user.name:/s.*p/ OR event.action:/Add.*/"),
    ("lucene", "*:*"),
    ("lucene", "event.action:Get* || message:lambda"),
    ("lucene", "+event.category:info -user.name:x"),
    ("eql", 'any where event.action == "ListBuckets" or user.name : "BOB"'),
    ("eql", 'any where event.action like~ "addperm*" and message != null'),
    ("eql", 'info where stringContains(aws.cloudtrail.request_parameters, "principal=\\\\*")'),
    ("eql", 'file where event.action in ("PutObject", "x") and not user.name in~ ("SVC-BACKUP")'),
    ("eql", 'any where startsWith~(user.name, "SVC") or endsWith(event.action, "0331")'),
    ("eql", 'any where cidrMatch(source.ip, "10.0.0.0/8") or bytes < 5'),
    ("eql", 'any where user.name regex~ "A.B" | filter bytes == 0'),
    ("dsl", json.dumps({"bool": {"should": [{"term": {"event.action": "GetObject"}}, {"match": {"message": "lambda"}}, {"exists": {"field": "flag"}}], "minimum_should_match": 2}})),
    ("dsl", json.dumps({"bool": {"filter": [{"range": {"@timestamp": {"gte": "2024-07-30||/d", "lt": "now"}}}], "must_not": [{"term": {"user.name": {"value": "ALICE", "case_insensitive": True}}}]}})),
    ("dsl", json.dumps({"query_string": {"query": "denied OR lambda", "default_field": "message"}})),
]


def _answers(node: ast.Node) -> list[bool]:
    match = compile_query(node, TYPES, now=NOW)
    return [match(doc) for doc in DOCS]


@pytest.mark.parametrize(("language", "text"), QUERIES)
def test_round_trip_gives_same_answers(language: str, text: str) -> None:
    node = parse_query(text, language)
    body = to_es_dsl(node, TYPES)
    again = parse_dsl(json.dumps(body))
    assert _answers(again) == _answers(node), json.dumps(body)


def test_queries_select_something_and_reject_something() -> None:
    # guards the round-trip test against trivially constant queries
    varied = sum(1 for language, text in QUERIES if len(set(_answers(parse_query(text, language)))) == 2)
    assert varied >= len(QUERIES) - 2


def test_shapes() -> None:
    assert to_es_dsl(ast.Match("message", "a b"), TYPES) == {"match": {"message": "a b"}}
    assert to_es_dsl(ast.Match("user.name", "x"), TYPES) == {"term": {"user.name": "x"}}
    assert to_es_dsl(ast.Terms("a", ("x",), True)) == {"bool": {"should": [{"term": {"a": {"value": "x", "case_insensitive": True}}}], "minimum_should_match": 1}}
    assert to_es_dsl(ast.Not(ast.Exists("a"))) == {"bool": {"must_not": [{"exists": {"field": "a"}}]}}
    assert to_es_dsl(parse_query('process where a == "x"', "eql"), category_field="event.type") == {
        "bool": {"filter": [{"term": {"event.type": "process"}}, {"term": {"a": "x"}}]}
    }


@pytest.mark.parametrize(
    "text",
    ["sequence [any where true] [any where true]", "any where a == b", "any where length(a) > 3", "any where stringContains(a, b)"],
)
def test_untranslatable_eql_raises_translation_error(text: str) -> None:
    with pytest.raises(TranslationError):
        to_es_dsl(parse_query(text, "eql"))


# ----------------------------------------------------------------- property: random ASTs

_FIELDS = ["user.name", "message", "bytes", "source.ip", "event.action", "flag"]
_VALUES = ["alice", "Bob", "bob", "a*b", "10", "500", "10.0.0.0/8", "192.168.1.1", "denied", "true", "lambda add", "Get*"]

leaf = st.one_of(
    st.builds(ast.Match, st.sampled_from(_FIELDS), st.sampled_from(_VALUES)),
    st.builds(ast.Phrase, st.sampled_from(_FIELDS), st.sampled_from(_VALUES)),
    st.builds(ast.Term, st.sampled_from(_FIELDS), st.sampled_from(_VALUES), st.booleans()),
    st.builds(ast.Terms, st.sampled_from(_FIELDS), st.lists(st.sampled_from(_VALUES), min_size=1, max_size=3).map(tuple), st.booleans()),
    st.builds(ast.Wildcard, st.sampled_from(_FIELDS), st.sampled_from(["a*", "*b*", "?ob", "Get*", "*"]), st.booleans()),
    st.builds(ast.Prefix, st.sampled_from(_FIELDS), st.sampled_from(["a", "B", "Ge"]), st.booleans()),
    st.builds(ast.Exists, st.sampled_from(_FIELDS)),
    st.builds(lambda f, v: ast.Range(f, gte=v), st.sampled_from(_FIELDS), st.sampled_from(["10", "b", "10.0.0.1"])),
)
tree = st.recursive(
    leaf,
    lambda kids: st.one_of(
        st.builds(ast.Not, kids),
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: ast.And(tuple(xs))),
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: ast.Or(tuple(xs))),
    ),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree)
def test_random_ast_round_trip(node: ast.Node) -> None:
    assert _answers(parse_dsl(to_es_dsl(node, TYPES))) == _answers(node)
