"""``ctdetect esql``: an ES|QL hunting query over CloudTrail archives, offline.

Why: hunters now write ES|QL in Discover; the same query should run over a raw archive on a
laptop. The query is parsed and resolved first (a cluster would refuse an unknown column or
function before reading anything; so do we), then events stream through the query's
leading WHERE conditions in batches, and the whole query runs once over the candidates.
The result has the shape of Elasticsearch's ES|QL response: ``columns`` (name, type) and
``values`` (one list per row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ctdetect.readers import SkipCounter

BATCH = 4096


class EsqlQueryError(ValueError):
    """The query does not parse, does not resolve, or uses what the embedded evaluator does not run."""


@dataclass(slots=True)
class EsqlRun:
    columns: list[tuple[str, str | None]]
    values: list[list[Any]]
    events_read: int
    candidates: int
    skips: SkipCounter
    problems: list[str] = field(default_factory=list)


def prepare(text: str) -> Any:
    """The runnable program of ``text`` (raises ``EsqlQueryError`` with every problem found)."""
    from ctdetect.catalogue import load_catalogue
    from ctdetect.query.errors import QueryParseError
    from ctdetect.query.esql.analyze import analyze
    from ctdetect.query.esql.evaluate import EsqlUnsupported, Program
    from ctdetect.query.esql.parser import parse_esql
    from ctdetect.query.esql.sources import source_columns

    try:
        query = parse_esql(text)
    except QueryParseError as exc:
        raise EsqlQueryError(str(exc)) from None
    catalogue = load_catalogue()
    columns = lambda indices: source_columns(indices, catalogue)  # noqa: E731
    errors = [p for p in analyze(query, columns) if p.severity == "error"]
    if errors:
        raise EsqlQueryError("; ".join(f"line {p.position(text)[0]}, column {p.position(text)[1]}: {p.message}" for p in errors))
    try:
        return Program.prepare(query, columns)
    except EsqlUnsupported as exc:
        raise EsqlQueryError(str(exc)) from None


def run_esql(text: str, paths: list[str], *, now_ms: int, geoip_db: str | None = None, stdin: BinaryIO | None = None) -> EsqlRun:
    """Run ES|QL ``text`` over the events of ``paths``; ``NOW()`` is ``now_ms``."""
    from ctdetect.query.esql.scalars import iso
    from ctdetect.query.esql.sources import document_index, selects
    from ctdetect.ecs.stream import EventIdWindow, iter_events
    from ctdetect.services.inputs import make_mapper

    program = prepare(text)
    skips = SkipCounter()
    candidates: list[dict] = []
    batch: list[dict] = []
    read = 0

    def flush() -> None:
        reads = [d for d in batch if selects(program.query.indices, document_index(d))]
        candidates.extend(reads[i] for i in program.filter_docs(reads, now_ms))
        batch.clear()

    # The one ingest path: every input shape, and repeats of an event.id counted once.
    for event in iter_events(paths, mapper=make_mapper(geoip_db), on_skip=skips, stdin=stdin, dedupe=EventIdWindow()):
        read += 1
        batch.append(event)
        if len(batch) >= BATCH:
            flush()
    flush()
    table = program.run(candidates, now_ms, prefiltered=True)
    names = list(table.columns)
    types = [table.types.get(n) for n in names]
    values = []
    for row in zip(*(table.columns[n] for n in names)) if names else []:
        values.append([_out(v, t, iso) for v, t in zip(row, types)])
    return EsqlRun(list(zip(names, types)), values, read, len(candidates), skips, list(table.notes))


def _out(value: Any, type_: str | None, iso: Any) -> Any:
    if type_ in ("date", "date_nanos"):
        if isinstance(value, list):
            return [iso(v) for v in value]
        return iso(value) if isinstance(value, int) else value
    return value
