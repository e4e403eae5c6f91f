"""Ingesting through the aws integration's own pipeline, when the cluster has it.

Elastic's aws integration installs an ingest pipeline per version
(``logs-aws.cloudtrail-<version>``) and the mappings of its data stream (component
template ``logs-aws.cloudtrail@package``, plus ``ecs@mappings`` for the ECS dynamic
templates). When both are installed, a CloudTrail event that still carries its raw
record (``event.original``) is indexed as the integration's input would send it (the
record as ``message``, the data-stream fields set) through that pipeline, into an index
mapped with the integration's own mappings: the documents the rules and jobs then see are
Elastic's mapping of the record, not ctdetect's. Other events (host data, ECS documents
without ``event.original``) are indexed as ctdetect mapped them.

``replay`` hands the backend mapped events; they carry ``event.original`` only when the
mapper keeps it (``CloudTrailMapper(preserve_original=True)``) or the ECS input had it.
"""

from __future__ import annotations

import re
from typing import Any

from ctdetect.elastic.client import Cluster
from ctdetect.elastic.requests_model import Request

PIPELINE_PATTERN = "logs-aws.cloudtrail-*"
_MAIN = re.compile(r"^logs-aws\.cloudtrail-(\d+)\.(\d+)\.(\d+)$")
PACKAGE_TEMPLATE = "logs-aws.cloudtrail@package"
ECS_TEMPLATE = "ecs@mappings"
DATASET = "aws.cloudtrail"


def find_pipeline(cluster: Cluster) -> str | None:
    """The newest installed main CloudTrail pipeline (not its sub-pipelines), or None."""
    resp = cluster.send(Request("GET", f"/_ingest/pipeline/{PIPELINE_PATTERN}"), allow=(404,))
    if resp.status != 200 or not isinstance(resp.body, dict):
        return None
    versions = [(tuple(int(x) for x in m.groups()), name) for name in resp.body for m in [_MAIN.match(name)] if m]
    return max(versions)[1] if versions else None


def integration_mappings(cluster: Cluster) -> dict[str, Any] | None:
    """``{"properties": ..., "dynamic_templates": [...]}`` of the integration, or None."""
    package = _component(cluster, PACKAGE_TEMPLATE)
    if package is None:
        return None
    ecs = _component(cluster, ECS_TEMPLATE) or {}
    return {
        "properties": package.get("properties") or {},
        "dynamic_templates": [*(ecs.get("dynamic_templates") or []), *(package.get("dynamic_templates") or [])],
    }


def _component(cluster: Cluster, name: str) -> dict[str, Any] | None:
    resp = cluster.send(Request("GET", f"/_component_template/{name}"), allow=(404,))
    if resp.status != 200 or not isinstance(resp.body, dict):
        return None
    for entry in resp.body.get("component_templates") or []:
        if entry.get("name") == name:
            return ((entry.get("component_template") or {}).get("template") or {}).get("mappings") or {}
    return None


def merge_mappings(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Our mapping with the integration's properties laid over it (theirs win on a conflict)
    and its dynamic templates first (ours, the keyword fallback, last)."""
    merged = dict(ours)
    merged["properties"] = _merge_properties(ours.get("properties") or {}, theirs.get("properties") or {})
    merged["dynamic_templates"] = [*theirs.get("dynamic_templates", []), *ours.get("dynamic_templates", [])]
    return merged


def _merge_properties(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for name, spec in over.items():
        mine = out.get(name)
        if isinstance(mine, dict) and "properties" in mine and isinstance(spec, dict) and "properties" in spec and "type" not in spec:
            out[name] = dict(spec, properties=_merge_properties(mine["properties"], spec["properties"]))
        else:
            out[name] = spec
    return out


def pipeline_document(event: dict[str, Any]) -> dict[str, Any] | None:
    """The document the integration's input would send for ``event``, or None when the
    event is not a CloudTrail record with its original."""
    original = event.get("event.original")
    if event.get("event.dataset") != DATASET or not isinstance(original, str) or not original:
        return None
    return {
        "message": original,
        "event": {"dataset": DATASET, "module": "aws"},
        "data_stream": {"type": "logs", "dataset": DATASET, "namespace": "default"},
    }
