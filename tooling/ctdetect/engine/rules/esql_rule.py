"""``esql`` rules: an ES|QL query per execution, each result row an alert (Kibana's ES|QL rule type).

Kibana semantics emulated, per execution window ``[t - from, t]`` (the query runs with a
time-range filter on ``@timestamp``, and ``NOW()`` is the execution time):

- **non-aggregating** queries (no ``STATS``): each row is one source document; its alert
  carries the document's fields, overlaid with the row's columns. With ``METADATA _id``
  the alert id comes from the document (``_id``, ``_version``, ``_index``), so a document
  seen by two overlapping executions alerts once, and an execution pages on until
  ``max_signals`` *new* alerts; without ``_id`` every execution alerts again;
- **aggregating** queries: each row is an alert holding only the row's columns; the id
  comes from the execution's time range and the row, so overlapping executions may alert
  on the same group again (Kibana's documentation advises a look-back no longer than the
  interval for such rules); at most ``max_signals`` rows per execution;
- what a request reads (``query.esql.rule_limits``): Kibana appends ``| limit max_signals + 1``,
  so ES|QL's default of 1,000 rows does not apply; a non-aggregating query pages with the
  documents that already alerted excluded *before* its pipeline runs (so its own ``LIMIT``
  counts new documents only); with ``MV_EXPAND`` each expanded row of a document is its own
  alert (identified by the expanded values);
- ``alert_suppression`` (``group_by``, ``duration``, ``missing_fields_strategy``): alerts
  with the same group values within the duration (else within one execution) are folded
  into the first, which counts them in ``kibana.alert.suppression.docs_count``;
- ``FROM .alerts-security.*`` reads the alerts the other rules of the same run produced
  (Kibana's alert documents, flattened), so higher-order rules work: the engine runs such
  rules after the others (``RuleEngine.finish``).

Events stream in; a leading ``WHERE`` that pins ``event.action`` or ``event.provider``
routes the rule in the engine's rule index (``esql_routing.esql_route``), so it is offered only the
events that can pass, else other fields it pins gate it (``esql_routing.esql_gate``); the leading ``WHERE`` commands over source fields then run as a
vectorised filter on batches, one condition at a time over what the earlier ones kept
(``query.esql.evaluate.Program.filter_docs``), so only candidate events are kept for the
executions.

An aggregating query runs incrementally when ``query.esql.incremental.plan_stats`` can prove
it gives the same result: its row-level part once per event, partial aggregates per time
slice merged per execution (``esql_slices.SliceIndex``); such a rule holds its matches' rows,
computed as each batch is filtered, not their documents, and an execution whose slices cannot
be merged exactly computes the ``STATS`` over all its window's rows instead. ``INCREMENTAL`` turns this off (the
equivalence test runs both ways). A rule whose look-back equals its interval (each event in
one window) streams instead when ``query.esql.streaming.plan_stream`` allows it: each match is
folded into its window's groups as its batch is filtered and nothing is held
(``esql_stream.WindowStream``); ``STREAMING`` turns this off (``tests/engine/test_esql_stream_equivalence.py``
runs both ways).

References: Kibana docs "Create an ES|QL rule" (aggregating and non-aggregating queries,
deduplication with METADATA _id, alert suppression), the alert schema, and the rule type's
executor (``.../detection_engine/rule_types/esql/esql.ts`` and its ``utils/``; see
``query.esql.rule_limits``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, NoReturn, Sequence

from ctdetect.content.model import Rule
from ctdetect.ecs.flat import flatten, nest
from ctdetect.engine.rules.alerts import alert_uuid, event_alert, event_identity
from ctdetect.engine.rules.base import CompiledRule, Match, RuleNotEvaluable
from ctdetect.engine.rules.esql_slices import SliceIndex
from ctdetect.engine.rules.esql_stream import WindowStream
from ctdetect.engine.rules.esql_routing import esql_gate, esql_route
from ctdetect.engine.rules.schedule import Schedule
from ctdetect.engine.rules.timeutil import duration_ms, iso_ms, parse_iso_ms, to_datetime
from ctdetect.findings import Finding, alert_finding
from ctdetect.query.esql.fields import FieldsNotListed, source_fields
from ctdetect.query.esql.rule_limits import expanded_fields, rows_per_request
from ctdetect.query.esql.sources import METADATA_FIELDS, selects

BATCH = 2048
INCREMENTAL = True  # aggregating queries merge per-slice partial aggregates (esql_slices)
# aggregating queries whose look-back equals their interval fold events as they come (esql_stream)
STREAMING = True
# an aggregating query's held events keep only the fields it reads (``kept_fields``)
PROJECT_HELD = True
ALERTS_INDEX = ".alerts-security.alerts-default"



def compile_esql_rule(rule: Rule, schedule: Schedule, time_field: str | None, field_types: dict[str, str]) -> "EsqlRule":
    from ctdetect.query import parse_query
    from ctdetect.query.errors import QueryParseError
    from ctdetect.query.esql.evaluate import EsqlUnsupported, Program
    from ctdetect.query.esql.sources import columns_for, matching_sources, DATA_SOURCES

    if not isinstance(rule.query, str) or not rule.query.strip():
        raise RuleNotEvaluable("ES|QL rule without a query")
    try:
        query = parse_query(rule.query, "esql")  # parsed once: ``needed_fields`` read it first
    except QueryParseError as exc:
        raise RuleNotEvaluable(f"ES|QL query does not parse: {exc}") from None

    def source_columns(indices: tuple[str, ...]) -> dict[str, str] | None:
        kinds = {DATA_SOURCES[i] for pattern in indices for i in matching_sources(pattern)}
        return columns_for(kinds or {"events"}, field_types)

    try:
        program = Program.prepare(query, source_columns)
    except EsqlUnsupported as exc:
        raise RuleNotEvaluable(f"ES|QL: {exc}") from None
    reads_alerts = selects(query.indices, ALERTS_INDEX)
    suppression = rule.rule.get("alert_suppression") if isinstance(rule.rule.get("alert_suppression"), dict) else None
    compiled = EsqlRule(rule, schedule, time_field, program=program, reads_alerts=reads_alerts, suppression=suppression,
                        kept=kept_fields(query, time_field) if PROJECT_HELD and not reads_alerts else None)
    if not reads_alerts:  # a higher-order rule reads the run's alerts, not the event stream
        compiled.route = esql_route(program.prefilter_exprs, program.source_types)
        if compiled.route is None:
            compiled.gate = esql_gate(program.prefilter_exprs, program.source_types)
        if INCREMENTAL and schedule.lookback_ms > schedule.interval_ms:  # else each event is in one window already
            from ctdetect.query.esql.incremental import plan_stats

            plan = plan_stats(query, source_columns)
            if not isinstance(plan, str):
                compiled.slices = SliceIndex(plan, schedule)
                # the row-level part's table takes the prefilter's columns when both read cells alike
                compiled.share_cells = plan.program.source_types == program.source_types
        elif STREAMING and schedule.lookback_ms == schedule.interval_ms:
            from ctdetect.query.esql.streaming import plan_stream

            streaming = plan_stream(query, source_columns)
            if not isinstance(streaming, str):
                compiled.stream = WindowStream(streaming, schedule.interval_ms)
                compiled.share_cells = streaming.plan.program.source_types == program.source_types
    return compiled


def kept_fields(query: Any, time_field: str | None) -> tuple[str, ...] | None:
    """The fields of a matched event an aggregating rule must hold for its later executions,
    or None (hold whole events).

    A rule holds each matching event until no execution can see it any more (its look-back,
    and hours more for late events): in a dense archive, tens of thousands of whole ECS
    documents. An aggregating query's rows, and so its alerts, are made only of what its
    STATS computes from the fields it reads (``query.esql.fields``), so those fields, the
    times the schedule reads and the metadata fields (``_id``, ``_index``..., and ``_ts``)
    are all it needs: a tuple, since taking a few named fields from an event costs far less
    than filtering its every key. A
    non-aggregating query's alerts carry the documents' columns: it holds whole events."""
    if not query.aggregating:
        return None
    try:
        fields = source_fields(query)
    except FieldsNotListed:
        return None
    if any("*" in f or "?" in f for f in fields):
        return None  # a KEEP pattern before STATS: not worth matching patterns per event
    keep = fields | {"@timestamp", "event.ingested", "_ts"} | set(METADATA_FIELDS) | ({time_field} if time_field else set())
    return tuple(sorted(keep))


@dataclass(slots=True)
class EsqlRule(CompiledRule):
    program: Any = None
    reads_alerts: bool = False
    suppression: dict | None = None
    # the batch offered since the last flush, as three columns: a ``Match`` is made only for
    # a document the prefilter keeps (and none for a rule whose slices hold its rows instead)
    pending: list[dict] = field(default_factory=list)
    pending_ts: list[int] = field(default_factory=list)
    pending_seq: list[int] = field(default_factory=list)
    alerted: set[tuple] = field(default_factory=set)  # (seq,) or (seq, expanded values): Kibana's alert identity
    alerted_docs: set[int] = field(default_factory=set)  # documents Kibana excludes from later requests
    suppressed: dict[tuple, tuple[int, dict]] = field(default_factory=dict)  # group -> (until ms, alert flat)
    slices: SliceIndex | None = None  # the incremental evaluation, when the query has one
    stream: WindowStream | None = None  # the streaming evaluation (look-back == interval), when the query has one
    whole_runs: int = 0  # executions of an incremental rule that ran the whole query instead
    _index_cache: dict[str, bool] = field(default_factory=dict)
    kept: tuple[str, ...] | None = None  # the fields a held event keeps (``kept_fields``); None: all
    share_cells: bool = False  # whether the slices' or stream's row-level part reads the prefilter's columns

    # ------------------------------------------------------------------ input
    def _reads(self, index: str) -> bool:
        ok = self._index_cache.get(index)
        if ok is None:
            ok = self._index_cache[index] = selects(self.program.query.indices, index)
        return ok

    def offer(self, event: dict, seq: int) -> None:
        self.offer_batch((event,), (0,), seq, _reraise)

    def offer_batch(
        self, events: Sequence[dict], positions: Sequence[int], first_seq: int, failed: Callable[[Any, int, Exception], None]
    ) -> None:
        """Hold ``events[i]`` (input position ``first_seq + i``) for each ``i`` of ``positions``
        that is in an index the query reads and has a time, flushing every ``BATCH`` held
        (``CompiledRule.offer_batch``'s contract: an event the rule chokes on, or whose flush
        raised, goes to ``failed``). Why one loop: offered one at a time (``offer`` from the
        base's loop) the ES|QL rules cost a call, an index look-up call and a time look-up
        call each for ~3 offers per event of Elastic's set; here the index and times of the
        positions come from one loop (``OfferedEvent.indices_and_times``)."""
        if self.reads_alerts:
            return
        try:
            derived: Iterable[tuple[str, int | None, int | None]] = self.offered.indices_and_times(
                events, positions, first_seq, self.time_field, self.fallback)
        except Exception:  # noqa: BLE001 - one at a time, so the events that raise are noted
            derived = self._derived_one_by_one(events, positions, first_seq, failed)
            positions = [i for i, found in zip(positions, derived) if found is not None]
            derived = [found for found in derived if found is not None]
        pending, pending_ts, pending_seq = self.pending, self.pending_ts, self.pending_seq
        for i, (index, ts, indexed) in zip(positions, derived):
            seq = first_seq + i
            if not self._reads(index) or self._placed(seq, ts, indexed) is None:
                continue
            pending.append(events[i])
            pending_ts.append(ts)
            pending_seq.append(seq)
            if len(pending) >= BATCH:
                try:
                    self._flush()
                except Exception as exc:  # noqa: BLE001 - as ``offer`` of this event raising
                    failed(self, seq, exc)
                pending, pending_ts, pending_seq = self.pending, self.pending_ts, self.pending_seq

    def _derived_one_by_one(
        self, events: Sequence[dict], positions: Sequence[int], first_seq: int, failed: Callable[[Any, int, Exception], None]
    ) -> list[tuple[str, int | None, int | None] | None]:
        """``OfferedEvent.indices_and_times`` of each position on its own: None for an event
        whose index or time raised (handed to ``failed``)."""
        offered, out = self.offered, []
        found: tuple[str, int | None, int | None] | None
        for i in positions:
            seq = first_seq + i
            try:
                found = (offered.index_of(events[i], seq), *offered.times_of(events[i], seq, self.time_field, self.fallback))
            except Exception as exc:  # noqa: BLE001 - noted by the engine, never fatal
                failed(self, seq, exc)
                found = None
            out.append(found)
        return out

    def offer_alerts(self, alerts: Sequence[Finding]) -> None:
        """The alerts of this run, as ``.alerts-security.*`` documents (higher-order rules)."""
        for seq, alert in enumerate(alerts):
            if alert.kind != "alert" or alert.source_id == self.rule.rule_id:
                continue
            doc = flatten(alert.document)
            doc["_index"] = ALERTS_INDEX
            doc["_id"] = doc.get("kibana.alert.uuid")
            ts = parse_iso_ms(doc.get("@timestamp"))
            if ts is None:
                self.untimed += 1
                continue
            doc["_ts"] = ts
            self.pending.append(doc)
            self.pending_ts.append(ts)
            self.pending_seq.append(-1 - seq)
        self._flush()

    def _flush(self) -> None:
        docs, times, seqs = self.pending, self.pending_ts, self.pending_seq
        if not docs:
            return
        self.pending, self.pending_ts, self.pending_seq = [], [], []
        cells: dict[str, list] | None = {} if self.share_cells else None  # columns the prefilter read
        kept = self.program.filter_docs(docs, max(times), cells)
        if self.stream is not None:
            self.stream.take(self, [Match(times[i], seqs[i], docs[i]) for i in kept], cells)
            delayed = self._delayed
            if delayed:  # what the stream did not read of it is never read (held events keep theirs)
                for seq in seqs:
                    delayed.pop(seq, None)
            return
        slices = self.slices
        if slices is None:
            for i in kept:
                self._keep(Match(times[i], seqs[i], docs[i]))
            return
        if not kept:
            return
        # The row-level part of the batch's matches, run once; the rule holds their rows (in
        # the slices, and as its matches for the schedule), not their documents.
        if len(kept) < len(docs):
            docs, times, seqs = [docs[i] for i in kept], [times[i] for i in kept], [seqs[i] for i in kept]
        self._keep_all(slices.admit(docs, times, seqs, self._delayed, cells), slices.add_all)

    def _keep(self, item: Match) -> None:
        kept = self.kept
        if kept is not None:
            event = item.event
            item = Match(item.ts, item.seq, {k: event[k] for k in kept if k in event})
        CompiledRule._keep(self, item)

    def _settle(self, limit: int | None) -> None:
        if self.slices is not None:
            self.slices.horizon = limit  # the slices these executions see are computed in one batch
        CompiledRule._settle(self, limit)

    def _window(self, items: list[Any], lo: int, hi: int) -> Sequence[Any]:
        # An incremental execution reads its slices, not its window (a week of matches to copy):
        # the window is read only by an execution that runs the whole query instead.
        return _Window(items, lo, hi) if self.slices is not None else items[lo:hi]

    def _searchable(self, executed_at: int, window: Sequence[Any]) -> Sequence[Any]:
        # The slices know which events an execution sees: no pass over the window here.
        return window if self.slices is not None else CompiledRule._searchable(self, executed_at, window)

    # ------------------------------------------------------------------ executions
    def _execute(self, executed_at: int, window: Sequence[Match]) -> None:
        if self.slices is None:
            self._run_whole(executed_at, window)
            return
        limit = rows_per_request(self.rule.max_signals)
        try:
            merged = self.slices.result(executed_at, limit)
        except Exception:  # not exactly mergeable, or a query error: the STATS over all the window's rows decides
            self.whole_runs += 1
            window = CompiledRule._searchable(self, executed_at, window)
            if window:
                self.alert_rows(executed_at, self.slices.whole(executed_at, window, limit), window)
            return
        if merged is not None:
            self.alert_rows(executed_at, merged, window)

    def _run_whole(self, executed_at: int, window: Sequence[Match]) -> None:
        """The execution as one request runs the whole query over the window's events."""
        query = self.program.query
        dedupe = not query.aggregating and "_id" in query.metadata
        expanded = expanded_fields(query)
        if dedupe and not expanded:
            # Kibana's must_not-ids filter: documents that already alerted never reach the pipeline.
            window = [m for m in window if m.seq not in self.alerted_docs]
        # One request of max_signals + 1 rows; a non-aggregating query with MV_EXPAND pages on
        # (its already-alerted rows come back), which reading every row stands in for.
        limit = None if dedupe and expanded else rows_per_request(self.rule.max_signals)
        table = self.program.run([m.event for m in window], executed_at, limit=limit, unbounded=limit is None, prefiltered=True)
        self.alert_rows(executed_at, table, window)

    def alert_rows(self, executed_at: int, table: Any, window: Sequence[Match]) -> None:
        """The alerts of an execution's result rows (at most ``max_signals``, after suppression)."""
        if not table.size:  # most executions: nothing to read of the query (its commands walked twice per execution)
            return
        query = self.program.query
        aggregating = query.aggregating
        max_signals = self.rule.max_signals
        dedupe = not aggregating and "_id" in query.metadata
        expanded = expanded_fields(query)
        types = table.types
        created = 0
        for row_no, row in enumerate(table.rows()):
            if created >= max_signals:
                break
            columns = {k: _out(v, types.get(k)) for k, v in row.items()}
            if not aggregating and table.source_rows is not None:
                match = window[table.source_rows[row_no]]
                ident = event_identity(match.event, match.seq)
                if dedupe:
                    key = (match.seq, *_expanded_values(expanded, columns))
                    if key in self.alerted:
                        continue
                    identities: tuple = (ident, *key[1:])
                    self.alerted.add(key)
                    self.alerted_docs.add(match.seq)
                else:
                    identities = (ident, executed_at)
                alert = event_alert(self.rule, self.rule_flat, match.event, match.seq, match.ts, executed_at, extra=columns, identities=identities)
            else:
                alert = self._row_alert(columns, executed_at, row_no)
            if self._suppress(alert, executed_at):
                continue
            self.output.append(alert)
            created += 1

    def _row_alert(self, columns: dict[str, Any], executed_at: int, row_no: int) -> Finding:
        flat = dict(columns)
        flat.update(self.rule_flat)
        start = executed_at - self.schedule.lookback_ms
        flat.update(
            {
                "@timestamp": iso_ms(executed_at),
                "event.kind": "signal",
                "kibana.alert.original_time": iso_ms(executed_at),
                "kibana.alert.uuid": alert_uuid(self.rule.rule_id, start, executed_at, self.rule.query, row_no),
                "kibana.alert.depth": 1,
                "kibana.alert.reason": f"ES|QL rule {self.rule.name} returned a row: " + ", ".join(f"{k}={v}" for k, v in list(columns.items())[:4]),
            }
        )
        return alert_finding(self.rule, executed_at, nest(flat), dict(columns))

    def _suppress(self, alert: Finding, executed_at: int) -> bool:
        """Fold ``alert`` into an earlier one of its suppression group (True: it was folded)."""
        spec = self.suppression
        if not spec or not spec.get("group_by"):
            return False
        values = tuple(_key(alert.get(f)) for f in spec["group_by"])
        if any(v is None for v in values) and spec.get("missing_fields_strategy") == "doNotSuppress":
            return False
        duration = spec.get("duration")
        until = executed_at + duration_ms(f"{duration['value']}{duration['unit']}") if isinstance(duration, dict) else executed_at
        found = self.suppressed.get(values)
        if found is not None and executed_at <= found[0]:
            doc = found[1]
            alert_doc = doc.setdefault("kibana", {}).setdefault("alert", {}).setdefault("suppression", {})
            alert_doc["docs_count"] = alert_doc.get("docs_count", 0) + 1
            alert_doc["end"] = iso_ms(executed_at)
            return True
        doc = alert.document
        doc.setdefault("kibana", {}).setdefault("alert", {})["suppression"] = {
            "terms": [{"field": f, "value": v} for f, v in zip(spec["group_by"], values)],
            "start": iso_ms(executed_at), "end": iso_ms(executed_at), "docs_count": 0,
        }
        self.suppressed[values] = (until, doc)
        return False

    def finish(self, anomalies: list[Finding]) -> list[Finding]:
        self._flush()
        if self.stream is not None:
            self.stream.settle(self, None)
            self.stream.clear()
            self._delayed.clear()
            return self.output
        self._settle(None)
        if self.slices is not None:
            self.slices.clear()
        return self.output


class _Window(Sequence[Match]):
    """``items[lo:hi]`` without the copy, valid while the execution runs (``items`` unchanged)."""

    __slots__ = ("items", "lo", "hi")

    def __init__(self, items: list[Match], lo: int, hi: int) -> None:
        self.items, self.lo, self.hi = items, lo, hi

    def __len__(self) -> int:
        return self.hi - self.lo

    def __iter__(self) -> Iterator[Match]:
        return islice(self.items, self.lo, self.hi)

    def __getitem__(self, index: Any) -> Any:
        positions = range(self.lo, self.hi)[index]  # range checks bounds and negative indices
        return [self.items[i] for i in positions] if isinstance(index, slice) else self.items[positions]


def _reraise(rule: Any, seq: int, exc: Exception) -> NoReturn:
    """``offer``'s ``failed``: one event offered on its own raises what it raised."""
    raise exc


def _expanded_values(expanded: tuple[str, ...], columns: dict[str, Any]) -> tuple:
    """What tells apart the rows ``MV_EXPAND`` made of one document (Kibana's ``generateAlertId``):
    the expanded columns' values, or the whole row when one of them left the result."""
    if not expanded:
        return ()
    if all(name in columns for name in expanded):
        return tuple(repr(columns[name]) for name in expanded)
    return (repr(sorted(columns.items())),)


def _key(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value) if value else None
    return value


def _out(value: Any, type_: str | None) -> Any:
    """A cell as an alert document holds it (dates as ISO strings)."""
    if type_ in ("date", "date_nanos"):
        if isinstance(value, list):
            return [iso_ms(v) for v in value]
        return iso_ms(value) if isinstance(value, int) else value
    return value
