"""Hunting query -> Kibana saved query (saved object type ``query``).

Kibana's saved queries are saved objects of type ``query`` with ``title``,
``description`` and ``query: {query, language}`` attributes. They are written through the
saved objects API (``/api/saved_objects/query/<id>``), which is the one that lets the
caller choose the id: the id is what marks ownership (``ctdetect-`` prefix) and makes a
re-deploy an update instead of a duplicate. The hunting query's "what normal looks like"
is appended to the description, where an analyst opening the query will read it.
"""

from __future__ import annotations

from typing import Any

from ctdetect.content.model import HuntingQuery

OWNED_QUERY_PREFIX = "ctdetect-"


def saved_query_attributes(query: HuntingQuery) -> dict[str, Any]:
    description = query.description.strip()
    if query.normal.strip():
        description += ("\n\n" if description else "") + "Normal: " + query.normal.strip()
    return {
        "title": query.name,
        "description": description,
        "query": {"query": query.query, "language": query.language or "kuery"},
        "filters": [],
    }


def saved_query_body(query: HuntingQuery) -> dict[str, Any]:
    """Body of ``POST``/``PUT /api/saved_objects/query/<id>``."""
    return {"attributes": saved_query_attributes(query)}


def saved_object_line(query: HuntingQuery) -> dict[str, Any]:
    """One line of a saved objects export (NDJSON), as Kibana's import reads it."""
    return {
        "type": "query",
        "id": query.id,
        "attributes": saved_query_attributes(query),
        "references": [],
        "managed": False,
    }


def is_owned_query(object_id: str) -> bool:
    return object_id.startswith(OWNED_QUERY_PREFIX)
