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

Memory: a term's occurrences are kept as bare timestamps (8 bytes each); the event itself
is kept only when, given what was read so far, it could still alert (its gap to the
previous occurrence exceeds ``history - from``) — more input only shrinks gaps, so an
event dropped that way can never alert. Out-of-order input is kept conservatively and
settled at the end.

Reference: Kibana docs "Create a new terms rule" ("Fields", "History Window Size").
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from ctdetect.engine.rules.alerts import event_alert, event_identity
from ctdetect.engine.rules.base import MATCH_ORDER, Match, PredicateRule
from ctdetect.engine.rules.threshold import _values
from ctdetect.findings import Finding

Term = tuple[Any, ...]


@dataclass(slots=True)
class _TermState:
    times: array  # every occurrence's time (ms), in arrival order
    last: int  # newest time seen
    candidates: list[Match]  # occurrences that may still alert, with their events


@dataclass(slots=True)
class NewTermsRule(PredicateRule):
    models_delivery = False  # terms are judged over the history analytically, not execution by execution
    term_fields: tuple[str, ...] = ()
    history_ms: int = 0
    terms: dict[Term, _TermState] = field(default_factory=dict)

    def _take(self, event: dict, seq: int) -> None:
        """An event the query matched: each of its terms notes the time, and holds the event
        while it may still alert."""
        if not self.index_allows(event):
            return
        per_field = [_values(event, f) for f in self.term_fields]
        if not per_field or any(not values for values in per_field):
            return
        ts = self._time(event, seq)
        if ts is None:
            return
        match: Match | None = None  # made only if a term holds the event (most occurrences are not held)
        gap_needed = max(self.history_ms, self.schedule.lookback_ms) - self.schedule.lookback_ms
        terms = self.terms
        for combo in itertools.product(*per_field):
            key = tuple(v if not isinstance(v, (dict, list)) else repr(v) for v in combo)
            state = terms.get(key)
            if state is None:
                match = match or Match(ts, seq, event)
                terms[key] = _TermState(array("q", [ts]), ts, [match])
                continue
            if ts < state.last or ts - state.last > gap_needed:
                match = match or Match(ts, seq, event)
                state.candidates.append(match)  # out of order: settled in finish()
            state.times.append(ts)
            if ts > state.last:
                state.last = ts

    def finish(self, anomalies: list[Finding]) -> list[Finding]:
        step = self.schedule.interval_ms
        back = self.schedule.lookback_ms
        quiet = max(self.history_ms, back)
        by_execution: dict[int, list[tuple[Term, Match]]] = {}
        for term, state in self.terms.items():
            times = sorted(state.times)
            state.candidates.sort(key=MATCH_ORDER)
            first_at: dict[int, int] = {}
            for m in state.candidates:
                first_at.setdefault(m.ts, m.seq)
            for m in state.candidates:
                if first_at[m.ts] != m.seq:
                    continue  # another occurrence at the same instant came first
                i = bisect_left(times, m.ts)
                prev = times[i - 1] if i else None
                t = self.schedule.first_execution_at_or_after(m.ts)
                if prev is not None:
                    t = max(t, (prev + quiet) // step * step + step)
                if t <= m.ts + back:
                    by_execution.setdefault(t, []).append((term, m))
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
