"""Hunting query -> Kibana saved query (saved object type ``query``).

Kibana's saved queries are saved objects of type ``query`` whose attributes are closed
(the ``SCHEMA_QUERY_*`` schemas of the ``query`` type in Kibana's data plugin,
``server/saved_objects/schemas/query.ts``):
``title``, ``description``, ``query: {query, language}``, ``filters``, ``timefilter``, and
since model version 2 ``titleKeyword``, the sort key Kibana's own saved-query service
keeps equal to ``title``. They are written through the saved objects API
(``/api/saved_objects/query/<id>``), which lets the caller choose the id.

The type is ``multiple-isolated`` (``namespaceType`` in Kibana's ``query`` type, since
8.0): an id is unique across all spaces, so the same package deployed to a second space
needs other ids. ``saved_query_id`` appends ``.<space>`` outside the default space (hunting
query ids are ``[a-z0-9-]``, so the dot cannot clash). Ownership is the ``ctdetect-`` id
plus the marker line that ends the description (``elastic.ownership``); the hunting
query's "what normal looks like" comes before it, where an analyst will read it.
"""

from __future__ import annotations

from typing import Any

from ctdetect.content.model import HuntingQuery
from ctdetect.elastic.ownership import SAVED_QUERY_MARKER


def saved_query_id(query_id: str, space: str | None) -> str:
    """The saved object id of ``query_id`` in ``space`` (ids are global across spaces)."""
    if not space or space == "default":
        return query_id
    return f"{query_id}.{space}"


def owned_description(query: HuntingQuery) -> str:
    """The description a deployed hunting query carries: its text, what normal looks like,
    then the ownership marker line (shared by saved queries and Discover sessions)."""
    description = query.description.strip()
    if query.normal.strip():
        description += ("\n\n" if description else "") + "Normal: " + query.normal.strip()
    return description + ("\n\n" if description else "") + SAVED_QUERY_MARKER


def saved_query_attributes(query: HuntingQuery, sort_title: bool = True) -> dict[str, Any]:
    """``sort_title``: also write ``titleKeyword`` (Kibana versions whose ``query`` type has it)."""
    description = owned_description(query)
    attributes: dict[str, Any] = {
        "title": query.name,
        "description": description,
        "query": {"query": query.query, "language": query.language or "kuery"},
        "filters": [],
    }
    if sort_title:
        attributes["titleKeyword"] = query.name
    return attributes


def saved_query_body(query: HuntingQuery, sort_title: bool = True) -> dict[str, Any]:
    """Body of ``POST``/``PUT /api/saved_objects/query/<id>``."""
    return {"attributes": saved_query_attributes(query, sort_title)}


def saved_object_line(query: HuntingQuery) -> dict[str, Any]:
    """One line of a saved objects export (NDJSON), as Kibana's import reads it."""
    return {
        "type": "query",
        "id": query.id,
        "attributes": saved_query_attributes(query),
        "references": [],
        "managed": False,
    }
