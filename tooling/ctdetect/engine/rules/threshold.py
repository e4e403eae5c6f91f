"""``threshold`` rules: alert when a group of events reaches a count (and cardinality).

Kibana semantics emulated, per execution window ``[t - from, t]``:

- events matching the query are grouped by the values of ``threshold.field`` (no field:
  one group of everything). A multi-valued field puts an event in one group per value,
  several fields group by every combination (Kibana's terms / multi-terms aggregation);
  an event missing any group field is in no group (aggregations skip missing values);
- a group alerts when its event count is ``>= threshold.value`` and, for each
  ``threshold.cardinality`` entry, the number of distinct values of that field in the
  group is ``>= value``;
- one alert per group per execution, at most ``max_signals`` per execution, groups taken
  by descending count (the aggregation's default order);
- threshold *signal history*: once a group has alerted, later executions count only its
  events newer than that alert's ``kibana.alert.original_time``, so the same events never
  raise the group again;
- the alert holds the group values and ``kibana.alert.threshold_result``:
  ``terms`` [{field, value}], ``cardinality`` [{field, value}], ``count`` and ``from`` (the
  previous alert's original time for the group, else the window start); its
  ``kibana.alert.original_time`` is the newest counted event's time.

References: Kibana docs "Create a threshold rule" ("Group by", "Threshold", "Count
(cardinality)") and the alert schema field ``kibana.alert.threshold_result``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Sequence

from ctdetect.ecs.flat import nest
from ctdetect.engine.rules.alerts import alert_uuid
from ctdetect.engine.rules.base import PredicateRule
from ctdetect.engine.rules.timeutil import iso_ms
from ctdetect.findings import Finding, alert_finding

GroupKey = tuple[Any, ...]


def _values(event: dict, name: str) -> list[Any]:
    value = event.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if v is not None]
    return [value]


@dataclass(slots=True)
class _Hit:
    ts: int
    seq: int
    groups: list[GroupKey]
    distinct: list[list[Any]]  # per cardinality field, the event's values


@dataclass(slots=True)
class ThresholdRule(PredicateRule):
    group_fields: tuple[str, ...] = ()
    value: int = 1
    cardinality: tuple[tuple[str, int], ...] = ()
    last_alert: dict[GroupKey, int] = field(default_factory=dict)

    def _take(self, event: dict, seq: int) -> None:
        """An event the query matched: held with its groups and the values it counts."""
        if not self.index_allows(event):
            return
        if self.group_fields:
            per_field = [_values(event, f) for f in self.group_fields]
            if any(not values for values in per_field):
                return
            groups = [tuple(c) for c in itertools.product(*per_field)]
        else:
            groups = [()]
        ts = self._time(event, seq)
        if ts is None:
            return
        self._keep(_Hit(ts, seq, groups, [_values(event, f) for f, _ in self.cardinality]))

    def _execute(self, executed_at: int, window: Sequence[_Hit]) -> None:
        window_start = executed_at - self.schedule.lookback_ms
        last_alert = self.last_alert
        buckets: dict[GroupKey, list[_Hit]] = {}
        for h in window:
            for g in h.groups:
                if g in last_alert and h.ts <= last_alert[g]:
                    continue
                buckets.setdefault(g, []).append(h)
        ready: list[tuple[GroupKey, list[_Hit], list[int]]] = []
        for g, members in buckets.items():
            if len(members) < self.value:
                continue
            counts = []
            for i, _ in enumerate(self.cardinality):
                counts.append(len({repr(v) for m in members for v in m.distinct[i]}))
            if any(c < needed for c, (_, needed) in zip(counts, self.cardinality)):
                continue
            ready.append((g, members, counts))
        ready.sort(key=lambda item: (-len(item[1]), repr(item[0])))
        for g, members, counts in ready[: self.rule.max_signals]:
            newest = max(m.ts for m in members)
            since = last_alert.get(g, window_start)
            self.output.append(self._alert(g, members, counts, since, newest, executed_at))
            last_alert[g] = newest

    def _alert(
        self, group: GroupKey, members: list[_Hit], counts: list[int], since: int, newest: int, executed: int
    ) -> Finding:
        terms = [{"field": f, "value": v} for f, v in zip(self.group_fields, group)]
        result = {
            "terms": terms,
            "cardinality": [{"field": f, "value": c} for (f, _), c in zip(self.cardinality, counts)],
            "count": len(members),
            "from": iso_ms(since),
        }
        entity = dict(zip(self.group_fields, group))
        flat: dict[str, Any] = dict(entity)
        flat.update(self.rule_flat)
        flat.update(
            {
                "@timestamp": iso_ms(executed),
                "event.kind": "signal",
                "kibana.alert.original_time": iso_ms(newest),
                "kibana.alert.uuid": alert_uuid(self.rule.rule_id, "threshold", repr(group), newest),
                "kibana.alert.depth": 1,
                "kibana.alert.threshold_result": result,
                "kibana.alert.reason": _reason(self.rule.name, self.rule.severity, terms, len(members)),
            }
        )
        return alert_finding(self.rule, newest, nest(flat), entity)


def _reason(name: str, severity: str, terms: list[dict], count: int) -> str:
    by = ", ".join(f"{t['field']}={t['value']}" for t in terms) or "all events"
    return f"{count} events with {by} created {severity or 'an'} alert {name}."
