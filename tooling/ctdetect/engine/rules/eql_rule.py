"""``eql`` rules: single-event EQL queries and sequences, with ``head``/``tail`` pipes.

Kibana semantics emulated, per execution window ``[t - from, t]``:

- the rule runs one EQL search over the window with ``size = max_signals``; EQL returns
  events (or sequences) in ascending time order, ``| head N`` keeps the first N and
  ``| tail N`` the last N; hits already alerted by an earlier, overlapping execution are
  duplicates and dropped (so an execution may create fewer than ``max_signals`` alerts —
  unlike query rules, EQL rules do not page on);
- a single-event hit becomes one alert; a sequence becomes one *shell* alert holding the
  fields common to all its events, plus one building-block alert per event
  (``kibana.alert.building_block_type: default``), all sharing ``kibana.alert.group.id``;
- a sequence is found only if all its events lie within one execution's window: a
  ``maxspan`` longer than the look-back cannot be honoured by Kibana either.

Sequence matching itself: ``sequence.run_sequences``. References: Elasticsearch "EQL
syntax reference" (sequences, ``by``, ``maxspan``, ``until``, ``runs``, pipes), "EQL
search API" (``size``), Kibana docs "Create an event correlation rule".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ctdetect.ecs.flat import nest
from ctdetect.ecs.projected import full_document
from ctdetect.engine.rules.alerts import alert_uuid, event_alert, event_identity, reason
from ctdetect.engine.rules.base import CompiledRule, Match, PredicateRule, RuleNotEvaluable
from ctdetect.engine.rules.sequence import SeqEvent, SequenceSpec, join_key, run_sequences
from ctdetect.engine.rules.timeutil import iso_ms
from ctdetect.findings import Finding, alert_finding


def pipe_limits(pipes: tuple[Any, ...]) -> tuple[str | None, int | None]:
    """``(head|tail, N)`` from the query's pipes; other pipes are not supported."""
    mode: str | None = None
    count: int | None = None
    for pipe in pipes:
        name = pipe.name.lower()
        if name not in ("head", "tail"):
            raise RuleNotEvaluable(f"EQL pipe '| {pipe.name}' is not supported by the embedded engine")
        n = 10
        if pipe.args:
            arg = pipe.args[0]
            n = int(getattr(arg, "value", arg))
        mode, count = name, n if count is None else min(n, count)
    return mode, count


def _apply_limits(items: list, size: int, mode: str | None, count: int | None) -> list:
    if mode == "head":
        items = items[:count]
    elif mode == "tail":
        items = items[-count:] if count else []
    return items[:size]


@dataclass(slots=True)
class EqlEventRule(PredicateRule):
    """A single-event EQL query (``<category> where <condition>``)."""

    pipe_mode: str | None = None
    pipe_count: int | None = None
    alerted: set[int] = field(default_factory=set)

    def _execute(self, executed_at: int, window: Sequence[Match]) -> None:
        for m in _apply_limits(list(window), self.rule.max_signals, self.pipe_mode, self.pipe_count):
            if m.seq in self.alerted:
                continue
            self.alerted.add(m.seq)
            self.output.append(event_alert(self.rule, self.rule_flat, m.event, m.seq, m.ts, executed_at))


@dataclass(slots=True)
class EqlSequenceRule(CompiledRule):
    """An EQL sequence rule: per-step predicates and join keys, the state machine per execution."""

    step_predicates: list[Callable[[dict], bool]] = field(default_factory=list)
    step_keys: list[tuple[str, ...]] = field(default_factory=list)
    until_predicate: Callable[[dict], bool] | None = None
    until_keys: tuple[str, ...] = ()
    spec: SequenceSpec | None = None
    pipe_mode: str | None = None
    pipe_count: int | None = None
    seen: set[tuple[int, ...]] = field(default_factory=set)

    def offer(self, event: dict, seq: int) -> None:
        steps: list[int] = []
        keys: dict[int, Any] = {}
        for i, pred in enumerate(self.step_predicates):
            if pred(event):
                key = join_key(event, self.step_keys[i])
                if key is not None:
                    steps.append(i)
                    keys[i] = key
        until = False
        if self.until_predicate is not None and self.until_predicate(event):
            key = join_key(event, self.until_keys)
            if key is not None:
                until = True
                keys[-1] = key
        if not steps and not until:
            return
        if not self.index_allows(event):
            return
        ts = self._time(event, seq)
        if ts is None:
            return
        self._keep(SeqEvent(ts, seq, event, tuple(steps), keys, until))

    def _execute(self, executed_at: int, window: Sequence[SeqEvent]) -> None:
        assert self.spec is not None
        found = run_sequences(self.spec, window)
        for events in _apply_limits(found, self.rule.max_signals, self.pipe_mode, self.pipe_count):
            ident = tuple(e.seq for e in events)
            if ident in self.seen:
                continue
            self.seen.add(ident)
            self.output.append(self._sequence_alert(events, executed_at))

    def _sequence_alert(self, events: list[SeqEvent], executed_ms: int) -> Finding:
        docs = [full_document(e.event) for e in events]  # the shell and its blocks show whole events
        identities = [event_identity(doc, e.seq) for doc, e in zip(docs, events)]
        shell_id = alert_uuid(self.rule.rule_id, "sequence", *identities)
        group_id = str(uuid.UUID(shell_id[:32]))
        blocks: list[dict[str, Any]] = []
        for index, (doc, e) in enumerate(zip(docs, events)):
            block = event_alert(
                self.rule,
                self.rule_flat,
                doc,
                e.seq,
                e.ts,
                executed_ms,
                extra={
                    "kibana.alert.building_block_type": "default",
                    "kibana.alert.group.id": group_id,
                    "kibana.alert.group.index": index,
                },
                identities=("building-block", shell_id, identities[index]),
            )
            blocks.append(block.document)
        common = _common_fields(docs)
        flat: dict[str, Any] = dict(common)
        flat.update(self.rule_flat)
        flat.update(
            {
                "@timestamp": iso_ms(executed_ms),
                "event.kind": "signal",
                "kibana.alert.original_time": iso_ms(events[0].ts),
                "kibana.alert.uuid": shell_id,
                "kibana.alert.group.id": group_id,
                "kibana.alert.depth": 2,
                "kibana.alert.ancestors": [
                    {"id": b["kibana"]["alert"]["uuid"], "type": "signal", "index": ".alerts-security.alerts-default", "depth": 1}
                    for b in blocks
                ],
                "kibana.alert.reason": reason(self.rule, common),
            }
        )
        entity = dict(common)
        return alert_finding(self.rule, events[0].ts, nest(flat), entity, related=blocks)


def _common_fields(events: list[dict]) -> dict[str, Any]:
    """Fields whose value is the same in every event of a sequence (Kibana's shell alert)."""
    first, rest = events[0], events[1:]
    out: dict[str, Any] = {}
    for key, value in first.items():
        if key.startswith("_"):
            continue
        if all(other.get(key) == value for other in rest):
            out[key] = value
    return out
