"""``replay``: run scenarios and check that what must fire fires and what must stay quiet does.

For each scenario: its event files (raw CloudTrail or ECS NDJSON) and its ``[[synth]]``
baselines (generated with ``ctdetect.synth``, seeded) are mapped to ECS and merged in
time order; the *whole* package runs over them (every rule and job, so a silence
expectation is honest: nothing was left out to keep it quiet); the findings are checked
against each expectation (``expectations``). A scenario that reads zero events fails.

Events are mapped as ``hunt`` maps them (``services.hunt.hunt_mapper``): for the embedded
backend only the fields the package reads, the whole document rebuilt for the events that
become findings (``ecs.projected``); for Elasticsearch, which indexes them, whole. They reach
the backend as a stream (``services.scenario_events.scenario_stream``), so a month of
synthetic history is never held. Scenarios on the same synthetic background run as a group:
the history they share is fed once and each continues in a fork (``run_group``).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ctdetect.backends import get_backend
from ctdetect.backends.base import RunResult
from ctdetect.content.model import Expectation, LoadProblem, Rule, Scenario, find_rule
from ctdetect.findings import Finding
from ctdetect.readers import SkipCounter
from ctdetect.services.content import RunContent, describe, load_content
from ctdetect.services.expectations import MET, UNMET, WAITING, Outcome, check
from ctdetect.services.hunt import hunt_mapper
from ctdetect.services.scenario_events import SynthOutcome, canonical, scenario_events, scenario_stream
from ctdetect.services.shared_prefix import MIN_SHARED_EVENTS, can_fork, common_prefix, continue_in_forks


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
    return judge(scenario, result.stats.events_read, skips, errors, result, content)


def judge(scenario: Scenario, events: int, skips: SkipCounter, errors: list[str], result: RunResult, content: RunContent) -> ScenarioResult:
    """A scenario's result: its run's findings checked against each of its expectations."""
    known = {r.rule_id for r in content.rules} | {r.name for r in content.rules} | {j.job_id for j, _ in content.jobs}
    not_run = dict(result.stats.not_run)
    outcomes = [check(e, result.findings, known, not_run, label=target_label(e, content.rules)) for e in scenario.expectations]
    return ScenarioResult(scenario, events, skips, outcomes, result.findings, list(result.stats.problems), errors)


def background_key(scenario: Scenario) -> str | None:
    """What scenarios built on the same synthetic background share: their ``[[synth]]``
    tables (None without one). Such scenarios are run together (``run_group``)."""
    if not scenario.synth:
        return None
    return canonical([spec.params for spec in scenario.synth])


def plan_groups(scenarios: list[Scenario]) -> list[list[int]]:
    """Indices of ``scenarios`` in groups of the same ``background_key`` (alone without one),
    each group in scenario order, groups in the order of their first scenario."""
    groups: list[list[int]] = []
    by_key: dict[str, list[int]] = {}
    for i, scenario in enumerate(scenarios):
        key = background_key(scenario)
        if key is None:
            groups.append([i])
        elif key in by_key:
            by_key[key].append(i)
        else:
            by_key[key] = [i]
            groups.append(by_key[key])
    return groups


def run_group(group: list[Scenario], content: RunContent, backend: Any, mapper: Any) -> list[ScenarioResult]:
    """Scenarios on one synthetic background, in order: the events they all begin with
    (the background's days before any scenario's own events) are fed once, then each
    scenario goes on in a forked process from that state (``shared_prefix``). The results
    are those of running each alone; a scenario that shares too little runs alone."""
    if len(group) == 1 or not backend.feeds_in_pieces or not can_fork():
        return [run_scenario(s, content, backend, mapper) for s in group]
    cache: dict[str, SynthOutcome] = {}
    inputs = []
    for scenario in group:
        skips = SkipCounter()
        errors: list[str] = []
        inputs.append((scenario, scenario_events(scenario, mapper, skips, errors, cache), skips, errors))
    leader = inputs[0][1]
    # what each shares with the first; what they all share is the least of these
    lengths = [common_prefix([leader, events]) for _, events, _, _ in inputs]
    sharing = [i for i, n in enumerate(lengths) if n >= MIN_SHARED_EVENTS]
    results: dict[int, ScenarioResult] = {}
    if len(sharing) > 1:
        shared = min(lengths[i] for i in sharing)
        run = backend.start(content.rules, content.jobs)
        try:
            run.feed(itertools.islice(leader, shared))

            def finish(k: int) -> ScenarioResult:
                scenario, events, skips, errors = inputs[sharing[k]]
                run.feed(itertools.islice(events, shared, None))
                return judge(scenario, len(events), skips, errors, run.finish(), content)

            for i, result in zip(sharing, continue_in_forks(len(sharing), finish)):
                results[i] = result
        finally:
            run.close()
    for i, (scenario, events, skips, errors) in enumerate(inputs):
        if i not in results:  # alone: its events are its own (shared synth objects unchanged by a run)
            results[i] = judge(scenario, len(events), skips, errors, backend.run(events, content.rules, content.jobs), content)
    return [results[i] for i in range(len(inputs))]


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
    groups = plan_groups(scenarios) if runner.feeds_in_pieces else [[i] for i in range(len(scenarios))]
    workers = min(workers, len(groups))
    if workers > 1 and runner.in_process:
        results = _parallel(scenarios, groups, content, runner, mapper, workers, progress)
    else:
        results = []
        for group in groups:
            # a backend with a server (elasticsearch) gets a fresh client per scenario
            instance = runner if runner.in_process else get_backend(backend)
            for result in run_group([scenarios[i] for i in group], content, instance, mapper):
                results.append(result)
                if progress is not None:
                    progress(len(results), len(scenarios), result.scenario.name)
        order = {id(scenarios[i]): n for n, i in enumerate(i for g in groups for i in g)}
        results = [results[order[id(s)]] for s in scenarios]
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


def group_cost(scenarios: list[Scenario]) -> float:
    """``expected_cost`` of a group run together: its largest scenario, plus a little of
    each other one (they share the background fed once)."""
    costs = sorted((expected_cost(s) for s in scenarios), reverse=True)
    return costs[0] + 0.1 * sum(costs[1:])


_SHARED: dict[str, Any] = {}


def _run_group_indexed(group: list[int]) -> list[tuple[int, ScenarioResult]]:
    scenarios = _SHARED["scenarios"]
    results = run_group([scenarios[i] for i in group], _SHARED["content"], _SHARED["backend"], _SHARED["mapper"])
    return list(zip(group, results))


def _parallel(
    scenarios: list[Scenario], groups: list[list[int]], content: RunContent, backend: Any, mapper: Any, workers: int,
    progress: Progress | None,
) -> list[ScenarioResult]:
    """Groups of scenarios in forked worker processes (they inherit the compiled content), the
    results in scenario order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: run in this process
        return [run_scenario(s, content, backend, mapper) for s in scenarios]
    _SHARED.update(scenarios=scenarios, content=content, backend=backend, mapper=mapper)
    order = sorted(groups, key=lambda g: -group_cost([scenarios[i] for i in g]))
    results: list[ScenarioResult | None] = [None] * len(scenarios)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(_run_group_indexed, g) for g in order]
            done = 0
            for future in as_completed(futures):
                for index, result in future.result():
                    results[index] = result
                    done += 1
                    if progress is not None:
                        progress(done, len(scenarios), scenarios[index].name)
    finally:
        _SHARED.clear()
    return [r for r in results if r is not None]
