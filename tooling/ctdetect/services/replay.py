"""``replay``: run scenarios and check that what must fire fires and what must stay quiet does.

For each scenario: its event files (raw CloudTrail or ECS NDJSON) and its ``[[synth]]``
baselines (generated with ``ctdetect.synth``, seeded) are mapped to ECS and merged in
time order; the *whole* package runs over them (every rule and job, so a silence
expectation is honest: nothing was left out to keep it quiet); the findings are checked
against each expectation (``expectations``). A scenario that reads zero events fails.

Events are mapped as ``hunt`` maps them (``services.hunt.hunt_mapper``): for the embedded
backend only the fields the package reads, the whole document rebuilt for the events that
become findings (``ecs.projected``); for Elasticsearch, which indexes them, whole. They reach
the backend as a stream (``scenario_stream``): the files' events are read and sorted, the
``[[synth]]`` baselines (generated in time order) are merged in as they are generated, so a
month of synthetic history is never held.
"""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ctdetect.backends import get_backend
from ctdetect.content.model import Expectation, LoadProblem, Rule, Scenario, find_rule
from ctdetect.findings import Finding
from ctdetect.readers import SkipCounter
from ctdetect.services.content import RunContent, describe, load_content
from ctdetect.services.expectations import MET, UNMET, WAITING, Outcome, check
from ctdetect.ecs.stream import EventIdWindow, iter_events
from ctdetect.services.hunt import hunt_mapper
from ctdetect.services.inputs import event_time


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
    content_source: str = ""  # "bundled with ctdetect X.Y" or "package <folder>"

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
    """Every event of a scenario, mapped to ECS and sorted by time (then input order): the
    list of ``scenario_stream``'s events, for a caller that reads them more than once."""
    return list(scenario_stream(scenario, mapper, skips, errors))


def scenario_stream(scenario: Scenario, mapper: Any, skips: SkipCounter, errors: list[str] | None = None) -> Iterator[dict]:
    """Every event of a scenario, mapped to ECS, in time order (then input order: the files in
    the scenario's order, then each ``[[synth]]`` table).

    The files' events are read and sorted at once (a file may hold its events in any order);
    each ``[[synth]]`` table is generated in time order (``synth.generate``), so it is merged
    in as it is mapped, never held: the order is the one a stable sort of all of them gives.
    A ``[[synth]]`` table that cannot generate is appended to ``errors`` (it fails the
    scenario: its expectations would be judged on the wrong history) when the stream reaches it.
    A synth record the mapper refuses (none does: the generator writes what the mapper reads)
    is reported to ``skips`` as the merge reaches it, so two tables' skips would interleave in
    time order where the list kept each table's together."""
    errors = errors if errors is not None else []
    read: list[dict] = []
    window = EventIdWindow()  # one window per scenario: its files may repeat each other's events
    for src in scenario.events:
        # each file in the scenario's order, read as its ``format`` says
        read.extend(iter_events([str(src.path)], mapper=mapper, on_skip=skips, fmt=src.format,
                                order_files=False, dedupe=window))
    read.sort(key=event_time)  # stable: equal times keep the input order
    if not scenario.synth:
        return iter(read)
    synth = [_synth_events(spec.params, mapper, skips, scenario, errors) for spec in scenario.synth]
    # ties go to the earlier source (heapq.merge is stable), as in a stable sort of them all
    return heapq.merge(read, *synth, key=event_time)


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


def target_label(e: Expectation, rules: list[Rule]) -> str:
    """How reports name an expectation's target: the rule's name (not its UUID), the job_id."""
    if e.rule is not None:
        rule = find_rule(rules, e.rule)
        return rule.name if rule is not None else e.rule
    return e.job or ""


def run_scenario(scenario: Scenario, content: RunContent, backend: Any, mapper: Any) -> ScenarioResult:
    """One scenario on ``backend`` (an instance: the embedded one keeps its compiled rules)."""
    skips = SkipCounter()
    errors: list[str] = []
    result = backend.run(scenario_stream(scenario, mapper, skips, errors), content.rules, content.jobs)
    known = {r.rule_id for r in content.rules} | {r.name for r in content.rules} | {j.job_id for j, _ in content.jobs}
    not_run = dict(result.stats.not_run)
    outcomes = [check(e, result.findings, known, not_run, label=target_label(e, content.rules)) for e in scenario.expectations]
    return ScenarioResult(scenario, result.stats.events_read, skips, outcomes, result.findings, list(result.stats.problems), errors)


# called as each scenario ends: (scenarios done, scenarios in all, name of the one that ended)
Progress = Callable[[int, int, str], None]


def run_replay(
    paths: list[str],
    package_root: str = ".",
    backend: str = "embedded",
    geoip_db: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> ReplayResult:
    """Run the scenarios. Raises ``ReplayUsageError`` / ``BackendUnavailable`` for bad usage.

    ``workers``: scenarios run in that many processes (default: one per CPU); each
    scenario is independent and results are kept in scenario order, so the result does
    not depend on it. ``progress`` is told as each scenario ends.
    """
    runner = get_backend(backend)  # also fails fast on an unknown or unconfigured backend
    problems: list[LoadProblem] = []
    content = load_content(package_root)
    if not content.rules and not content.jobs:
        raise ReplayUsageError(f"no rule and no ML job loaded from {package_root}: every expectation would be judged on nothing")
    scenarios = find_scenarios(paths, content.source.path if content.source else package_root, problems)
    # what the backend reads of an event (only the fields the content reads, for the embedded one)
    mapper = hunt_mapper(content, geoip_db, runner)
    # compiled once here, before any fork: every scenario (and worker) starts from it
    runner.prepare(content.rules)
    if workers is None:
        workers = os.cpu_count() or 1
    workers = min(workers, len(scenarios))
    if workers > 1 and runner.in_process:
        results = _parallel(scenarios, content, runner, mapper, workers, progress)
    else:
        results = []
        for scenario in scenarios:
            # a backend with a server (elasticsearch) gets a fresh client per scenario
            instance = runner if runner.in_process else get_backend(backend)
            results.append(run_scenario(scenario, content, instance, mapper))
            if progress is not None:
                progress(len(results), len(scenarios), scenario.name)
    scenario_errors = [describe(p) for p in problems if p.severity == "error"]
    return ReplayResult(results, content.problems, scenario_errors, content.describe_source())


def expected_cost(scenario: Scenario) -> float:
    """A rough size of a scenario (events it will read), to start the biggest first.

    Only the order work is handed to workers depends on it, never a result: with the
    longest scenarios started first, the last worker to finish is not left running a
    long one alone.
    """
    cost = 0.0
    for src in scenario.events:
        try:
            paths = [src.path] if src.path.is_file() else [p for p in src.path.rglob("*") if p.is_file()]
            for path in paths:
                size = path.stat().st_size
                cost += size * (10 if path.suffix == ".gz" else 1) / 1000  # about 1 KB a record
        except OSError:
            continue
    for spec in scenario.synth:
        params = spec.params
        try:
            cost += float(params.get("days", 1)) * float(params.get("events_per_day", 1000))
        except (TypeError, ValueError):
            cost += 1000.0
    return cost


_SHARED: dict[str, Any] = {}


def _run_indexed(index: int) -> tuple[int, ScenarioResult]:
    return index, run_scenario(_SHARED["scenarios"][index], _SHARED["content"], _SHARED["backend"], _SHARED["mapper"])


def _parallel(
    scenarios: list[Scenario], content: RunContent, backend: Any, mapper: Any, workers: int, progress: Progress | None
) -> list[ScenarioResult]:
    """Scenarios in forked worker processes (they inherit the compiled content), in scenario order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: run in this process
        return [run_scenario(s, content, backend, mapper) for s in scenarios]
    _SHARED.update(scenarios=scenarios, content=content, backend=backend, mapper=mapper)
    order = sorted(range(len(scenarios)), key=lambda i: -expected_cost(scenarios[i]))
    results: list[ScenarioResult | None] = [None] * len(scenarios)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(_run_indexed, i) for i in order]
            for done, future in enumerate(as_completed(futures), 1):
                index, result = future.result()
                results[index] = result
                if progress is not None:
                    progress(done, len(scenarios), scenarios[index].name)
    finally:
        _SHARED.clear()
    return [r for r in results if r is not None]
