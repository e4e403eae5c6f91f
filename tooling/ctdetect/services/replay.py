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
from ctdetect.services.scenario_events import SharedInputs, canonical, scenario_events, scenario_stream
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


def prefix_clusters(inputs: list[list[dict]]) -> list[tuple[list[int], int]]:
    """``inputs`` (events of scenarios on one background) in clusters that share a beginning
    worth feeding once: (indices ascending, events all of them begin with); a scenario that
    shares too little with the others is a cluster of its own (shared 0).

    Greedy, in input order: the first input not yet placed leads, every later unplaced one
    that begins with at least ``MIN_SHARED_EVENTS`` of its events joins it. Scenarios of one
    background often carry their own files from the background's first day (a routine's
    calls, the attack's own history): they differ from the others after a few events, and a
    first scenario of that kind must not keep the rest from sharing theirs.
    """
    clusters: list[tuple[list[int], int]] = []
    placed = [False] * len(inputs)
    for lead in range(len(inputs)):
        if placed[lead]:
            continue
        placed[lead] = True
        members, shared = [lead], len(inputs[lead])
        for other in range(lead + 1, len(inputs)):
            if placed[other]:
                continue
            n = common_prefix([inputs[lead], inputs[other]])
            if n >= MIN_SHARED_EVENTS:
                placed[other] = True
                members.append(other)
                shared = min(shared, n)
        clusters.append((members, shared if len(members) > 1 else 0))
    return clusters


def run_group(
    group: list[Scenario], content: RunContent, backend: Any, mapper: Any, hand_back: bool = False,
) -> tuple[list[ScenarioResult | None], list[int]]:
    """Scenarios on one synthetic background, in order: the events a cluster of them begins
    with (the background's days before any scenario's own events; ``prefix_clusters``) are
    fed once, then each scenario of the cluster goes on in a forked process from that state
    (``shared_prefix``). The results are those of running each alone.

    Returns the results in ``group`` order and the indices of the scenarios not run: with
    ``hand_back``, a scenario that shares nothing is left to the caller (None in its place),
    which can run it beside the others (``_parallel``) instead of after them in this process.
    """
    if len(group) == 1 or not backend.feeds_in_pieces or not can_fork():
        return [run_scenario(s, content, backend, mapper) for s in group], []
    shared = SharedInputs()  # the background's table and history files, read once for the group
    inputs = []
    for scenario in group:
        skips = SkipCounter()
        errors: list[str] = []
        inputs.append((scenario, scenario_events(scenario, mapper, skips, errors, shared), skips, errors))
    results: list[ScenarioResult | None] = [None] * len(inputs)
    left: list[int] = []
    clusters = prefix_clusters([events for _, events, _, _ in inputs])
    if hand_back:  # the events of those handed back are not held while the others run (nor copied into forks)
        left = [members[0] for members, shared in clusters if not shared]
        for i in left:
            inputs[i] = (inputs[i][0], [], inputs[i][2], inputs[i][3])
    for members, shared in clusters:
        if shared:
            for i, result in zip(members, _continue_cluster([inputs[i] for i in members], shared, content, backend)):
                results[i] = result
        elif not hand_back:  # alone: its events are its own (shared synth objects unchanged by a run)
            scenario, events, skips, errors = inputs[members[0]]
            results[members[0]] = judge(scenario, len(events), skips, errors, backend.run(events, content.rules, content.jobs), content)
    return results, left


def _continue_cluster(inputs: list[tuple[Scenario, list[dict], SkipCounter, list[str]]], shared: int, content: RunContent, backend: Any) -> list[ScenarioResult]:
    """The first ``shared`` events (common to every input) fed once, each input finished in a fork."""
    run = backend.start(content.rules, content.jobs)
    try:
        run.feed(itertools.islice(inputs[0][1], shared))

        def finish(k: int) -> ScenarioResult:
            scenario, events, skips, errors = inputs[k]
            run.feed(itertools.islice(events, shared, None))
            return judge(scenario, len(events), skips, errors, run.finish(), content)

        return continue_in_forks(len(inputs), finish)
    finally:
        run.close()


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
    """Run the scenarios. Raises ``ReplayUsageError`` / ``BackendUnavailable`` for bad usage,
    ``ReplayWorkerError`` when a worker process dies or fails.

    ``workers``: the processes to use (default: one per CPU): scenarios run in that many
    (at most one per task), and a lone scenario longer than the rest runs its ML jobs in
    the ones that would idle; each scenario is independent and results are kept in
    scenario order, so the result does not depend on it. ``progress`` is told as each
    scenario ends.
    """
    runner = get_backend(backend)  # also fails fast on an unknown or unconfigured backend
    problems: list[LoadProblem] = []
    content = load_content(package_root)
    if not content.rules and not content.jobs:
        raise ReplayUsageError(f"no rule and no ML job loaded from {package_root}: every expectation would be judged on nothing")
    scenarios = find_scenarios(paths, content.source.path if content.source else package_root, problems)
    # what the backend reads of an event (only the fields the content reads, for the embedded one)
    mapper = hunt_mapper(content, geoip_db, runner)
    # compiled (and the anomaly engine imported) once here, before any fork: every scenario
    # (and worker) starts from it
    runner.prepare(content.rules, content.jobs)
    if workers is None:
        workers = os.cpu_count() or 1
    groups = plan_groups(scenarios) if runner.feeds_in_pieces else [[i] for i in range(len(scenarios))]
    cores, workers = workers, min(workers, len(groups))
    if cores > 1 and groups and runner.in_process and can_fork():
        # even one task: a lone scenario can run its ML jobs on the other cores
        results = _parallel(scenarios, groups, content, runner, mapper, workers, cores, progress)
    else:
        results = []
        for group in groups:
            # a backend with a server (elasticsearch) gets a fresh client per scenario
            instance = runner if runner.in_process else get_backend(backend)
            done, _ = run_group([scenarios[i] for i in group], content, instance, mapper)
            for result in done:
                assert result is not None  # nothing is handed back without hand_back
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


class ReplayWorkerError(Exception):
    """A worker process of a parallel replay died or failed (the message names its scenarios):
    the replay has no result for them, so it stops (``ctdetect replay`` exits 2)."""


# what the forked workers inherit: the scenarios, the content, the prepared backend, the mapper
_SHARED: dict[str, Any] = {}


def _run_task(group: list[int], job_processes: int) -> tuple[list[tuple[int, ScenarioResult]], list[int]]:
    """Worker side: one task (scenario indices) on the inherited backend; its results by index
    and the indices handed back (``run_group``). ``job_processes`` (a lone scenario only: the
    shared-prefix forks of a group cannot carry job workers) runs its ML jobs in that many
    more processes (``EmbeddedBackend.job_processes``): the result is the same for any number."""
    scenarios, backend = _SHARED["scenarios"], _SHARED["backend"]
    backend.job_processes = job_processes if len(group) == 1 and backend.runs_jobs_apart else 0
    try:
        results, left = run_group([scenarios[i] for i in group], _SHARED["content"], backend, _SHARED["mapper"], hand_back=True)
    finally:
        backend.job_processes = 0
    return [(group[k], r) for k, r in enumerate(results) if r is not None], [group[k] for k in left]


def job_processes_for(cost: float, others: float, cores: int) -> int:
    """ML job processes for a lone scenario of ``cost`` started while ``others`` (the expected
    cost of every other task not yet finished) remains: ``cores - 1`` when it alone is more
    than its share of what is left (``cost > (cost + others) / cores``: the other cores
    would run out of work and idle while it runs), else 0. The job processes take the cores
    that would idle; the result is the same for any number."""
    if cores < 2 or cost * cores <= cost + others:
        return 0
    return cores - 1


def _parallel(
    scenarios: list[Scenario], groups: list[list[int]], content: RunContent, backend: Any, mapper: Any, workers: int,
    cores: int, progress: Progress | None,
) -> list[ScenarioResult]:
    """Tasks (groups of scenarios) in ``workers`` forked processes (they inherit the compiled
    content), longest expected first, one at a time per worker; a scenario a group hands
    back (it shares no beginning with the others) is queued as a task of its own, by its
    cost; a lone scenario bigger than its share of the ``cores`` runs its ML jobs apart
    (``job_processes_for``). Results in scenario order, whatever ran where."""
    import heapq
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("fork")
    _SHARED.update(scenarios=scenarios, content=content, backend=backend, mapper=mapper)
    # (-expected cost, tie-break, scenario indices): a heap, so a task handed back takes its place by cost
    queue = [(-group_cost([scenarios[i] for i in g]), n, g) for n, g in enumerate(groups)]
    heapq.heapify(queue)
    tie = len(queue)
    results: list[ScenarioResult | None] = [None] * len(scenarios)
    running: dict[Future, tuple[list[int], float]] = {}
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            try:
                while queue or running:
                    while queue and len(running) < workers:
                        negative, _, group = heapq.heappop(queue)
                        others = -sum(c for c, _, _ in queue) + sum(c for _, c in running.values())
                        apart = job_processes_for(-negative, others, cores) if len(group) == 1 else 0
                        running[pool.submit(_run_task, group, apart)] = (group, -negative)
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        group, _ = running.pop(future)
                        pairs, left = _task_result(future, group, scenarios)
                        for index, result in pairs:
                            results[index] = result
                            done += 1
                            if progress is not None:
                                progress(done, len(scenarios), scenarios[index].name)
                        for index in left:
                            heapq.heappush(queue, (-expected_cost(scenarios[index]), tie, [index]))
                            tie += 1
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        _SHARED.clear()
    return [r for r in results if r is not None]


def _task_result(future: Any, group: list[int], scenarios: list[Scenario]) -> tuple[list[tuple[int, ScenarioResult]], list[int]]:
    """A finished task's results, or ``ReplayWorkerError`` naming its scenarios when its worker
    (or one of its job or fork processes) failed or died."""
    from concurrent.futures.process import BrokenProcessPool

    from ctdetect.backends.job_workers import JobWorkerError
    from ctdetect.services.shared_prefix import ForkError

    names = ", ".join(scenarios[i].name for i in group)
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise ReplayWorkerError(f"a worker process died while running scenario(s) {names} ({exc})") from exc
    except (JobWorkerError, ForkError) as exc:
        raise ReplayWorkerError(f"scenario(s) {names}: {exc}") from exc
