"""Anomaly detection on a real cluster for one replay: temporary job and datafeed, a
lookback over the scenario's time range, then the records.

The package's job body is used unchanged except its id: ``<prefix>-<job_id>`` (the
package's own job may be deployed on the same cluster and must not be disturbed) and the
ML filters its ``custom_rules`` name, which become this run's copies ``<prefix>-<filter_id>``
(created before the job, deleted after it), and the datafeed reads only the replay index. The datafeed is started with ``start`` and
``end`` (a lookback): Elasticsearch stops it by itself when it reaches ``end``; the job
is then closed, which flushes the last bucket and finalises the results. Records are
read from the results indices with a search built by ``elasticsearch.dsl``.
"""

from __future__ import annotations

from typing import Any

from ctdetect.content.ml import job_filter_ids
from ctdetect.content.model import Datafeed, MLJob
from ctdetect.elastic.ml_body import datafeed_body, job_body
from ctdetect.elastic.requests_model import Request, seg
from ctdetect.findings import Finding, anomaly_finding
from ctdetect.timeutil import iso_from_ms

RESULTS_INDEX = ".ml-anomalies-*"
MAX_RECORDS = 10_000


def temp_job_id(prefix: str, job_id: str) -> str:
    """A job id within Elasticsearch's 64 characters, unique to this run (a long package
    id keeps its start and gains a short hash, so two ids never collapse into one)."""
    full = f"{prefix}-{job_id}"
    if len(full) <= 64:
        return full
    import hashlib

    digest = hashlib.sha1(job_id.encode()).hexdigest()[:8]
    return f"{prefix}-{job_id[: 64 - len(prefix) - 10]}-{digest}"


def job_requests(prefix: str, job: MLJob, feed: Datafeed | None, index: str) -> tuple[str, str, list[Request]]:
    """(temporary job id, datafeed id, the create+open requests)."""
    tmp = temp_job_id(prefix, job.job_id)
    body = job_body(job)
    body.pop("datafeed_config", None)
    body.pop("results_index_name", None)
    # say what the temporary job is, for anyone who sees it in Kibana while it runs
    body["custom_settings"] = {**(body.get("custom_settings") or {}), "ctdetect_replay_of": job.job_id}
    _use_temp_filters(body, prefix)
    feed_body: dict[str, Any] = datafeed_body(feed) if feed is not None else {"query": {"match_all": {}}}
    feed_body["job_id"] = tmp
    feed_body["indices"] = [index]
    feed_body.pop("indices_options", None)
    feed_id = f"datafeed-{tmp}"
    return tmp, feed_id, [
        Request("PUT", f"/_ml/anomaly_detectors/{seg(tmp)}", body),
        Request("PUT", f"/_ml/datafeeds/{seg(feed_id)}", feed_body),
        Request("POST", f"/_ml/anomaly_detectors/{seg(tmp)}/_open"),
    ]


def _use_temp_filters(body: dict[str, Any], prefix: str) -> None:
    """Point the job body's ``custom_rules`` scopes at this run's copies of their filters."""
    for det in body.get("analysis_config", {}).get("detectors", []):
        for rule in det.get("custom_rules", []) if isinstance(det, dict) else []:
            for ref in (rule.get("scope") or {}).values() if isinstance(rule, dict) else []:
                if isinstance(ref, dict) and isinstance(ref.get("filter_id"), str):
                    ref["filter_id"] = temp_job_id(prefix, ref["filter_id"])


def filter_requests(prefix: str, job: MLJob) -> list[tuple[str, Request]]:
    """(temporary filter id, its create request) for each ML filter the job's ``custom_rules``
    name: the run's own copy of the package's filter (``ml_jobs/filters/``), so a filter of
    the same id already in the cluster is neither used nor changed."""
    out = []
    for fid in job_filter_ids(job):
        tmp = temp_job_id(prefix, fid)
        body = {"description": f"ctdetect replay copy of {fid}", "items": list(job.filters.get(fid, []))}
        out.append((tmp, Request("PUT", f"/_ml/filters/{seg(tmp)}", body)))
    return out


def filter_cleanup_request(filter_id: str) -> Request:
    return Request("DELETE", f"/_ml/filters/{seg(filter_id)}")


def start_request(feed_id: str, start_ms: int, end_ms: int) -> Request:
    return Request("POST", f"/_ml/datafeeds/{seg(feed_id)}/_start", {"start": iso_from_ms(start_ms), "end": iso_from_ms(end_ms)})


def datafeed_stats_request(feed_id: str) -> Request:
    return Request("GET", f"/_ml/datafeeds/{seg(feed_id)}/_stats")


def close_request(job_id: str) -> Request:
    return Request("POST", f"/_ml/anomaly_detectors/{seg(job_id)}/_close", {"timeout": "5m"})


def cleanup_requests(job_id: str, feed_id: str) -> list[Request]:
    return [
        Request("DELETE", f"/_ml/datafeeds/{seg(feed_id)}?force=true"),
        Request("DELETE", f"/_ml/anomaly_detectors/{seg(job_id)}?force=true"),
    ]


def records_search(job_id: str) -> Request:
    """Every record result of ``job_id``, oldest first, as an ``elasticsearch.dsl`` search."""
    from elasticsearch.dsl import Search

    search = (
        Search()
        .filter("term", job_id=job_id)
        .filter("term", result_type="record")
        .sort("timestamp", "detector_index")
        .extra(size=MAX_RECORDS, track_total_hits=True)
    )
    return Request("POST", f"/{RESULTS_INDEX}/_search", search.to_dict())


def record_finding(record: dict[str, Any], job_id: str) -> Finding:
    """A record result as a ``Finding``, under the package's ``job_id`` (the same entity
    rule as the embedded engine: partition/by/over field names -> values, then the first
    value of each influencer)."""
    doc = dict(record)
    doc["job_id"] = job_id
    return anomaly_finding(doc, job_id)

