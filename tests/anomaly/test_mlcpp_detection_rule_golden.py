"""Golden tests of detector ``custom_rules`` against ml-cpp's ``lib/model/unittest/CDetectionRuleTest.cc``
(elastic/ml-cpp commit 7a29b4b34).

ml-cpp's tests ask ``CDetectionRule::apply`` of a mock model whose bucket values
(``mockAddBucketValue``) and baselines (``mockAddBucketBaselineMean``) they set. That file
is not among the shared golden inputs, so each case's inputs and expected answers are
written here, with the line of the source they come from. Ours is
``detection_rules.DetectionRule.applies``, given the same series values, actual, typical
and time.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import record_golden

from ctdetect.engine.anomaly.detection_rules import (
    SKIP_MODEL_UPDATE, SKIP_RESULT, Condition, DetectionRule, PatternSet, ScopeEntry,
)

FILE = "CDetectionRuleTest.cc"
# testApplyGivenScope (line 95): person field "over", attribute field "by", partition
# "partition" = "par_1"; people p1 (attributes a1_1, a1_2) and p2 (a2_1, a2_2), line 116-131
SERIES = [("p1", "a1_1"), ("p1", "a1_2"), ("p2", "a2_1"), ("p2", "a2_2")]
# (filter items, scoped field, applies under include for each series), lines 139-339
SCOPE_CASES = [
    (["a1_1", "a2_2"], "by", [True, False, False, True], 139),
    (["a1*"], "by", [True, True, False, False], 168),
    (["*2"], "by", [False, True, False, True], 197),
    (["*1*"], "by", [True, True, True, False], 226),
    (["p2"], "over", [False, False, True, True], 255),
    (["par_1"], "partition", [True, True, True, True], 284),
    (["par_2"], "partition", [False, False, False, False], 313),
]


def _rule(actions: int = SKIP_RESULT, scope: tuple[ScopeEntry, ...] = (), conditions: tuple[Condition, ...] = ()) -> DetectionRule:
    return DetectionRule(actions, scope, conditions)


def _apply(rule: DetectionRule, values: dict[str, Any] | None = None, actual: float | None = None,
           typical: float | None = None, time_s: float = 100, action: int = SKIP_RESULT) -> bool:
    return rule.applies(action, values or {}, actual, lambda: typical, time_s)


@pytest.mark.parametrize("items,field,include_expected,line", SCOPE_CASES, ids=[f"line{c[3]}" for c in SCOPE_CASES])
def test_apply_given_scope(record_property, items: list[str], field: str, include_expected: list[bool], line: int) -> None:
    """testApplyGivenScope (line 95): a scope on the attribute, person or partition field,
    include and exclude (exclude is the complement), with exact, prefix, suffix and
    substring filter items."""
    got = {}
    for include in (True, False):
        rule = _rule(scope=(ScopeEntry(field, include, PatternSet(items)),))
        got[include] = [_apply(rule, {"partition": "par_1", "over": p, "by": a}) for p, a in SERIES]
    expected = {True: include_expected, False: [not e for e in include_expected]}
    record_golden(record_property, f"{FILE}:{line} testApplyGivenScope {items} on {field}",
                  f"include {include_expected}", f"include {got[True]}, exclude {got[False]}")
    assert got == expected


def test_apply_given_numerical_actual_condition(record_property) -> None:
    """testApplyGivenNumericalActualCondition (line 342): actual 4.99, 5.00, 5.01 against
    lt/lte/gt/gte 5.0 (lines 387-390)."""
    cases = [("lt", [True, False, False]), ("lte", [True, True, False]), ("gt", [False, False, True]), ("gte", [False, True, True])]
    got = [(op, [_apply(_rule(conditions=(Condition("actual", op, 5.0),)), actual=a) for a in (4.99, 5.00, 5.01)]) for op, _ in cases]
    record_golden(record_property, f"{FILE}:342 (lines 387-390)", str(cases), str(got))
    assert got == cases


def test_apply_given_numerical_typical_condition(record_property) -> None:
    """testApplyGivenNumericalTypicalCondition (line 393): typical 44.99, 45.00, 45.01
    against lt/gt 45.0 (lines 444-445)."""
    cases = [("lt", [True, False, False]), ("gt", [False, False, True])]
    got = [(op, [_apply(_rule(conditions=(Condition("typical", op, 45.0),)), actual=5.0, typical=t) for t in (44.99, 45.00, 45.01)])
           for op, _ in cases]
    record_golden(record_property, f"{FILE}:393 (lines 444-445)", str(cases), str(got))
    assert got == cases


def test_apply_given_numerical_diff_abs_condition(record_property) -> None:
    """testApplyGivenNumericalDiffAbsCondition (line 448): actual 8.9 ... 11.1 against
    typical 10, |actual - typical| lt/gt 1.0 (lines 493-494)."""
    actuals = [8.9, 9.0, 9.1, 10.9, 11.0, 11.1]
    cases = [("lt", [False, False, True, True, False, False]), ("gt", [True, False, False, False, False, True])]
    got = [(op, [_apply(_rule(conditions=(Condition("diff_from_typical", op, 1.0),)), actual=a, typical=10.0) for a in actuals])
           for op, _ in cases]
    record_golden(record_property, f"{FILE}:448 (lines 493-494)", str(cases), str(got))
    assert got == cases


def test_apply_given_different_series(record_property) -> None:
    """testApplyGivenDifferentSeriesAndIndividualModel (line 535) and ...PopulationModel
    (line 584): a scope plus ``actual < 5`` applies to the scoped series only (actual 4.99
    everywhere in the population case)."""
    rule = _rule(scope=(ScopeEntry("series", True, PatternSet(["p1"])),), conditions=(Condition("actual", "lt", 5.0),))
    individual = [_apply(rule, {"series": "p1"}, actual=4.99), _apply(rule, {"series": "p2"}, actual=4.99)]
    rule = _rule(scope=(ScopeEntry("by", True, PatternSet(["a1_2"])),), conditions=(Condition("actual", "lt", 5.0),))
    population = [_apply(rule, {"over": p, "by": a}, actual=4.99) for p, a in SERIES]
    expected = ([True, False], [False, True, False, False])
    record_golden(record_property, f"{FILE}:535, 584", str(expected), str((individual, population)))
    assert (individual, population) == expected


def test_apply_given_multiple_conditions(record_property) -> None:
    """testApplyGivenMultipleConditions (line 651): actual 10 and two ``lt`` conditions are
    ANDed: (9, 9.5), (11, 9.5), (9, 10.5) do not apply, (12, 10.5) does."""
    pairs = [(9.0, 9.5, False), (11.0, 9.5, False), (9.0, 10.5, False), (12.0, 10.5, True)]
    got = [_apply(_rule(conditions=(Condition("actual", "lt", a), Condition("actual", "lt", b))), actual=10.0) for a, b, _ in pairs]
    record_golden(record_property, f"{FILE}:651", str([e for *_, e in pairs]), str(got))
    assert got == [e for *_, e in pairs]


def test_apply_given_time_condition(record_property) -> None:
    """testApplyGivenTimeCondition (line 709): time >= 100 and time < 200 at 99, 100, 150, 200."""
    rule = _rule(conditions=(Condition("time", "gte", 100), Condition("time", "lt", 200)))
    got = [_apply(rule, time_s=t) for t in (99, 100, 150, 200)]
    record_golden(record_property, f"{FILE}:709", "[False, True, True, False]", str(got))
    assert got == [False, True, True, False]


def test_rule_actions(record_property) -> None:
    """testRuleActions (line 750): a rule applies only for the actions it has: skip_result
    (the default), skip_model_update, both (action 3)."""
    cond = (Condition("time", "gte", 100),)
    got = [[_apply(_rule(actions, conditions=cond), action=a) for a in (SKIP_RESULT, SKIP_MODEL_UPDATE)]
           for actions in (SKIP_RESULT, SKIP_MODEL_UPDATE, SKIP_RESULT | SKIP_MODEL_UPDATE)]
    expected = [[True, False], [False, True], [True, True]]
    record_golden(record_property, f"{FILE}:750", str(expected), str(got))
    assert got == expected


def test_no_typical_means_no_rule(record_property) -> None:
    """``CRuleCondition::test`` (CRuleCondition.cc): a typical or diff-from-typical
    condition does not apply while the model has no baseline (non-informative prior)."""
    got = [_apply(_rule(conditions=(Condition(kind, "lt", 1e9),)), actual=1.0, typical=None) for kind in ("typical", "diff_from_typical")]
    record_golden(record_property, "CRuleCondition.cc test (typical empty)", "[False, False]", str(got))
    assert got == [False, False]
