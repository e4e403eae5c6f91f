"""The embedded backend: rules and ML jobs evaluated in-process, in one pass.

Every event is offered once to the rule engine (which routes it only to the rules that
can match its ``event.action``) and to the anomaly jobs, in batches of ``JOB_BATCH``
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
from itertools import islice
from time import perf_counter
from typing import Callable, Iterable, Mapping, Sequence

from ctdetect.backends.base import RunResult, RunStats
from ctdetect.backends.job_workers import JobWorkers, outcome_of
from ctdetect.catalogue import load_catalogue
from ctdetect.content.model import Datafeed, MLJob, Rule
from ctdetect.engine.rules import RuleEngine
from ctdetect.engine.rules.engine import BATCH as RULE_BATCH
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
    feeds_in_pieces = True  # ``start``: ``EmbeddedRun``

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

    def prepare(self, rules: list[Rule], jobs: Sequence[tuple[MLJob, Datafeed | None]] = ()) -> None:
        """Compile ``rules`` once, for every later ``run`` given this same list; with
        ``jobs``, import the anomaly engine now (``engine.anomaly.preload``).

        Compiling (parsing every query, building the predicates and the rule index) costs
        far more than a small scenario's events; ``replay`` runs the same rules over
        100 scenarios. A run copies the compiled engine (its per-run state — matches,
        executions, counters — starts empty in the copy) and shares what never changes:
        the rules themselves, the field types and the compiled predicates. ``replay``
        forks its workers after this: they inherit the compiled rules and the imported
        engine instead of each importing it.
        """
        self._prepared = (rules, RuleEngine.build(rules, self.field_types))
        if jobs:
            from ctdetect.engine.anomaly import preload

            preload()

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
        run = self.start(rules, jobs)
        try:
            run.feed(events)
            return run.finish()
        finally:
            run.close()

    def start(self, rules: list[Rule], jobs: list[tuple[MLJob, Datafeed | None]]) -> "EmbeddedRun":
        """A run of ``rules`` and ``jobs`` fed piece by piece (``EmbeddedRun``): what ``run``
        does in one call, for a caller that feeds a shared first part of several inputs
        once and forks to continue each (``services.replay``)."""
        return EmbeddedRun(self, rules, jobs)


class EmbeddedRun:
    """One run in progress: ``feed`` events (in time order, in as many calls as wanted),
    then ``finish`` once; ``close`` releases job workers if ``finish`` was not reached.

    The state after a ``feed`` depends only on the events fed so far: the jobs' batches
    may end anywhere (``SharedSelection`` gives the same results for any batching), so a
    process forked after feeding a prefix and fed the rest ends exactly as one run of the
    whole would (``tests/replay/test_shared_prefix.py``)."""

    def __init__(self, backend: EmbeddedBackend, rules: list[Rule], jobs: list[tuple[MLJob, Datafeed | None]]) -> None:
        self.stats = stats = RunStats()
        clock = perf_counter()
        self.engine = engine = backend._engine(rules)
        for skipped in engine.not_evaluated:
            stats.problems.append(f"rule {skipped.name!r} ({skipped.file}): not evaluated: {skipped.reason}")
            stats.not_run[skipped.rule_id] = stats.not_run[skipped.name] = skipped.reason
        self.runners: list = []
        if jobs:
            self.runners = _runners(jobs, backend.field_types, stats.problems, stats.not_run, backend.record_floors)
        ran_jobs = {r.job_id for r in self.runners}
        for rule_job in sorted(engine.ml_job_ids - ran_jobs):
            stats.problems.append(f"ML job {rule_job!r} is named by a machine_learning rule but is not part of this run")
        _lap(stats.phases, "compile", clock)
        self.progress = backend.progress
        self.workers = _job_workers(self.runners, jobs, backend.job_processes)
        self._feed_jobs: Callable[[list[dict]], None] | None = None
        if self.runners:
            if self.workers is not None:
                self._feed_jobs = self.workers.feed
            else:
                from ctdetect.engine.anomaly.selection import SharedSelection

                self._feed_jobs = SharedSelection(self.runners).feed

    def feed(self, events: Iterable[dict]) -> None:
        """Offer the events to the rules in slices of ``RuleEngine``'s ``BATCH`` as they come
        (``feed_batch``: a slice is read rule by rule while it is still in the processor's
        cache; 4096 at a time ran slower), and to the jobs in batches of ``JOB_BATCH`` (here,
        through one ``SharedSelection``: each datafeed clause runs once per batch; or to the
        workers); a last short batch is handed over before returning, so the state after a call
        depends only on the events fed so far."""
        clock = perf_counter()
        feed_rules = self.engine.feed_batch
        progress = self.progress
        count = self.stats.events_read
        feed_jobs = self._feed_jobs
        batch: list[dict] = []
        events = iter(events)
        while piece := list(islice(events, RULE_BATCH)):
            feed_rules(piece, count)
            before, count = count, count + len(piece)
            if feed_jobs is not None:
                batch += piece
                if len(batch) >= JOB_BATCH:
                    feed_jobs(batch)
                    batch = []
            if progress is not None:  # every 8192 events, as counted one by one
                for reached in range(before + 8192 - before % 8192, count + 1, 8192):
                    progress(reached)
        if batch:
            feed_jobs(batch)  # type: ignore[misc]
        self.stats.events_read = count
        _lap(self.stats.phases, "feed", clock)

    def finish(self) -> RunResult:
        """The findings: the jobs' records first, then every rule's executions (so that
        ``machine_learning`` rules read the records)."""
        stats, engine = self.stats, self.engine
        if self.progress is not None:
            self.progress(stats.events_read)
        clock = perf_counter()
        anomalies: list[Finding] = []
        try:
            if self.workers is not None:
                outcomes = self.workers.finish()
            else:
                outcomes = [outcome_of(runner) for runner in self.runners]
        finally:
            self.close()
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

    def close(self) -> None:
        """Stop the job workers, if any (idempotent)."""
        if self.workers is not None:
            self.workers.close()
            self.workers = None


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
            floor = floors.get(job.job_id) if floors else None  # (tests may hand put-job bodies: dicts)
            runners.append(AnomalyJobRunner.from_config(job, feed, field_types, records_only=True, forget_below=floor))
        except JobConfigError as exc:
            problems.append(str(exc))
            not_run[job.job_id] = str(exc)
        except Exception as exc:  # noqa: BLE001 - one job that cannot start must not stop the others
            problems.append(f"job {job.job_id}: cannot run ({exc!r})")
            not_run[job.job_id] = f"cannot run ({exc!r})"
    return runners
