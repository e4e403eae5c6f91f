"""An expectation may name its rule by rule_id or by name; replay, coverage and the content
tests read both through ``content.model.find_rule``, so they agree on what it proves."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

from ctdetect.content.loaders import load_package
from ctdetect.content.model import find_rule
from ctdetect.services.coverage import build_coverage
from ctdetect.services.expectations import MET, check

ROOT = Path(__file__).resolve().parents[2]


def test_a_rule_named_by_name_counts_as_by_rule_id() -> None:
    package = load_package(ROOT)
    rule = next(r for r in package.rules if r.type == "query")
    assert find_rule(package.rules, rule.rule_id) is rule and find_rule(package.rules, rule.name) is rule
    assert find_rule(package.rules, "no such rule") is None and find_rule(package.rules, None) is None
    scenario = next(s for s in package.scenarios if any(e.rule == rule.rule_id and e.fires for e in s.expectations))
    by_id = next(e for e in scenario.expectations if e.rule == rule.rule_id and e.fires)
    by_name = deepcopy(by_id)
    by_name.rule = rule.name
    before = {row.ident: (row.fires_in, row.silent_in) for row in build_coverage(package, None).rows}
    by_id_index = scenario.expectations.index(by_id)
    scenario.expectations[by_id_index] = by_name
    after = {row.ident: (row.fires_in, row.silent_in) for row in build_coverage(package, None).rows}
    assert after == before  # coverage reads the name as the rule_id
    from ctdetect.backends import get_backend
    from ctdetect.readers import SkipCounter
    from ctdetect.services.inputs import make_mapper
    from ctdetect.services.scenario_events import scenario_events

    result = get_backend("embedded").run(scenario_events(scenario, make_mapper(None), SkipCounter()), [rule], [])
    known = {rule.rule_id, rule.name}
    assert check(by_id, result.findings, known, {}).status == check(by_name, result.findings, known, {}).status == MET
