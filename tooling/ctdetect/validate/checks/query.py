"""Query checks: syntax of every rule query, and the fields it reads against the catalogue.

Each query is parsed once (``Context.parse``) with ``ctdetect.query``; a parse error's
line and column inside the query are moved to the file's line and column. Field checks
cover every field a rule reads: its query, threshold/new_terms fields and alert
suppression keys; hunting queries are checked the same way.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Iterator

from ctdetect.content.model import Located
from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem, query_position

CHECKED_LANGUAGES = ("kuery", "lucene", "eql")
NUMERIC = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"})
STRINGS = frozenset({"keyword", "constant_keyword", "wildcard", "text", "match_only_text", "flattened"})
NOT_PATTERNABLE = NUMERIC | {"ip", "date", "date_nanos", "boolean"}


def rule_queries(ctx: Context) -> Iterator[tuple[Any, str, str]]:
    """(rule, query text, language) for every rule whose query ctdetect parses."""
    for rule in ctx.package.rules:
        if rule.query is not None and rule.language in CHECKED_LANGUAGES:
            yield rule, rule.query, rule.language


def hunting_queries(ctx: Context) -> Iterator[tuple[Any, str, str]]:
    for hunt in ctx.package.hunting_queries:
        if hunt.query and hunt.language in CHECKED_LANGUAGES:
            yield hunt, hunt.query, hunt.language


def _query_key(obj: Any) -> str:
    return "rule.query" if hasattr(obj, "rule_id") else "query"


def syntax_problems(check: Check, obj: Any, text: str, language: str, ctx: Context) -> Iterator[Problem]:
    parsed = ctx.parse(text, language)
    key = _query_key(obj)
    if parsed.internal is not None:
        yield problem(obj.source, key, "query.unchecked", "info", f"{language} query not checked: {parsed.internal}")
        return
    if parsed.error is None:
        return
    line, column = query_position(obj.source, key, parsed.error, text)
    message = getattr(parsed.error, "message", None) or str(parsed.error)
    yield problem(obj.source, key, check.id, check.severity, f"{language} query does not parse: {message}", line=line, column=column)


class QuerySyntax(Check):
    id = "query.syntax"
    description = "Every KQL, Lucene and EQL rule query parses."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule, text, language in rule_queries(ctx):
            yield from syntax_problems(self, rule, text, language, ctx)


def _leaves(node: Any) -> Iterator[Any]:
    """Every AST node that reads a field (leaf queries and EQL field references)."""
    for child in node.walk():
        if getattr(child, "field", None) is not None or type(child).__name__ in ("FieldRef", "Sequence", "Sample", "SequenceStep"):
            yield child


def _node_fields(node: Any) -> Iterator[tuple[str, Any]]:
    kind = type(node).__name__
    if kind == "FieldRef":
        yield node.name, node
    elif kind in ("Sequence", "Sample", "SequenceStep"):
        for key in node.by:
            yield key, node
    else:
        yield node.field, node


def query_fields(node: Any) -> Iterator[tuple[str, Any]]:
    """(field name, AST node) for every field reference in a parsed query, in query order."""
    for leaf in _leaves(node):
        yield from _node_fields(leaf)


def position(source: Located, key: str, node: Any) -> tuple[int | None, int | None]:
    pos = getattr(node, "pos", None)
    if pos is None:
        return source.line_of(key), None
    return query_position(source, key, pos)


def _is_known(catalogue: Any, name: str) -> bool:
    if "*" in name:
        return bool(catalogue.matching(name))
    return catalogue.get(name) is not None


def extra_fields(rule: Any) -> Iterator[tuple[str, str]]:
    """(field, key) for fields a rule reads outside its query."""
    if rule.threshold is not None:
        for name in rule.threshold.field:
            yield name, "rule.threshold.field"
        for name, _ in rule.threshold.cardinality:
            yield name, "rule.threshold.cardinality"
    if rule.new_terms is not None:
        for name in rule.new_terms.fields:
            yield name, "rule.new_terms.value"
    suppression = rule.rule.get("alert_suppression")
    if rule.type == "esql":
        return  # an ES|QL rule may suppress on its result columns: esql.rule-suppression judges them
    if isinstance(suppression, dict) and isinstance(suppression.get("group_by"), list):
        for name in suppression["group_by"]:
            if isinstance(name, str):
                yield name, "rule.alert_suppression.group_by"


@dataclass(frozen=True, slots=True)
class UnknownRead:
    """One read of a field the catalogue does not list: where, and whether the catalogue covers the data."""

    obj: Any
    key: str
    name: str
    node: Any  # the AST node of the read, or None for a read outside the query
    covered: bool

    def where(self) -> tuple[int | None, int | None]:
        """File line and column (computed on demand: locating means scanning the file)."""
        if self.node is None:
            return self.obj.source.line_of(self.key), None
        return position(self.obj.source, self.key, self.node)


#: index patterns of the beats era and catch-alls: they add no data source of their own
_CATCH_ALL = re.compile(r"^(logs-\*|[a-z]*beat-\*)$")


def _covered(catalogue: Any, obj: Any) -> bool:
    """Whether the catalogue describes the data a rule searches (hunting queries: always).

    True when some index pattern names a data stream the catalogue lists and every other
    pattern does too or is a catch-all such as ``filebeat-*`` (which adds no source of its own).
    """
    if not hasattr(obj, "rule_id"):
        return True
    patterns = [p.strip() for p in obj.index if isinstance(p, str)]
    covered = [catalogue.covers_index(p) for p in patterns]
    return any(covered) and all(ok or _CATCH_ALL.match(p) for p, ok in zip(patterns, covered))


def unknown_reads(ctx: Context) -> list[UnknownRead]:
    """Every read of an unknown field by a rule or hunting query, computed once per run."""
    cached = ctx.memo.get("query.unknown_reads")
    if cached is not None:
        return cached
    catalogue = ctx.catalogue
    found: list[UnknownRead] = []
    for obj, text, language in list(rule_queries(ctx)) + list(hunting_queries(ctx)):
        parsed = ctx.parse(text, language)
        if parsed.node is None:
            continue
        key = _query_key(obj)
        covered = _covered(catalogue, obj)
        reported: set[str] = set()
        for name, node in query_fields(parsed.node):
            if name in reported or _is_known(catalogue, name):
                continue
            reported.add(name)
            found.append(UnknownRead(obj, key, name, node, covered))
    for rule in ctx.package.rules:
        covered = _covered(catalogue, rule)
        for name, key in extra_fields(rule):
            if not _is_known(catalogue, name):
                found.append(UnknownRead(rule, key, name, None, covered))
    ctx.memo["query.unknown_reads"] = found
    return found


class UnknownField(Check):
    id = "query.unknown-field"
    description = "Every field a rule or hunting query reads exists in the field catalogue (for data the catalogue covers)."
    uses = ("catalogue",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for read in unknown_reads(ctx):
            if read.covered:
                line, column = read.where()
                yield problem(
                    read.obj.source, read.key, self.id, self.severity,
                    f"unknown field '{read.name}': no data source in the field catalogue has it", line=line, column=column,
                )


def _integrations(rule: Any) -> list[str]:
    """The integrations a rule's data comes from: its metadata, else its index patterns."""
    named = rule.metadata.get("integration")
    if isinstance(named, str) and named:
        return [named]
    if isinstance(named, list) and named:
        return [str(n) for n in named]
    return [str(p) for p in rule.index] or ["(no index)"]


class NotCovered(Check):
    id = "query.not-covered"
    description = "Fields of data the field catalogue does not describe are not checked; said once per integration."
    severity = "info"
    uses = ("catalogue",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        groups: dict[str, list[UnknownRead]] = {}
        for read in unknown_reads(ctx):
            if not read.covered:
                for integration in _integrations(read.obj):
                    groups.setdefault(integration, []).append(read)
        sources = ", ".join(ctx.catalogue.sources) or "none"
        for integration, reads in sorted(groups.items()):
            names = sorted({r.name for r in reads})
            rules = {id(r.obj) for r in reads}
            first = reads[0]
            line, column = first.where()
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            yield problem(
                first.obj.source, first.key, self.id, self.severity,
                f"integration '{integration}' is not covered by the field catalogue (sources: {sources}): "
                f"{len(names)} field(s) its {len(rules)} rule(s) read are not checked ({shown})",
                line=line, column=column,
            )


def _type_problem(kind: str, ftype: str, node: Any) -> tuple[str, str] | None:
    """(severity, message) when a query reads a field in a way its type does not support."""
    name = node.field
    if kind == "Range" and ftype in STRINGS:
        return "warning", f"range on {ftype} field '{name}' compares strings character by character, not as numbers or dates"
    if kind in ("Wildcard", "Prefix", "Regexp") and ftype in NOT_PATTERNABLE:
        return "error", f"{kind.lower()} on {ftype} field '{name}': Elasticsearch only runs pattern queries on keyword and text fields"
    if kind in ("Match", "Term", "Terms"):
        values = node.values if kind == "Terms" else (node.value,)
        for value in values:
            bad = _bad_value(ftype, value)
            if bad:
                return "error", f"value {value!r} cannot match {ftype} field '{name}' ({bad})"
    return None


def _bad_value(ftype: str, value: Any) -> str | None:
    if value is None or isinstance(value, bool) and ftype == "boolean":
        return None
    text = str(value)
    if ftype in NUMERIC:
        try:
            float(text)
        except ValueError:
            return "not a number"
    elif ftype == "ip":
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            return "not an IP address or CIDR range"
    elif ftype == "boolean" and text.lower() not in ("true", "false"):
        return "not true or false"
    return None


class FieldType(Check):
    id = "query.field-type"
    description = "Fields are queried in ways their type supports (a range on a keyword is a warning)."
    uses = ("catalogue",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        catalogue = ctx.catalogue
        for obj, text, language in list(rule_queries(ctx)) + list(hunting_queries(ctx)):
            parsed = ctx.parse(text, language)
            if parsed.node is None:
                continue
            key = _query_key(obj)
            for node in parsed.node.walk():
                name = getattr(node, "field", None)
                if not isinstance(name, str) or "*" in name:
                    continue
                ftype = catalogue.type_of(name)
                if ftype is None:
                    continue
                found = _type_problem(type(node).__name__, ftype, node)
                if found is not None:
                    severity, message = found
                    line, column = position(obj.source, key, node)
                    yield problem(obj.source, key, self.id, severity, message, line=line, column=column)


class HuntingQuerySyntax(Check):
    id = "hunting.query-syntax"
    description = "Every hunting query parses."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for hunt, text, language in hunting_queries(ctx):
            yield from syntax_problems(self, hunt, text, language, ctx)
