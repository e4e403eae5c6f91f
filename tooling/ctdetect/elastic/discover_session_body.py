"""ES|QL hunting query -> Kibana Discover session (saved object type ``search``).

Why not a saved query: Kibana's ``query`` saved objects accept any language string, but
nothing in Discover applies a saved query in ES|QL mode. What Discover itself saves for an
ES|QL exploration is a Discover session, the ``search`` type of Kibana's saved_search
plugin (``src/platform/plugins/shared/saved_search/server/saved_objects/search.ts``):
``namespaceType: 'multiple-isolated'`` like ``query``, so ids are global across spaces and
``saved_query_id`` gives the per-space id here too.

The attributes follow the create schema of the current model versions
(``.../saved_objects/schema.ts``, ``SCHEMA_DISCOVER_SESSION_V13`` onwards): ``title``,
``description`` and ``tabs: [{id, label, attributes}]`` (at least one tab); each tab holds
the former per-session attributes: ``columns``, ``sort``, ``grid``, ``hideChart``,
``hideTable``, ``isTextBasedQuery`` (Discover sets it when the query is ``{esql: ...}``) and
``kibanaSavedObjectMeta.searchSourceJSON``, the serialised search source whose ``query`` is
``{"esql": "<text>"}``. Older Kibana versions whose ``search`` type predates tabs keep these
attributes at the top level and are not written to by this module.

The ``search`` type's attribute schema is closed, so ownership is proved as for saved
queries: the ``ctdetect-`` id plus the marker line ending the description.
"""

from __future__ import annotations

import json
from typing import Any

from ctdetect.content.model import HuntingQuery
from ctdetect.elastic.saved_query_body import owned_description

SAVED_OBJECT_TYPE = "search"
TAB_ID = "ctdetect-esql"  # one tab per session; a fixed id keeps updates idempotent



def split_hunting_queries(queries: list[HuntingQuery]) -> tuple[list[HuntingQuery], list[HuntingQuery]]:
    """(saved queries, Discover sessions): the one place that decides which saved object a
    hunting query becomes. ES|QL goes to Discover sessions (Discover applies no saved query
    in ES|QL mode); KQL and Lucene stay saved queries."""
    return [q for q in queries if q.language != "esql"], [q for q in queries if q.language == "esql"]


def search_source_json(query: HuntingQuery) -> str:
    """``kibanaSavedObjectMeta.searchSourceJSON``: the ES|QL text as Discover serialises it."""
    return json.dumps({"query": {"esql": query.query}, "filter": []}, sort_keys=True)


def discover_session_attributes(query: HuntingQuery) -> dict[str, Any]:
    """The ``search`` attributes of ``query`` (description as for saved queries, marker last)."""
    tab = {
        "columns": [],
        "sort": [],
        "grid": {},
        "hideChart": False,
        "hideTable": False,
        "isTextBasedQuery": True,
        "kibanaSavedObjectMeta": {"searchSourceJSON": search_source_json(query)},
    }
    return {"title": query.name, "description": owned_description(query), "tabs": [{"id": TAB_ID, "label": query.name, "attributes": tab}]}


def discover_session_line(query: HuntingQuery) -> dict[str, Any]:
    """One line of a saved objects export (NDJSON), as Kibana's import reads it."""
    return {"type": SAVED_OBJECT_TYPE, "id": query.id, "attributes": discover_session_attributes(query), "references": [], "managed": False}
