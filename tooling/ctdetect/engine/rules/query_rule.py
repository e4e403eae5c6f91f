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

from dataclasses import dataclass

from ctdetect.engine.rules.alerts import event_alert
from ctdetect.engine.rules.base import PredicateRule
from ctdetect.findings import Finding


@dataclass(slots=True)
class QueryRule(PredicateRule):
    def finish(self, anomalies: list[Finding]) -> list[Finding]:
        matches = self.sorted_matches()
        times = [m.ts for m in matches]
        alerted: set[int] = set()
        findings: list[Finding] = []
        limit = self.rule.max_signals
        for t, lo, hi in self.schedule.windows(times):
            created = 0
            for m in matches[lo:hi]:
                if created >= limit:
                    break
                if m.seq in alerted:
                    continue
                alerted.add(m.seq)
                findings.append(event_alert(self.rule, self.rule_flat, m.event, m.seq, m.ts, t))
                created += 1
        return findings
