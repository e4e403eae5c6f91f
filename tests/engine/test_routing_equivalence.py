"""The rule index and gates never change an alert: routed engine vs a plain reference.

The engine offers an event only to the rules its ``event.action``/``event.provider`` index
or a rule's gate (``routing.rule_gate``) lets through, and compiles predicates with fused
fast paths. The reference offers every event to every rule, with predicates compiled
leaf by leaf (``predicate.FAST_PATHS`` off). Both run over generated benign history plus
real attack records (the shared Stratus Red Team detonations, when present), and their
alert documents must be identical, for the package's rules and Elastic's AWS rules
(ES|QL rules aside: they filter their own batches and are checked elsewhere).
"""

from __future__ import annotations

import json
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Iterable

import pytest

from ctdetect.content.loaders import load_rules
from ctdetect.content.model import Rule
from ctdetect.ecs import CloudTrailMapper
from ctdetect.ecs.stream import iter_events
from ctdetect.engine.rules import RuleEngine
from ctdetect.query import predicate
from ctdetect.services.inputs import time_ordered
from ctdetect.synth import SynthParams, generate
from conftest import PROJECT_ROOT, SHARED_DIR, shared_path
from embedded_run import catalogue_types


@lru_cache(maxsize=1)
def _events() -> tuple[dict, ...]:
    mapper = CloudTrailMapper()
    params = SynthParams(seed=11, start="2026-03-01T00:00:00Z", days=2, principals=20, include_root=True, travel_rate=0.2)
    docs = [mapper.map(record) for record in islice(generate(params), 6000)]
    stratus = SHARED_DIR / "datasets" / "stratus-red-team-detonation-logs"
    if stratus.is_dir():
        docs += list(iter_events([stratus], mapper=mapper))
    docs.sort(key=lambda d: (d.get("_ts") or 0))
    return tuple(time_ordered(docs))


def _not_esql(rules: Iterable[Rule]) -> list[Rule]:
    return [r for r in rules if r.type != "esql" and (r.language or "").lower() != "esql"]


def _alerts(engine: RuleEngine, events: Iterable[dict]) -> list[str]:
    for seq, event in enumerate(events):
        engine.feed(event, seq)
    assert not engine.errors
    return [json.dumps(f.document, sort_keys=True, default=str) for f in engine.finish([])]


def _reference(rules: list[Rule]) -> RuleEngine:
    """Every rule offered every event, predicates leaf by leaf."""
    fast = predicate.FAST_PATHS
    predicate.FAST_PATHS = False
    try:
        engine = RuleEngine.build(rules, catalogue_types())
    finally:
        predicate.FAST_PATHS = fast
    for compiled in engine.compiled:
        compiled.route = None
        compiled.gate = None
    engine._routed.clear()
    engine._index()
    return engine


def _compare(rules: list[Rule]) -> int:
    events = _events()
    fast = _alerts(RuleEngine.build(rules, catalogue_types()), events)
    slow = _alerts(_reference(rules), events)
    assert fast == slow
    return len(fast)


def test_package_rules_alert_the_same_routed_or_not() -> None:
    _compare(_not_esql(load_rules(PROJECT_ROOT / "rules")))


def test_elastic_aws_rules_alert_the_same_routed_or_not() -> None:
    folder: Path = shared_path("anchors", "detection-rules", "rules", "integrations", "aws")
    rules = _not_esql(load_rules(folder))
    engine = RuleEngine.build(rules, catalogue_types())
    assert any(c.gate is not None for c in engine.compiled), "no rule gated: the comparison would not cover gates"
    assert _compare(rules) > 0, "no alert at all: the comparison would prove nothing"
