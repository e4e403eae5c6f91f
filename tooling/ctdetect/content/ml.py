"""Build typed ``MLJob`` and ``Datafeed`` objects from put-job / put-datafeed bodies.

Lenient like the rule builder: values of the wrong type fall back to defaults and the
schema check reports them. Elastic's module files carry placeholders (``JOB_ID``,
``INDEX_PATTERN_NAME``) that Kibana fills in at setup; ``resolve_module_datafeed`` does the
same so the engine can run Elastic's jobs unchanged.
"""

from __future__ import annotations

from typing import Any

from ctdetect.content.durations import es_time_seconds
from ctdetect.content.model import Datafeed, Detector, Located, MLJob

DEFAULT_MODULE_INDICES = ["logs-*", "filebeat-*"]


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def job_from_document(doc: dict[str, Any], source: Located, job_id: str) -> MLJob:
    """The typed view of a job body; ``job_id`` is decided by the caller (key or file name)."""
    analysis = _table(doc.get("analysis_config"))
    detectors = []
    raw_detectors = analysis.get("detectors")
    for index, item in enumerate(raw_detectors if isinstance(raw_detectors, list) else []):
        det = _table(item)
        detectors.append(
            Detector(
                function=_str(det.get("function")),
                field_name=_opt_str(det.get("field_name")),
                by_field_name=_opt_str(det.get("by_field_name")),
                over_field_name=_opt_str(det.get("over_field_name")),
                partition_field_name=_opt_str(det.get("partition_field_name")),
                use_null=det.get("use_null") is True,
                exclude_frequent=_opt_str(det.get("exclude_frequent")),
                detector_description=_str(det.get("detector_description")),
                detector_index=index,
            )
        )
    bucket_span = _str(analysis.get("bucket_span"), "5m")
    seconds = es_time_seconds(bucket_span)
    limits = _table(doc.get("analysis_limits"))
    memory = limits.get("model_memory_limit")
    return MLJob(
        source=source,
        raw=doc,
        job_id=job_id,
        description=_str(doc.get("description")),
        groups=_str_list(doc.get("groups")),
        bucket_span=bucket_span,
        bucket_span_seconds=int(seconds) if seconds else 0,
        detectors=detectors,
        influencers=_str_list(analysis.get("influencers")),
        summary_count_field_name=_opt_str(analysis.get("summary_count_field_name")),
        model_prune_window=_opt_str(analysis.get("model_prune_window")),
        time_field=_str(_table(doc.get("data_description")).get("time_field"), "@timestamp"),
        model_memory_limit=str(memory) if isinstance(memory, (str, int)) else None,
    )


def datafeed_from_document(doc: dict[str, Any], source: Located, datafeed_id: str, job_id: str) -> Datafeed:
    """The typed view of a datafeed body; ids are decided by the caller."""
    query = doc.get("query")
    return Datafeed(
        source=source,
        raw=doc,
        datafeed_id=datafeed_id,
        job_id=job_id,
        indices=_str_list(doc.get("indices", doc.get("indexes"))),
        query=query if isinstance(query, dict) else {"match_all": {}},
        query_delay=_opt_str(doc.get("query_delay")),
        frequency=_opt_str(doc.get("frequency")),
    )


def resolve_module_datafeed(doc: dict[str, Any], job_id: str, indices: list[str]) -> dict[str, Any]:
    """Fill Kibana module placeholders: ``JOB_ID`` -> job id, ``INDEX_PATTERN_NAME`` -> indices.

    Returns a new dict; the original (as written by Elastic) is left untouched.
    """
    resolved = dict(doc)
    if resolved.get("job_id") in (None, "JOB_ID"):
        resolved["job_id"] = job_id
    raw_indices = resolved.get("indices", resolved.get("indexes"))
    if isinstance(raw_indices, list) and "INDEX_PATTERN_NAME" in raw_indices:
        out: list[str] = []
        for item in raw_indices:
            out.extend(indices if item == "INDEX_PATTERN_NAME" else [item])
        resolved["indices"] = out
        resolved.pop("indexes", None)
    return resolved


def job_filter_ids(job: MLJob) -> list[str]:
    """The ML filter ids the job's detector ``custom_rules`` scopes name, sorted."""
    analysis = job.raw.get("analysis_config")
    found: set[str] = set()
    for det in analysis.get("detectors", []) if isinstance(analysis, dict) else []:
        for rule in det.get("custom_rules", []) if isinstance(det, dict) and isinstance(det.get("custom_rules"), list) else []:
            scope = rule.get("scope") if isinstance(rule, dict) else None
            for ref in scope.values() if isinstance(scope, dict) else []:
                if isinstance(ref, dict) and isinstance(ref.get("filter_id"), str):
                    found.add(ref["filter_id"])
    return sorted(found)
