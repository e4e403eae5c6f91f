"""What every compiled rule shares: its schedule, the events it matched, its alert fields.

A compiled rule sees only the events the rule index routes to it (``index.RuleIndex``),
tests them with predicates compiled once, and keeps just the matches (with their time and
position in the input). All of Kibana's per-execution logic — windows, ``max_signals``,
de-duplication across overlapping look-backs — runs once at the end over those matches,
so the per-event cost of a rule that cannot match an event is zero and of one that can is
one predicate call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable

from ctdetect.content.model import Rule
from ctdetect.engine.rules.alerts import rule_fields
from ctdetect.engine.rules.schedule import Schedule
from ctdetect.engine.rules.timeutil import event_ms
from ctdetect.findings import Finding

Predicate = Callable[[dict], bool]


class RuleNotEvaluable(Exception):
    """The rule cannot be evaluated by the embedded engine (reason in the message)."""


@dataclass(slots=True)
class Match:
    """A source event a rule's query matched: its time (ms), input position and fields."""

    ts: int
    seq: int
    event: dict


@dataclass(slots=True)
class CompiledRule:
    """Base of every rule type. Subclasses implement ``offer`` and ``finish``."""

    rule: Rule
    schedule: Schedule
    time_field: str | None = None
    matches: list[Match] = field(default_factory=list)
    untimed: int = 0  # matching events without a readable time (cannot be placed in a window)
    # (field, values) the rule can match (routing.rule_route); None: every event
    route: tuple[str, frozenset] | None = None
    _rule_flat: dict[str, Any] | None = None
    _index_ok: dict[str, bool] = field(default_factory=dict)

    @property
    def rule_flat(self) -> dict[str, Any]:
        if self._rule_flat is None:
            self._rule_flat = rule_fields(self.rule)
        return self._rule_flat

    def index_allows(self, event: dict) -> bool:
        """Whether the event lives in an index the rule searches (``rule.index`` patterns).

        Events that carry no data stream or index information are taken to be in every
        index: a user's ECS NDJSON rarely says where it would be stored.
        """
        patterns = self.rule.index
        if not patterns:
            return True
        name = event.get("_index")
        if not isinstance(name, str):
            ds = event.get("data_stream.dataset")
            if not isinstance(ds, str):
                return True
            name = f"{event.get('data_stream.type') or 'logs'}-{ds}-{event.get('data_stream.namespace') or 'default'}"
        ok = self._index_ok.get(name)
        if ok is None:
            ok = self._index_ok[name] = any(
                fnmatchcase(name, p.strip()) for p in patterns if not p.strip().startswith("-")
            )
        return ok

    def _time(self, event: dict) -> int | None:
        ts = event_ms(event, self.time_field)
        if ts is None:
            self.untimed += 1
        return ts

    def offer(self, event: dict, seq: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self, anomalies: list[Finding]) -> list[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(slots=True)
class PredicateRule(CompiledRule):
    """A rule whose per-event test is one predicate; matches are kept in full."""

    predicate: Predicate = lambda event: False

    def offer(self, event: dict, seq: int) -> None:
        if self.predicate(event) and self.index_allows(event):
            ts = self._time(event)
            if ts is not None:
                self.matches.append(Match(ts, seq, event))

    def sorted_matches(self) -> list[Match]:
        self.matches.sort(key=lambda m: (m.ts, m.seq))
        return self.matches
