"""``view-rule``: one rule's API body, the same ``elastic.rule_body`` that deploy sends."""

from __future__ import annotations

import json
from pathlib import Path


class ViewRuleError(Exception):
    """No such rule, or the package cannot be read (the message says which)."""


def rule_api_body(package_root: str | Path, rule_ref: str) -> str:
    """Pretty JSON of the create body of the rule whose rule_id or name is ``rule_ref``."""
    from ctdetect.content.loaders import load_package
    from ctdetect.elastic.rule_body import rule_body
    from ctdetect.services.content import describe

    root = Path(package_root)
    if not root.is_dir():
        raise ViewRuleError(f"{root} is not a folder")
    package = load_package(root)
    matches = [r for r in package.rules if rule_ref in (r.rule_id, r.name)]
    if not matches:
        broken = [describe(p) for p in package.problems if p.severity == "error"]
        hint = f" ({len(broken)} rule file(s) did not load; first: {broken[0]})" if broken else ""
        raise ViewRuleError(f"no rule with rule_id or name {rule_ref!r} in {root}{hint}")
    return json.dumps(rule_body(matches[0]), indent=2, sort_keys=True) + "\n"
