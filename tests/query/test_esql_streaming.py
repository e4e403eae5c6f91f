"""``query.esql.streaming``: folding documents one batch at a time, in any order, gives the table
the whole query gives over the documents in time order."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from ctdetect.query.esql.evaluate import Program
from ctdetect.query.esql.parser import parse_esql
from ctdetect.query.esql.streaming import StreamPlan, plan_stream

TYPES = {"@timestamp": "date", "user.name": "keyword", "event.action": "keyword", "cloud.region": "keyword",
         "source.ip": "ip", "http.response.bytes": "long", "tags": "keyword"}
QUERIES = [
    "from logs-* | where event.action like \"Get*\" | stats n = count(*), r = count_distinct(cloud.region), v = values(cloud.region), "
    "lo = min(@timestamp), hi = max(@timestamp) by user.name | where n >= 2",
    "from logs-* | stats n = count(*), a = values(event.action), c = count(tags) by tags",  # a multi-valued key: a group a value
    "from logs-* | mv_expand tags | stats n = count(*) where user.name == \"bob\", m = count(*), v = values(http.response.bytes) by tags, cloud.region",
    "from logs-* | where user.name != \"x\" | eval w = date_trunc(10 minutes, @timestamp) | stats n = count(*), first = min(@timestamp) by w | sort n desc",
    "from logs-* | stats n = count(*), v = values(http.response.bytes)",  # no BY: one row even over nothing
]


def _source_columns(indices: tuple[str, ...]) -> dict[str, str]:
    return dict(TYPES)


def _docs(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        doc: dict[str, Any] = {"@timestamp": 1_700_000_000_000 + rng.randrange(0, 600_000, 1000), "user.name": rng.choice(["alice", "bob", "carol"]),
                               "event.action": rng.choice(["GetObject", "GetBucketAcl", "PutObject", "ListBuckets"]),
                               "cloud.region": rng.choice(["us-east-1", "eu-west-1", "ap-south-1"]),
                               # 1, 1.0 and True are one value to VALUES, which shows the first row's
                               "http.response.bytes": rng.choice([1, 1.0, 2, 3.5, None])}
        if rng.random() < 0.5:
            doc["tags"] = rng.sample(["a", "b", "c"], rng.randint(1, 3))
        doc["_ts"] = doc["@timestamp"]
        out.append(doc)
    return out


def _plan(text: str) -> tuple[Program, StreamPlan]:
    query = parse_esql(text)
    stream = plan_stream(query, _source_columns)
    assert isinstance(stream, StreamPlan), stream
    return Program.prepare(query, _source_columns), stream


def _table_json(table: Any) -> str:
    return json.dumps([table.rows(), table.types], default=repr)


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_folding_in_any_order_gives_the_whole_querys_table(text: str, seed: int) -> None:
    program, stream = _plan(text)
    docs = _docs(seed, 120)
    ordered = sorted(range(len(docs)), key=lambda i: (docs[i]["@timestamp"], i))
    kept = program.filter_docs([docs[i] for i in ordered], 0)
    want = program.run([docs[ordered[i]] for i in kept], 0, prefiltered=True)
    arrival = [ordered[i] for i in kept]
    random.Random(seed).shuffle(arrival)  # input order is not time order
    fold = stream.window()
    for start in range(0, len(arrival), 17):
        part = arrival[start:start + 17]
        batch = stream.rows([docs[i] for i in part])
        fold.add(batch, range(len(part)), [(docs[i]["@timestamp"], i) for i in part])
    assert fold.disordered
    assert _table_json(fold.result(0, None)) == _table_json(want)


def test_an_empty_window_without_by_answers_one_row() -> None:
    _, stream = _plan(QUERIES[-1])
    assert stream.window().result(0, None).rows() == [{"n": 0, "v": None}]


@pytest.mark.parametrize(("text", "why"), [
    ("from logs-* | stats s = sum(http.response.bytes) by user.name", "order"),
    ("from logs-* | eval t = @timestamp | stats lo = min(t) by user.name", "MIN/MAX"),
    ("from logs-* | stats lo = min(user.name)", "MIN/MAX"),
    ("from logs-* | stats a = avg(http.response.bytes)", "AVG"),
])
def test_order_dependent_aggregates_do_not_stream(text: str, why: str) -> None:
    found = plan_stream(parse_esql(text), _source_columns)
    assert isinstance(found, str) and why in found
