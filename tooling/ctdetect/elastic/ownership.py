"""Markers that prove an object in a cluster was made by this package, and the tests for them.

A name prefix or a tag is not proof: a user may name a job ``ctdetect_x`` or tag a rule
``ctdetect``. Every object ``deploy`` creates carries a marker naming the package, in a
field Elastic stores and hands back unchanged:

- ML jobs: ``custom_settings.ctdetect = {"managed_by": "ctdetect", "package": ...}``
  (``custom_settings`` is free-form job metadata, updatable in place);
- datafeeds: through their job (a datafeed belongs to the job it feeds);
- detection rules: the same object under ``meta.ctdetect`` (``meta`` is a free-form rule
  field Kibana keeps), plus the ``ctdetect`` tag, which is what ``_find`` can filter on;
- saved queries: the ``ctdetect-`` id and a last line of the description naming the
  package (the ``query`` saved-object type has a closed attribute schema, so no extra key).

``--prune`` deletes only objects whose marker names this package. A package object found
with the old proofs only (a rule with the tag but no ``meta`` marker, a job whose
``custom_settings.created_by`` is ``ctdetect``) is *adopted*: its update adds the marker.
"""

from __future__ import annotations

from typing import Any

PACKAGE_NAME = "ctdetect"  # the content package this repository ships
MANAGER = "ctdetect"
MARKER_KEY = "ctdetect"
OWNER_TAG = "ctdetect"
OWNED_QUERY_PREFIX = "ctdetect-"
SAVED_QUERY_MARKER = f"Managed by {MANAGER} (package {PACKAGE_NAME}); edits here are replaced on the next deploy."


def marker(package: str = PACKAGE_NAME) -> dict[str, str]:
    return {"managed_by": MANAGER, "package": package}


def _has_marker(holder: Any, package: str) -> bool:
    value = holder.get(MARKER_KEY) if isinstance(holder, dict) else None
    return isinstance(value, dict) and value.get("managed_by") == MANAGER and value.get("package") == package


def job_is_owned(job: dict[str, Any], package: str = PACKAGE_NAME) -> bool:
    return _has_marker(job.get("custom_settings"), package)


def job_is_adoptable(job: dict[str, Any]) -> bool:
    """A job an older ctdetect made: ``custom_settings.created_by`` says so, no marker yet."""
    settings = job.get("custom_settings")
    return isinstance(settings, dict) and settings.get("created_by") == MANAGER


def with_job_marker(body: dict[str, Any], package: str = PACKAGE_NAME) -> dict[str, Any]:
    """``body`` (a put-job body) with the marker in ``custom_settings``."""
    settings = dict(body.get("custom_settings") or {})
    settings[MARKER_KEY] = marker(package)
    return {**body, "custom_settings": settings}


def rule_is_owned(rule: dict[str, Any], package: str = PACKAGE_NAME) -> bool:
    return OWNER_TAG in (rule.get("tags") or []) and _has_marker(rule.get("meta"), package)


def rule_is_tagged(rule: dict[str, Any]) -> bool:
    return OWNER_TAG in (rule.get("tags") or [])


def with_rule_marker(body: dict[str, Any], package: str = PACKAGE_NAME) -> dict[str, Any]:
    """``body`` with the ownership tag and ``meta`` marker (the rule's own ``meta`` kept)."""
    tags = list(body.get("tags") or [])
    if OWNER_TAG not in tags:
        tags.append(OWNER_TAG)
    meta = dict(body.get("meta") or {})
    meta[MARKER_KEY] = marker(package)
    return {**body, "tags": tags, "meta": meta}


def without_rule_marker(body: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``with_rule_marker``, for rules read back (``ctdetect import kibana``): the
    ``meta`` marker removed (and ``meta`` when nothing else is in it), the ownership tag removed
    when it is last, where the marker put it (a tag the author placed elsewhere stays)."""
    out = dict(body)
    tags = list(out.get("tags") or [])
    if tags and tags[-1] == OWNER_TAG:
        out["tags"] = tags[:-1]
    meta = out.get("meta")
    if isinstance(meta, dict) and MARKER_KEY in meta:
        rest = {k: v for k, v in meta.items() if k != MARKER_KEY}
        if rest:
            out["meta"] = rest
        else:
            del out["meta"]
    return out


def saved_query_is_owned(object_id: str, attributes: dict[str, Any]) -> bool:
    description = str(attributes.get("description") or "")
    return object_id.startswith(OWNED_QUERY_PREFIX) and description.rstrip().endswith(SAVED_QUERY_MARKER)


def has_owned_query_prefix(object_id: str) -> bool:
    return object_id.startswith(OWNED_QUERY_PREFIX)
