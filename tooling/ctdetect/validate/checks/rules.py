"""Rule-level schema checks that need more than a JSON Schema can say.

Identity (rule_id a UUID, unique rule_id and name across the package), severity against
risk score, the run schedule (``from`` / ``interval``) and the metadata dates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Iterator

from ctdetect.content.durations import rule_from_seconds, rule_interval_seconds
from ctdetect.content.history import oldest_first
from ctdetect.content.model import Rule
from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DATE = re.compile(r"^(\d{4})/(\d{2})/(\d{2})$")

#: Kibana's severity bands for risk_score (its defaults are 21, 47, 73 and 99).
SEVERITY_BANDS: dict[str, tuple[int, int]] = {"low": (0, 21), "medium": (22, 47), "high": (48, 73), "critical": (74, 100)}


class RuleIdUuid(Check):
    id = "schema.rule-id-uuid"
    description = "rule_id is a lower-case UUID (Kibana matches rules across versions by it)."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in ctx.package.rules:
            value = rule.rule.get("rule_id")
            if value is None:
                continue  # schema.required reports it
            if not isinstance(value, str) or not _UUID.match(value):
                hint = " (use lower case)" if isinstance(value, str) and _UUID.match(value.lower()) else ""
                yield problem(rule.source, "rule.rule_id", self.id, self.severity, f"rule_id {value!r} is not a UUID{hint}")


def _by_age(rules: list[Rule]) -> list[Rule]:
    """Rules sharing an identity, the first one added first (``content.history``): the
    problem is reported on the copies, not on the original."""
    by_path = {rule.source.path: rule for rule in rules}
    return [by_path[path] for path in oldest_first(list(by_path))] if len(by_path) == len(rules) else rules


class UniqueRuleId(Check):
    id = "schema.unique-rule-id"
    description = "No two rules share a rule_id (reported on the file added later, by git history, else by path order)."

    def run(self, ctx: Context) -> Iterator[Problem]:
        seen: dict[str, list[Rule]] = defaultdict(list)
        for rule in ctx.package.rules:
            if rule.rule_id:
                seen[rule.rule_id].append(rule)
        for rule_id, rules in seen.items():
            if len(rules) < 2:
                continue
            first, *copies = _by_age(rules)
            for dup in copies:
                yield problem(dup.source, "rule.rule_id", self.id, self.severity,
                              f"rule_id {rule_id} is already used by {first.source.path} (added earlier): give this rule a new UUID")


class UniqueName(Check):
    id = "schema.unique-name"
    description = "No two rules share a name (analysts tell alerts apart by it; reported on the file added later)."

    def run(self, ctx: Context) -> Iterator[Problem]:
        seen: dict[str, list[Rule]] = defaultdict(list)
        for rule in ctx.package.rules:
            if rule.name:
                seen[rule.name.strip().casefold()].append(rule)
        for rules in seen.values():
            if len(rules) < 2:
                continue
            first, *copies = _by_age(rules)
            for dup in copies:
                yield problem(dup.source, "rule.name", self.id, self.severity, f"rule name {dup.name!r} is already used by {first.source.path} (added earlier)")


class SeverityRisk(Check):
    id = "schema.severity-risk"
    description = "risk_score lies in the band of the rule's severity (low 0-21, medium 22-47, high 48-73, critical 74-100)."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in ctx.package.rules:
            band = SEVERITY_BANDS.get(rule.severity)
            if band is None or rule.risk_score is None:
                continue  # schema.enum / schema.type report these
            low, high = band
            if not low <= rule.risk_score <= high:
                yield problem(
                    rule.source,
                    "rule.risk_score",
                    self.id,
                    self.severity,
                    f"risk_score {rule.risk_score} does not match severity '{rule.severity}' (expected {low}-{high})",
                )


class Schedule(Check):
    id = "schema.interval"
    description = "interval is '<n>s|m|h|d', from is 'now-<n>s|m|h|d', and the look-back covers the interval (no gaps)."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in ctx.package.rules:
            raw = rule.rule
            interval = raw.get("interval", "5m")
            look = raw.get("from", "now-6m")
            every = rule_interval_seconds(interval) if isinstance(interval, str) else None
            back = rule_from_seconds(look) if isinstance(look, str) else None
            if every is None or every == 0:
                yield problem(rule.source, "rule.interval", self.id, "error", f"interval {interval!r} is not a positive duration like '5m' (units s, m, h, d)")
            if back is None:
                yield problem(rule.source, "rule.from", self.id, "error", f"from {look!r} is not date math like 'now-6m' (units s, m, h, d)")
            if every and back is not None and back < every:
                yield problem(
                    rule.source,
                    "rule.from",
                    self.id,
                    "warning",
                    f"look-back from={look!r} is shorter than interval={interval!r}: events between runs are never searched",
                )


class MetadataDates(Check):
    id = "schema.date"
    description = "creation_date, updated_date (and deprecation_date) are real YYYY/MM/DD dates, updated not before created."

    def run(self, ctx: Context) -> Iterator[Problem]:
        for rule in ctx.package.rules:
            meta = rule.metadata
            parsed: dict[str, date] = {}
            for key in ("creation_date", "updated_date", "deprecation_date"):
                if key not in meta:
                    continue
                value = meta[key]
                m = _DATE.match(value) if isinstance(value, str) else None
                try:
                    parsed[key] = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None  # type: ignore[assignment]
                except ValueError:
                    m = None
                if m is None:
                    yield problem(rule.source, f"metadata.{key}", self.id, self.severity, f"{key} {value!r} is not a date written YYYY/MM/DD")
                    parsed.pop(key, None)
            created, updated = parsed.get("creation_date"), parsed.get("updated_date")
            if created and updated and updated < created:
                yield problem(rule.source, "metadata.updated_date", self.id, self.severity, f"updated_date {meta['updated_date']} is before creation_date {meta['creation_date']}")
