"""The embedded backend: rules and ML jobs evaluated in-process, in one pass.

Every event is offered once to the rule engine (which routes it only to the rules that
can match its ``event.action``), and in batches of ``JOB_BATCH`` to the anomaly jobs
(``engine.anomaly.selection``: each distinct datafeed clause runs once per batch); at the end the
anomaly findings are computed first, so ``machine_learning`` rules can turn records into
alerts, then every rule applies Kibana's per-execution logic. Nothing is started, nothing
leaves the process.

The anomaly engine drops events older than its open bucket, as Elasticsearch does for a
datafeed: give ``run`` events in time order (``ctdetect.services.inputs.time_ordered`` does it with
bounded memory).
"""

from __future__ import annotations

import copy
from time import perf_counter
from typing import Callable, Iterable, Mapping

from ctdetect.backends.base import RunResult, RunStats
from ctdetect.backends.job_workers import JobWorkers, outcome_of
from ctdetect.catalogue import load_catalogue
from ctdetect.content.model import Datafeed, MLJob, Rule
from ctdetect.engine.rules import RuleEngine
from ctdetect.findings import Finding

JOB_BATCH = 4096  # events handed to the anomaly jobs at once (bounded: memory stays flat)


class EmbeddedBackend:
    """``Backend`` running ``ctdetect.engine`` in this process."""

    name = "embedded"
    in_process = True
    reports_progress = True
    runs_jobs_apart = True
    reads_needed_fields = True  # rules and jobs read fields by name; alerts complete their events
    forgets_settled_records = True

    def __init__(self, field_types: Mapping[str, str] | None = None, progress: Callable[[int], None] | None = None) -> None:
        # The field catalogue is loaded here, once, and passed down to the rule engine and
        # to every anomaly job's datafeed query (the index mapping of both, in Elasticsearch).
        self.field_types: Mapping[str, str] = load_catalogue().field_types() if field_types is None else field_types
        self.progress = progress  # called with the number of events read so far, every 8192 events
        # processes running the ML jobs while this one runs the rules (``job_workers``);
        # 0: the jobs run here too. Off by default: replay already runs scenarios in
        # forked workers and must not nest pools; hunt turns it on (``--workers``).
        self.job_processes = 0
        # job_id -> record score under which settled records are forgotten (``Backend``); hunt sets it
        self.record_floors: Mapping[str, float] = {}
        # the rules compiled by ``prepare`` (never fed): each run starts from a copy of them
        self._prepared: tuple[list[Rule], RuleEngine] | None = None

    def prepare(self, rules: list[Rule]) -> None:
        """Compile ``rules`` once, for every later ``run`` given this same list.

        Compiling (parsing every query, building the predicates and the rule index) costs
        far more than a small scenario's events; ``replay`` runs the same rules over
        100 scenarios. A run copies the compiled engine (its per-run state — matches,
        executions, counters — starts empty in the copy) and shares what never changes:
        the rules themselves, the field types and the compiled predicates.
        """
        self._prepared = (rules, RuleEngine.build(rules, self.field_types))

    def _engine(self, rules: list[Rule]) -> RuleEngine:
        """A rule engine for one run: a fresh copy of the prepared one when it is for ``rules``."""
        if self._prepared is None or self._prepared[0] is not rules:
            return RuleEngine.build(rules, self.field_types)
        shared: dict[int, object] = {id(rule): rule for rule in rules}
        shared[id(self.field_types)] = self.field_types
        try:
            return copy.deepcopy(self._prepared[1], shared)
        except (TypeError, copy.Error):  # a compiled part that cannot be copied: compile afresh
            return RuleEngine.build(rules, self.field_types)

    def run(
        self,
        events: Iterable[dict],
        rules: list[Rule],
        jobs: list[tuple[MLJob, Datafeed | None]],
    ) -> RunResult:
        stats = RunStats()
        clock = perf_counter()
        engine = self._engine(rules)
        for skipped in engine.not_evaluated:
            stats.problems.append(f"rule {skipped.name!r} ({skipped.file}): not evaluated: {skipped.reason}")
            stats.not_run[skipped.rule_id] = stats.not_run[skipped.name] = skipped.reason
        runners = []
        if jobs:
            runners = _runners(jobs, self.field_types, stats.problems, stats.not_run, self.record_floors)
        ran_jobs = {r.job_id for r in runners}
        for rule_job in sorted(engine.ml_job_ids - ran_jobs):
            stats.problems.append(f"ML job {rule_job!r} is named by a machine_learning rule but is not part of this run")
        clock = _lap(stats.phases, "compile", clock)

        workers = _job_workers(runners, jobs, self.job_processes)
        try:
            stats.events_read = self._feed(events, engine, runners, workers)
            clock = _lap(stats.phases, "feed", clock)
            anomalies: list[Finding] = []
            if workers is not None:
                outcomes = workers.finish()
            else:
                outcomes = [outcome_of(runner) for runner in runners]
        finally:
            if workers is not None:
                workers.close()
        for outcome in outcomes:
            stats.job_history_ms[outcome.job_id] = outcome.history_ms
            anomalies.extend(outcome.findings)
            stats.problems.extend(outcome.problems)
            if outcome.forgotten:
                stats.anomalies_forgotten[outcome.job_id] = outcome.forgotten
        clock = _lap(stats.phases, "anomaly", clock)
        alerts = engine.finish(anomalies)
        _lap(stats.phases, "alerts", clock)
        for count_, message in engine.errors.values():
            stats.problems.append(f"{message}; {count_} event(s) in all")
        for rule in engine.compiled:
            if rule.late:
                stats.problems.append(
                    f"rule {rule.rule.name!r}: {rule.late} matching events arrived more than 6 hours out of time order; executions already run could not see them"
                )
            if rule.untimed:
                stats.problems.append(f"rule {rule.rule.name!r}: {rule.untimed} matching events had no readable time")
        findings = alerts + anomalies
        for f in findings:
            stats.findings_by_source[f.source_id] = stats.findings_by_source.get(f.source_id, 0) + 1
        return RunResult(findings=findings, stats=stats)

    def _feed(self, events: Iterable[dict], engine: RuleEngine, runners: list, workers: JobWorkers | None) -> int:
        """Offer every event to the rules, and in batches of ``JOB_BATCH`` to the jobs (here,
        through one ``SharedSelection``: each datafeed clause runs once per batch; or to
        ``workers``); the number of events."""
        feed = engine.feed
        progress = self.progress
        count = 0
        if runners:
            if workers is not None:
                feed_jobs = workers.feed
            else:
                from ctdetect.engine.anomaly.selection import SharedSelection

                feed_jobs = SharedSelection(runners).feed
            batch: list[dict] = []
            for event in events:
                feed(event, count)
                batch.append(event)
                count += 1
                if len(batch) == JOB_BATCH:
                    feed_jobs(batch)
                    batch = []
                if progress is not None and not count & 8191:
                    progress(count)
            if batch:
                feed_jobs(batch)
        else:
            for event in events:
                feed(event, count)
                count += 1
                if progress is not None and not count & 8191:
                    progress(count)
        if progress is not None:
            progress(count)
        return count


def _job_workers(runners: list, jobs: list[tuple[MLJob, Datafeed | None]], processes: int) -> JobWorkers | None:
    """Worker processes for the jobs when asked for and possible (fork exists), else None:
    the jobs then run in this process."""
    if processes < 1 or not runners:
        return None
    import multiprocessing

    try:
        multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform
        return None
    return JobWorkers(runners, jobs, min(processes, len(runners)))


def _lap(phases: dict[str, float], name: str, since: float) -> float:
    """Add the seconds since ``since`` to ``phases[name]``; the clock now."""
    now = perf_counter()
    phases[name] = phases.get(name, 0.0) + now - since
    return now


def _runners(
    jobs: list[tuple[MLJob, Datafeed | None]], field_types: Mapping[str, str], problems: list[str], not_run: dict[str, str],
    floors: Mapping[str, float],
) -> list:
    """One anomaly runner per job, forgetting its settled records under ``floors`` (if any);
    a job that cannot run is reported and left out."""
    from ctdetect.engine.anomaly import AnomalyJobRunner, JobConfigError

    runners = []
    for job, feed in jobs:
        try:
            # only record results become findings: the bucket and influencer results would
            # be built and held for the whole run for nothing (memory grows with the trail)
            runners.append(AnomalyJobRunner.from_config(job, feed, field_types, records_only=True, forget_below=floors.get(job.job_id)))
        except JobConfigError as exc:
            problems.append(str(exc))
            not_run[job.job_id] = str(exc)
        except Exception as exc:  # noqa: BLE001 - one job that cannot start must not stop the others
            problems.append(f"job {job.job_id}: cannot run ({exc!r})")
            not_run[job.job_id] = f"cannot run ({exc!r})"
    return runners
