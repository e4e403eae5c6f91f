"""The embedded backend: rules and ML jobs evaluated in-process, in one pass.

Every event is offered once to the rule engine (which routes it only to the rules that
can match its ``event.action``) and once to each anomaly job runner; at the end the
anomaly findings are computed first, so ``machine_learning`` rules can turn records into
alerts, then every rule applies Kibana's per-execution logic. Nothing is started, nothing
leaves the process.

The anomaly engine drops events older than its open bucket, as Elasticsearch does for a
datafeed: give ``run`` events in time order (``ctdetect.services.ordering`` does it with
bounded memory).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

from ctdetect.backends.base import RunResult, RunStats
from ctdetect.catalogue import load_catalogue
from ctdetect.content.model import Datafeed, MLJob, Rule
from ctdetect.engine.rules import RuleEngine
from ctdetect.findings import Finding


class EmbeddedBackend:
    """``Backend`` running ``ctdetect.engine`` in this process."""

    name = "embedded"

    def __init__(self, field_types: Mapping[str, str] | None = None, progress: Callable[[int], None] | None = None) -> None:
        # The field catalogue is loaded here, once, and passed down to the rule engine and
        # to every anomaly job's datafeed query (the index mapping of both, in Elasticsearch).
        self.field_types: Mapping[str, str] = load_catalogue().field_types() if field_types is None else field_types
        self.progress = progress  # called with the number of events read so far, every 8192 events

    def run(
        self,
        events: Iterable[dict],
        rules: list[Rule],
        jobs: list[tuple[MLJob, Datafeed | None]],
    ) -> RunResult:
        stats = RunStats()
        engine = RuleEngine.build(rules, self.field_types)
        for skipped in engine.not_evaluated:
            stats.problems.append(f"rule {skipped.name!r} ({skipped.file}): not evaluated: {skipped.reason}")
            stats.not_run[skipped.rule_id] = stats.not_run[skipped.name] = skipped.reason
        runners = []
        if jobs:
            runners = _runners(jobs, self.field_types, stats.problems, stats.not_run)
        ran_jobs = {r.job_id for r in runners}
        for rule_job in sorted(engine.ml_job_ids - ran_jobs):
            stats.problems.append(f"ML job {rule_job!r} is named by a machine_learning rule but is not part of this run")

        feed = engine.feed
        progress = self.progress
        count = 0
        if runners:
            feeders = [r.feed for r in runners]
            for event in events:
                feed(event, count)
                for f in feeders:
                    f(event)
                count += 1
                if progress is not None and not count & 8191:
                    progress(count)
        else:
            for event in events:
                feed(event, count)
                count += 1
                if progress is not None and not count & 8191:
                    progress(count)
        if progress is not None:
            progress(count)
        stats.events_read = count

        anomalies: list[Finding] = []
        for runner in runners:
            runner.flush()
            anomalies.extend(runner.to_findings())
            stats.problems.extend(runner.problems)
        alerts = engine.finish(anomalies)
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


def _runners(jobs: list[tuple[MLJob, Datafeed | None]], field_types: Mapping[str, str], problems: list[str], not_run: dict[str, str]) -> list:
    """One anomaly runner per job; a job that cannot run is reported and left out."""
    try:
        from ctdetect.engine.anomaly import AnomalyJobRunner, JobConfigError
    except ImportError as exc:
        problems.append(f"ML jobs not run: the anomaly engine is not available ({exc})")
        not_run.update({job.job_id: "the anomaly engine is not available" for job, _ in jobs})
        return []
    runners = []
    for job, feed in jobs:
        try:
            runners.append(AnomalyJobRunner.from_config(job, feed, field_types))
        except JobConfigError as exc:
            problems.append(str(exc))
            not_run[job.job_id] = str(exc)
        except Exception as exc:  # noqa: BLE001 - one job that cannot start must not stop the others
            problems.append(f"job {job.job_id}: cannot run ({exc!r})")
            not_run[job.job_id] = f"cannot run ({exc!r})"
    return runners
