"""ES|QL evaluation semantics over column tables: nulls, multi-values, coercions, commands."""

from __future__ import annotations

import pytest

from ctdetect.query.esql.evaluate import EsqlUnsupported, Program
from ctdetect.query.esql.parser import parse_esql
from ctdetect.query.esql.sources import source_columns
from ctdetect.catalogue import load_catalogue

T0 = 1_722_470_400_000  # 2024-08-01T00:00:00Z
CATALOGUE = load_catalogue()


def run(query: str, docs: list[dict], now: int = T0 + 3_600_000, **kw):  # type: ignore[no-untyped-def]
    program = Program.prepare(parse_esql(query), lambda idx: source_columns(idx, CATALOGUE))
    return program.run(docs, now, **kw).rows()


def doc(minute: int, action: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    d = {"@timestamp": f"2024-08-01T00:{minute:02d}:00.000Z", "event.action": action, "event.dataset": "aws.cloudtrail"}
    d.update({k.replace("__", "."): v for k, v in fields.items()})
    return d


DOCS = [
    doc(1, "ListUsers", user__name="alice", source__ip="10.0.0.1", event__type=["info", "access"]),
    doc(2, "ListRoles", user__name="alice", source__ip="10.0.0.2"),
    doc(3, "GetUser", user__name="bob", source__ip="192.168.1.1", event__type=["info"]),
    doc(14, "ListUsers", user__name="alice"),
]
SRC = "from logs-aws.cloudtrail-* "


def test_where_three_valued_logic_and_multi_values() -> None:
    assert [r["user.name"] for r in run(SRC + "| where source.ip is null | keep user.name", DOCS)] == ["alice"]
    # a single-value comparison on a multi-valued cell is null, so the row is dropped; a one-element array is a single value
    assert [r["event.action"] for r in run(SRC + '| where event.type == "info" | keep event.action', DOCS)] == ["GetUser"]
    assert len(run(SRC + '| where not (source.ip == "10.0.0.1")', DOCS)) == 2  # null stays null under NOT
    assert [r["event.action"] for r in run(SRC + '| where event.action like "List*" and event.action rlike "List(U|R).*" | keep event.action', DOCS)] == ["ListUsers", "ListRoles", "ListUsers"]


def test_ip_and_date_coercions() -> None:
    rows = run(SRC + '| where source.ip > "10.0.0.1" and @timestamp >= "2024-08-01T00:02:00Z" | keep event.action', DOCS)
    assert [r["event.action"] for r in rows] == ["ListRoles", "GetUser"]
    rows = run(SRC + "| where @timestamp >= now() - 50 minutes | keep event.action", DOCS)
    assert [r["event.action"] for r in rows] == ["ListUsers"]
    assert run(SRC + '| where cidr_match(source.ip, "10.0.0.0/8") | stats n = count(*)', DOCS) == [{"n": 2}]


def test_stats_groups_multi_valued_keys_and_aggregates_every_value() -> None:
    rows = run(SRC + "| eval w = date_trunc(10 minutes, @timestamp) | stats n = count(*), d = count_distinct(event.action), v = values(event.action), t = count(event.type) by user.name, w | sort user.name, w", DOCS)
    assert rows[0] == {"n": 2, "d": 2, "v": ["ListRoles", "ListUsers"], "t": 2, "user.name": "alice", "w": T0}
    assert rows[1]["w"] == T0 + 600_000 and rows[1]["n"] == 1
    assert rows[2]["user.name"] == "bob"
    rows = run(SRC + "| stats n = count(*) by event.type | sort event.type", DOCS)
    assert rows == [{"n": 1, "event.type": "access"}, {"n": 2, "event.type": "info"}, {"n": 2, "event.type": None}]


def test_stats_where_case_sum_and_expressions_over_aggregates() -> None:
    rows = run(SRC + '| stats lists = count(*) where starts_with(event.action, "List"), s = sum(case(user.name == "bob", 1, 0)), ratio = to_double(count(*)) / 4 by user.name | sort user.name', DOCS)
    assert rows == [{"lists": 3, "s": 0, "ratio": 0.75, "user.name": "alice"}, {"lists": 0, "s": 1, "ratio": 0.25, "user.name": "bob"}]
    assert run(SRC + "| where user.name == \"nobody\" | stats n = count(*)", DOCS) == [{"n": 0}]


def test_keep_drop_rename_sort_limit_mv_expand() -> None:
    rows = run(SRC + "| keep event.*, user.name | drop event.dataset | rename user.name as who | sort event.action desc nulls last | limit 2", DOCS)
    assert [list(r) for r in rows] == [["event.action", "event.type", "who"]] * 2
    assert [r["event.action"] for r in rows] == ["ListUsers", "ListUsers"]
    rows = run(SRC + "| mv_expand event.type | where event.type is not null | keep event.type", DOCS)
    assert [r["event.type"] for r in rows] == ["info", "access", "info"]


def test_dissect_grok_and_string_functions() -> None:
    docs = [doc(1, "CreateAccessKey", aws__cloudtrail__response_elements="{accessKey={accessKeyId=AKIAXXXXXXXXXXXXXXXX, userName=eve}}")]
    rows = run(SRC + '| grok aws.cloudtrail.response_elements "accessKeyId=%{NOTSPACE:key}," | dissect aws.cloudtrail.response_elements "{accessKey={%{?k}=%{}, userName=%{user}}}" | eval u = to_upper(user), c = concat(key, "/", u), n = mv_count(["a", "b"]) | keep key, user, c, n', docs)
    assert rows == [{"key": "AKIAXXXXXXXXXXXXXXXX", "user": "eve", "c": "AKIAXXXXXXXXXXXXXXXX/EVE", "n": 2}]


def test_full_text_functions_read_the_source_document() -> None:
    rows = run(SRC + '| where KQL("event.action: List* and not user.name: bob") and user.name : "alice" | stats n = count(*)', DOCS)
    assert rows == [{"n": 3}]


def test_default_limit_and_row_source() -> None:
    many = [doc(1, "X") for _ in range(1_200)]
    assert len(run(SRC + "| keep event.action", many)) == 1000
    assert run("row a = 1, b = a + 1 | eval c = b * 10 / 4", []) == [{"a": 1, "b": 2, "c": 5}]


@pytest.mark.parametrize("query", [SRC + "| enrich policy on user.name", SRC + "| lookup join idx on user.name", SRC + "| where user.name == ?who", SRC + "| stats p = percentile(x, 50)"])
def test_what_is_not_run_says_so(query: str) -> None:
    with pytest.raises(EsqlUnsupported):
        Program.prepare(parse_esql(query), lambda idx: source_columns(idx, CATALOGUE))
