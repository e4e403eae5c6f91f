"""``run_jobs``: every job over a single pass of the events — the one call ``hunt`` needs."""

from __future__ import annotations

from typing import Any, Iterable

from ctdetect.engine.anomaly.errors import JobConfigError
from ctdetect.engine.anomaly.runner import AnomalyJobRunner


def _pairs(jobs_with_datafeeds: Any) -> list[tuple[Any, Any]]:
    if isinstance(jobs_with_datafeeds, dict) and "analysis_config" in jobs_with_datafeeds:
        return [(jobs_with_datafeeds, None)]
    if isinstance(jobs_with_datafeeds, dict):  # {job: datafeed} is impossible with dict jobs; accept {job_id: (job, feed)}
        return [tuple(v) if isinstance(v, (tuple, list)) else (v, None) for v in jobs_with_datafeeds.values()]  # type: ignore[misc]
    out: list[tuple[Any, Any]] = []
    for item in jobs_with_datafeeds:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            out.append((item[0], item[1]))
        else:
            out.append((item, None))
    return out


def build_runners(jobs_with_datafeeds: Any, problems: list[str] | None = None) -> list[AnomalyJobRunner]:
    """Runners for every job that can run; each job that cannot is reported, not raised."""
    runners = []
    for job, feed in _pairs(jobs_with_datafeeds):
        try:
            runners.append(AnomalyJobRunner.from_config(job, feed))
        except JobConfigError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
    return runners


def run_jobs(
    jobs_with_datafeeds: Any,
    events: Iterable[dict[str, Any]],
    problems: list[str] | None = None,
    until_ms: int | None = None,
) -> list[Any]:
    """Run jobs over flat ECS events and return their anomaly findings, oldest first.

    ``jobs_with_datafeeds``: an iterable of ``(job, datafeed_or_None)`` pairs (or bare
    jobs); jobs and datafeeds are put-job / put-datafeed dicts or the content model's
    ``MLJob`` / ``Datafeed``. ``events`` is read once. All buckets are closed at the end
    (or those ending by ``until_ms``). When ``problems`` is a list, a job that cannot
    run and each bad event are reported there and the rest goes on; without it a bad
    job raises ``JobConfigError``.
    """
    runners = build_runners(jobs_with_datafeeds, problems)
    for event in events:
        for r in runners:
            r.feed(event)
    findings: list[Any] = []
    for r in runners:
        r.flush(until_ms)
        findings.extend(r.to_findings())
        if problems is not None:
            problems.extend(r.problems)
    findings.sort(key=lambda f: (f.timestamp, f.source_id, -f.score))
    return findings
