"""The rule engine: every rule of a package, compiled once, fed each event once.

``RuleEngine(rules, field_types)`` compiles the rules and indexes them by the
``event.action`` values they can match (``routing``). ``feed(event, seq)`` costs one
dict lookup plus one predicate call per rule that names the event's action (and one per
rule that names none); matches are kept by the rules. ``finish(anomalies)`` runs
Kibana's per-execution logic for each rule (schedule, ``max_signals``, de-duplication)
and returns the alerts, ``machine_learning`` rules reading the anomaly findings given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ctdetect.content.model import Rule
from ctdetect.engine.rules.base import CompiledRule, RuleNotEvaluable
from ctdetect.engine.rules.compile import compile_rule
from ctdetect.engine.rules.ml_rule import MachineLearningRule
from ctdetect.engine.rules.routing import ROUTE_FIELD
from ctdetect.findings import Finding


@dataclass(slots=True)
class NotEvaluated:
    """A rule the engine skipped, and why (reported by replay and hunt, never fatal)."""

    rule_id: str
    name: str
    file: str
    reason: str


@dataclass(slots=True)
class RuleEngine:
    compiled: list[CompiledRule] = field(default_factory=list)
    not_evaluated: list[NotEvaluated] = field(default_factory=list)
    _exact: dict[str, tuple[CompiledRule, ...]] = field(default_factory=dict)
    _folded: dict[str, tuple[CompiledRule, ...]] = field(default_factory=dict)
    _always: tuple[CompiledRule, ...] = ()
    # rule_id -> (events that raised, first message)
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: Iterable[Rule], field_types: Mapping[str, str] | None = None) -> "RuleEngine":
        if field_types is None:
            field_types = default_field_types()
        engine = cls()
        for rule in rules:
            try:
                engine.compiled.append(compile_rule(rule, field_types))
            except RuleNotEvaluable as exc:
                engine.not_evaluated.append(NotEvaluated(rule.rule_id, rule.name, str(rule.source.path), str(exc)))
        engine._index()
        return engine

    def _index(self) -> None:
        exact: dict[str, list[CompiledRule]] = {}
        folded: dict[str, list[CompiledRule]] = {}
        always: list[CompiledRule] = []
        for rule in self.compiled:
            if isinstance(rule, MachineLearningRule):
                continue
            if rule.route is None:
                always.append(rule)
                continue
            for value, case_insensitive in rule.route:
                bucket = folded if case_insensitive else exact
                lst = bucket.setdefault(value, [])
                if rule not in lst:
                    lst.append(rule)
        self._exact = {k: tuple(v) for k, v in exact.items()}
        self._folded = {k: tuple(v) for k, v in folded.items()}
        self._always = tuple(always)

    def candidates(self, event: dict) -> list[CompiledRule]:
        """The rules that may match ``event`` (for tests and diagnostics)."""
        out: list[CompiledRule] = []
        self._dispatch(event, -1, out.append)
        return out

    def feed(self, event: dict, seq: int) -> None:
        """Offer one event (``seq``: its position in the input, unique per run)."""
        action = event.get(ROUTE_FIELD)
        if action.__class__ is str:
            rules = self._exact.get(action)
            if rules:
                for rule in rules:
                    self._offer(rule, event, seq)
            if self._folded:
                rules = self._folded.get(action.lower())
                if rules:
                    for rule in rules:
                        self._offer(rule, event, seq)
        elif isinstance(action, list):
            seen: set[int] = set()
            for value in action:
                if not isinstance(value, str):
                    continue
                for rule in self._exact.get(value, ()) + self._folded.get(value.lower(), ()):
                    if id(rule) not in seen:
                        seen.add(id(rule))
                        self._offer(rule, event, seq)
        for rule in self._always:
            self._offer(rule, event, seq)

    def _offer(self, rule: CompiledRule, event: dict, seq: int) -> None:
        try:
            rule.offer(event, seq)
        except Exception as exc:  # noqa: BLE001 - a record a predicate chokes on is noted, not fatal
            count = self.errors.get(rule.rule.rule_id, (0, ""))[0]
            self.errors[rule.rule.rule_id] = (count + 1, f"rule {rule.rule.name!r}: event #{seq} could not be evaluated ({exc!r})")

    def _dispatch(self, event: dict, seq: int, sink) -> None:  # type: ignore[no-untyped-def]
        action = event.get(ROUTE_FIELD)
        values = action if isinstance(action, list) else [action]
        seen: set[int] = set()
        for value in values:
            if not isinstance(value, str):
                continue
            for rule in self._exact.get(value, ()) + self._folded.get(value.lower(), ()):
                if id(rule) not in seen:
                    seen.add(id(rule))
                    sink(rule)
        for rule in self._always:
            sink(rule)

    def finish(self, anomalies: list[Finding] | None = None) -> list[Finding]:
        """All alerts, rule by rule, after Kibana's per-execution logic."""
        anomalies = anomalies or []
        findings: list[Finding] = []
        for rule in self.compiled:
            findings.extend(rule.finish(anomalies))
        return findings

    @property
    def ml_job_ids(self) -> set[str]:
        """Job ids named by the machine_learning rules."""
        ids: set[str] = set()
        for rule in self.compiled:
            if isinstance(rule, MachineLearningRule):
                ids.update(rule.rule.machine_learning_job_id)
        return ids


def default_field_types() -> dict[str, str]:
    """Field types from the field catalogue; an empty map (all keyword) if it is absent."""
    try:
        from ctdetect.catalogue import load_catalogue
    except ImportError:
        return {}
    return load_catalogue().field_types()
