"""``Program.filter_docs`` learns which leading ``WHERE`` conditions drop most and runs them
first: the documents kept never change, the cells read do."""

from __future__ import annotations

import random

from ctdetect.query import parse_query
from ctdetect.query.esql import evaluate
from ctdetect.query.esql.evaluate import Program

QUERY = (
    'from logs-* | where data_stream.dataset == "aws.cloudtrail" and user.name is not null'
    ' and source.ip is not null and aws.cloudtrail.session_credential_from_console is null | stats n = count(*) by user.name'
)
TYPES = {"data_stream.dataset": "keyword", "user.name": "keyword", "source.ip": "ip", "aws.cloudtrail.session_credential_from_console": "keyword"}


def _program() -> Program:
    return Program.prepare(parse_query(QUERY, "esql"), lambda indices: dict(TYPES))


def _docs(rng: random.Random, n: int) -> list[dict]:
    docs = []
    for _ in range(n):
        doc = {"data_stream.dataset": rng.choice(["aws.cloudtrail"] * 9 + ["other"])}
        if rng.random() < 0.9:
            doc["user.name"] = rng.choice(["a", "b", ["a", "b"], []])
        if rng.random() < 0.95:
            doc["source.ip"] = rng.choice(["10.0.0.1", "2001:db8::1", "not an ip"])
        if rng.random() < 0.3:
            doc["aws.cloudtrail.session_credential_from_console"] = rng.choice(["true", None])
        docs.append(doc)
    return docs


def _in_query_order(program: Program, docs: list[dict]) -> list[int]:
    """Each condition over every document, as written: the documents all of them keep."""
    rows = range(len(docs))
    for condition, fields in zip(program.prefilter, program.prefilter_reads):
        mask = condition(program.table(docs, fields, exact=True), evaluate.Context(0, docs))
        rows = [i for i in rows if mask[i] is True]
    return list(rows)


def test_the_order_learnt_keeps_the_same_documents_and_cells() -> None:
    rng = random.Random(7)
    program, reference = _program(), _program()
    for size in (50, 400, 1, 0, 300, 999):
        docs = _docs(rng, size)
        cells: dict[str, list] = {}
        kept = program.filter_docs(docs, 0, cells)
        assert kept == _in_query_order(reference, docs)
        for name, column in cells.items():  # each cell read is the kept document's, in order
            assert column == reference.table([docs[i] for i in kept], {name}, exact=True).column(name), name


def test_the_condition_dropping_most_runs_first_and_spares_the_others_cells(monkeypatch) -> None:
    program = _program()
    assert program.prefilter_order == [0, 1, 2, 3]
    # the last condition drops nearly everything, the first nothing
    docs = [{"data_stream.dataset": "aws.cloudtrail", "user.name": "a", "source.ip": "10.0.0.1",
             "aws.cloudtrail.session_credential_from_console": "true" if i % 50 else None} for i in range(500)]
    program.filter_docs(docs, 0)
    assert program.prefilter_order == [3, 0, 1, 2]  # stable: the ones keeping all stay in the query's order
    read: list[int] = []
    plain = evaluate._plain_column
    monkeypatch.setattr(evaluate, "_plain_column", lambda ds, name: read.append(len(ds)) or plain(ds, name))
    assert program.filter_docs(docs, 0) == list(range(0, 500, 50))
    assert read == [500, 10, 10, 10]  # the console column over all, the others over the ten it kept (in query order: 4 x 500)
