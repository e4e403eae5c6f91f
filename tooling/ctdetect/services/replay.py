"""``replay``: run scenarios and check that what must fire fires and what must stay quiet does.

For each scenario: its event files (raw CloudTrail or ECS NDJSON) and its ``[[synth]]``
baselines (generated with ``ctdetect.synth``, seeded) are mapped to ECS and merged in
time order; the *whole* package runs over them (every rule and job, so a silence
expectation is honest: nothing was left out to keep it quiet); the findings are checked
against each expectation (``expectations``). A scenario that reads zero events fails.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ctdetect.backends import get_backend
from ctdetect.content.model import LoadProblem, Scenario
from ctdetect.findings import Finding
from ctdetect.readers import SkipCounter
from ctdetect.services.content import RunContent, describe, load_content
from ctdetect.services.expectations import MET, UNMET, WAITING, Outcome, check
from ctdetect.ecs.stream import EventIdWindow, iter_events
from ctdetect.services.inputs import event_time, make_mapper


@dataclass(slots=True)
class ScenarioResult:
    scenario: Scenario
    events: int
    skips: SkipCounter
    outcomes: list[Outcome]
    findings: list[Finding]
    problems: list[str] = field(default_factory=list)
    # faults of the scenario itself (a [[synth]] table that cannot generate): they fail it
    errors: list[str] = field(default_factory=list)

    @property
    def zero_events(self) -> bool:
        return self.events == 0

    @property
    def ok(self) -> bool:
        return not self.zero_events and not self.errors and all(o.status != UNMET for o in self.outcomes)


@dataclass(slots=True)
class ReplayResult:
    scenarios: list[ScenarioResult]
    problems: list[str]
    # scenario files that could not be loaded (bad TOML, bad keys): they fail the replay
    scenario_errors: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for s in self.scenarios for o in s.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return not self.scenario_errors and all(s.ok for s in self.scenarios)

    def summary(self) -> dict[str, Any]:
        return {
            "scenarios": len(self.scenarios),
            "scenarios_failed": sum(1 for s in self.scenarios if not s.ok),
            "scenarios_without_events": sum(1 for s in self.scenarios if s.zero_events),
            "scenarios_with_errors": sum(1 for s in self.scenarios if s.errors),
            "scenario_files_not_loaded": len(self.scenario_errors),
            "expectations": sum(len(s.outcomes) for s in self.scenarios),
            MET: self.count(MET),
            UNMET: self.count(UNMET),
            WAITING: self.count(WAITING),
        }


class ReplayUsageError(Exception):
    """Bad arguments: a scenario path that is not a scenario, or no scenario at all."""


def find_scenarios(paths: list[str], package_root: str | Path, problems: list[LoadProblem]) -> list[Scenario]:
    """Scenarios named by ``paths`` (folders or scenario.toml), else all of the package's."""
    from ctdetect.content.loaders import load_scenarios

    if not paths:
        folder = Path(package_root) / "scenarios"
        if not folder.is_dir():
            raise ReplayUsageError(f"no scenarios given and {folder} does not exist")
        found = load_scenarios(folder, problems)
        if not found and not problems:
            raise ReplayUsageError(f"no scenario.toml under {folder}")
        return sorted(found, key=lambda s: s.name)
    found: list[Scenario] = []
    for entry in paths:
        path = Path(entry)
        if not path.exists():
            raise ReplayUsageError(f"no such scenario: {entry}")
        before = len(problems)
        loaded = load_scenarios(path, problems)
        if not loaded and len(problems) == before:
            raise ReplayUsageError(f"{entry} holds no scenario.toml")
        found.extend(loaded)
    return found


def scenario_events(scenario: Scenario, mapper: Any, skips: SkipCounter, errors: list[str] | None = None) -> list[dict]:
    """Every event of a scenario, mapped to ECS and sorted by time (then input order).

    A ``[[synth]]`` table that cannot generate is appended to ``errors`` (it fails the
    scenario: its expectations would be judged on the wrong history)."""
    errors = errors if errors is not None else []
    events: list[dict] = []
    window = EventIdWindow()  # one window per scenario: its files may repeat each other's events
    for src in scenario.events:
        # each file in the scenario's order, read as its ``format`` says
        events.extend(iter_events([str(src.path)], mapper=mapper, on_skip=skips, fmt=src.format,
                                  order_files=False, dedupe=window))
    for spec in scenario.synth:
        events.extend(_synth_events(spec.params, mapper, skips, scenario, errors))
    keyed = sorted(((event_time(e), i, e) for i, e in enumerate(events)), key=lambda t: (t[0], t[1]))
    return [e for _, _, e in keyed]


def _synth_events(params: dict[str, Any], mapper: Any, skips: SkipCounter, scenario: Scenario, errors: list[str]) -> Iterator[dict]:
    from ctdetect.readers import SkippedInput

    where = str(scenario.source.path)
    line = scenario.source.line_of("synth")
    place = f"{where}:{line}" if line else where
    from ctdetect.synth import SynthParams, generate

    try:
        records = generate(SynthParams.from_mapping(params))
    except Exception as exc:  # noqa: BLE001 - bad synth parameters are the scenario author's to fix
        errors.append(f"{place}: [[synth]] {params}: {exc}")
        return
    for n, record in enumerate(records, 1):
        try:
            yield mapper.map(record)
        except Exception as exc:  # noqa: BLE001
            skips(SkippedInput(where, n, "bad_record", f"synth record {n}: {exc}"))


def run_scenario(scenario: Scenario, content: RunContent, backend_name: str, mapper: Any) -> ScenarioResult:
    skips = SkipCounter()
    errors: list[str] = []
    events = scenario_events(scenario, mapper, skips, errors)
    backend = get_backend(backend_name)
    result = backend.run(events, content.rules, content.jobs)
    known = {r.rule_id for r in content.rules} | {r.name for r in content.rules} | {j.job_id for j, _ in content.jobs}
    not_run = dict(result.stats.not_run)
    outcomes = [check(e, result.findings, known, not_run) for e in scenario.expectations]
    return ScenarioResult(scenario, len(events), skips, outcomes, result.findings, list(result.stats.problems), errors)


def run_replay(
    paths: list[str],
    package_root: str = ".",
    backend: str = "embedded",
    geoip_db: str | None = None,
    workers: int | None = None,
) -> ReplayResult:
    """Run the scenarios. Raises ``ReplayUsageError`` / ``BackendUnavailable`` for bad usage.

    ``workers``: scenarios run in that many processes (default: one per CPU, at most 4);
    each scenario is independent, so the result does not depend on it.
    """
    from ctdetect.backends import get_backend as _check_backend

    _check_backend(backend)  # fail fast on an unknown backend
    problems: list[LoadProblem] = []
    scenarios = find_scenarios(paths, package_root, problems)
    content = load_content(package_root)
    mapper = make_mapper(geoip_db)
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    if workers > 1 and len(scenarios) > 1 and backend == "embedded":
        results = _parallel(scenarios, content, backend, mapper, workers)
    else:
        results = [run_scenario(s, content, backend, mapper) for s in scenarios]
    scenario_errors = [describe(p) for p in problems if p.severity == "error"]
    return ReplayResult(results, content.problems, scenario_errors)


_SHARED: dict[str, Any] = {}


def _run_indexed(index: int) -> ScenarioResult:
    return run_scenario(_SHARED["scenarios"][index], _SHARED["content"], _SHARED["backend"], _SHARED["mapper"])


def _parallel(scenarios: list[Scenario], content: RunContent, backend: str, mapper: Any, workers: int) -> list[ScenarioResult]:
    """Scenarios in forked worker processes (they inherit the compiled content), in order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: run in this process
        return [run_scenario(s, content, backend, mapper) for s in scenarios]
    _SHARED.update(scenarios=scenarios, content=content, backend=backend, mapper=mapper)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            return list(pool.map(_run_indexed, range(len(scenarios))))
    finally:
        _SHARED.clear()
