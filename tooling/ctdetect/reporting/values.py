"""How a field value is written in a table cell, the same in every report.

Lists (multi-valued fields) are joined with ", " and nested lists flattened, as Discover
shows them; ``missing`` is what a report writes for no value (``null`` in the ES|QL table, as
Elasticsearch does; empty in the HTML report).
"""

from __future__ import annotations


def cell_text(value: object, missing: str = "") -> str:
    if value is None:
        return missing
    if isinstance(value, list):
        return ", ".join(cell_text(v, missing) for v in value)
    return str(value)
