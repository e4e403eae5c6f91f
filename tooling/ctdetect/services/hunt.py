"""``hunt``: every rule and ML job of a package over real logs, findings ranked.

One streaming pass: files (or ``s3://`` objects) are read in CloudTrail delivery order,
each event once (repeated eventIDs dropped unless ``keep_duplicates``), mapped to ECS, put in
time order within a short horizon (``inputs``), and fed to a backend (embedded by
default). Memory stays flat in the number of events: only rule matches and the anomaly
models' state are kept.

Filters: ``rules``/``jobs`` select what runs (plus the jobs a selected machine_learning
rule reads) and what is shown; ``since``/``until``/``min_score`` select findings, not
events, so the anomaly models still learn from the whole archive given as files. From S3,
``since``/``until`` also choose which delivery days are listed and read (plus the day
after ``until``, for late deliveries): a bucket holds years, a hunt wants days.

``workers`` (default: every core) processes decode and map local files
(``ecs.parallel``); the events reach the backend in the same order whatever the number,
so the findings do not depend on it.
"""

from __future__ import annotations

import os

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Callable

from ctdetect.backends import get_backend
from ctdetect.backends.base import RunStats
from ctdetect.findings import Finding
from ctdetect.readers import SkipCounter
from ctdetect.services.content import RunContent, load_content
from ctdetect.ecs.stream import EventIdWindow, iter_events
from ctdetect.readers.s3 import DayRange, is_s3
from ctdetect.services.inputs import make_mapper, time_ordered


@dataclass(slots=True)
class HuntOptions:
    paths: list[str]
    package_root: str = "."
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


def _selected(name: str, ident: str, filters: list[str]) -> bool:
    low = [f.lower() for f in filters]
    return ident.lower() in low or name.lower() in low


def select(content: RunContent, rule_filters: list[str], job_filters: list[str]) -> RunContent:
    """Keep the rules and jobs named by the filters (no filter of a kind: keep none of it
    when the other kind is filtered, all of it otherwise)."""
    if not rule_filters and not job_filters:
        return content
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


def keep(f: Finding, opts: HuntOptions, shown_rules: set[str], shown_jobs: set[str]) -> bool:
    if opts.rule_filters or opts.job_filters:
        if f.kind == "alert" and f.source_id not in shown_rules:
            return False
        if f.kind == "anomaly" and f.source_id not in shown_jobs:
            return False
    if opts.since is not None and f.timestamp < opts.since:
        return False
    if opts.until is not None and f.timestamp > opts.until:
        return False
    if opts.min_score is not None and f.score < opts.min_score:
        return False
    return True


def run_hunt(opts: HuntOptions) -> HuntResult:
    """Run the hunt. Raises ``ValueError`` for unusable options (bad GeoIP db, backend)."""
    content = load_content(opts.package_root, opts.rules_path, opts.jobs_path)
    content = select(content, opts.rule_filters, opts.job_filters)
    shown_rules = {r.rule_id for r in content.rules}
    shown_jobs = {j.job_id for j, _ in content.jobs if not opts.rule_filters or _selected(j.job_id, j.job_id, opts.job_filters)}
    skips = SkipCounter()
    mapper = make_mapper(opts.geoip_db)
    backend_options: dict[str, Any] = {}
    if opts.progress is not None and opts.backend == "embedded":
        backend_options["progress"] = opts.progress
    backend = get_backend(opts.backend, **backend_options)
    window = None if opts.keep_duplicates else EventIdWindow()
    days = DayRange.around(_utc_day(opts.since), _utc_day(opts.until))
    events = time_ordered(iter_events([str(p) for p in opts.paths], mapper=mapper, on_skip=skips, stdin=opts.stdin,
                                      dedupe=window, days=days, workers=opts.workers or available_cores()))
    result = backend.run(events, content.rules, content.jobs)
    stats = result.stats
    stats.events_skipped = skips.total
    stats.events_duplicate = window.dropped if window is not None else 0
    stats.skipped_reasons = dict(skips.counts)
    findings = rank([f for f in result.findings if keep(f, opts, shown_rules, shown_jobs)])
    return HuntResult(
        findings=findings,
        stats=stats,
        skips=skips,
        rules_run=len(content.rules),
        jobs_run=len(content.jobs),
        problems=content.problems + stats.problems,
    )


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
