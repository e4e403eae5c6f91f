"""Turn a ``Rule`` into a compiled rule of its type, once, before any event is read.

Parsing and compiling happen here and nowhere else: the per-event path only calls the
predicates built here. A rule the embedded engine cannot evaluate (indicator match, an
ES|QL command it does not run, an unsupported EQL pipe, a query that does not parse) raises
``RuleNotEvaluable`` with a message naming the rule; the engine reports it and runs the
rest.
"""

from __future__ import annotations

from typing import Callable, Mapping

from ctdetect.content.model import Rule
from ctdetect.engine.rules.base import CompiledRule, RuleNotEvaluable
from ctdetect.engine.rules.esql_rule import EsqlRule, compile_esql_rule
from ctdetect.engine.rules.eql_rule import EqlEventRule, EqlSequenceRule, pipe_limits
from ctdetect.engine.rules.ml_rule import MachineLearningRule
from ctdetect.engine.rules.new_terms import NewTermsRule
from ctdetect.engine.rules.query_rule import QueryRule
from ctdetect.engine.rules.routing import rule_gate, rule_route
from ctdetect.engine.rules.schedule import Schedule
from ctdetect.engine.rules.sequence import SequenceSpec
from ctdetect.engine.rules.threshold import ThresholdRule
from ctdetect.engine.rules.timeutil import TimeSpecError, lookback_ms
from ctdetect.query import QueryParseError, ast, parse_query
from ctdetect.query.predicate import compile_query

Predicate = Callable[[dict], bool]


def parse_rule_query(rule: Rule) -> ast.Node:
    """The rule's query as an AST (``MatchAll`` for an empty KQL/Lucene query)."""
    language = (rule.language or ("eql" if rule.type == "eql" else "kuery")).lower()
    if language == "esql":
        raise RuleNotEvaluable("ES|QL rules are not evaluated by the embedded engine")
    if language not in ("kuery", "lucene", "eql"):
        raise RuleNotEvaluable(f"query language {language!r} is not supported")
    text = rule.query
    if text is None or not str(text).strip():
        if language == "eql":
            raise RuleNotEvaluable("EQL rule without a query")
        return ast.MatchAll()
    try:
        return parse_query(text, language)
    except QueryParseError as exc:
        raise RuleNotEvaluable(f"query does not parse: {exc}") from exc


def category_predicate(category: str, condition: Predicate, category_field: str = "event.category") -> Predicate:
    """EQL ``<category> where <cond>``: the category field (``event.category``, or the rule's
    ``event_category_override``, e.g. ``event.type`` in Elastic's AWS rules) must hold the
    category; ``any`` matches every event."""
    if category in ("any", "*", ""):
        return condition

    def pred(event: dict) -> bool:
        cat = event.get(category_field)
        if cat is None:
            return False
        if isinstance(cat, list):
            if category not in cat:
                return False
        elif cat != category:
            return False
        return condition(event)

    return pred


def compile_event_query(node: ast.EventQuery, field_types: Mapping[str, str], category_field: str = "event.category") -> Predicate:
    return category_predicate(node.category, compile_query(node.condition, field_types), category_field)


def category_field_of(rule: Rule) -> str:
    """``event_category_override`` of an EQL rule (Kibana's parameter), else ``event.category``."""
    override = rule.rule.get("event_category_override")
    return override if isinstance(override, str) and override else "event.category"


def compile_rule(rule: Rule, field_types: Mapping[str, str]) -> CompiledRule:
    """One compiled rule of ``rule.type``; raises ``RuleNotEvaluable`` with the reason.

    The result's ``route`` holds the ``event.action`` (else ``event.provider``) values it
    can match: the key of the rule index; a rule without one gets a ``gate`` (``routing.rule_gate``).
    """
    try:
        compiled = _compile(rule, field_types)
        compiled.fallback = rule.rule.get("timestamp_override_fallback_disabled") is not True
        if not isinstance(compiled, (MachineLearningRule, EsqlRule)):  # ES|QL rules filter batches themselves
            node = parse_rule_query(rule)
            compiled.route = rule_route(node, field_types)
            if compiled.route is None:
                compiled.gate = rule_gate(node, field_types)
    except RuleNotEvaluable:
        raise
    except Exception as exc:  # noqa: BLE001 - one rule the compiler chokes on must not stop a run
        raise RuleNotEvaluable(f"cannot be compiled: {exc!r}") from exc
    return compiled


def _compile(rule: Rule, field_types: Mapping[str, str]) -> CompiledRule:
    try:
        schedule = Schedule.of(rule.interval or "5m", rule.from_ or "now-6m")
    except (TimeSpecError, ValueError) as exc:
        raise RuleNotEvaluable(f"schedule: {exc}") from exc
    time_field = rule.timestamp_override or None
    rtype = rule.type
    if rtype == "machine_learning":
        if not rule.machine_learning_job_id:
            raise RuleNotEvaluable("machine_learning rule without machine_learning_job_id")
        return MachineLearningRule(rule, schedule, time_field)
    if rtype == "esql" or (rule.language or "").lower() == "esql":
        return compile_esql_rule(rule, schedule, time_field, dict(field_types))
    if rtype == "threat_match":
        raise RuleNotEvaluable("indicator match (threat_match) rules are not evaluated by the embedded engine")
    node = parse_rule_query(rule)
    if rtype == "eql":
        pipes: tuple = ()
        if isinstance(node, ast.Piped):
            pipes, node = node.pipes, node.query
        mode, count = pipe_limits(pipes)
        if isinstance(node, ast.EventQuery):
            predicate = compile_event_query(node, field_types, category_field_of(rule))
            return EqlEventRule(rule, schedule, time_field, predicate=predicate, pipe_mode=mode, pipe_count=count)
        if isinstance(node, ast.Sample):
            raise RuleNotEvaluable("EQL sample queries are not evaluated by the embedded engine")
        if isinstance(node, ast.Sequence):
            if any(step.missing for step in node.steps):
                raise RuleNotEvaluable("EQL sequences with missing-event steps (![...]) are not evaluated by the embedded engine")
            return _sequence(rule, schedule, time_field, node, field_types, mode, count)
        return EqlEventRule(rule, schedule, time_field, predicate=compile_query(node, field_types), pipe_mode=mode, pipe_count=count)
    if rtype in ("query", "saved_query"):
        return QueryRule(rule, schedule, time_field, predicate=compile_query(node, field_types))
    if rtype == "threshold":
        spec = rule.threshold
        if spec is None:
            raise RuleNotEvaluable("threshold rule without [rule.threshold]")
        return ThresholdRule(
            rule,
            schedule,
            time_field,
            predicate=compile_query(node, field_types),
            group_fields=tuple(f for f in spec.field if f),
            value=int(spec.value),
            cardinality=tuple((f, int(v)) for f, v in spec.cardinality),
        )
    if rtype == "new_terms":
        spec = rule.new_terms
        if spec is None or not spec.fields:
            raise RuleNotEvaluable("new_terms rule without new_terms fields")
        try:
            history = lookback_ms(spec.history_window_start)
        except TimeSpecError as exc:
            raise RuleNotEvaluable(f"history_window_start: {exc}") from exc
        return NewTermsRule(
            rule, schedule, time_field, predicate=compile_query(node, field_types), term_fields=tuple(spec.fields), history_ms=history
        )
    raise RuleNotEvaluable(f"rule type {rtype!r} is not supported")


def _sequence(
    rule: Rule,
    schedule: Schedule,
    time_field: str | None,
    node: ast.Sequence,
    field_types: Mapping[str, str],
    mode: str | None,
    count: int | None,
) -> EqlSequenceRule:
    category_field = category_field_of(rule)
    preds = [compile_event_query(step.query, field_types, category_field) for step in node.steps]
    keys = [tuple(node.by) + tuple(step.by) for step in node.steps]
    widths = {len(k) for k in keys}
    if len(widths) > 1:
        raise RuleNotEvaluable("sequence steps join on different numbers of keys")
    until_pred = None
    until_keys: tuple[str, ...] = ()
    if node.until is not None:
        until_pred = compile_event_query(node.until.query, field_types, category_field)
        until_keys = tuple(node.by) + tuple(node.until.by)
    return EqlSequenceRule(
        rule,
        schedule,
        time_field,
        step_predicates=preds,
        step_keys=keys,
        until_predicate=until_pred,
        until_keys=until_keys,
        spec=SequenceSpec.of([step.runs for step in node.steps], node.maxspan_ms),
        pipe_mode=mode,
        pipe_count=count,
    )
