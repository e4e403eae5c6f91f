"""Which ECS fields the loaded rules and ML jobs read: what the input side must produce.

Decoding and mapping a CloudTrail record into its full ECS document costs several times
the gunzip itself (issue 11), yet a package reads a few dozen of the hundreds of fields
the mapping writes. ``needed_fields(rules, jobs)`` computes, from the content alone, the
fields that *evaluation* reads, so a projected mapper can build only those; the full
document is still what a finding shows, built again for the few events that become
findings.

What counts as read, by content kind:

- query / EQL / threshold / new_terms rules: every field of the parsed query
  (``ast.field_uses``: leaves, EQL comparisons and function arguments, sequence join
  keys, pipe arguments); the EQL category field (``event.category`` or the rule's
  ``event_category_override``); ``timestamp_override``; threshold group and cardinality
  fields; new_terms fields; the routing keys (``event.action``, ``event.provider``: the
  rule index reads them for every event);
- machine_learning rules: nothing from events (they read the jobs' records);
- ML jobs: the datafeed query's fields, each detector's ``field_name``, by, over and
  partition fields, influencers, ``summary_count_field_name`` and the time field;
- always: ``@timestamp`` and ``_ts`` (time order, schedules), ``event.id`` and ``_id``
  (repeat removal, alert ids), ``event.ingested`` (when a match became searchable), and
  where the event lives: ``_index``, ``data_stream.*``, ``event.dataset`` (a rule's
  ``index`` patterns, ES|QL ``FROM`` and ``METADATA _index``).

ES|QL rules: the fields every command up to the first ``STATS`` (not ``INLINE``) or
``KEEP`` refers to; that command bounds the columns a row can carry, so nothing else of
the source reaches the alert. A rule reading only ``.alerts-*`` reads alerts, not events.

Conservative where a field cannot be known, because a field left out would silently
change results: an ES|QL rule with no ``STATS``/``KEEP`` (its rows, and so its alerts,
carry every column), a ``KEEP *``, or a command whose reads are not listed here
(``ENRICH``, ``LOOKUP JOIN``, ``FORK``...), a query term with no field (Lucene / ``query_string``
search every field), a datafeed with runtime or script fields, and a query that does not
parse (the engine reports it as not evaluated; nothing is lost by mapping everything)
make the answer "every field" (``FieldNeeds.everything``, naming the first cause).
A field name with a wildcard (``aws.cloudtrail.flattened.request_parameters.*``) is
kept as a pattern: ``covers`` matches it as Elasticsearch matches field patterns.
Exceptions lists are not read: the embedded engine does not evaluate them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from ctdetect.content.model import Datafeed, MLJob, Rule
from ctdetect.engine.rules.base import RuleNotEvaluable
from ctdetect.engine.rules.compile import category_field_of, parse_rule_query
from ctdetect.engine.rules.routing import ROUTE_FIELDS
from ctdetect.query import ast, parse_query
from ctdetect.query.errors import QueryParseError
from ctdetect.query.esql.fields import FieldsNotListed, source_fields

#: Read for every event whatever the content: time order and schedules, repeat removal
#: and alert ids (``engine.rules.alerts.event_identity``), the indexing delay
#: (``engine.rules.timeutil.ingested_ms``) and the index an event lives in
#: (``CompiledRule.index_allows``, ``query.esql.sources.document_index``).
ALWAYS_READ = frozenset({"@timestamp", "_ts", "event.id", "_id", "event.ingested", "_index", "data_stream.type",
                         "data_stream.dataset", "data_stream.namespace", "event.dataset"})

_UNFIELDED_LEAVES = (ast.Match, ast.Phrase, ast.Term, ast.Terms, ast.Wildcard, ast.Prefix, ast.Regexp, ast.Range, ast.Exists)


@dataclass(frozen=True, slots=True)
class FieldNeeds:
    """The fields evaluation reads: exact names, wildcard patterns, or everything.

    ``everything`` is None when the fields are known, else why they cannot be (the first
    rule or job found that reads fields no analysis can list).
    """

    fields: frozenset[str]
    patterns: frozenset[str] = frozenset()
    everything: str | None = None

    def covers(self, name: str) -> bool:
        """Whether the field ``name`` may be read (and so must be produced)."""
        if self.everything is not None or name in self.fields:
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)


class _AllFields(Exception):
    """A rule or job whose fields cannot be listed (the message says which and why)."""


def needed_fields(rules: Iterable[Rule], jobs: Iterable[tuple[MLJob, Datafeed | None]]) -> FieldNeeds:
    """The ECS fields the rules and ML jobs read (see the module docstring for what counts)."""
    found: set[str] = set(ALWAYS_READ)
    try:
        for rule in rules:
            found.update(rule_fields(rule))
        for job, feed in jobs:
            found.update(job_fields(job, feed))
    except _AllFields as exc:
        return FieldNeeds(frozenset(), frozenset(), str(exc))
    exact = frozenset(f for f in found if "*" not in f and "?" not in f)
    return FieldNeeds(exact, frozenset(found - exact))


def rule_fields(rule: Rule) -> set[str]:
    """The event fields one rule reads; raises ``_AllFields`` when they cannot be listed."""
    if rule.type == "machine_learning":
        return set()
    if rule.type == "esql" or (rule.language or "").lower() == "esql":
        return esql_fields(rule.query or "", f"rule {rule.rule_id} ({rule.name})")
    out: set[str] = set(ROUTE_FIELDS)
    if rule.timestamp_override:
        out.add(rule.timestamp_override)
    try:
        node = parse_rule_query(rule)
    except RuleNotEvaluable as exc:
        raise _AllFields(f"rule {rule.rule_id} ({rule.name}): {exc}") from None
    out.update(_query_fields(node, f"rule {rule.rule_id} ({rule.name})"))
    if any(isinstance(sub, (ast.EventQuery, ast.Sequence, ast.Sample)) for sub in node.walk()):
        out.add(category_field_of(rule))
    if rule.threshold is not None:
        out.update(f for f in rule.threshold.field if f)
        out.update(f for f, _ in rule.threshold.cardinality if f)
    if rule.new_terms is not None:
        out.update(f for f in rule.new_terms.fields if f)
    return out


def job_fields(job: MLJob, feed: Datafeed | None) -> set[str]:
    """The event fields one ML job (with its datafeed) reads; raises ``_AllFields`` when they
    cannot be listed."""
    out: set[str] = {job.time_field or "@timestamp"}
    for detector in job.detectors:
        out.update(f for f in (detector.field_name, detector.by_field_name, detector.over_field_name,
                               detector.partition_field_name) if f)
    out.update(f for f in job.influencers if f)
    if job.summary_count_field_name:
        out.add(job.summary_count_field_name)
    if feed is None:
        return out
    if feed.raw.get("runtime_mappings") or feed.raw.get("script_fields"):
        raise _AllFields(f"job {job.job_id}: its datafeed computes fields with scripts")
    query = feed.query
    if query and set(query) != {"match_all"}:
        try:
            node = parse_query(query, "dsl")
        except QueryParseError as exc:
            raise _AllFields(f"job {job.job_id}: datafeed query does not parse ({exc})") from None
        out.update(_query_fields(node, f"job {job.job_id}"))
    return out


def _query_fields(node: ast.Node, owner: str) -> set[str]:
    """The fields of a parsed query; a leaf with no field searches every field."""
    for sub in node.walk():
        if isinstance(sub, _UNFIELDED_LEAVES) and getattr(sub, "field", None) is None:
            raise _AllFields(f"{owner}: a query term names no field, so it searches every field")
    return ast.fields(node)


def esql_fields(text: str, owner: str) -> set[str]:
    """The source fields an ES|QL rule reads (``query.esql.fields``); raises ``_AllFields``."""
    try:
        query = parse_query(text, "esql")
    except QueryParseError as exc:
        raise _AllFields(f"{owner}: query does not parse ({exc})") from None
    if query.indices and all(index.startswith(".alerts-") for index in query.indices):
        return set()  # reads the other rules' alerts, built from whole documents
    try:
        return source_fields(query)
    except FieldsNotListed as exc:
        raise _AllFields(f"{owner}: {exc}") from None
