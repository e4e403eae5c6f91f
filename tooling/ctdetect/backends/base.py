"""The interface both backends implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol, Sequence

from ctdetect.content.model import MLJob, Datafeed, Rule
from ctdetect.findings import Finding


@dataclass(slots=True)
class RunStats:
    events_read: int = 0
    events_skipped: int = 0
    # repeats of an event.id already read, dropped before the backend (hunt's exactly-once)
    events_duplicate: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    findings_by_source: dict[str, int] = field(default_factory=dict)
    # rules/jobs that could not run and other non-fatal notes ("rule X: ES|QL not evaluated")
    problems: list[str] = field(default_factory=list)
    # rule_id, rule name or job_id -> why it did not run (replay reports expectations on them)
    not_run: dict[str, str] = field(default_factory=dict)
    # job_id -> milliseconds of data its models learnt from (hunt notes too little history);
    # empty when the backend cannot tell
    job_history_ms: dict[str, int] = field(default_factory=dict)
    # seconds spent per phase of the run (compile, feed, anomaly, alerts): for bench/replay.py
    phases: dict[str, float] = field(default_factory=dict)
    # job_id -> {bucket time (epoch ms): records} left out of the findings under the
    # backend's ``record_floors`` (settled, under the floor): counted, not returned
    anomalies_forgotten: dict[str, dict[int, int]] = field(default_factory=dict)


@dataclass(slots=True)
class RunResult:
    findings: list[Finding]
    stats: RunStats


class Backend(Protocol):
    """What a backend does, and what it can do (class attributes, so a service asks the
    backend instead of testing its name):

    - ``in_process``: runs entirely in this process with no server, so scenarios may run
      in forked worker processes, each with its own instance;
    - ``reports_progress``: honours a ``progress`` attribute (called with the number of
      events read so far) during ``run``;
    - ``runs_jobs_apart``: honours a ``job_processes`` attribute (the ML jobs run in that
      many worker processes beside the rules; 0: in this process);
    - ``reads_needed_fields``: reads events only by the fields the content reads
      (``engine.needed_fields``) and shows findings' events through
      ``ecs.projected.full_document``, so it may be given projected events; false for a
      backend that indexes whole documents;
    - ``forgets_settled_records``: honours a ``record_floors`` attribute (job_id -> record
      score): an anomaly record whose score is final (it left the renormalisation window)
      with that score and its initial score under its job's floor is not returned, only
      counted in ``stats.anomalies_forgotten``. A caller that would not show it (hunt) and
      whose ML rules would not alert on it (their ``anomaly_threshold`` is at or above the
      floor) spares the backend holding a long trail's mild records to the end;
    - ``feeds_in_pieces``: ``start(rules, jobs)`` gives a run in progress (``feed`` events in
      as many calls as wanted, then ``finish`` for the ``RunResult``; ``close``) whose state
      a process forked after a ``feed`` can continue (replay feeds the history its
      scenarios share once: ``services.shared_prefix``).

    ``prepare(rules, jobs)`` is told the rules and jobs of the runs to come before any of them
    (replay runs the same content over every scenario), so a backend can compile them once.
    """

    name: str
    in_process: bool
    reports_progress: bool
    runs_jobs_apart: bool
    reads_needed_fields: bool
    forgets_settled_records: bool
    feeds_in_pieces: bool
    progress: "Callable[[int], None] | None"

    def run(
        self,
        events: Iterable[dict],
        rules: list[Rule],
        jobs: list[tuple[MLJob, Datafeed | None]],
    ) -> RunResult:
        """Run rules and jobs over flat ECS events (in time order where possible)."""
        ...

    def prepare(self, rules: list[Rule], jobs: Sequence[tuple[MLJob, Datafeed | None]] = ()) -> None:
        """Get ready for runs of ``rules`` and ``jobs`` (e.g. compile them once); may do nothing."""
        ...
