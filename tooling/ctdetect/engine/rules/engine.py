"""The rule engine: every rule of a package, compiled once, fed each event once.

``RuleEngine(rules, field_types)`` compiles the rules and indexes them by the
``event.action`` values (exact or wildcard; else the ``event.provider`` values) they can
match (``routing``); a rule that pins neither is tested first on its ``gate`` (other
fields it needs, ``routing.rule_gate``) with one cached look-up per field and distinct value. The candidate rules of each distinct (action, provider) pair are
worked out once and cached, so ``feed(event, seq)`` costs one dict lookup plus one
predicate call per rule that can match; matches are kept by the rules, which run
Kibana's per-execution logic (schedule, ``max_signals``, de-duplication) as executions
settle; ``feed_batch(events, first_seq)`` offers many events at once, rule by rule
(each rule tests the positions routed to it in one call). ``finish(anomalies)`` runs the rest and returns the alerts, ``machine_learning``
rules reading the anomaly findings given, and ES|QL rules that read ``.alerts-security.*``
last, over the alerts of the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Iterable, Mapping, Sequence

from ctdetect.content.model import Rule
from ctdetect.engine.rules.base import CompiledRule, OfferedEvent, RuleNotEvaluable
from ctdetect.engine.rules.compile import compile_rule
from ctdetect.engine.rules.ml_rule import MachineLearningRule
from ctdetect.engine.rules.routing import ROUTE_FIELD, ROUTE_FIELDS
from ctdetect.findings import Finding
from ctdetect.query.values import keyword_str

PROVIDER_FIELD = ROUTE_FIELDS[1]
# events offered rule by rule at once (``feed_batch``): enough to spread each rule's call over
# many events, few enough that they stay in the processor's cache from one rule to the next
# (4096 at a time ran 20-30 % slower than 256 over the 200k archive: each rule's pass missed)
BATCH = 256


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
    # per routed rule: (field index 0=action 1=provider, matchers of its values)
    _routed: list[tuple[CompiledRule, int, tuple]] = field(default_factory=list)
    _always: tuple[CompiledRule, ...] = ()
    # rules neither routed nor always run: (rule, gate checks); a check is (field, matchers, value -> passes cache)
    _gated: tuple[tuple[CompiledRule, tuple[tuple[str, tuple, dict], ...]], ...] = ()
    # (action, provider) -> the rules that may match an event carrying them
    _cache: dict[tuple, tuple[CompiledRule, ...]] = field(default_factory=dict)
    # id(rule) -> its place in the order ``feed`` offers an event to the rules (routed, always, gated)
    _rank: dict[int, int] = field(default_factory=dict)
    # what every rule of the engine derives alike from an event (``build`` gives them all this one)
    offered: OfferedEvent | None = None
    # rule_id -> (events that raised, first message)
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: Iterable[Rule], field_types: Mapping[str, str]) -> "RuleEngine":
        """Compile ``rules`` under ``field_types`` (the field catalogue's, from the backend; unknown fields are keyword)."""
        engine = cls()
        offered = OfferedEvent()  # one per engine: its rules derive an event's index and times once
        for rule in rules:
            try:
                compiled = compile_rule(rule, field_types)
            except RuleNotEvaluable as exc:
                engine.not_evaluated.append(NotEvaluated(rule.rule_id, rule.name, str(rule.source.path), str(exc)))
                continue
            compiled.offered = offered
            engine.compiled.append(compiled)
        engine.offered = offered
        engine._index()
        return engine

    def _index(self) -> None:
        always: list[CompiledRule] = []
        gated: list[tuple[CompiledRule, tuple[tuple[str, tuple, dict], ...]]] = []
        for rule in self.compiled:
            # neither reads the event stream: an ML rule reads anomalies, a higher-order ES|QL
            # rule the run's alerts (``finish``); offering them every event cost a call each
            if isinstance(rule, MachineLearningRule) or getattr(rule, "reads_alerts", False):
                continue
            if rule.route is None:
                if rule.gate is None:
                    always.append(rule)
                else:
                    checks = tuple((name, tuple(v.matcher() for v in values), {}) for name, values in rule.gate)
                    gated.append((rule, checks))
                continue
            route_field, values = rule.route
            self._routed.append((rule, ROUTE_FIELDS.index(route_field), tuple(v.matcher() for v in values)))
        self._always = tuple(always)
        self._gated = tuple(gated)
        ordered = [rule for rule, _, _ in self._routed] + always + [rule for rule, _ in gated]
        self._rank = {id(rule): rank for rank, rule in enumerate(ordered)}
        self._cache.clear()

    def _candidates_for(self, key: tuple) -> tuple[CompiledRule, ...]:
        """Rules for an (action, provider) pair: computed once per distinct pair."""
        out: list[CompiledRule] = []
        for rule, index, matchers in self._routed:
            values = key[index]
            if values is None:
                continue
            if _any_matches(values, matchers):
                out.append(rule)
        out.extend(self._always)
        found = tuple(out)
        if len(self._cache) > 200_000:  # unbounded distinct values: keep memory flat
            self._cache.clear()
        self._cache[key] = found
        return found

    def candidates(self, event: dict) -> list[CompiledRule]:
        """The rules that may match ``event`` (for tests and diagnostics)."""
        return list(self._lookup(event)) + [
            rule for rule, checks in self._gated if all(_gate_passes(event.get(name), matchers, cache) for name, matchers, cache in checks)
        ]

    def _lookup(self, event: dict) -> tuple[CompiledRule, ...]:
        key = _route_key(event)
        found = self._cache.get(key)
        if found is None:
            found = self._candidates_for(key)
        return found

    def feed(self, event: dict, seq: int) -> None:
        """Offer one event (``seq``: its position in the input, unique per run)."""
        self.feed_batch((event,), seq)

    def feed_batch(self, events: Sequence[dict], first_seq: int) -> None:
        """Offer ``events`` (input positions ``first_seq`` on): what ``feed`` of each in turn does.

        Why: one event at a time costs a route lookup, a loop and a Python call per candidate
        rule, and most offers to a predicate rule end at its predicate. Here the batch is split
        by route key once, each rule gets the positions routed to it in one call
        (``CompiledRule.offer_batch``: a predicate rule filters them in one comprehension), and
        each gated rule's gate runs over the whole batch. Every rule still sees its events in
        input order; rules share no state but the ``OfferedEvent`` (which keeps what it derived
        per position for the batch) and ``errors``, noted here in the order ``feed`` notes them."""
        if len(events) > BATCH:  # in slices: a slice's events stay in the processor's cache while each rule reads them
            for start in range(0, len(events), BATCH):
                self.feed_batch(events[start:start + BATCH], first_seq + start)
            return
        if not events:
            return
        failures: list[tuple[int, int, CompiledRule, Exception]] = []
        rank = self._rank

        def failed(rule: CompiledRule, seq: int, exc: Exception) -> None:
            failures.append((seq, rank.get(id(rule), 0), rule, exc))

        offered = self.offered
        if offered is not None:
            offered.begin_batch()
        try:
            for rule, positions in self._routed_positions(events):
                rule.offer_batch(events, positions, first_seq, failed)
            columns: dict[str, list] = {}
            for rule, checks in self._gated:
                positions = _gate_positions(events, checks, columns)
                if positions:
                    rule.offer_batch(events, positions, first_seq, failed)
        finally:
            if offered is not None:
                offered.end_batch()
        if failures:
            failures.sort(key=lambda failure: failure[:2])
            for seq, _, rule, exc in failures:
                self._note_error(rule, seq, exc)

    def _routed_positions(self, events: Sequence[dict]) -> list[tuple[CompiledRule, list[int]]]:
        """The routed and always-run rules a batch reaches, in ``feed``'s order, each with the
        positions (ascending) of the events routed to it: the batch is grouped by
        (action, provider) once, and each group's rules looked up once."""
        groups: dict[tuple, list[int]] = {}
        keys = zip([event.get(ROUTE_FIELD) for event in events], [event.get(PROVIDER_FIELD) for event in events])
        for i, key in enumerate(keys):
            try:
                groups[key].append(i)
            except KeyError:
                groups[key] = [i]
            except TypeError:  # a list value (unhashable): grouped under its values as a tuple
                groups.setdefault(_route_key(events[i]), []).append(i)
        cache = self._cache
        parts: dict[int, list[list[int]]] = {}
        for key, positions in groups.items():
            rules = cache.get(key)
            if rules is None:
                rules = self._candidates_for(key)
            for rule in rules:
                held = parts.get(id(rule))
                if held is None:
                    parts[id(rule)] = [positions]
                else:
                    held.append(positions)
        if not parts:
            return []
        reached: list[tuple[CompiledRule, list[int]]] = []
        for rule in chain((rule for rule, _, _ in self._routed), self._always):
            held = parts.get(id(rule))
            if held is not None:
                reached.append((rule, held[0] if len(held) == 1 else sorted(chain.from_iterable(held))))
        return reached

    def _note_error(self, rule: CompiledRule, seq: int, exc: Exception) -> None:
        """Count an event a rule's predicate choked on (reported by the backend, never raised)."""
        count = self.errors.get(rule.rule.rule_id, (0, ""))[0]
        self.errors[rule.rule.rule_id] = (count + 1, f"rule {rule.rule.name!r}: event #{seq} could not be evaluated ({exc!r})")

    def finish(self, anomalies: list[Finding] | None = None) -> list[Finding]:
        """All alerts, rule by rule, after Kibana's per-execution logic."""
        anomalies = anomalies or []
        findings: list[Finding] = []
        higher_order = [r for r in self.compiled if getattr(r, "reads_alerts", False)]
        later = {id(r) for r in higher_order}
        for rule in self.compiled:
            if id(rule) not in later:
                findings.extend(rule.finish(anomalies))
        for rule in higher_order:  # ES|QL rules reading .alerts-security.*: the alerts above are their input
            rule.offer_alerts(findings)
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


def _route_key(event: dict) -> tuple:
    """An event's (action, provider) as the rule index's cache keys it: a list value as a tuple."""
    action = event.get(ROUTE_FIELD)
    provider = event.get(PROVIDER_FIELD)
    if action.__class__ is list:
        action = tuple(action)
    if provider.__class__ is list:
        provider = tuple(provider)
    return (action, provider)


def _gate_positions(events: Sequence[dict], checks: tuple[tuple[str, tuple, dict], ...], columns: dict[str, list]) -> list[int]:
    """The positions of the events that pass a gated rule's checks (every field present, with a
    value a check's matchers accept), each check run over the survivors of the one before.
    ``columns``: each field's values over the events, read once for all the gated rules."""
    positions: Iterable[int] = range(len(events))
    for name, matchers, cache in checks:
        column = columns.get(name)
        if column is None:
            column = columns[name] = [event.get(name) for event in events]
        known = cache.get
        kept: list[int] = []
        for i in positions:
            value = column[i]
            if value is None:
                continue
            passes = known(value) if value.__class__ is str else None
            if passes is None:
                passes = _gate_passes(value, matchers, cache)
            if passes:
                kept.append(i)
        if not kept:
            return kept
        positions = kept
    return list(positions)


def _any_matches(values: object, matchers: tuple) -> bool:
    """Whether any of a field's values (one value or a tuple) meets any matcher, compared as indexed:
    a number or boolean as its keyword text, as the predicate compares it."""
    if not isinstance(values, tuple):
        values = (values,)
    texts = [v if v.__class__ is str else keyword_str(v) for v in values if v is not None]
    return any(m(t) for t in texts for m in matchers)


def _gate_passes(value: object, matchers: tuple, cache: dict) -> bool:
    """A gate's answer for one field value (``None``: missing, never passes); string answers are cached."""
    if value is None:
        return False
    if value.__class__ is list:
        return _any_matches(tuple(value), matchers)
    passes = _any_matches(value, matchers)
    if value.__class__ is str:
        if len(cache) > 100_000:  # unbounded distinct values: keep memory flat
            cache.clear()
        cache[value] = passes
    return passes
