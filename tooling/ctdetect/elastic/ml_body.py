"""ML job and datafeed files -> Elasticsearch ML API bodies, and what ``_update`` may change.

Job files are the put-job body plus ``job_id``; datafeed files the put-datafeed body plus
``datafeed_id`` (``job_id`` belongs in the datafeed body). The ids go into the URL.

Elasticsearch lets only some settings change on an existing job (``_update``); the
analysis itself (bucket span, detectors' functions and fields, influencers, data
description) is fixed at creation. A change there means delete and re-create (the model
learnt so far is lost): the planner calls that a *replace*.
"""

from __future__ import annotations

import copy
from typing import Any

from ctdetect.content.model import Datafeed, MLJob

JOB_ID_PREFIX = "ctdetect_"  # the package's naming convention; ownership is the marker (elastic.ownership)

# Top-level job settings the update-job API accepts.
JOB_UPDATABLE = frozenset(
    {
        "allow_lazy_open", "analysis_limits", "background_persist_interval", "custom_settings",
        "daily_model_snapshot_retention_after_days", "description", "groups", "model_plot_config",
        "model_prune_window", "model_snapshot_retention_days", "renormalization_window_days",
        "results_retention_days",
    }
)
# Of those, the ones a running job does not take in place: Elasticsearch refuses to change
# ``analysis_limits`` of an open job, and its update-job docs say the others apply only after
# "stop the datafeed, close the job, then reopen the job and restart the datafeed".
JOB_NEEDS_CLOSED = frozenset(
    {"analysis_limits", "allow_lazy_open", "background_persist_interval", "model_snapshot_retention_days",
     "renormalization_window_days", "results_retention_days"}
)
# Datafeed settings the update-datafeed API accepts (all but the ids).
DATAFEED_UPDATABLE = frozenset(
    {
        "aggregations", "chunking_config", "delayed_data_check_config", "frequency", "indices",
        "indices_options", "max_empty_searches", "query", "query_delay", "runtime_mappings",
        "script_fields", "scroll_size",
    }
)


def job_body(job: MLJob) -> dict[str, Any]:
    body = copy.deepcopy(job.raw)
    body.pop("job_id", None)
    return body


def datafeed_body(feed: Datafeed) -> dict[str, Any]:
    body = copy.deepcopy(feed.raw)
    body.pop("datafeed_id", None)
    body["job_id"] = feed.job_id
    return body


def job_update_body(desired: dict[str, Any], changed: set[str]) -> dict[str, Any]:
    """The ``_update`` body for the changed top-level keys (all updatable, see ``split_job_changes``)."""
    body = {k: copy.deepcopy(desired[k]) for k in sorted(changed) if k in desired}
    limits = body.get("analysis_limits")
    if isinstance(limits, dict):  # only the memory limit may change; the categorisation limit may not
        body["analysis_limits"] = {k: v for k, v in limits.items() if k == "model_memory_limit"}
    return body


def split_job_changes(changed: set[str]) -> tuple[set[str], set[str]]:
    """(updatable, fixed) top-level keys among ``changed``."""
    return changed & JOB_UPDATABLE, changed - JOB_UPDATABLE


def datafeed_update_body(desired: dict[str, Any], changed: set[str]) -> dict[str, Any]:
    return {k: copy.deepcopy(desired[k]) for k in sorted(changed) if k in DATAFEED_UPDATABLE and k in desired}


def has_job_prefix(job_id: str) -> bool:
    return job_id.startswith(JOB_ID_PREFIX)
