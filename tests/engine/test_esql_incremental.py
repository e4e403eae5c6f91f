"""Incremental ES|QL rules (per-slice partial aggregates) give what the whole-window run gives.

Both paths run over the same generated events: the package's ES|QL rules and Elastic's AWS
ES|QL rules (skipped when ../shared is absent), with their real schedules (Elastic's 7-day
look-back run hourly among them). The events are made to reach the rules: every string a
query compares a field with is a value that field takes, times fall on slice cuts (exact
multiples of 5 minutes) as well as between them, and most events are indexed late (some by
hours) so executions must leave out what was not yet searchable. Compared exactly: every
execution's result rows (what each execution's query returned) and the alerts, in order.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from conftest import shared_path
from embedded_run import run_embedded

from ctdetect.content.loaders import load_rules
from ctdetect.content.model import LoadProblem, Rule
from ctdetect.engine.rules import esql_rule
from ctdetect.query.esql import ast as e
from ctdetect.query.esql.incremental import NotMergeable, plan_stats
from ctdetect.query.esql.parser import parse_esql

PACKAGE_RULES = Path(__file__).resolve().parents[2] / "rules"
START = datetime(2026, 3, 2, 0, 0, 0, tzinfo=timezone.utc)
SPAN_MINUTES = 9 * 24 * 60
IPS = ["198.51.100.7", "203.0.113.9", "192.0.2.44", "10.0.0.5", "2001:db8::1"]
USERS = ["alice", "bob", "ci-bot", "svc-deploy"]


def _esql_rules(rules: list[Rule]) -> list[Rule]:
    return [r for r in rules if r.type == "esql" and isinstance(r.query, str)]


def _literal_pools(rules: list[Rule]) -> list[dict[str, list[Any]]]:
    """Per rule, per field, the strings its query compares the field with (LIKE patterns made concrete)."""
    out: list[dict[str, list[Any]]] = []

    def add(field: Any, value: Any) -> None:
        if isinstance(field, e.FieldRef) and isinstance(value, str):
            pools.setdefault(field.name, set()).add(value.replace("*", "x").replace("?", "y"))

    for r in rules:
        pools: dict[str, set[str]] = {}
        query = parse_esql(r.query)
        for cmd in query.commands:
            for expr in cmd.expressions():
                for node in expr.walk():
                    if isinstance(node, e.Binary) and node.op in ("==", "=~", "!="):
                        for field, other in ((node.left, node.right), (node.right, node.left)):
                            if isinstance(other, e.Literal):
                                add(field, other.value)
                    elif isinstance(node, e.In):
                        for item in node.items:
                            if isinstance(item, e.Literal):
                                add(node.operand, item.value)
                    elif isinstance(node, e.Like) and not node.regex:
                        for pattern in node.patterns:
                            add(node.operand, pattern)
                    elif isinstance(node, e.Call) and node.name in ("starts_with", "ends_with") and len(node.args) == 2:
                        if isinstance(node.args[1], e.Literal):
                            add(node.args[0], str(node.args[1].value) + "Thing" if node.name == "starts_with" else "x" + str(node.args[1].value))
        out.append({k: sorted(v) for k, v in pools.items()})
    return out


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _events(rules: list[Rule], count: int, seed: int) -> Iterator[dict]:
    rng = random.Random(seed)
    per_rule = _literal_pools(rules)
    extra = {"source.as.organization.name": ["Amazon.com, Inc.", "Evil Hosting Ltd", "Google LLC"], "aws.cloudtrail.user_identity.type": ["IAMUser", "AssumedRole"]}
    arns = ["arn:aws:iam::123456789012:user/alice", "arn:aws:sts::123456789012:assumed-role/web/i-0abc12345678", "arn:aws:sts::123456789012:assumed-role/ci/gh"]
    minutes = sorted(rng.choice([rng.randrange(0, SPAN_MINUTES, 5), rng.uniform(0, SPAN_MINUTES)]) for _ in range(count))
    for n, minute in enumerate(minutes):
        ts = START + timedelta(minutes=minute)
        user = rng.choice(USERS)
        doc: dict[str, Any] = {
            "@timestamp": _iso(ts),
            "event.dataset": "aws.cloudtrail",
            "data_stream.dataset": "aws.cloudtrail",
            "event.id": f"ev-{seed}-{n}",
            "event.outcome": rng.choice(["success", "success", "failure"]),
            "user.name": user,
            "cloud.account.id": rng.choice(["123456789012", "210987654321"]),
            "cloud.region": rng.choice(["us-east-1", "eu-west-1", "ap-south-1", "us-west-2", "sa-east-1"]),
            "source.ip": rng.choice(IPS),
            "aws.cloudtrail.user_identity.arn": rng.choice(arns),
            "aws.cloudtrail.user_identity.access_key_id": rng.choice(["AKIAEXAMPLE1", "ASIAEXAMPLE2", "ASIAEXAMPLE3", None]),
            "user_agent.original": rng.choice(["aws-cli/2.15", "Boto3/1.34", "aws-credentials-for-github-actions"]),
        }
        doc["source.address"] = doc["source.ip"]
        for pools in (extra, rng.choice(per_rule), rng.choice(per_rule)):  # mostly what one rule looks for
            for field, values in pools.items():
                if rng.random() < 0.85:
                    doc[field] = rng.choice(values)
        if user == "svc-deploy" and rng.random() < 0.97:  # a principal almost always on trusted clouds
            doc["source.as.organization.name"] = "Amazon.com, Inc."
        delay = rng.random()
        if delay < 0.6:
            doc["event.ingested"] = _iso(ts + timedelta(minutes=rng.uniform(0, 12)))
        elif delay < 0.7:
            doc["event.ingested"] = _iso(ts + timedelta(hours=rng.uniform(0, 3)))
        yield {k: v for k, v in doc.items() if v is not None}


def _stats_only(rules: list[Rule]) -> list[Rule]:
    """Each aggregating rule, and a copy that stops at its first STATS: every group's
    aggregates are then compared, not only the few rows a rule's last WHERE keeps (the
    copies' rows are compared, their alerts are not made)."""
    out = list(rules)
    for r in rules:
        query = parse_esql(r.query)
        at = next((i for i, c in enumerate(query.commands) if isinstance(c, e.Stats)), None)
        if at is not None and at + 1 < len(query.commands):
            text = r.query[: query.commands[at + 1].pos].rstrip().rstrip("|")
            out.append(replace(r, rule_id=r.rule_id + "-stats", name=r.name + " (STATS only)", query=text))
    return out


def _overlapping(rules: list[Rule]) -> list[Rule]:
    """Copies looking back 3 hours: the package's rules look back one interval, and a rule
    whose windows do not overlap runs the whole query (each event is in one window already)."""
    return [replace(r, rule_id=r.rule_id + "-3h", name=r.name + " (3h look-back)", from_="now-3h") for r in rules]


def _run(rules: list[Rule], events: list[dict], incremental: bool, monkeypatch: pytest.MonkeyPatch,
         project: bool = True) -> tuple[list[str], list[tuple], int]:
    """Alerts (as JSON, in order), every execution's result rows, and executions run whole.
    ``project``: aggregating rules hold only the fields they read of each event (else whole events)."""
    executions: list[tuple] = []
    whole = 0
    original_rows = esql_rule.EsqlRule.alert_rows
    original_finish = esql_rule.EsqlRule.finish

    def recording(self: Any, executed_at: int, table: Any, window: Any) -> None:
        executions.append((self.rule.rule_id, executed_at, json.dumps(table.rows(), default=repr), json.dumps(table.types)))
        if not self.rule.rule_id.endswith("-stats"):  # a STATS-only copy is compared by its rows: its many alerts add nothing
            original_rows(self, executed_at, table, window)

    def finishing(self: Any, anomalies: Any) -> Any:
        nonlocal whole
        out = original_finish(self, anomalies)
        whole += self.whole_runs
        return out

    monkeypatch.setattr(esql_rule, "INCREMENTAL", incremental)
    monkeypatch.setattr(esql_rule, "PROJECT_HELD", project)
    monkeypatch.setattr(esql_rule.EsqlRule, "alert_rows", recording)
    monkeypatch.setattr(esql_rule.EsqlRule, "finish", finishing)
    findings, stats = run_embedded(rules, [dict(ev) for ev in events])
    monkeypatch.undo()
    assert not stats.not_run
    alerts = [json.dumps([f.kind, f.source_id, f.document], sort_keys=False, default=repr) for f in findings]
    return alerts, executions, whole


def _compare(rules: list[Rule], events: list[dict], monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    whole_alerts, whole_rows, _ = _run(rules, events, False, monkeypatch)
    alerts, rows, fell_back = _run(rules, events, True, monkeypatch)
    assert len(rows) == len(whole_rows)
    for got, want in zip(rows, whole_rows):
        assert got == want
    assert alerts == whole_alerts
    assert fell_back == 0  # every execution of an incremental rule merged its slices
    return len(alerts), len(rows)


def test_package_esql_rules_alert_identically_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = _esql_rules(load_rules(PACKAGE_RULES, []))
    assert len(rules) >= 3
    rules = _stats_only(rules + _overlapping(rules))
    events = list(_events(rules, 2000, seed=11))
    alerts, executions = _compare(rules, events, monkeypatch)
    assert executions > 300 and alerts > 0


def test_elastic_aws_esql_rules_alert_identically_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    root = shared_path("anchors", "detection-rules", "rules", "integrations", "aws")
    problems: list[LoadProblem] = []
    rules = _esql_rules(load_rules(root, problems))
    assert len(rules) >= 20
    rules = _stats_only(rules)
    events = list(_events(rules, 700, seed=7))
    alerts, executions = _compare(rules, events, monkeypatch)
    assert executions > 300 and alerts > 0


@pytest.mark.parametrize("incremental", [True, False], ids=["incremental", "whole"])
def test_holding_only_the_read_fields_changes_no_row_and_no_alert(incremental: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Aggregating rules keep only the fields they read of the events they hold (memory in a
    dense archive); every execution's rows and every alert are the same as with whole events,
    for the package's ES|QL rules (and their 3-hour look-back copies) and Elastic's."""
    rules = _esql_rules(load_rules(PACKAGE_RULES, []))
    rules = _stats_only(rules + _overlapping(rules))
    root = shared_path("anchors", "detection-rules", "rules", "integrations", "aws")
    elastic = _stats_only(_esql_rules(load_rules(root, [])))
    for chosen, n, seed in ((rules, 1500, 5), (elastic, 600, 9)):
        events = list(_events(chosen, n, seed=seed))
        whole_alerts, whole_rows, _ = _run(chosen, events, incremental, monkeypatch, project=False)
        alerts, rows, _ = _run(chosen, events, incremental, monkeypatch, project=True)
        assert rows == whole_rows
        assert alerts == whole_alerts
        assert len(rows) > 200 and alerts


def test_an_aggregating_rule_holds_only_what_it_reads() -> None:
    from ctdetect.query.esql.parser import parse_esql

    query = parse_esql("FROM logs-aws.cloudtrail-* | WHERE event.action == \"ListBuckets\" | STATS n = COUNT(*) BY user.name | WHERE n > 3")
    kept = set(esql_rule.kept_fields(query, None) or ())
    assert {"event.action", "user.name", "@timestamp", "event.ingested", "_ts", "_id", "_index"} <= kept
    assert not {f for f in kept if not f.startswith("_")} - {"event.action", "user.name", "@timestamp", "event.ingested"}
    plain = parse_esql("FROM logs-aws.cloudtrail-* METADATA _id | WHERE event.action == \"ListBuckets\" | KEEP user.name")
    assert esql_rule.kept_fields(plain, None) is None  # its alerts carry the documents


def test_every_aggregating_rule_here_has_an_incremental_plan() -> None:
    """The package's aggregating ES|QL rules all run incrementally (a regression would be silent)."""
    from ctdetect.catalogue import load_catalogue
    from ctdetect.query.esql.sources import columns_for

    types = load_catalogue().field_types()
    for r in _esql_rules(load_rules(PACKAGE_RULES, [])):
        plan = plan_stats(parse_esql(r.query), lambda indices: columns_for({"events"}, types))
        assert not isinstance(plan, str), (r.name, plan)


def test_a_prepared_engine_copied_per_run_gives_the_same_alerts() -> None:
    """``replay`` compiles once and copies the engine per scenario: compiled ES|QL programs and
    plans are shared by the copies, the slices are not."""
    from ctdetect.backends.embedded import EmbeddedBackend
    from embedded_run import catalogue_types

    rules = _esql_rules(load_rules(PACKAGE_RULES, []))
    rules = rules + _overlapping(rules)
    events = list(_events(rules, 600, seed=3))
    fresh, _ = run_embedded(rules, [dict(ev) for ev in events])
    backend = EmbeddedBackend(catalogue_types())
    backend.prepare(rules)
    for _ in range(2):
        again = backend.run([dict(ev) for ev in events], rules, []).findings
        assert [f.document for f in again] == [f.document for f in fresh]
    assert fresh


def _query_rules(prefix: str, queries: dict[str, str], interval: str) -> list[Rule]:
    """Copies of a package rule with these queries, looking back 2 hours every ``interval``."""
    base = _esql_rules(load_rules(PACKAGE_RULES, []))[0]
    return [replace(base, rule_id=f"{prefix}-{k}", name=f"{prefix} {k}", query=q, interval=interval, from_="now-2h", max_signals=100)
            for k, q in queries.items()]


def _batch_rules() -> list[Rule]:
    """Rules with MV_EXPAND (several rows per document), a WHERE after it (documents without
    rows) and a multi-valued group key, over a 2-hour look-back run every 5 minutes."""
    return _query_rules("batch", {
        "expand": 'FROM logs-aws.cloudtrail-* | WHERE event.dataset == "aws.cloudtrail" | MV_EXPAND tags'
                  ' | WHERE tags != "skip" | STATS n = COUNT(*), users = VALUES(user.name), first = MIN(@timestamp) BY tags',
        "multi": 'FROM logs-aws.cloudtrail-* | WHERE event.dataset == "aws.cloudtrail"'
                 ' | STATS n = COUNT(*), ips = COUNT_DISTINCT(source.ip) BY tags, user.name | WHERE n > 2',
    }, "5m")


def _tagged(events: Iterator[dict], seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for ev in events:
        ev["tags"] = rng.choice([["a", "b"], ["skip", "c"], "a", ["b", "b", "c"], ["skip"], None, "d"])
        out.append({k: v for k, v in ev.items() if v is not None})
    return out


def test_rows_of_several_slices_computed_in_one_batch_split_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of matches goes through the row-level part at once (``SliceIndex.admit``) and
    its rows are split by document: with MV_EXPAND, a WHERE after it and a multi-valued group
    key, every execution's rows are still the whole run's."""
    rules = _batch_rules()
    alerts, executions = _compare(rules, _tagged(_events(rules, 1200, seed=21), 4), monkeypatch)
    assert executions > 300 and alerts > 0


def _refusing(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctdetect.engine.rules import esql_slices

    def refusing(self: Any, executed_at: int, limit: Any) -> Any:
        raise NotMergeable("refused for the test")

    monkeypatch.setattr(esql_slices.SliceIndex, "result", refusing)


@pytest.mark.parametrize("content", ["package", "elastic", "batch"])
def test_an_execution_that_cannot_merge_computes_the_stats_over_its_window(content: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An incremental rule holds its matches' rows, not their documents: when the slices
    cannot give the result, the ``STATS`` runs over all the rows of the window's searchable
    matches (``SliceIndex.whole``), and every row and alert is the whole run's, for the
    package's rules (3-hour look-backs), Elastic's and the MV_EXPAND/multi-valued queries."""
    if content == "package":
        rules = _stats_only(_overlapping(_esql_rules(load_rules(PACKAGE_RULES, []))))
        events = list(_events(rules, 800, seed=13))
    elif content == "elastic":
        rules = _stats_only(_esql_rules(load_rules(shared_path("anchors", "detection-rules", "rules", "integrations", "aws"), [])))
        events = list(_events(rules, 500, seed=17))
    else:
        rules = _batch_rules()
        events = _tagged(_events(rules, 700, seed=23), 6)
    whole_alerts, whole_rows, _ = _run(rules, events, False, monkeypatch)
    _refusing(monkeypatch)
    alerts, rows, fell_back = _run(rules, events, True, monkeypatch)
    assert rows == whole_rows and alerts == whole_alerts
    assert len(rows) > 100 and fell_back > 100
    if content != "elastic":  # some of Elastic's rules stream or run whole: only the others fall back
        assert fell_back >= len(rows)


def test_slices_that_do_not_merge_and_timestamps_that_are_not_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unforced fallbacks: a float ``SUM`` does not merge (``NotMergeable``), so those
    executions compute the ``STATS`` over their window's rows; documents whose ``@timestamp``
    cell is a float or a string (their ``_ts``) cannot have a last execution, so their time
    bound is evaluated at each execution as the whole query's ``WHERE`` evaluates it. Every
    row and alert is the whole run's."""
    rules = _query_rules("odd", {
        "float-sum": 'FROM logs-aws.cloudtrail-* | WHERE event.dataset == "aws.cloudtrail"'
                     ' | STATS total = SUM(amount), n = COUNT(*), users = VALUES(user.name) BY cloud.region | WHERE n > 1',
        "bounded": 'FROM logs-aws.cloudtrail-* | WHERE event.dataset == "aws.cloudtrail" AND @timestamp >= NOW() - 40 minutes'
                   ' | STATS n = COUNT(*), last = MAX(@timestamp) BY user.name',
    }, "10m")
    rng = random.Random(8)
    events = []
    for ev in _events(rules, 900, seed=31):
        ev["amount"] = rng.choice([1, 2, 3]) if rng.random() < 0.8 else rng.choice([0.5, 2.25])
        odd = rng.random()
        if odd < 0.05:
            ev["_ts"] = "not a time"
        elif odd < 0.1:
            ev["_ts"] = float(datetime.strptime(ev["@timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000) + 0.5
        events.append(ev)
    whole_alerts, whole_rows, _ = _run(rules, events, False, monkeypatch)
    alerts, rows, fell_back = _run(rules, events, True, monkeypatch)
    assert rows == whole_rows and alerts == whole_alerts
    assert len(rows) > 100 and fell_back > 20


def _filtered_alone(program: Any, docs: list[dict], now_ms: int) -> list[int]:
    """``Program.filter_docs`` as it was before columns were shared: each condition reads its
    fields afresh from the documents the earlier ones kept."""
    from ctdetect.query.esql.expressions import Context

    rows = list(range(len(docs)))
    for condition, fields in zip(program.prefilter, program.prefilter_reads):
        kept = [docs[i] for i in rows]
        mask = condition(program.table(kept, fields, exact=True), Context(now_ms, kept))
        rows = [rows[i] for i, passes in enumerate(mask) if passes is True]
    return rows


@pytest.mark.parametrize("content", ["package", "elastic"])
def test_columns_the_prefilter_read_are_the_kept_documents_own(content: str) -> None:
    """The prefilter's conditions share the columns they read, re-aligned as each drops
    documents, and hand them to the row-level part (``Program.filter_docs``' ``cells``): the
    documents kept are those the conditions keep reading afresh, every column handed on is
    what reading the kept documents gives, and the row-level part's rows are the same with
    and without them."""
    from ctdetect.catalogue import load_catalogue
    from ctdetect.query.esql.evaluate import Program
    from ctdetect.query.esql.sources import columns_for

    root = PACKAGE_RULES if content == "package" else shared_path("anchors", "detection-rules", "rules", "integrations", "aws")
    rules = _esql_rules(load_rules(root, []))
    types = load_catalogue().field_types()
    docs = list(_events(rules, 600, seed=11))
    now_ms = int((START + timedelta(minutes=SPAN_MINUTES)).timestamp() * 1000)
    dropping = 0  # conditions after the first that had documents re-aligned under them
    for r in rules:
        query = parse_esql(r.query)
        program = Program.prepare(query, lambda indices: columns_for({"events"}, types))
        cells: dict[str, list] = {}
        kept = program.filter_docs(docs, now_ms, cells)
        assert kept == _filtered_alone(program, docs, now_ms), r.name
        kept_docs = [docs[i] for i in kept]
        assert set(cells) >= {n for fields in program.prefilter_reads[:1] for n in fields} - {"_id"} or not program.prefilter, r.name
        for name, column in cells.items():
            assert column == program.table(kept_docs, {name}, exact=True).column(name), (r.name, name)
        dropping += len(program.prefilter) > 1 and len(kept) < len(docs)
        plan = plan_stats(query, lambda indices: columns_for({"events"}, types)) if query.aggregating else None
        if plan is not None and not isinstance(plan, str) and kept_docs:
            assert plan.rows(kept_docs, dict(cells)) == plan.rows(kept_docs), r.name
    assert dropping >= 3


@pytest.mark.parametrize("content", ["package", "elastic"])
def test_the_row_level_part_reads_only_its_names_and_gives_the_rows_of_the_whole_table(content: str) -> None:
    """``StatsPlan.rows`` reads exactly ``row_names`` (no listing of every document's keys for
    a ``KEEP`` pattern such as ``Esql.*``): its rows are those of the query's whole ``FROM``
    table (every name the query mentions, every source column a pattern matches), for every
    aggregating rule with a plan, over events that also carry columns the patterns match."""
    from ctdetect.catalogue import load_catalogue
    from ctdetect.query.esql import evaluate
    from ctdetect.query.esql.sources import columns_for

    root = PACKAGE_RULES if content == "package" else shared_path("anchors", "detection-rules", "rules", "integrations", "aws")
    rules = _esql_rules(load_rules(root, []))
    types = load_catalogue().field_types()
    docs = list(_events(rules, 600, seed=13))
    for n, doc in enumerate(docs[::3]):
        doc["Esql.stray"] = n  # a source column an ``Esql.*`` pattern matches
    now_ms = int((START + timedelta(minutes=SPAN_MINUTES)).timestamp() * 1000)
    listed = 0  # rules whose FROM table would list every document's keys for a pattern
    for r in rules:
        query = parse_esql(r.query)
        plan = plan_stats(query, lambda indices: columns_for({"events"}, types)) if query.aggregating else None
        if plan is None or isinstance(plan, str) or plan.row_names is None:
            continue
        kept = [docs[i] for i in plan.program.filter_docs(docs, now_ms)]
        if not kept:
            continue
        listed += bool(plan.program.patterns)
        whole = replace(plan, row_names=None)  # the query's whole FROM table, patterns matched
        assert plan.rows(kept) == whole.rows(kept), r.name
        scans: list[bool] = []
        original = evaluate.Program.table

        def table(self: Any, docs: list[dict], names: Any = None, *, exact: bool = False, cells: Any = None) -> Any:
            scans.append(bool(self.patterns) and not exact)
            return original(self, docs, names, exact=exact, cells=cells)

        evaluate.Program.table = table  # type: ignore[method-assign]
        try:
            plan.rows(kept)
        finally:
            evaluate.Program.table = original  # type: ignore[method-assign]
        assert not any(scans), r.name
    assert content == "package" or listed >= 5


def test_a_batch_of_millisecond_timestamps_gets_the_last_executions_of_each_cell() -> None:
    """``_last_executions``' one pass over a batch of ``int`` cells (the tightest bound's
    offset added) gives what ``_last_execution`` gives cell by cell, for one and two bounds,
    strict or not; a batch with any other cell (null, list, string, float, bool) goes cell by cell."""
    from ctdetect.query.esql.incremental import NEVER, UNBOUNDED, TimeBound, _last_execution, _last_executions

    rng = random.Random(5)
    others: list[Any] = [None, [1, 2], "2026-03-02T00:00:00Z", 1.5, True]
    for trial in range(300):
        bounds = [TimeBound(rng.choice([60_000, 3_600_000, 7 * 86_400_000]), rng.random() < 0.5) for _ in range(rng.randint(1, 2))]
        stamps: list[Any] = [rng.randrange(10**12, 2 * 10**12) for _ in range(rng.randint(0, 6))]
        if trial % 3 == 0 and stamps:
            stamps[rng.randrange(len(stamps))] = rng.choice(others)
        got = _last_executions(bounds, stamps)
        want = [_last_execution(bounds, cell) for cell in stamps]
        assert got == want and all(g is w for g, w in zip(got, want) if w is UNBOUNDED or w is NEVER), (bounds, stamps)
