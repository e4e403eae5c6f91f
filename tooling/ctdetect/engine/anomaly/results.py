"""Result documents in the shapes Elasticsearch ML writes to ``.ml-anomalies-*``.

Reference: Elasticsearch "Get records / buckets / influencers" API docs (result
resources). Records carry the by/over/partition values and the influencer values as
top-level fields named after the ECS field (``"user.name": ["alice"]``), as Elastic
copies them, so a user can index these documents beside real ones.
"""

from __future__ import annotations

from typing import Any

from ctdetect.engine.anomaly.config import DetectorSpec
from ctdetect.engine.anomaly.detectors.base import Leaf


def function_description(function: str) -> str:
    """Elastic's ``function_description``: the function without its high_/low_ side."""
    for prefix in ("high_", "low_"):
        if function.startswith(prefix):
            return function[len(prefix):]
    return function


def record_doc(job_id: str, bucket_ms: int, span_s: int, spec: DetectorSpec, leaf: Leaf, score: float) -> dict[str, Any]:
    """An ML record result for one written leaf."""
    doc: dict[str, Any] = {
        "job_id": job_id,
        "result_type": "record",
        "probability": leaf.probability,
        "record_score": score,
        "initial_record_score": score,
        "bucket_span": span_s,
        "detector_index": spec.index,
        "is_interim": False,
        "timestamp": bucket_ms,
        "function": spec.function,
        "function_description": function_description(spec.function),
    }
    if leaf.multi_bucket_impact is not None:
        doc["multi_bucket_impact"] = leaf.multi_bucket_impact
    if spec.field_name:
        doc["field_name"] = spec.field_name
    copies: dict[str, list[str]] = {}
    if spec.partition_field_name and leaf.partition_value is not None:
        doc["partition_field_name"] = spec.partition_field_name
        doc["partition_field_value"] = leaf.partition_value
        copies.setdefault(spec.partition_field_name, []).append(leaf.partition_value)
    if spec.by_field_name and leaf.by_value is not None:
        doc["by_field_name"] = spec.by_field_name
        doc["by_field_value"] = leaf.by_value
        copies.setdefault(spec.by_field_name, []).append(leaf.by_value)
    elif spec.by_field_name and spec.is_population:
        doc["by_field_name"] = spec.by_field_name
    if spec.over_field_name and leaf.over_value is not None:
        doc["over_field_name"] = spec.over_field_name
        doc["over_field_value"] = leaf.over_value
        copies.setdefault(spec.over_field_name, []).append(leaf.over_value)
    if leaf.actual is not None:
        doc["actual"] = leaf.actual
    if leaf.typical is not None:
        # rounded here, for written records only (round() is slow and count detectors
        # make a leaf for every known series every bucket); idempotent on rounded values
        doc["typical"] = [round(v, 6) for v in leaf.typical]
    if leaf.causes:
        doc["causes"] = leaf.causes
    if leaf.influencers:
        doc["influencers"] = [
            {"influencer_field_name": name, "influencer_field_values": vals} for name, vals in sorted(leaf.influencers.items())
        ]
        for name, vals in leaf.influencers.items():
            merged = copies.setdefault(name, [])
            for v in vals:
                if v not in merged:
                    merged.append(v)
    if leaf.explanation:
        doc["anomaly_score_explanation"] = dict(leaf.explanation)
    for name, vals in copies.items():
        doc.setdefault(name, vals)
    return doc


def bucket_influencer_doc(job_id: str, bucket_ms: int, span_s: int, name: str, raw: float, p: float, score: float) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "result_type": "bucket_influencer",
        "influencer_field_name": name,
        "initial_anomaly_score": score,
        "anomaly_score": score,
        "raw_anomaly_score": raw,
        "probability": p,
        "timestamp": bucket_ms,
        "bucket_span": span_s,
        "is_interim": False,
    }


def bucket_doc(job_id: str, bucket_ms: int, span_s: int, event_count: int, influencers: list[dict[str, Any]]) -> dict[str, Any]:
    score = max((bi["anomaly_score"] for bi in influencers), default=0.0)
    return {
        "job_id": job_id,
        "timestamp": bucket_ms,
        "anomaly_score": score,
        "bucket_span": span_s,
        "initial_anomaly_score": score,
        "event_count": event_count,
        "is_interim": False,
        "bucket_influencers": influencers,
        "processing_time_ms": 0,
        "result_type": "bucket",
    }


def influencer_doc(job_id: str, bucket_ms: int, span_s: int, name: str, value: str, p: float, score: float) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "result_type": "influencer",
        "influencer_field_name": name,
        "influencer_field_value": value,
        "influencer_score": score,
        "initial_influencer_score": score,
        "probability": p,
        "bucket_span": span_s,
        "is_interim": False,
        "timestamp": bucket_ms,
        name: value,
    }
