"""ML jobs run in worker processes, fed batch by batch while the rules run in this one.

Why: in a hunt the anomaly jobs cost about twice the rules, and the two are independent
until the very end (anomaly findings go to ``RuleEngine.finish`` for machine_learning
rules). So the jobs go to one or more forked processes (they inherit the built runners:
nothing of the models is pickled) and the calling process keeps the rules and the input.

What crosses the pipe: each batch of ``JOB_BATCH`` events as columns of the fields the
jobs read (``column_names``: datafeed query, detector, influencer and time fields, and
``_ts``; not the rest of ``ALWAYS_READ``, which the rules read), read here a column at a time
(``columns.read_columns``), pickled once and sent to every worker, which takes them as its
batch's columns (``SharedSelection.feed_columns``). No dictionary per event is made on
either side: the worker makes one from its row only where something reads an event whole
(``columns.RowEvents``: a clause asked event by event, a detector's general path), and it is
the event's projection: every key the jobs look up (a key present with a None value stays
present, ``columns.Absent`` marking a missing one), so the datafeed queries, the buckets
and the records a job builds are the ones the full event gives; the jobs read events only
by field name, never by iterating them. When a job's fields cannot be listed (script
fields...) or include patterns, events are sent whole (``project``), as dictionaries.

Order and sameness: each worker feeds its runners every batch in order through its own
``SharedSelection`` (which is byte-identical to feeding each runner alone), and at the
end sends back, per runner, its findings, problems and history; the caller puts them
back in runner order. So findings, problems and history are the same for any number of
workers.

Jobs are split across workers by expected cost (``job_cost``: a rough count of the
models a job keeps per event), longest first onto the least loaded worker.

Back-pressure and failure: a writer thread per worker holds at most ``QUEUED_BATCHES``
pickled batches; when the worker is slower the caller waits on that queue (memory stays
flat). A worker that raises sends the error and stops; one that dies is seen by its
process sentinel: either way the caller raises ``JobWorkerError`` naming the jobs, never
waits forever.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Sequence

from ctdetect.content.model import Datafeed, MLJob
from ctdetect.engine.needed_fields import FieldNeeds, job_fields, needed_fields
from ctdetect.findings import Finding

QUEUED_BATCHES = 4  # pickled batches waiting per worker: enough to ride out uneven batches
_END = b""  # the message that ends a worker's input


class JobWorkerError(Exception):
    """A job worker failed or died (the message names its jobs and the error)."""


@dataclass(slots=True)
class JobOutcome:
    """What one runner produced, sent back from its worker."""

    job_id: str
    history_ms: int
    findings: list[Finding]
    problems: list[str]
    # bucket time (epoch ms) -> records forgotten under the runner's ``forget_below``
    forgotten: dict[int, int]


def outcome_of(runner: Any) -> JobOutcome:
    """A runner's results once its input has ended (flushes its open bucket)."""
    runner.flush()
    return JobOutcome(runner.job_id, runner.history_ms, runner.to_findings(), list(runner.problems), dict(runner.forgotten))


def job_cost(job: MLJob) -> int:
    """Expected per-event cost of a job: one per detector, plus one per split field it
    models by (by / over / partition each multiply the models kept) and per influencer."""
    cost = 0
    for detector in job.detectors:
        cost += 1 + sum(1 for f in (detector.by_field_name, detector.over_field_name, detector.partition_field_name) if f)
    return cost + len(job.influencers)


def split_by_cost(costs: Sequence[int], processes: int) -> list[list[int]]:
    """Indices of ``costs`` in ``processes`` groups of about equal total (largest first onto
    the least loaded group; ties by index, so the split is stable); each group ascending,
    empty groups dropped."""
    groups: list[list[int]] = [[] for _ in range(max(1, processes))]
    loads = [0] * len(groups)
    for index in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        target = min(range(len(groups)), key=lambda g: (loads[g], g))
        groups[target].append(index)
        loads[target] += costs[index]
    return [sorted(g) for g in groups if g]


def column_names(jobs: Sequence[tuple[MLJob, Datafeed | None]], needs: FieldNeeds) -> tuple[str, ...] | None:
    """The fields sent to the job processes as columns, sorted: what the anomaly engine reads
    of an event, which is each job's ``job_fields`` and ``_ts`` (``fields.event_time_ms``),
    and any field of ``needs`` that is a dotted prefix of one of them (a nested walk,
    ``fields.raw_value``, reads it). None when ``needs`` (the jobs' ``needed_fields``) is
    not a plain list of fields: the events then go whole (``project``)."""
    if needs.everything is not None or needs.patterns:
        return None
    names = {"_ts"}.union(*(job_fields(job, feed) for job, feed in jobs))
    prefixes = {".".join(parts[:j]) for parts in (n.split(".") for n in names) for j in range(1, len(parts))}
    return tuple(sorted(names | (prefixes & needs.fields)))


def project(events: Sequence[dict[str, Any]], needs: FieldNeeds) -> list[dict[str, Any]]:
    """``events`` reduced to the fields ``needs`` covers (all of each when it covers everything)."""
    if needs.everything is not None:
        return list(events)
    if needs.patterns:
        covers = needs.covers
        return [{k: v for k, v in e.items() if covers(k)} for e in events]
    keep = tuple(needs.fields)
    return [{f: e[f] for f in keep if f in e} for e in events]


class _Worker:
    """One forked process serving a group of runners, and the thread writing to it."""

    def __init__(self, ctx: Any, runners: list[Any], indices: list[int], inherited: list[Connection]) -> None:
        self.indices = indices
        self.job_ids = [r.job_id for r in runners]
        in_read, self.inbox = ctx.Pipe(duplex=False)
        self.outbox, out_write = ctx.Pipe(duplex=False)
        mine = [self.inbox, self.outbox]
        self.process = ctx.Process(target=_serve, args=(runners, in_read, out_write, inherited + mine), daemon=True,
                                   name=f"ctdetect-jobs-{indices[0]}")
        self.process.start()
        in_read.close()
        out_write.close()
        self.queue: queue.Queue[bytes] = queue.Queue(maxsize=QUEUED_BATCHES)
        self.broken: str | None = None  # why writing stopped (the worker went away)
        self.thread = threading.Thread(target=self._write, daemon=True, name=f"ctdetect-jobs-writer-{indices[0]}")
        self.thread.start()

    def _write(self) -> None:
        """Send queued batches until the end message; after a broken pipe, drain the queue
        so the caller never blocks on a worker that is gone."""
        while True:
            data = self.queue.get()
            if self.broken is None:
                try:
                    self.inbox.send_bytes(data)
                except (OSError, ValueError) as exc:
                    self.broken = str(exc) or type(exc).__name__
            if data == _END:
                return

    def describe(self) -> str:
        return f"the process running ML job{'s' if len(self.job_ids) > 1 else ''} {', '.join(self.job_ids)}"

    def result(self) -> list[JobOutcome]:
        """The outcomes of this worker's runners (blocks until it answers or dies)."""
        ready = wait([self.outbox, self.process.sentinel])
        if self.outbox in ready or self.outbox.poll():
            try:
                status, payload = self.outbox.recv()
            except (EOFError, OSError):
                status, payload = "died", None
        else:
            status, payload = "died", None
        if status == "ok":
            return payload
        if status == "error":
            raise JobWorkerError(f"{self.describe()} failed: {payload}")
        self.process.join(5)
        raise JobWorkerError(f"{self.describe()} ended without results (exit code {self.process.exitcode})")

    def failure(self) -> str | None:
        """The worker's error message if it has already failed or died, else None (no wait)."""
        if self.broken is None and self.process.is_alive():
            return None
        try:
            self.result()
        except JobWorkerError as exc:
            return str(exc)
        return None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)
        self.broken = self.broken or "stopped"
        try:  # let the writer thread end (it drains once the pipe is broken)
            self.queue.put(_END, timeout=5)
        except queue.Full:
            pass
        self.thread.join(5)
        for conn in (self.inbox, self.outbox):
            conn.close()


def _serve(runners: list[Any], inbox: Connection, outbox: Connection, parent_ends: list[Connection]) -> None:
    """Worker side: feed every batch to the runners, then send back their outcomes (or the error)."""
    from ctdetect.engine.anomaly.selection import SharedSelection

    for conn in parent_ends:  # the caller's ends: closed here so a dead caller ends our reads
        conn.close()
    try:
        shared = SharedSelection(runners)
        while True:
            data = inbox.recv_bytes()
            if data == _END:
                break
            batch = pickle.loads(data)
            if batch.__class__ is tuple:  # (names, columns, count): ``JobWorkers.batch_message``
                shared.feed_columns(*batch)
            else:
                shared.feed(batch)
            del batch
        message: tuple[str, Any] = ("ok", [outcome_of(runner) for runner in runners])
    except BaseException as exc:  # noqa: BLE001 - any failure goes back as one message
        message = ("error", f"{type(exc).__name__}: {exc}")
    outbox.send(message)


class JobWorkers:
    """The anomaly runners spread over ``processes`` forked workers (see the module docstring)."""

    def __init__(self, runners: list[Any], jobs: Sequence[tuple[MLJob, Datafeed | None]], processes: int) -> None:
        ctx = multiprocessing.get_context("fork")
        by_id = {job.job_id: job for job, _ in jobs}
        costs = [job_cost(by_id[r.job_id]) if r.job_id in by_id else 1 for r in runners]
        ran = {r.job_id for r in runners}
        ran_jobs = [(job, feed) for job, feed in jobs if job.job_id in ran]
        self.needs = needed_fields((), ran_jobs)  # the jobs' fields only
        self.names = column_names(ran_jobs, self.needs)  # None: events go whole
        from ctdetect.engine.anomaly.columns import read_columns  # the anomaly engine, imported once jobs run

        self._read_columns = read_columns
        self.count = len(runners)
        self.workers: list[_Worker] = []
        try:
            for indices in split_by_cost(costs, processes):
                inherited = [end for w in self.workers for end in (w.inbox, w.outbox)]
                self.workers.append(_Worker(ctx, [runners[i] for i in indices], indices, inherited))
        except BaseException:
            self.close()
            raise

    def feed(self, batch: Sequence[dict[str, Any]]) -> None:
        """Send one batch to every worker (waits while a worker's queue is full)."""
        data = pickle.dumps(self.batch_message(batch), protocol=pickle.HIGHEST_PROTOCOL)
        for worker in self.workers:
            if worker.broken is not None:
                self._raise_failure()
            worker.queue.put(data)

    def batch_message(self, batch: Sequence[dict[str, Any]]) -> Any:
        """What a worker is sent of ``batch``: ``(names, columns, count)`` (``read_columns``),
        or the projected events when the jobs' fields are not a plain list."""
        if self.names is None:
            return project(batch, self.needs)
        return (self.names, self._read_columns(batch, self.names), len(batch))

    def _raise_failure(self) -> None:
        for worker in self.workers:
            message = worker.failure()
            if message is not None:
                raise JobWorkerError(message)

    def finish(self) -> list[JobOutcome]:
        """End the input and collect every runner's outcome, in runner order."""
        for worker in self.workers:
            worker.queue.put(_END)
        outcomes: list[JobOutcome | None] = [None] * self.count
        for worker in self.workers:
            for index, outcome in zip(worker.indices, worker.result()):
                outcomes[index] = outcome
        return [o for o in outcomes if o is not None]

    def close(self) -> None:
        """Stop every worker (after ``finish``, or on the way out of a failed run)."""
        for worker in self.workers:
            worker.stop()
