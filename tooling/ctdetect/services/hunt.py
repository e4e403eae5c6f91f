"""``hunt``: every rule and ML job of a package over real logs, findings ranked.

One streaming pass: files (or ``s3://`` objects) are read in CloudTrail delivery order,
each event once (repeated eventIDs dropped unless ``keep_duplicates``), mapped to ECS (for a
backend that reads fields by name, only the fields the content reads: ``ecs.projected``;
alerts show whole events, rebuilt from the raw record), put in
time order within a short horizon (``inputs``), and fed to a backend (embedded by
default). Events are not kept: memory holds the rules' windows and matches, the anomaly
models and the anomaly records, so it grows with the trail far less than with the events
(not flat: 232 MB for a million records over 10 days, 289 MB for four million over 40, in
bench/README.md, stop 28).

Filters: ``rules``/``jobs`` select what runs (plus the jobs a selected machine_learning
rule reads) and what is shown; ``since``/``until``/``min_score`` select findings, not
events, so the anomaly models still learn from the whole archive given as files.

Honest by default: a hunt that cannot find anything is not reported as a clean result.
No rule and no job loaded, a ``--rules`` path holding no rule, a ``--rule``/``--job``
naming nothing: ``HuntUsageError`` (the command exits 2). Anomaly records are many and
mostly mild, so without ``min_score`` each job's records below its *score floor* are left
out: the lowest ``anomaly_threshold`` of the machine_learning rules that read the job (what
would alert in Kibana), else ``DEFAULT_ANOMALY_FLOOR``; ``min_score=0`` keeps them all.
A record under its floor is hidden but counted ("not shown"); the embedded backend is told
the floors (``forget_floors``) so that a record whose score is final (it left the
renormalisation window, 30 days by default) and under them is counted and dropped as it
settles instead of held to the end of the trail.
A job whose data spans less than ``MIN_HISTORY_DAYS`` gets a note: its models had too
little history for the scores to mean much. From S3,
``since``/``until`` also choose which delivery days are listed and read (plus the day
after ``until``, for late deliveries): a bucket holds years, a hunt wants days.

``workers`` (default: every core) processes decode and map local files
(``ecs.parallel``), and ``workers - 1`` run the ML jobs while this process runs the rules
(``backends.job_workers``, for a backend with ``job_processes``); the events reach the
backend in the same order whatever the number, so the findings do not depend on it.
"""

from __future__ import annotations

import os

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from ctdetect.backends import get_backend
from ctdetect.backends.base import Backend, RunStats
from ctdetect.content.model import alert_thresholds
from ctdetect.findings import Finding
from ctdetect.readers import SkipCounter
from ctdetect.services.content import RunContent, load_content
from ctdetect.ecs.mapper import RecordMapper
from ctdetect.ecs.projected import mapper_for
from ctdetect.ecs.stream import EventIdWindow, iter_events
from ctdetect.engine.needed_fields import needed_fields
from ctdetect.readers.s3 import DayRange, is_s3
from ctdetect.services.inputs import make_mapper, time_ordered
from ctdetect.timeutil import to_datetime


#: Kibana Security's default anomaly threshold (the ``securitySolution:defaultAnomalyScore``
#: advanced setting, 50): the floor for a job no machine_learning rule reads.
DEFAULT_ANOMALY_FLOOR = 50.0
#: Below this much history a job's scores are noted as unreliable: the package's own ML
#: scenarios learn from 16 benign days, and Elastic advises weeks of data before trusting
#: rare and count models.
MIN_HISTORY_DAYS = 14


class HuntUsageError(ValueError):
    """The hunt cannot find anything as asked (no content, a filter naming nothing)."""


@dataclass(slots=True)
class HuntOptions:
    paths: list[str]
    package_root: str | None = None  # None: the current folder when it is a package
    rules_path: str | None = None
    jobs_path: str | None = None
    geoip_db: str | None = None
    rule_filters: list[str] = field(default_factory=list)
    job_filters: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    min_score: float | None = None
    backend: str = "embedded"
    stdin: BinaryIO | None = None
    progress: Callable[[int], None] | None = None
    keep_duplicates: bool = False  # off: repeats of an eventID are dropped (exactly once)
    workers: int | None = None  # processes decoding and mapping local files; None: every core


@dataclass(slots=True)
class HuntResult:
    findings: list[Finding]
    stats: RunStats
    skips: SkipCounter
    rules_run: int
    jobs_run: int
    problems: list[str]
    content_source: str = ""  # "bundled with ctdetect X.Y", "package <folder>", ...
    # job_id -> the record_score floor applied (empty when min_score was given)
    floors: dict[str, float] = field(default_factory=dict)
    hidden_below_floor: int = 0  # anomaly records left out by the floors
    notes: list[str] = field(default_factory=list)  # things to know before trusting the result
    content: RunContent | None = None  # what ran (the report reads rules, datafeeds, playbooks)


def _selected(name: str, ident: str, filters: list[str]) -> bool:
    low = [f.lower() for f in filters]
    return ident.lower() in low or name.lower() in low


def select(content: RunContent, rule_filters: list[str], job_filters: list[str]) -> RunContent:
    """Keep the rules and jobs named by the filters (no filter of a kind: keep none of it
    when the other kind is filtered, all of it otherwise). Raises ``HuntUsageError`` for a
    filter that names no rule or job of the content."""
    if not rule_filters and not job_filters:
        return content
    for ref in rule_filters:
        if not any(_selected(r.name, r.rule_id, [ref]) for r in content.rules):
            raise HuntUsageError(f"--rule {ref!r} names no rule (rule_id or name) of the {len(content.rules)} loaded")
    for ref in job_filters:
        if not any(_selected(j.job_id, j.job_id, [ref]) for j, _ in content.jobs):
            raise HuntUsageError(f"--job {ref!r} names no ML job of the {len(content.jobs)} loaded")
    rules = [r for r in content.rules if rule_filters and _selected(r.name, r.rule_id, rule_filters)]
    needed = {j for r in rules if r.type == "machine_learning" for j in r.machine_learning_job_id}
    jobs = [
        (j, d)
        for j, d in content.jobs
        if (job_filters and _selected(j.job_id, j.job_id, job_filters)) or j.job_id in needed
    ]
    return RunContent(rules=rules, jobs=jobs, problems=list(content.problems), package=content.package)


def rank(findings: list[Finding]) -> list[Finding]:
    """Highest score first, then oldest first (the story in time order)."""
    return sorted(findings, key=lambda f: (-f.score, f.timestamp, f.source_id))


def anomaly_floors(content: RunContent) -> dict[str, float]:
    """job_id -> the record_score below which its records are not shown by default: the
    score at which the job's machine_learning rules alert (``alert_thresholds``), else
    ``DEFAULT_ANOMALY_FLOOR``."""
    thresholds = alert_thresholds(content.rules)
    return {job.job_id: float(thresholds.get(job.job_id, DEFAULT_ANOMALY_FLOOR)) for job, _ in content.jobs}


def history_notes(job_history_ms: dict[str, int]) -> list[str]:
    """One note naming the jobs whose data spanned less than ``MIN_HISTORY_DAYS`` (jobs
    that selected no event at all are not about history and are left out)."""
    short = {job_id: ms / 86_400_000 for job_id, ms in sorted(job_history_ms.items()) if 0 < ms < MIN_HISTORY_DAYS * 86_400_000}
    if not short:
        return []
    jobs = ", ".join(f"{job_id} ({days:.1f} d)" for job_id, days in short.items())
    n = len(short)
    return [
        f"{n} ML job{'' if n == 1 else 's'} had less than {MIN_HISTORY_DAYS} days of history: {jobs}; anomaly models need "
        "about two weeks of normal activity before their scores mean much (records may be noise, real anomalies missed): "
        "hunt over a longer archive"
    ]


def keep(f: Finding, opts: HuntOptions, shown_rules: set[str], shown_jobs: set[str]) -> bool:
    if not in_view(f.kind, f.source_id, f.timestamp, opts, shown_rules, shown_jobs):
        return False
    if opts.min_score is not None and f.score < opts.min_score:
        return False
    return True


def in_view(kind: str, source_id: str, timestamp: datetime, opts: HuntOptions, shown_rules: set[str], shown_jobs: set[str]) -> bool:
    """Whether a finding of ``kind`` from ``source_id`` at ``timestamp`` is within what was
    asked for (the rule/job filters, ``since``/``until``), whatever its score."""
    if opts.rule_filters or opts.job_filters:
        if kind == "alert" and source_id not in shown_rules:
            return False
        if kind == "anomaly" and source_id not in shown_jobs:
            return False
    if opts.since is not None and timestamp < opts.since:
        return False
    if opts.until is not None and timestamp > opts.until:
        return False
    return True


def forget_floors(content: RunContent, min_score: float | None) -> dict[str, float]:
    """job_id -> the score under which a settled record can be forgotten by the backend:
    hunt would not show it (under the job's floor, or under ``min_score``) and no ML rule
    would alert on it (under the lowest ``anomaly_threshold`` reading the job)."""
    if min_score is None:
        return anomaly_floors(content)
    thresholds = alert_thresholds(content.rules)
    return {job.job_id: min(float(min_score), float(thresholds.get(job.job_id, min_score))) for job, _ in content.jobs}


def forgotten_in_view(stats: RunStats, opts: HuntOptions, shown_jobs: set[str]) -> int:
    """The records the backend forgot under the floors that the filters would have kept:
    they belong to the "below the floor, not shown" count."""
    return sum(
        n
        for job_id, per_bucket in stats.anomalies_forgotten.items()
        for bucket_ms, n in per_bucket.items()
        if in_view("anomaly", job_id, to_datetime(bucket_ms), opts, set(), shown_jobs)
    )


def _load(opts: HuntOptions) -> RunContent:
    """The content to run, or ``HuntUsageError`` when there is none to run."""
    from ctdetect.content.locate import PackageNotFound, resolve_package

    root = None
    replaced = opts.rules_path is not None or opts.jobs_path is not None
    if opts.rules_path is None or opts.jobs_path is None:
        try:
            root = resolve_package(opts.package_root, bundled=True)
        except PackageNotFound as exc:
            # --rules/--jobs alone, outside any package: run just what they name
            if opts.package_root is not None or not replaced:
                raise HuntUsageError(str(exc)) from None
    content = load_content(root, opts.rules_path, opts.jobs_path)
    if opts.rules_path is not None and not content.rules:
        raise HuntUsageError(f"--rules {opts.rules_path}: no rule loaded from it" + _first_problem(content))
    if opts.jobs_path is not None and not content.jobs:
        raise HuntUsageError(f"--jobs {opts.jobs_path}: no ML job loaded from it" + _first_problem(content))
    if not content.rules and not content.jobs:
        raise HuntUsageError(f"no rule and no ML job loaded from {root}: nothing to hunt with" + _first_problem(content))
    return content


def _first_problem(content: RunContent) -> str:
    return f" ({content.problems[0]})" if content.problems else ""


def run_hunt(opts: HuntOptions) -> HuntResult:
    """Run the hunt. Raises ``HuntUsageError`` when nothing could be found as asked and
    ``ValueError`` for unusable options (bad GeoIP db, backend)."""
    content = select(_load(opts), opts.rule_filters, opts.job_filters)
    shown_rules = {r.rule_id for r in content.rules}
    shown_jobs = {j.job_id for j, _ in content.jobs if not opts.rule_filters or _selected(j.job_id, j.job_id, opts.job_filters)}
    skips = SkipCounter()
    backend = get_backend(opts.backend)
    mapper = hunt_mapper(content, opts.geoip_db, backend)
    if opts.progress is not None and backend.reports_progress:
        backend.progress = opts.progress
    workers = opts.workers or available_cores()
    if backend.runs_jobs_apart:  # a backend that can run its ML jobs in other processes
        backend.job_processes = workers - 1  # this process keeps the rules: with one core, nothing apart
    if backend.forgets_settled_records:  # records that will not be shown need not be held to the end
        backend.record_floors = forget_floors(content, opts.min_score)
    window = None if opts.keep_duplicates else EventIdWindow()
    result = backend.run(time_ordered(hunt_events(opts, mapper, skips, window)), content.rules, content.jobs)
    stats = result.stats
    stats.events_skipped = skips.total
    stats.events_duplicate = window.dropped if window is not None else 0
    stats.skipped_reasons = dict(skips.counts)
    kept = [f for f in result.findings if keep(f, opts, shown_rules, shown_jobs)]
    floors = anomaly_floors(content) if opts.min_score is None else {}
    findings = rank([f for f in kept if f.kind != "anomaly" or f.score >= floors.get(f.source_id, 0.0)])
    return HuntResult(
        findings=findings,
        stats=stats,
        skips=skips,
        rules_run=len(content.rules),
        jobs_run=len(content.jobs),
        problems=content.problems + stats.problems,
        content_source=content.describe_source(),
        floors=floors,
        hidden_below_floor=len(kept) - len(findings) + (forgotten_in_view(stats, opts, shown_jobs) if opts.min_score is None else 0),
        notes=history_notes(stats.job_history_ms),
        content=content,
    )


def hunt_mapper(content: RunContent, geoip_db: str | None, backend: Backend) -> RecordMapper:
    """The mapper a hunt of ``content`` on ``backend`` maps records with: for a backend that
    reads fields by name, only the fields the content reads (``ecs.projected``; findings
    rebuild their events whole), else the full mapper. ``replay`` maps its scenarios with it,
    and ``bench/hunt.py``'s map stage and ``bench/replay.py`` call it too, so they map as the
    commands do. Raises ``ValueError`` for a bad GeoIP db."""
    mapper = make_mapper(geoip_db)
    if backend.reads_needed_fields:
        return mapper_for(mapper, needed_fields(content.rules, content.jobs))
    return mapper


def hunt_events(opts: HuntOptions, mapper: Any, skips: SkipCounter, window: EventIdWindow | None) -> Iterator[dict]:
    """The events a hunt reads, in delivery order (the report reads them a second time)."""
    days = DayRange.around(_utc_day(opts.since), _utc_day(opts.until))
    return iter_events([str(p) for p in opts.paths], mapper=mapper, on_skip=skips, stdin=opts.stdin, dedupe=window, days=days,
                       workers=opts.workers or available_cores())


def source_names(findings: list[Finding]) -> dict[tuple[str, str], int]:
    """(kind, name) -> count, for the summary's "findings by rule and job"."""
    out: dict[tuple[str, str], int] = {}
    for f in findings:
        key = ("rule" if f.kind == "alert" else "job", f.name)
        out[key] = out.get(key, 0) + 1
    return out


def available_cores() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _utc_day(moment: datetime | None) -> date | None:
    return moment.astimezone(timezone.utc).date() if moment is not None else None


def path_exists(path: str) -> bool:
    """Whether an input path can be tried (an S3 URL is checked when it is listed)."""
    return path == "-" or is_s3(path) or Path(path).exists()
