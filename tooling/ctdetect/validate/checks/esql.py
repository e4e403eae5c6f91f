"""ES|QL checks: every rule and hunting query written in ES|QL parses and resolves.

Why a module of its own: ES|QL is resolved, not just parsed, by Elasticsearch before it
runs, and each kind of resolution failure is a check here (unknown column, unknown
function, wrong arguments, wrong argument type, bad DISSECT/GROK pattern), plus what
Kibana asks of ES|QL *rules*: a ``FROM`` the package has data for, ``METADATA _id,
_version, _index`` on non-aggregating queries, without which Kibana cannot deduplicate
alerts across overlapping executions (its documentation of the ES|QL rule type), and the
limits its rule executor puts on rows and suppression (``query.esql.rule_limits``, which
cites Kibana's files).

Each query is parsed and analysed once per run (``Context.memo``); problems inside the
query are placed at the file line and column of the offending token.
"""

from __future__ import annotations

from typing import Any, Iterator

from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.checks.query import syntax_problems
from ctdetect.validate.context import Context, problem, query_position

#: The fields Kibana needs to deduplicate the alerts of a non-aggregating ES|QL rule.
DEDUP_METADATA = ("_id", "_version", "_index")


def esql_queries(ctx: Context) -> Iterator[tuple[Any, str, str]]:
    """(rule or hunting query, query text, key of the query in its file) for every ES|QL query."""
    for rule in ctx.package.rules:
        if (rule.language == "esql" or rule.type == "esql") and isinstance(rule.query, str):
            yield rule, rule.query, "rule.query"
    for hunt in ctx.package.hunting_queries:
        if hunt.language == "esql" and hunt.query:
            yield hunt, hunt.query, "query"


def analysed(ctx: Context, text: str) -> tuple[Any, list[Any]]:
    """(parsed query or None, analysis problems) of ``text``, computed once per run."""
    memo = ctx.memo.setdefault("esql", {})
    if text not in memo:
        parsed = ctx.parse(text, "esql")
        problems: list[Any] = []
        if parsed.node is not None:
            from ctdetect.query.esql.analyze import analyze
            from ctdetect.query.esql.sources import source_columns

            catalogue = ctx.catalogue
            problems = analyze(parsed.node, lambda indices: source_columns(indices, catalogue))
        memo[text] = (parsed.node, problems)
    return memo[text]


class _AnalysisCheck(Check):
    """Reports the analysis problems of one code."""

    code: str = ""
    uses = ("catalogue",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for obj, text, key in esql_queries(ctx):
            _, problems = analysed(ctx, text)
            for found in problems:
                if found.code != self.code:
                    continue
                line, column = found.position(text)
                where = query_position(obj.source, key, _At(line, column), text)
                yield problem(obj.source, key, self.id, self.severity, found.message, line=where[0], column=where[1])


class _At:
    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


class EsqlSyntax(Check):
    id = "esql.syntax"
    description = "Every ES|QL rule and hunting query parses."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for obj, text, _ in esql_queries(ctx):
            yield from syntax_problems(self, obj, text, "esql", ctx)


class EsqlUnknownColumn(_AnalysisCheck):
    id = "esql.unknown-column"
    description = "Every column an ES|QL query reads exists at that point of the pipeline (data source fields, METADATA, or created by an earlier command and not dropped)."
    code = "unknown-column"


class EsqlUnknownFunction(_AnalysisCheck):
    id = "esql.unknown-function"
    description = "Every function an ES|QL query calls is one of Elastic's ES|QL functions."
    code = "unknown-function"


class EsqlArguments(_AnalysisCheck):
    id = "esql.arguments"
    description = "ES|QL functions get as many arguments as their definition takes."
    code = "arguments"


class EsqlArgumentType(_AnalysisCheck):
    id = "esql.argument-type"
    description = "ES|QL function arguments, LIKE/RLIKE operands and WHERE conditions have types the definitions accept."
    code = "argument-type"


class EsqlAggregate(_AnalysisCheck):
    id = "esql.aggregate"
    description = "Aggregate functions appear only in STATS, not nested, and every STATS column aggregates."
    code = "aggregate"


class EsqlPattern(_AnalysisCheck):
    id = "esql.pattern"
    description = "DISSECT and GROK patterns compile."
    code = "pattern"


class EsqlIndexPattern(Check):
    id = "esql.index-pattern"
    description = "The indices an ES|QL query reads (FROM) match a data source of the package; elsewhere, data the catalogue does not cover is said once per index pattern."
    severity = "warning"

    def run(self, ctx: Context) -> Iterator[Problem]:
        from ctdetect.query.esql.sources import DATA_SOURCES, matching_sources

        uncovered: dict[str, list[tuple[Any, str, str, Any]]] = {}
        for obj, text, key in esql_queries(ctx):
            node, _ = analysed(ctx, text)
            if node is None:
                continue
            for index in node.indices:
                if not matching_sources(index):
                    uncovered.setdefault(index, []).append((obj, text, key, node))
        known = ", ".join(sorted(DATA_SOURCES))
        for index, uses in sorted(uncovered.items()):
            if ctx.package.is_package:
                # A package's own query reading data it has no source for: replay cannot prove it.
                for obj, text, key, node in uses:
                    line, column = query_position(obj.source, key, _pos(text, node.source.pos), text)
                    yield problem(obj.source, key, self.id, self.severity, f"FROM {index} matches none of the package's data sources ({known}): its columns cannot be checked and replay has no events for it", line=line, column=column)
                continue
            # A folder of someone else's rules (Elastic's repository): the integrations the
            # catalogue does not describe are said once per index pattern, as query.not-covered does.
            obj, text, key, node = uses[0]
            line, column = query_position(obj.source, key, _pos(text, node.source.pos), text)
            yield problem(obj.source, key, self.id, "info", f"FROM {index} ({len(uses)} ES|QL quer{'y' if len(uses) == 1 else 'ies'}) reads data the field catalogue does not cover: their columns are not checked", line=line, column=column)


class EsqlRuleMetadata(Check):
    id = "esql.rule-metadata"
    description = "A non-aggregating ES|QL rule reads METADATA _id, _version, _index and keeps them, so Kibana can deduplicate its alerts."
    severity = "warning"

    def run(self, ctx: Context) -> Iterator[Problem]:
        from ctdetect.query.esql.analyze import output_schema
        from ctdetect.query.esql.sources import source_columns

        for rule, node in esql_rules(ctx):
            if node.aggregating or not node.indices:
                continue
            missing = [m for m in DEDUP_METADATA if m not in node.metadata]
            if missing:
                yield problem(rule.source, "rule.query", self.id, self.severity, f"non-aggregating ES|QL rule without METADATA {', '.join(missing)}: Kibana cannot deduplicate its alerts across overlapping executions (add 'METADATA _id, _version, _index' to FROM)")
                continue
            catalogue = ctx.catalogue
            kept = output_schema(node, lambda indices: source_columns(indices, catalogue))
            dropped = [m for m in DEDUP_METADATA if m not in kept]
            if dropped:
                yield problem(rule.source, "rule.query", self.id, self.severity, f"non-aggregating ES|QL rule drops {', '.join(dropped)} from its result: Kibana needs them to deduplicate alerts (KEEP them)")


def esql_rules(ctx: Context) -> Iterator[tuple[Any, Any]]:
    """(rule, parsed query) of every ES|QL rule whose query parses."""
    for rule in ctx.package.rules:
        if (rule.language == "esql" or rule.type == "esql") and isinstance(rule.query, str):
            node, _ = analysed(ctx, rule.query)
            if node is not None:
                yield rule, node


class EsqlRuleLimit(Check):
    id = "esql.rule-limit"
    description = "An ES|QL rule can create max_signals alerts an execution: its own LIMIT is not lower, and max_signals stays within the rows Elasticsearch returns for one request."
    severity = "warning"

    def run(self, ctx: Context) -> Iterator[Problem]:
        from ctdetect.query.esql.rule_limits import MAX_ROWS_PER_REQUEST, row_bound

        for rule, node in esql_rules(ctx):
            max_signals = rule.max_signals
            bound = row_bound(node)
            if bound is not None and bound[0] < max_signals:
                count, cmd = bound
                line, column = query_position(rule.source, "rule.query", _pos(rule.query, cmd.pos), rule.query)
                per = "groups" if node.aggregating else "new documents"
                yield problem(rule.source, "rule.query", self.id, self.severity, f"LIMIT {count} caps every execution at {count} alerts, below max_signals {max_signals}: Kibana appends 'limit {max_signals + 1}' after the query, so the {per} beyond the first {count} never alert (drop the LIMIT or lower max_signals)", line=line, column=column)
            if node.aggregating and max_signals > MAX_ROWS_PER_REQUEST:
                yield problem(rule.source, "rule.max_signals", self.id, self.severity, f"max_signals {max_signals} cannot be reached: one ES|QL request returns at most {MAX_ROWS_PER_REQUEST:,} rows, and Kibana cannot page an aggregating query")


class EsqlRuleSuppression(Check):
    id = "esql.rule-suppression"
    description = "An ES|QL rule suppresses on fields its alerts hold: result columns, or for a non-aggregating query also source document fields."
    severity = "warning"
    uses = ("catalogue",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        from ctdetect.query.esql.analyze import output_schema
        from ctdetect.query.esql.rule_limits import unsuppressible
        from ctdetect.query.esql.sources import source_columns

        catalogue = ctx.catalogue
        for rule, node in esql_rules(ctx):
            suppression = rule.rule.get("alert_suppression")
            if not isinstance(suppression, dict) or not isinstance(suppression.get("group_by"), list):
                continue
            sources = source_columns(node.indices, catalogue)
            if sources is None and not node.aggregating:
                continue  # data the catalogue does not describe: its fields cannot be judged
            kept = output_schema(node, lambda indices: source_columns(indices, catalogue))
            group_by = [g for g in suppression["group_by"] if isinstance(g, str)]
            for name in unsuppressible(node, group_by, kept, sources or {}):
                where = "a column of the query's result (an aggregating query's alert holds nothing else)" if node.aggregating else "a column of the query's result or a field of the source documents"
                yield problem(rule.source, "rule.alert_suppression.group_by", self.id, self.severity, f"alert_suppression.group_by {name!r} is not {where}: no alert holds it, so suppression treats every alert as missing it")


def _pos(text: str, offset: int) -> _At:
    from ctdetect.query._larkutil import line_col

    return _At(*line_col(text, offset))


ESQL_CHECKS: tuple[type[Check], ...] = (
    EsqlSyntax,
    EsqlUnknownColumn,
    EsqlUnknownFunction,
    EsqlArguments,
    EsqlArgumentType,
    EsqlAggregate,
    EsqlPattern,
    EsqlIndexPattern,
    EsqlRuleMetadata,
    EsqlRuleLimit,
    EsqlRuleSuppression,
)
