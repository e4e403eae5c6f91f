"""Which part of a package ships: maturity, and ``--rule`` for one rule with its jobs.

Elastic's detection-rules ships only ``maturity = "production"`` rules in its releases;
``development`` rules are work in progress and ``deprecated`` ones are on their way out
(detection-rules requires their ``deprecation_date``). ctdetect does the same: production
rules ship, development rules only with ``--include-development``, deprecated rules never
(an owned copy still in the cluster becomes an orphan, which ``--prune`` removes), and a
deprecated rule without ``deprecation_date`` is an error that stops the deploy. A rule with
no maturity at all is treated as development.

``--rule ID`` (a rule_id or exact name) narrows the package to that rule and the ML jobs
and datafeeds it names; nothing else is read for change, and pruning is refused.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ctdetect.content.model import Package, Rule


@dataclass(slots=True)
class Selection:
    package: Package
    left_out: list[str] = field(default_factory=list)  # notes: rules not shipped and why
    errors: list[str] = field(default_factory=list)  # stop the deploy


def _maturity(rule: Rule) -> str:
    return (rule.maturity or "development").lower()


def select(package: Package, include_development: bool = False, rule_ref: str | None = None) -> Selection:
    sel = Selection(package)
    rules: list[Rule] = []
    for rule in package.rules:
        maturity = _maturity(rule)
        if maturity == "deprecated":
            if not rule.metadata.get("deprecation_date"):
                sel.errors.append(f"{rule.source.path}: maturity is 'deprecated' but [metadata] has no deprecation_date")
            sel.left_out.append(f"{rule.source.path}: deprecated rule {rule.name!r} not shipped")
        elif maturity == "production" or (maturity == "development" and include_development):
            rules.append(rule)
        elif maturity == "development":
            sel.left_out.append(f"{rule.source.path}: development rule {rule.name!r} not shipped (--include-development ships it)")
        else:
            sel.errors.append(f"{rule.source.path}: unknown maturity {rule.maturity!r} (production, development or deprecated)")
    narrowed = dataclasses.replace(package, rules=rules)
    if rule_ref is not None:
        chosen = [r for r in package.rules if rule_ref in (r.rule_id, r.name)]
        if not chosen:
            sel.errors.append(f"--rule {rule_ref!r}: no rule of the package has this rule_id or name")
            chosen = []
        elif chosen[0] not in rules:
            sel.errors.append(f"--rule {rule_ref!r}: the rule is {_maturity(chosen[0])}; " + ("it is never shipped" if _maturity(chosen[0]) == "deprecated" else "add --include-development"))
        job_ids = {j for r in chosen for j in r.machine_learning_job_id}
        narrowed = dataclasses.replace(
            narrowed,
            rules=chosen[:1],
            jobs=[j for j in package.jobs if j.job_id in job_ids],
            datafeeds=[d for d in package.datafeeds if d.job_id in job_ids],
            hunting_queries=[],
        )
        sel.left_out = []
    sel.package = narrowed
    return sel
