"""``query`` (and ``saved_query``) rules: KQL or Lucene over single events.

Kibana semantics emulated, per execution window ``[t - from, t]``:

- documents matching the query are read in ascending time order (the detection engine
  sorts on the timestamp field, ascending) and pages are read until ``max_signals`` *new*
  alerts were created or the hits run out; hits already alerted by an earlier execution
  (overlapping look-back) are duplicates and do not count towards ``max_signals``;
- one alert per source document, ``@timestamp`` = execution time,
  ``kibana.alert.original_time`` = event time.

Reference: Kibana docs "Create a custom query rule", "Rule settings: Max alerts per run",
and the alerts schema (``kibana.alert.original_time``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ctdetect.engine.rules.alerts import event_alert
from ctdetect.engine.rules.base import Match, PredicateRule


@dataclass(slots=True)
class QueryRule(PredicateRule):
    alerted: set[int] = field(default_factory=set)

    def _execute(self, executed_at: int, window: Sequence[Match]) -> None:
        created = 0
        limit = self.rule.max_signals
        for m in window:
            if created >= limit:
                break
            if m.seq in self.alerted:
                continue
            self.alerted.add(m.seq)
            self.output.append(event_alert(self.rule, self.rule_flat, m.event, m.seq, m.ts, executed_at))
            created += 1
