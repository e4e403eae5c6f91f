"""Detector ``custom_rules``: Elasticsearch's job rules, applied as ml-cpp applies them.

A detector's ``custom_rules`` (put-job API, ``analysis_config.detectors[].custom_rules``)
tell it to act differently on some series or values. Each rule has ``actions``
(``skip_result``, ``skip_model_update``; by default ``skip_result``), a ``scope`` (for a
by/over/partition field, a filter whose items the field's value must be in, ``include``,
or not in, ``exclude``) and ``conditions`` (``actual``/``typical``/``diff_from_typical``/
``time`` compared with ``gt``/``gte``/``lt``/``lte`` to a number). A rule applies when
every scope entry and every condition holds (ml-cpp ``CDetectionRule::apply``,
``CRuleScope::check``, ``CRuleCondition::test``); several rules are alternatives.

What an applying rule does, as ml-cpp 7a29b4b34 does it:

- ``skip_result`` (``CAnomalyDetectorModel::shouldIgnoreResult``): the series' probability
  is not computed. An individual series whose only feature is skipped gets probability 1
  (``CEventRateModel::computeProbability``: "skipped results for all features"), so it
  still feeds a zero score to the normaliser; a population person's attribute is left out
  of the person's result (``CEventRatePopulationModel::computeProbability``).
- ``skip_model_update`` (``initialCountWeight``): the bucket's sample still updates the
  model, at 0.005 of its weight (``SKIP_SAMPLING_WEIGHT``, ml-cpp issue 1272: a model that
  never learns cannot adapt), and the result does not update the normaliser's quantiles
  (``s_ShouldUpdateQuantiles``). Rare functions model categories, which ml-cpp updates
  whatever the rules say: only the quantiles are held back there.

Conditions read ``actual`` (the bucket's value), ``typical`` (the model's baseline at the
bucket; a rule with a typical condition does not apply while there is none) and ``time``
(seconds since the epoch of the middle of the bucket, ``model_t::sampleTime``). When the
model learns, typical is its baseline before the bucket (ml-cpp samples before it scores);
when the result is judged, it is the typical the record shows, after the bucket.

Where ours differs: ml-cpp holds back the quantiles of a whole population person's result
when a rule applies to one of its attributes; ours holds back that attribute's leaf. And
at result time a leaf always has a typical value (ml-cpp has none while the model is not
yet informative), so a typical condition may apply to a young series' result. Filters
are the ML filters API's (``PUT _ml/filters/<id>``): an item matches a value exactly, or
with a leading and/or trailing ``*`` as suffix, prefix or substring (``core::CPatternSet``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ctdetect.engine.anomaly.errors import JobConfigError

SKIP_RESULT = 1  # ml-cpp CDetectionRule::E_SkipResult
SKIP_MODEL_UPDATE = 2  # ml-cpp CDetectionRule::E_SkipModelUpdate
ACTIONS = {"skip_result": SKIP_RESULT, "skip_model_update": SKIP_MODEL_UPDATE}
SKIP_SAMPLING_WEIGHT = 0.005  # ml-cpp CAnomalyDetectorModel.cc
APPLIES_TO = ("actual", "typical", "diff_from_typical", "time")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda x, v: x > v,
    "gte": lambda x, v: x >= v,
    "lt": lambda x, v: x < v,
    "lte": lambda x, v: x <= v,
}
# Elasticsearch's Detector.FUNCTIONS_WITHOUT_RULE_CONDITION_SUPPORT (of the functions the
# engine emulates): rare values have no actual or typical a user could anticipate
NO_VALUE_CONDITIONS = frozenset({"rare", "freq_rare"})


class PatternSet:
    """The items of one ML filter as ml-cpp matches them (``core::CPatternSet``): ``abc``
    exactly, ``abc*`` as a prefix, ``*abc`` as a suffix, ``*abc*`` as a substring; an
    empty item and a lone ``*`` match nothing."""

    __slots__ = ("full", "prefixes", "suffixes", "middles")

    def __init__(self, items: list[str]) -> None:
        full: set[str] = set()
        prefixes: set[str] = set()
        suffixes: set[str] = set()
        middles: set[str] = set()
        for item in items:
            n = len(item)
            if n == 0:
                continue
            if item[0] == "*":
                if n > 2 and item[-1] == "*":
                    middles.add(item[1:-1])
                elif n > 1:
                    suffixes.add(item[1:])
            elif n > 1 and item[-1] == "*":
                prefixes.add(item[:-1])
            else:
                full.add(item)
        self.full = frozenset(full)
        self.prefixes = tuple(sorted(prefixes))
        self.suffixes = tuple(sorted(suffixes))
        self.middles = tuple(sorted(middles))

    def contains(self, value: str) -> bool:
        return (
            value in self.full
            or value.startswith(self.prefixes)
            or value.endswith(self.suffixes)
            or any(m in value for m in self.middles)
        )


@dataclass(frozen=True, slots=True)
class Condition:
    applies_to: str
    operator: str
    value: float

    def holds(self, x: float) -> bool:
        return OPERATORS[self.operator](x, self.value)


@dataclass(frozen=True, slots=True)
class ScopeEntry:
    field: str
    include: bool
    patterns: PatternSet


@dataclass(frozen=True, slots=True)
class DetectionRule:
    actions: int
    scope: tuple[ScopeEntry, ...]
    conditions: tuple[Condition, ...]

    def applies(
        self,
        action: int,
        values: Mapping[str, str | None],
        actual: float | None,
        typical: Callable[[], float | None],
        time_s: float,
    ) -> bool:
        """Whether the rule applies to a series' bucket for ``action``: ``values`` maps the
        detector's by/over/partition field names to the series' values (a field the series
        lacks does not match), ``typical`` is asked only when a condition needs it."""
        if not self.actions & action:
            return False
        for entry in self.scope:
            value = values.get(entry.field)
            if value is None:
                return False
            if entry.patterns.contains(value) != entry.include:
                return False
        base: float | None = None
        asked = False
        for cond in self.conditions:
            if cond.applies_to == "time":
                x: float | None = time_s
            elif cond.applies_to == "actual":
                x = actual
            else:
                if not asked:
                    base, asked = typical(), True
                if base is None or (cond.applies_to == "diff_from_typical" and actual is None):
                    return False
                x = base if cond.applies_to == "typical" else abs(actual - base)  # type: ignore[operator]
            if x is None or not cond.holds(x):
                return False
        return True


def parse_rules(
    job_id: str, index: int, function: str, split_fields: Mapping[str, str | None], raw: Any, filters: Mapping[str, list[str]]
) -> tuple[DetectionRule, ...]:
    """The detector's ``custom_rules`` as ``DetectionRule``s, checked as Elasticsearch checks
    them when the job is put (``Detector.Builder.validateRule``, ``RuleScope.validate``,
    ``DetectionRule``): at least a scope or a condition; scope fields among the detector's
    by/over/partition fields; no value conditions for rare functions; every scope filter
    known (``filters``: filter id -> items). Raises ``JobConfigError`` naming the rule."""
    if raw is None:
        return ()
    where = f"job {job_id}: detector {index}: custom_rules"
    if not isinstance(raw, list):
        raise JobConfigError(f"{where} must be a list of rules")
    fields = {name for name in split_fields.values() if name}
    rules = []
    for i, rule in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(rule, dict):
            raise JobConfigError(f"{here} is not an object")
        unknown = set(rule) - {"actions", "scope", "conditions"}
        if unknown:
            raise JobConfigError(f"{here}: unknown key(s) {', '.join(sorted(unknown))} (a rule has actions, scope, conditions)")
        actions = rule.get("actions", ["skip_result"])
        if not isinstance(actions, list) or not actions or any(a not in ACTIONS for a in actions):
            raise JobConfigError(f"{here}: actions must be a non-empty list of {', '.join(ACTIONS)}, not {actions!r}")
        scope = _parse_scope(here, rule.get("scope"), fields, filters)
        conditions = _parse_conditions(here, rule.get("conditions"), function)
        if not scope and not conditions:
            raise JobConfigError(f"{here}: Invalid detector rule: at least scope or a condition is required")
        mask = 0
        for a in actions:
            mask |= ACTIONS[a]
        rules.append(DetectionRule(mask, scope, conditions))
    return tuple(rules)


def _parse_scope(here: str, raw: Any, fields: set[str], filters: Mapping[str, list[str]]) -> tuple[ScopeEntry, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise JobConfigError(f"{here}: scope must be an object of field name -> filter reference")
    out = []
    for name, ref in raw.items():
        if name not in fields:
            choices = ", ".join(sorted(fields)) if fields else "none: the detector has no by, over or partition field"
            raise JobConfigError(f"{here}: Invalid detector rule: scope field '{name}' is invalid; select from [{choices}]")
        if not isinstance(ref, dict) or not isinstance(ref.get("filter_id"), str):
            raise JobConfigError(f"{here}: scope.{name} needs a filter_id")
        kind = ref.get("filter_type", "include")
        if kind not in ("include", "exclude"):
            raise JobConfigError(f"{here}: scope.{name}.filter_type must be include or exclude, not {kind!r}")
        items = filters.get(ref["filter_id"])
        if items is None:
            raise JobConfigError(
                f"{here}: scope.{name} uses filter '{ref['filter_id']}', which is not known "
                f"(put its body, as for PUT _ml/filters/{ref['filter_id']}, in ml_jobs/filters/{ref['filter_id']}.json)"
            )
        out.append(ScopeEntry(name, kind == "include", PatternSet(items)))
    return tuple(out)


def _parse_conditions(here: str, raw: Any, function: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise JobConfigError(f"{here}: conditions must be a list")
    out = []
    for j, c in enumerate(raw):
        if not isinstance(c, dict):
            raise JobConfigError(f"{here}: conditions[{j}] is not an object")
        applies, op, value = c.get("applies_to"), c.get("operator"), c.get("value")
        if applies not in APPLIES_TO:
            raise JobConfigError(f"{here}: conditions[{j}].applies_to must be one of {', '.join(APPLIES_TO)}, not {applies!r}")
        if op not in OPERATORS:
            raise JobConfigError(f"{here}: conditions[{j}].operator must be one of {', '.join(OPERATORS)}, not {op!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise JobConfigError(f"{here}: conditions[{j}].value must be a number, not {value!r}")
        if applies != "time" and function in NO_VALUE_CONDITIONS:
            raise JobConfigError(f"{here}: Invalid detector rule: function {function} only supports conditions that apply to time")
        out.append(Condition(applies, op, float(value)))
    return tuple(out)


class DetectorRules:
    """The rules of one detector, asked by the detector when it learns a bucket
    (``model_weight``) and by the runner when it scores one (``judge``)."""

    __slots__ = ("rules", "fields", "updates_rules", "learns_categories")

    def __init__(self, rules: tuple[DetectionRule, ...], partition: str | None, by: str | None, over: str | None, function: str) -> None:
        self.rules = rules
        self.fields = (partition, by, over)
        self.updates_rules = tuple(r for r in rules if r.actions & SKIP_MODEL_UPDATE)
        self.learns_categories = function in NO_VALUE_CONDITIONS

    @classmethod
    def of(cls, spec: Any) -> "DetectorRules | None":
        """The rules of a detector spec (``config.DetectorSpec``), None when it has none."""
        if not spec.custom_rules:
            return None
        return cls(spec.custom_rules, spec.partition_field_name, spec.by_field_name, spec.over_field_name, spec.function)

    def _values(self, partition: str | None, by: str | None, over: str | None) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for name, value in zip(self.fields, (partition, by, over)):
            if name:
                out[name] = value
        return out

    def model_weight(
        self, partition: str | None, by: str | None, over: str | None, actual: float, typical: Callable[[], float | None], bucket_ms: int, span_s: int,
    ) -> float:
        """The factor of a bucket's sample weight: ``SKIP_SAMPLING_WEIGHT`` when a
        ``skip_model_update`` rule applies to it (``typical``: the model's baseline before
        it learns the bucket), else 1."""
        if not self.updates_rules:
            return 1.0
        values = self._values(partition, by, over)
        time_s = bucket_ms // 1000 + span_s // 2
        for rule in self.updates_rules:
            if rule.applies(SKIP_MODEL_UPDATE, values, actual, typical, time_s):
                return SKIP_SAMPLING_WEIGHT
        return 1.0

    def judge(self, leaf: Any, bucket_ms: int, span_s: int) -> tuple[bool, bool]:
        """(skip the result, hold back the quantiles) for one scored leaf, its ``actual`` and
        ``typical`` the values the record would show."""
        values = self._values(leaf.partition_value, leaf.by_value, leaf.over_value)
        actual = leaf.actual[0] if leaf.actual else None
        typical = leaf.typical[0] if leaf.typical else None
        time_s = bucket_ms // 1000 + span_s // 2
        skip = hold = False
        for rule in self.rules:
            if not skip and rule.applies(SKIP_RESULT, values, actual, lambda: typical, time_s):
                skip = True
            if not hold and rule.applies(SKIP_MODEL_UPDATE, values, actual, lambda: typical, time_s):
                hold = True
        return skip, hold


def apply_to_leaves(leaves: list[Any], rules: Mapping[int, DetectorRules], population: Mapping[int, bool], bucket_ms: int, span_s: int) -> tuple[list[Any], list[bool]]:
    """The bucket's leaves after ``skip_result`` (an individual series scored at
    probability 1, a population person's attribute left out) and, aligned with them,
    whether each may update its normaliser's quantiles (False under ``skip_model_update``)."""
    kept: list[Any] = []
    updates: list[bool] = []
    for leaf in leaves:
        judge = rules.get(leaf.detector_index)
        if judge is None:
            kept.append(leaf)
            updates.append(True)
            continue
        skip, hold = judge.judge(leaf, bucket_ms, span_s)
        if skip:
            if population.get(leaf.detector_index):
                continue
            _unscored(leaf)
        kept.append(leaf)
        updates.append(not hold)
    return kept, updates


def _unscored(leaf: Any) -> None:
    """A leaf whose result was skipped: probability 1, nothing to explain."""
    leaf.probability = 1.0
    leaf.explanation = {}
    leaf.causes = []
    leaf.multi_bucket_impact = None
    leaf.influence = {}
