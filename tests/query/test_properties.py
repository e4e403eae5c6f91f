"""Property tests: random and mutated queries never break a parser in any way but QueryParseError.

Any query that does parse must also compile and evaluate without raising (sequences are
compiled step by step, as the rule engine does).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdetect.query import ast
from ctdetect.query.dsl import parse_dsl
from ctdetect.query.eql import parse_eql
from ctdetect.query.errors import QueryParseError
from ctdetect.query.predicate import compile_query
from ctdetect.query.kql import parse_kql
from ctdetect.query.lucene import parse_lucene
from ctdetect.query.esql.parser import parse_esql

SEEDS: dict[str, list[str]] = {
    "kuery": [
        'event.dataset: "aws.cloudtrail" and event.action: (Create* or "Delete Trail") and not user.name: root',
        "source.as.organization.name:(* and not (Amazon* or \"Google LLC\")) and bytes >= 10",
        "aws.cloudtrail.*: x\\:y or user:{ name: bob } or free text here",
        "@timestamp < \"now-1d/d\" and source.ip: 10.0.0.0/8",
    ],
    "eql": [
        'info where a == "x" and stringContains(b, "y*") and c : ("q", "r*") and not d in~ ("s")',
        "sequence by user.name with maxspan=5m [any where a like~ \"x*\"] by h [iam where length(b) > 3] until [any where c regex \"z.*\"]",
        'any where add(n, 2) * 3 >= number("12") and ?opt.field != null | filter x == true | head 3',
        'process where `weird-name` == """raw\\str""" and cidrMatch(source.ip, "10.0.0.0/8") /* note */',
    ],
    "lucene": [
        "event.action:(ListBuckets OR Get*) AND -user.name:root && _exists_:source.ip",
        'bytes:[1 TO 5} OR t:>=now-1d OR f:/ab[cd]+/ OR "a phrase"^2',
        "+a:1 b:\\(2\\) NOT c:*",
    ],
}

ESQL_SEEDS = [
    'from logs-aws.cloudtrail-* metadata _id, _version, _index | where event.action in ("A", "B") and source.ip is not null'
    ' | eval w = date_trunc(10 seconds, @timestamp) | stats c = count_distinct(event.action), v = values(x) by w, user.name | where c > 5 | keep c, v*',
    'FROM .alerts-security.* | WHERE NOT KQL("""kibana.alert.rule.tags : "x" """) and kibana.alert.risk_score >= 47 | STATS n = SUM(CASE(a == "b", 1, 0)) BY source.ip',
    'from a | grok m """id=(?<Esql.id>[^,]+)""" | dissect m "%{a}=%{b}" | eval d = date_diff("seconds", t1, t2) :: long | sort d desc nulls last | limit 3',
    "row a = ?p, b = [1, 2], c = 5 minutes | mv_expand b | rename a as z | drop c | where z : \"q\" or b::double > 1.5e3 // comment",
]

DATAFEED = {
    "bool": {
        "filter": [{"term": {"event.dataset": "aws.cloudtrail"}}, {"exists": {"field": "user.name"}}],
        "must": [{"bool": {"should": [{"match": {"host.os.type": {"query": "linux", "operator": "OR"}}}, {"match_phrase": {"m": "a b"}}]}}],
        "must_not": {"terms": {"process.name": ["a", "b"]}},
        "should": [{"range": {"n": {"gte": 1}}}, {"wildcard": {"w": "x*"}}, {"query_string": {"query": "a:b AND c"}}],
        "minimum_should_match": 1,
    }
}

PARSERS: dict[str, Callable[[str], ast.Node]] = {"kuery": parse_kql, "eql": parse_eql, "lucene": parse_lucene}
DOCS = [
    {},
    {"a": "x", "b": "yy", "user.name": ["root", None], "n": 3, "source.ip": "10.1.1.1", "event.category": "info"},
    # values a sloppy reader could hand over: objects, nested lists, NaN, booleans where numbers go
    {"a": {"x": 1}, "source.ip": {"lat": 1.0}, "n": [1, [2]], "t": float("nan"), "bytes": True, "user.name": 12, "b": float("inf")},
]
ALPHABET = st.sampled_from(list('abcAZ019 \t\n"\'\\*?:()[]{}<>=!~|&+-/,.@`%^#;') + ["and", "or", "not", " AND ", " OR ", "where", "in", "~", "\u00e9", "\u0000", "\ud7ff"])


def _exercise(node: ast.Node) -> None:
    """Compile and run a parsed query; raising here is a bug."""
    targets = [node]
    if isinstance(node, ast.Piped) and isinstance(node.query, ast.Sequence):
        node = node.query
    if isinstance(node, ast.Sequence):
        targets = [s.query for s in node.steps] + ([node.until.query] if node.until else [])
    ast.field_uses(node)
    for target in targets:
        match = compile_query(target, {"n": "long", "source.ip": "ip", "t": "date", "bytes": "long"}, now=0)
        for doc in DOCS:
            assert match(doc) in (True, False)


def _check(language: str, text: str) -> None:
    try:
        node = PARSERS[language](text)
    except QueryParseError as exc:
        assert exc.line is not None and exc.line >= 1 and exc.column is not None and exc.column >= 1
        assert exc.language == language
        return
    _exercise(node)


@st.composite
def mutated(draw: Any, seeds: list[str]) -> str:
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        piece = draw(ALPHABET)
        if action == "insert":
            text = text[:pos] + piece + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + 1 :]
        elif action == "replace":
            text = text[:pos] + piece + text[pos + 1 :]
        else:
            text = text[:pos]
    return text


SETTINGS = settings(max_examples=int(__import__("os").environ.get("CTDETECT_HYPOTHESIS_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@SETTINGS
@given(st.sampled_from(sorted(PARSERS)), st.text(max_size=60))
def test_random_text(language: str, text: str) -> None:
    _check(language, text)


@SETTINGS
@given(st.sampled_from(sorted(PARSERS)), st.lists(ALPHABET, max_size=25).map("".join))
def test_random_token_soup(language: str, text: str) -> None:
    _check(language, text)


@SETTINGS
@given(st.data())
def test_mutated_real_queries(data: Any) -> None:
    language = data.draw(st.sampled_from(sorted(PARSERS)))
    _check(language, data.draw(mutated(SEEDS[language])))


def _json_values() -> st.SearchStrategy[Any]:
    keys = st.sampled_from(["bool", "must", "filter", "should", "must_not", "term", "terms", "match", "range", "exists", "field", "value", "query", "gte", "lt", "wildcard", "prefix", "regexp", "query_string", "minimum_should_match", "a", "case_insensitive", "operator", "match_all", "multi_match", "fields"])
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=8), st.sampled_from(["a*", "(", "50%", "AND", "x:y"]))
    return st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(keys, kids, max_size=3)), max_leaves=12)


@SETTINGS
@given(_json_values())
def test_random_dsl_structures(value: Any) -> None:
    try:
        node = parse_dsl(value)
    except QueryParseError as exc:
        assert exc.language == "dsl" and exc.line is not None and exc.line >= 1
        return
    _exercise(node)


@SETTINGS
@given(st.data())
def test_mutated_dsl_text(data: Any) -> None:
    text = data.draw(mutated([json.dumps(DATAFEED)]))
    try:
        node = parse_dsl(text)
    except QueryParseError as exc:
        assert exc.language == "dsl" and exc.line is not None and exc.line >= 1
        return
    _exercise(node)


# ----------------------------------------------------------------- fast paths agree with plain compilation

_F = ["event.action", "user.name", "n"]
_V = ["A", "B", "a", "AB", "BA", "1"]
_fast_leaf = st.one_of(
    st.builds(ast.Match, st.sampled_from(_F), st.sampled_from(_V)),
    st.builds(ast.Phrase, st.sampled_from(_F), st.sampled_from(_V)),
    st.builds(ast.Term, st.sampled_from(_F), st.sampled_from(_V), st.booleans()),
    st.builds(ast.Terms, st.sampled_from(_F), st.lists(st.sampled_from(_V), min_size=1, max_size=3).map(tuple)),
    st.builds(ast.Wildcard, st.sampled_from(_F), st.sampled_from(["A*", "*B", "*A*", "A", "*", "?B", "A*B"]), st.booleans()),
    st.builds(ast.Wildcard, st.sampled_from(_F), st.sampled_from(["A*", "*B", "*A*", "B*", "*A"])),
    st.builds(ast.Exists, st.sampled_from(_F)),
)
_fast_tree = st.recursive(
    _fast_leaf,
    lambda kids: st.one_of(
        st.builds(ast.Not, kids),
        st.lists(kids, min_size=1, max_size=4).map(lambda xs: ast.And(tuple(xs))),
        st.lists(kids, min_size=1, max_size=4).map(lambda xs: ast.Or(tuple(xs))),
        st.builds(lambda c, q: ast.EventQuery(c, q), st.sampled_from(["any", "iam", "info"]), kids),
    ),
    max_leaves=8,
)
_OPTIONS: list[Any] = [None, "A", "B", "AB", "BA", "a", ["A", "B"], ["BA", None], 1]
# Every pair of values for the two string fields, with numbers and categories cycling: a
# fixed grid finds a disagreement far more surely than a few random documents would.
_GRID: list[dict[str, Any]] = [
    {
        k: v
        for k, v in (
            ("event.action", a),
            ("user.name", u),
            ("n", [None, 1, "1", 2][i % 4]),
            ("event.category", ["iam", ["info", "iam"], None][i % 3]),
        )
        if v is not None
    }
    for i, (a, u) in enumerate((a, u) for a in _OPTIONS for u in _OPTIONS)
]


@settings(max_examples=int(__import__("os").environ.get("CTDETECT_HYPOTHESIS_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_fast_tree)
def test_fast_paths_agree_with_plain_compilation(node: ast.Node) -> None:
    from ctdetect.query import predicate

    fast = compile_query(node, {"n": "long"})
    predicate.FAST_PATHS = False
    try:
        plain = compile_query(node, {"n": "long"})
    finally:
        predicate.FAST_PATHS = True
    assert [fast(d) for d in _GRID] == [plain(d) for d in _GRID]


def _check_esql(text: str) -> None:
    """ES|QL is a pipeline, not a filter: it parses to its own tree (``query.esql``)."""
    try:
        parse_esql(text)
    except QueryParseError as exc:
        assert exc.line is not None and exc.line >= 1 and exc.column is not None and exc.column >= 1
        assert exc.language == "esql"


@SETTINGS
@given(st.text(max_size=60))
def test_esql_random_text(text: str) -> None:
    _check_esql(text)


@SETTINGS
@given(st.lists(ALPHABET | st.sampled_from(["|", " | keep ", " | stats ", " by ", '"""', "::"]), max_size=25).map("".join))
def test_esql_random_token_soup(text: str) -> None:
    _check_esql("from a | " + text)


@SETTINGS
@given(mutated(ESQL_SEEDS))
def test_esql_mutated_real_queries(text: str) -> None:
    _check_esql(text)
