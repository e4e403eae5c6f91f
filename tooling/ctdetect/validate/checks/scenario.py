"""Scenario checks: expectations name real rules and jobs, events exist, and every rule and
job has a scenario where it must fire and one where it must stay silent.
"""

from __future__ import annotations

from typing import Iterator

from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem


def _targets(ctx: Context) -> tuple[dict[str, str], set[str]]:
    """Rule references (rule_id and name -> rule_id) and job ids of the package."""
    rules: dict[str, str] = {}
    for rule in ctx.package.rules:
        if rule.rule_id:
            rules[rule.rule_id] = rule.rule_id
            if rule.name:
                rules.setdefault(rule.name, rule.rule_id)
    return rules, {job.job_id for job in ctx.package.jobs}


class ScenarioUnknownTarget(Check):
    id = "scenario.unknown-target"
    description = "Every expectation names a rule (rule_id or name) or job of the package."
    requires = ("scenarios",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        rules, jobs = _targets(ctx)
        for scenario in ctx.package.scenarios:
            for exp in scenario.expectations:
                key = f"expect.{exp.index}"
                if exp.rule is not None and exp.rule not in rules:
                    yield problem(scenario.source, f"{key}.rule", self.id, self.severity, f"expectation names rule '{exp.rule}', which is neither a rule_id nor a rule name of the package")
                if exp.job is not None and exp.job not in jobs:
                    yield problem(scenario.source, f"{key}.job", self.id, self.severity, f"expectation names job '{exp.job}', which is not in ml_jobs/")


class ScenarioEvents(Check):
    id = "scenario.events"
    description = "A scenario reads events: its event paths exist, and it has at least one events or synth entry."
    requires = ("scenarios",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        for scenario in ctx.package.scenarios:
            if not scenario.events and not scenario.synth:
                yield problem(scenario.source, None, self.id, self.severity, "scenario has no [[events]] and no [[synth]]: it would read zero events", line=1)
            for i, source in enumerate(scenario.events):
                if not source.path.exists():
                    yield problem(scenario.source, f"events.{i}.path", self.id, self.severity, f"event path {source.path} does not exist")


class ScenarioCoverage(Check):
    id = "scenario.coverage"
    description = "Every rule and job has a scenario where it must fire and one where it must stay silent."
    severity = "warning"
    requires = ("scenarios",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        rules, _ = _targets(ctx)
        fires: set[tuple[str, str]] = set()
        for scenario in ctx.package.scenarios:
            for exp in scenario.expectations:
                if exp.rule is not None and exp.rule in rules:
                    fires.add(("rule", rules[exp.rule]) if exp.fires else ("rule-silent", rules[exp.rule]))
                if exp.job is not None:
                    fires.add(("job", exp.job) if exp.fires else ("job-silent", exp.job))
        for rule in ctx.package.rules:
            missing = [label for kind, label in (("rule", "fire"), ("rule-silent", "stay silent")) if (kind, rule.rule_id) not in fires]
            if rule.rule_id and missing:
                yield problem(rule.source, "rule.rule_id", self.id, self.severity, f"no scenario where this rule must {' or '.join(missing)}")
        for job in ctx.package.jobs:
            missing = [label for kind, label in (("job", "fire"), ("job-silent", "stay silent")) if (kind, job.job_id) not in fires]
            if missing:
                yield problem(job.source, "job_id", self.id, self.severity, f"no scenario where job '{job.job_id}' must {' or '.join(missing)}", line=job.source.line_of("job_id") or 1)
