"""Where the rule engine's CPU goes: seconds per rule and per rule kind, slowest first.

``bench/hunt.py`` says how much of a hunt is rules; this says which rules. It reads the
same seeded S3-layout archive (``hunt.archive``: generated once under ``bench/out/``), maps
it to ECS in time order as ``hunt`` does (not timed), then runs the rule engine over the
events in this process with every compiled rule's ``offer`` and ``finish`` timed
(``perf_counter`` around each call: on a busy machine a rule's figure is the wall time of
this one thread; the total is also given in CPU seconds). A rule's cost is everything it does: its
predicate or filter per event it is offered, its executions, its alerts.

Prints, for each content (``--content package|elastic|both``): the total, the events per
second of the rule engine alone, the seconds per rule kind (query, eql, threshold,
new_terms, esql, ...) and the ``--top`` slowest rules with their kind, whether the rule
index routes them (``routed``), a gate lets through only the events with one of the values
they need (``gated``) or every event reaches them (``all``), their schedule and alert count.

    python bench/rule_costs.py [--records 20000] [--content both] [--top 15] [--exclude-kind esql]

The mapped events are moved out of the garbage collector's reach (``gc.freeze()``) before the
timed runs: hundreds of thousands of live event dicts would otherwise be walked by every full
collection the rules' allocations trigger, and that cost, which depends on how many events
are loaded rather than on what the rules do, would be charged to whichever rule was running. The collector then runs with the CLI's
thresholds (``ctdetect.cli.COLLECTOR_THRESHOLDS``), as in the hunt these costs are part of.

``--exclude-kind`` leaves rules of a kind out before the run (e.g. ``esql``, to see the
other kinds' cost without the two ES|QL rules that dominate Elastic's set).

Figures are printed, never asserted: the test suite does not time anything.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from time import perf_counter
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hunt as hunt_bench  # noqa: E402 - the sibling bench owns the archive

PROJECT = hunt_bench.PROJECT


def mapped_events(records: int, principals: int) -> list[dict]:
    """The archive's events as ``hunt`` hands them to the backend (ECS, time ordered)."""
    from ctdetect.ecs.stream import iter_events
    from ctdetect.services.inputs import make_mapper, time_ordered

    root = hunt_bench.archive(records, principals)
    return list(time_ordered(iter_events([str(root)], mapper=make_mapper(None))))


def freeze_events() -> None:
    """Move what is loaded (the mapped events) out of the collector's reach and run it with
    the CLI's thresholds (module docstring): call after loading the events, before timing."""
    from ctdetect.cli import COLLECTOR_THRESHOLDS

    gc.collect()
    gc.freeze()  # the events live to the end: full collections need not walk them
    gc.set_threshold(*COLLECTOR_THRESHOLDS)  # and the collector runs as in a ctdetect process


def _timed_class(cls: type, costs: dict[int, float]) -> type:
    """A subclass of a compiled rule's class whose entry points add their time to ``costs[rule_id]``.

    Same slots, so a compiled rule can be switched to it (``obj.__class__``) as it is
    compiled: the engine under measure is the one ``hunt`` runs, through the backend.
    """
    methods: dict[str, Any] = {"__slots__": ()}
    inside = [False]  # an entry point calling another (``offer_batch`` calling ``offer``) is timed once
    for name in ("offer", "finish", "offer_batch", "offer_alerts"):
        original = getattr(cls, name, None)
        if original is None:
            continue

        def timed(self: Any, *args: Any, _original: Any = original) -> Any:
            if inside[0]:
                return _original(self, *args)
            inside[0] = True
            started = perf_counter()
            try:
                return _original(self, *args)
            finally:
                inside[0] = False
                key = self.rule.rule_id
                costs[key] = costs.get(key, 0.0) + perf_counter() - started

        methods[name] = timed
    return type("Timed" + cls.__name__, (cls,), methods)


def measure(label: str, rules: list, docs: list[dict], top: int) -> None:
    import ctdetect.engine.rules.engine as engine_module
    from ctdetect.backends.embedded import EmbeddedBackend

    costs: dict[str, float] = {}
    classes: dict[type, type] = {}
    compiled: list = []
    plain_compile = engine_module.compile_rule

    def timed_compile(rule: Any, field_types: Any) -> Any:
        found = plain_compile(rule, field_types)
        cls = type(found)
        found.__class__ = classes.setdefault(cls, _timed_class(cls, costs))
        compiled.append(found)
        return found

    engine_module.compile_rule = timed_compile
    try:
        backend = EmbeddedBackend()
        started, cpu0 = perf_counter(), time.process_time()
        result = backend.run(iter(docs), rules, [])
        seconds, cpu = perf_counter() - started, time.process_time() - cpu0
    finally:
        engine_module.compile_rule = plain_compile
    not_evaluated = len(rules) - len(compiled)
    alerts: dict[str, int] = {}
    for finding in result.findings:
        alerts[finding.source_id] = alerts.get(finding.source_id, 0) + 1
    print(f"\n{label}: {len(compiled)} rules ({not_evaluated} not evaluated), {len(docs):,} events, "
          f"{seconds:.2f} s wall, {cpu:.2f} s cpu, {len(docs) / max(cpu, 1e-9):,.0f} events/cpu-s (rule engine alone), "
          f"{len(result.findings)} alerts")
    kinds: dict[str, list[float]] = {}
    for rule in compiled:
        entry = kinds.setdefault(kind(rule.rule), [0.0, 0])
        entry[0] += costs.get(rule.rule.rule_id, 0.0)
        entry[1] += 1
    print("  by kind: " + ", ".join(f"{kind} {secs:.2f} s ({n})" for kind, (secs, n) in sorted(kinds.items(), key=lambda kv: -kv[1][0])))
    print(f"  {'seconds':>8} {'share':>6} {'kind':<16} {'route':<6} {'every':>6} {'from':>8} {'alerts':>6}  rule")
    total = sum(costs.values()) or 1.0
    ranked = sorted(compiled, key=lambda r: -costs.get(r.rule.rule_id, 0.0))
    for rule in ranked[:top]:
        secs = costs.get(rule.rule.rule_id, 0.0)
        route = "routed" if rule.route is not None else "gated" if rule.gate is not None else "all"
        print(f"  {secs:>8.3f} {100 * secs / total:>5.1f}% {kind(rule.rule):<16} {route:<6} {rule.rule.interval or '5m':>6} "
              f"{rule.rule.from_ or 'now-6m':>8} {alerts.get(rule.rule.rule_id, 0):>6}  {rule.rule.name}")


def kind(rule: Any) -> str:
    """A rule's kind as the table prints it; a query rule written in ES|QL counts as ``esql``."""
    return "esql" if (rule.language or "").lower() == "esql" else rule.type


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--principals", type=int, default=50)
    parser.add_argument("--content", choices=("package", "elastic", "both"), default="both")
    parser.add_argument("--top", type=int, default=15, help="slowest rules printed per content")
    parser.add_argument("--exclude-kind", action="append", default=[], metavar="KIND",
                        help="leave rules of this type (query, eql, threshold, new_terms, esql, ...) out; repeatable")
    args = parser.parse_args(argv)

    from ctdetect.content.loaders import load_rules

    sets = []
    if args.content in ("package", "both"):
        sets.append(("package rules", load_rules(PROJECT / "rules")))
    if args.content in ("elastic", "both"):
        if not hunt_bench.ELASTIC_AWS_RULES.is_dir():
            raise SystemExit(f"--content {args.content}: Elastic's AWS rules are not at {hunt_bench.ELASTIC_AWS_RULES}")
        sets.append(("elastic aws rules", load_rules(hunt_bench.ELASTIC_AWS_RULES)))
    excluded = {name.lower() for name in args.exclude_kind}
    if excluded:
        sets = [(f"{label} without {', '.join(sorted(excluded))}", [r for r in rules if kind(r) not in excluded]) for label, rules in sets]
    started = perf_counter()
    docs = mapped_events(args.records, args.principals)
    print(f"read and mapped {len(docs):,} events in {perf_counter() - started:.1f} s (not counted below)", file=sys.stderr)
    freeze_events()
    for label, rules in sets:
        measure(label, rules, docs, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
