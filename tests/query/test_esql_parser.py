"""The ES|QL parser: every command of the reference, literals, parameters, errors with positions,
and every ES|QL rule in Elastic's anchors."""

from __future__ import annotations

import tomllib

import pytest

from ctdetect.query import parse_query
from ctdetect.query.errors import QueryParseError
from ctdetect.query.esql import ast as e
from ctdetect.query.esql.parser import parse_esql
from conftest import shared_path


def test_from_metadata_and_pipeline_shape() -> None:
    q = parse_esql('FROM logs-aws.cloudtrail-*, ".alerts-security.*" METADATA _id, _version, _index\n| where x == 1')
    assert q.indices == ("logs-aws.cloudtrail-*", ".alerts-security.*")
    assert q.metadata == ("_id", "_version", "_index")
    assert isinstance(q.commands[0], e.Where) and not q.aggregating
    assert parse_query("from a | stats c = count(*)", "esql").aggregating


def test_every_processing_command_parses() -> None:
    q = parse_esql(
        "from a | where x > 1 | eval y = x * 2, x + 1 | stats c = count(*), max(y) where y > 2 by g = date_trunc(1 hour, @timestamp), h"
        " | inline stats t = sum(c) by h | inlinestats u = 1 | keep c, g*, `h` | drop u | rename c as cc, dd = g"
        ' | sort cc desc nulls first, h asc | limit 5 | mv_expand h | dissect h "%{a} %{b}" append_separator = "-"'
        ' | grok h "%{WORD:w}", "%{NUMBER:n}" | enrich pol on h with nn = g, k | lookup join idx on h'
        " | change_point cc on dd as ty, pv | sample 0.25 | fork (where a > 1) (where b < 2 | limit 3)"
    )
    kinds = [type(c).__name__ for c in q.commands]
    assert kinds == ["Where", "Eval", "Stats", "Stats", "Stats", "Keep", "Drop", "Rename", "Sort", "Limit", "MvExpand", "Dissect", "Grok", "Enrich", "LookupJoin", "ChangePoint", "Sample", "Fork"]
    stats = q.commands[2]
    assert [a.name for a in stats.aggregates] == ["c", "max(y)"] and stats.aggregates[1].where is not None
    assert [g.name for g in stats.groups] == ["g", "h"]
    assert q.commands[1].fields[1].name == "x + 1"
    assert q.commands[7].pairs[0][:2] == ("c", "cc") and q.commands[7].pairs[1][:2] == ("g", "dd")
    assert q.commands[8].keys[0].descending and q.commands[8].keys[0].nulls_first
    assert q.commands[11].append_separator == "-"
    assert len(q.commands[17].branches) == 2


def test_literals_strings_params_and_functions() -> None:
    q = parse_esql('row a = """raw\\d "q" """, b = "tab\\there", c = ?name, d = ?1, e = ?, f = [1, 2], g = 5 minutes, h = -2.5e1 // note\n/* block */')
    values = {f.name: f.expr for f in q.source.fields}
    assert values["a"].value == 'raw\\d "q" ' and values["b"].value == "tab\there"
    assert values["c"].name == "?name" and values["d"].name == "?1" and values["e"].name == "?"
    assert [i.value for i in values["f"].items] == [1, 2]
    assert (values["g"].amount, values["g"].unit, values["g"].type) == (5, "minute", "time_duration")
    assert values["h"].value == -25.0
    w = parse_esql('from a | where KQL("x: y") and MATCH(m, "q") and QSTR("a:b") and m : "z" and n::long > 1').commands[0].condition
    calls = [n.name for n in w.walk() if isinstance(n, e.Call)]
    assert calls == ["kql", "match", "qstr"]
    assert any(isinstance(n, e.MatchOp) for n in w.walk()) and any(isinstance(n, e.Cast) and n.type == "long" for n in w.walk())


def test_keywords_are_words_and_names_can_look_like_them() -> None:
    w = parse_esql("FROM a | WHERE is_assume == 1 AND index_name IN (1) and not notes is null").commands[0].condition
    assert {n.name for n in w.walk() if isinstance(n, e.FieldRef)} == {"is_assume", "index_name", "notes"}


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("from a | where x ==", 1, 20, "unexpected end"),
        ("from a\n| whre x", 2, 3, "'whre'"),
        ("from a\n| eval t = date_trunc(10 fortnights, @timestamp)", 2, 26, "unknown time unit"),
        ('from a | where x == "bad \\q escape"', 1, 26, "unknown escape"),
        ("from a | where x in ()", 1, 22, "unexpected"),
        ("from a | sample 2", 1, 17, "probability"),
        ("from a | eval x.y(1)", 1, 15, "not a function name"),
    ],
)
def test_errors_have_positions(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(QueryParseError) as info:
        parse_esql(text)
    exc = info.value
    assert (exc.line, exc.column, exc.language) == (line, column, "esql"), str(exc)
    assert fragment in exc.message


@pytest.mark.shared
def test_every_elastic_esql_rule_parses() -> None:
    root = shared_path("anchors", "detection-rules", "rules")
    count = 0
    for path in sorted(root.rglob("*.toml")):
        rule = tomllib.loads(path.read_text(encoding="utf-8")).get("rule", {})
        if rule.get("language") == "esql":
            parse_esql(rule["query"])
            count += 1
    assert count >= 23
