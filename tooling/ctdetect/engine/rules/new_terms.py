"""``new_terms`` rules: alert on the first appearance of a value (or combination of values).

Kibana semantics emulated. For an execution at time ``t`` with window ``[t - from, t]``
and history start ``h = t - history_window_start`` (date math relative to the execution
time): a *term* — the value of the one new-terms field, or the combination of values of
several fields — found in the window is new when no matching event in ``[h, t - from)``
carried it. The alert is raised on the term's first event in the window and holds
``kibana.alert.new_terms`` (the values). A multi-valued field gives one term per value
(one per combination for several fields); an event missing any of the fields has no
term. At most ``max_signals`` alerts per execution. Alert ids are derived from the rule,
the source event and the term, so an overlapping later window does not alert again.

Computed without replaying every window: for an occurrence ``x`` of a term whose previous
occurrence is ``p``, the condition above holds at an execution ``t`` exactly when
``x <= t <= x + from`` and ``t > p + max(history, from)``; the alert goes to the first
such ``t``. Data before the first event does not exist, so at the start of an archive
every term is new (as it is for a rule enabled on a fresh cluster) — scenarios use the
expectation's ``after`` bound, hunters can filter with ``--since``.

Reference: Kibana docs "Create a new terms rule" ("Fields", "History Window Size").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from ctdetect.engine.rules.alerts import event_alert, event_identity
from ctdetect.engine.rules.base import CompiledRule, Match, Predicate
from ctdetect.engine.rules.threshold import _values
from ctdetect.findings import Finding

Term = tuple[Any, ...]


@dataclass(slots=True)
class NewTermsRule(CompiledRule):
    predicate: Predicate = lambda event: False
    term_fields: tuple[str, ...] = ()
    history_ms: int = 0
    occurrences: dict[Term, list[Match]] = field(default_factory=dict)

    def offer(self, event: dict, seq: int) -> None:
        if not self.predicate(event) or not self.index_allows(event):
            return
        per_field = [_values(event, f) for f in self.term_fields]
        if not per_field or any(not values for values in per_field):
            return
        ts = self._time(event)
        if ts is None:
            return
        match = Match(ts, seq, event)
        for combo in itertools.product(*per_field):
            key = tuple(v if not isinstance(v, (dict, list)) else repr(v) for v in combo)
            self.occurrences.setdefault(key, []).append(match)

    def finish(self, anomalies: list[Finding]) -> list[Finding]:
        step = self.schedule.interval_ms
        back = self.schedule.lookback_ms
        quiet = max(self.history_ms, back)
        by_execution: dict[int, list[tuple[Term, Match]]] = {}
        for term, occ in self.occurrences.items():
            occ.sort(key=lambda m: (m.ts, m.seq))
            prev: Match | None = None
            for m in occ:
                t = self.schedule.first_execution_at_or_after(m.ts)
                if prev is not None:
                    t = max(t, (prev.ts + quiet) // step * step + step)
                if t <= m.ts + back:
                    by_execution.setdefault(t, []).append((term, m))
                prev = m
        findings: list[Finding] = []
        for t in sorted(by_execution):
            items = sorted(by_execution[t], key=lambda item: repr(item[0]))[: self.rule.max_signals]
            for term, m in items:
                values = list(term)
                findings.append(
                    event_alert(
                        self.rule,
                        self.rule_flat,
                        m.event,
                        m.seq,
                        m.ts,
                        t,
                        extra={"kibana.alert.new_terms": values},
                        identities=(event_identity(m.event, m.seq), "new_terms", repr(values)),
                    )
                )
        findings.sort(key=lambda f: f.timestamp)
        return findings
