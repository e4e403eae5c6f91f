"""The elasticsearch backend: the package run by a real Elasticsearch and Kibana.

For one ``run`` (one scenario): create a disposable index (``es_index``), bulk-index the
events (nested as Elasticsearch stores them), create a temporary copy of each ML job and
its datafeed reading only that index and run the datafeed as a lookback over the events'
time range (``es_ml``), run every rule through Kibana's rule preview over the same range
(``es_preview``), read back anomaly records and alerts, and delete everything it
created (also when something failed). The findings have the same shapes as the embedded
backend's, so ``replay`` checks them with the same expectation code.

CloudTrail events that still carry their raw record (``event.original``) are ingested
through the aws integration's pipeline, with the integration's mappings, when the cluster
has them (``es_pipeline``); other events are indexed as ctdetect mapped them. ``replay``'s
mapper drops ``event.original`` (as the integration does by default), so replayed
scenarios take the second path unless their events keep it.

Settings come from the environment / ``.env`` (``ELASTICSEARCH_URL``, ``KIBANA_URL``,
credentials), as for ``deploy``; ``CTDETECT_KIBANA_SPACE`` picks the Kibana space.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any, Callable, Iterable, Sequence

from ctdetect.backends.base import RunResult, RunStats
from ctdetect.backends.es_index import OwnedIndices, bulk_request, build_mapping, create_index_request, delete_index_request, refresh_request
from ctdetect.backends.es_pipeline import find_pipeline, integration_mappings, merge_mappings, pipeline_document
from ctdetect.backends.es_ml import (
    cleanup_requests, close_request, datafeed_stats_request, filter_cleanup_request, filter_requests, job_requests, record_finding, records_search,
    start_request,
)
from ctdetect.backends.es_preview import alert_findings, alerts_search, preview_request
from ctdetect.content.model import Datafeed, MLJob, Rule
from ctdetect.elastic.client import Cluster, ClusterError
from ctdetect.elastic.retry import RetryPolicy
from ctdetect.elastic.settings import ConnectionSettings
from ctdetect.findings import Finding

BULK_SIZE = 2000
RUN_PREFIX = "ctdr"  # temporary job ids: ctdr-<token>-<job_id> (64 characters at most)
# The backend's cluster serves every scenario of a replay: its deadline bounds that whole
# session (each datafeed wait has its own ``timeout_seconds``), not one request.
SESSION_TIMEOUT = 6 * 3600.0


class ElasticsearchBackend:
    """``Backend`` that runs rules and jobs on the cluster named by the environment."""

    name = "elasticsearch"
    in_process = False  # one cluster session, created objects named per run: not forked
    reports_progress = False
    runs_jobs_apart = False  # the cluster runs the jobs
    reads_needed_fields = False  # the events are indexed: whole documents
    forgets_settled_records = False  # the cluster holds the records; all are read back
    feeds_in_pieces = False  # a run indexes its events and runs the datafeeds over them at once
    progress = None

    def __init__(
        self,
        settings: ConnectionSettings | None = None,
        space: str | None = None,
        policy: RetryPolicy | None = None,
        poll_seconds: float = 0.1,
        timeout_seconds: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from ctdetect.backends import BackendUnavailable

        self.settings = settings or ConnectionSettings.load()
        if not self.settings.configured:
            raise BackendUnavailable("the elasticsearch backend needs a cluster: set " + ", ".join(self.settings.missing()) + " (environment or .env)")
        self.space = space or os.environ.get("CTDETECT_KIBANA_SPACE") or "default"
        self.policy = policy
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep
        self._cluster: Cluster | None = None

    def prepare(self, rules: list[Rule], jobs: Sequence[tuple[MLJob, Datafeed | None]] = ()) -> None:
        """Nothing to do ahead: each run creates its rules in Kibana, which compiles them."""

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            try:
                self._cluster = Cluster.connect(self.settings, self.policy, timeout=SESSION_TIMEOUT)
            except ClusterError as exc:
                from ctdetect.backends import BackendUnavailable

                raise BackendUnavailable(str(exc)) from None
        return self._cluster

    def run(self, events: Iterable[dict], rules: list[Rule], jobs: list[tuple[MLJob, Datafeed | None]]) -> RunResult:
        stats = RunStats()
        docs = list(events)
        stats.events_read = len(docs)
        if not docs:
            return RunResult([], stats)
        times = [t for t in (_event_ms(d) for d in docs) if t is not None]
        if not times:
            stats.problems.append("no event has a readable @timestamp: nothing indexed")
            return RunResult([], stats)
        start_ms, end_ms = min(times), max(times)
        if not self._preflight(stats, rules, jobs):
            return RunResult([], stats)
        run = _Run(self, stats, secrets.token_hex(3))
        try:
            index = run.index_events(docs)
            job_ids = run.run_jobs(jobs, index, start_ms, end_ms)
            if job_ids:
                run.sync_ml_saved_objects()  # ML rules read anomalies only of jobs visible in their space
            run.run_rules(rules, index, start_ms, end_ms, job_ids)
        except ClusterError as exc:
            stats.problems.append(self.settings.redact(f"elasticsearch backend stopped: {exc}"))
            for rule in rules:
                stats.not_run.setdefault(rule.rule_id, "the cluster run stopped early")
        finally:
            run.cleanup()
        for f in run.findings:
            stats.findings_by_source[f.source_id] = stats.findings_by_source.get(f.source_id, 0) + 1
        return RunResult(run.findings, stats)


    def _preflight(self, stats: RunStats, rules: list[Rule], jobs: list[tuple[MLJob, Datafeed | None]]) -> bool:
        """Version and licence, as deploy checks them; on a problem nothing runs and every
        rule and job is reported as not run, with the reason."""
        from ctdetect.elastic.preflight import check

        try:
            pre = check(self.cluster, needs_ml=bool(jobs))
        except ClusterError as exc:
            problems = [self.settings.redact(str(exc))]
        else:
            problems = pre.problems
        if not problems:
            return True
        reason = "; ".join(problems)
        stats.problems.extend(problems)
        for rule in rules:
            stats.not_run[rule.rule_id] = stats.not_run[rule.name] = reason
        for job, _ in jobs:
            stats.not_run[job.job_id] = reason
        return False


class _Run:
    """State of one ``run``: what was created (to clean up) and what was found."""

    def __init__(self, backend: ElasticsearchBackend, stats: RunStats, token: str) -> None:
        self.backend = backend
        self.cluster = backend.cluster
        self.stats = stats
        self.prefix = f"{RUN_PREFIX}-{token}"
        self.indices = OwnedIndices()
        self.created_jobs: list[tuple[str, str]] = []
        self.created_filters: list[str] = []  # temporary copies of the ML filters the jobs name
        self.findings: list[Finding] = []

    # ------------------------------------------------------------------ events

    def index_events(self, docs: list[dict]) -> str:
        """Index the events; CloudTrail records with their original go through the aws
        integration's pipeline when it is installed (``es_pipeline``)."""
        from ctdetect.catalogue import load_catalogue
        from ctdetect.ecs import nest

        index = self.indices.new_name()
        mapping = build_mapping({k for d in docs for k in d}, load_catalogue())
        pipeline = None
        if any(pipeline_document(d) is not None for d in docs):
            pipeline = find_pipeline(self.cluster)
            theirs = integration_mappings(self.cluster) if pipeline else None
            if theirs is None:
                pipeline = None
            else:
                mapping = merge_mappings(mapping, theirs)
        self.cluster.send(create_index_request(self.indices.check(index), mapping))
        plain: list[tuple[str, dict[str, Any]]] = []
        piped: list[tuple[str, dict[str, Any]]] = []
        rejected = 0
        for n, doc in enumerate(docs):
            raw = pipeline_document(doc) if pipeline else None
            if raw is not None:
                piped.append((f"{n:09d}", raw))
            else:
                plain.append((f"{n:09d}", nest({k: v for k, v in doc.items() if not k.startswith("_")})))
            if len(plain) >= BULK_SIZE:
                rejected += self._bulk(index, plain)
                plain = []
            if len(piped) >= BULK_SIZE:
                rejected += self._bulk(index, piped, pipeline)
                piped = []
        if plain:
            rejected += self._bulk(index, plain)
        if piped:
            rejected += self._bulk(index, piped, pipeline)
        self.cluster.send(refresh_request(self.indices.check(index)))
        if pipeline:
            count = sum(1 for d in docs if pipeline_document(d) is not None)
            self.stats.problems.append(f"note: {count} CloudTrail event(s) ingested through the aws integration pipeline {pipeline}")
        if rejected:
            self.stats.events_skipped += rejected
            self.stats.skipped_reasons["rejected by elasticsearch"] = rejected
        return index

    def _bulk(self, index: str, batch: list[tuple[str, dict[str, Any]]], pipeline: str | None = None) -> int:
        resp = self.cluster.send(bulk_request(self.indices.check(index), batch, pipeline)).body or {}
        if not resp.get("errors"):
            return 0
        bad = [item for item in resp.get("items", []) if (item.get("create") or {}).get("error")]
        for item in bad[:3]:
            err = item["create"]["error"]
            self.stats.problems.append(f"event {item['create'].get('_id')} rejected: {err.get('type')}: {err.get('reason')}")
        return len(bad)

    # ------------------------------------------------------------------ ML

    def run_jobs(self, jobs: list[tuple[MLJob, Datafeed | None]], index: str, start_ms: int, end_ms: int) -> dict[str, str]:
        """Run each job's datafeed over the range; returns package job id -> temporary id."""
        mapping: dict[str, str] = {}
        for job, feed in jobs:
            tmp, feed_id, requests = job_requests(self.prefix, job, feed, index)
            try:
                for filter_id, request in filter_requests(self.prefix, job):
                    if filter_id not in self.created_filters:  # two jobs may name one filter
                        self.cluster.send(request)
                        self.created_filters.append(filter_id)
                self.cluster.send(requests[0])
                self.created_jobs.append((tmp, feed_id))
                for request in requests[1:]:
                    self.cluster.send(request)
                span_ms = job.bucket_span_seconds * 1000
                self.cluster.send(start_request(feed_id, start_ms - start_ms % span_ms, end_ms + span_ms))
                self._wait_stopped(feed_id)
                self.cluster.send(close_request(tmp))
                hits = self._search(records_search(tmp))
                self.findings.extend(record_finding(h.get("_source") or {}, job.job_id) for h in hits)
                mapping[job.job_id] = tmp
            except ClusterError as exc:
                message = self.backend.settings.redact(str(exc))
                self.stats.problems.append(f"job {job.job_id}: {message}")
                self.stats.not_run[job.job_id] = message
        return mapping

    def _wait_stopped(self, feed_id: str) -> None:
        """Poll the datafeed until its lookback ends (waits grow from ``poll_seconds`` to 5s)."""
        deadline = time.monotonic() + self.backend.timeout_seconds
        wait = self.backend.poll_seconds
        while True:
            body = self.cluster.send(datafeed_stats_request(feed_id)).body or {}
            feeds = body.get("datafeeds") or [{}]
            if feeds[0].get("state") == "stopped":
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"datafeed {feed_id} still {feeds[0].get('state')!r} after {self.backend.timeout_seconds:.0f}s")
            self.backend.sleep(wait)
            wait = min(5.0, wait * 2)

    def _search(self, request: Any) -> list[dict[str, Any]]:
        body = self.cluster.send(request, allow=(404,)).body or {}
        hits = (body.get("hits") or {}).get("hits") or []
        total = ((body.get("hits") or {}).get("total") or {}).get("value", len(hits))
        if total > len(hits):
            self.stats.problems.append(f"{request.path}: {total} results, only the first {len(hits)} read")
        return hits

    # ------------------------------------------------------------------ rules

    def run_rules(self, rules: list[Rule], index: str, start_ms: int, end_ms: int, job_ids: dict[str, str]) -> None:
        space = self.backend.space
        for rule in rules:
            if rule.type == "esql":
                self.stats.not_run[rule.rule_id] = self.stats.not_run[rule.name] = "ES|QL rules read their own FROM clause, not the replay index"
                continue
            missing = [j for j in rule.machine_learning_job_id if j not in job_ids]
            if rule.type == "machine_learning" and missing:
                reason = f"its job(s) {', '.join(missing)} did not run"
                self.stats.not_run[rule.rule_id] = self.stats.not_run[rule.name] = reason
                continue
            request, capped = preview_request(rule, index, space, start_ms, end_ms, job_ids)
            if capped:
                self.stats.problems.append(f"rule {rule.name!r}: preview limited to its last {request.body['invocationCount']} runs")
            try:
                resp = self.cluster.send(request).body or {}
                preview_id = resp.get("previewId")
                if resp.get("isAborted"):
                    self.stats.problems.append(f"rule {rule.name!r}: Kibana stopped the preview at its time limit; alerts from the earliest runs may be missing")
                for log in resp.get("logs") or []:
                    for error in log.get("errors") or []:
                        self.stats.problems.append(f"rule {rule.name!r}: preview error: {error}")
                if not preview_id:
                    self.stats.not_run[rule.rule_id] = self.stats.not_run[rule.name] = "the preview returned no id"
                    continue
                self.cluster.send(refresh_request(f".preview.alerts-security.alerts-{space}"), allow=(404,))
                hits = self._search(alerts_search(space, preview_id))
                self.findings.extend(alert_findings(hits, rule))
            except ClusterError as exc:
                message = self.backend.settings.redact(str(exc))
                self.stats.problems.append(f"rule {rule.name!r}: {message}")
                self.stats.not_run[rule.rule_id] = self.stats.not_run[rule.name] = message

    def sync_ml_saved_objects(self) -> None:
        from ctdetect.elastic.requests_model import Request, kibana_path

        try:
            self.cluster.send(Request("GET", kibana_path(self.backend.space, "/api/ml/saved_objects/sync")))
        except ClusterError as exc:
            self.stats.problems.append(f"ML saved objects sync: {exc} (machine_learning rules may not see the jobs)")

    # ------------------------------------------------------------------ cleanup

    def cleanup(self) -> None:
        for job_id, feed_id in self.created_jobs:
            for request in cleanup_requests(job_id, feed_id):
                try:
                    self.cluster.send(request, allow=(404,))
                except ClusterError as exc:
                    self.stats.problems.append(f"cleanup: {exc}")
        for filter_id in self.created_filters:  # after the jobs that use them
            try:
                self.cluster.send(filter_cleanup_request(filter_id), allow=(404,))
            except ClusterError as exc:
                self.stats.problems.append(f"cleanup: {exc}")
        for index in sorted(self.indices.names):
            try:
                self.cluster.send(delete_index_request(self.indices.check(index)), allow=(404,))
            except ClusterError as exc:
                self.stats.problems.append(f"cleanup: {exc}")
        if self.created_jobs:
            self.sync_ml_saved_objects()  # drops the saved objects of the deleted jobs


def _event_ms(event: dict) -> int | None:
    ts = event.get("_ts")
    if isinstance(ts, int):
        return ts
    stamp = event.get("@timestamp")
    if not stamp:
        return None
    from ctdetect.timeutil import parse_iso_ms

    return parse_iso_ms(str(stamp))
