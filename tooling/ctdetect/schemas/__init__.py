"""JSON Schemas of ctdetect's content formats, shipped inside the package for editors and CI.

Written for ctdetect from Elastic's documentation and API specifications (Kibana's rule
API, Elasticsearch's put-job / put-datafeed APIs, the detection-rules TOML layout). The
schema check (``schema.*``) validates each loaded document against them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent

#: CLI name -> schema file stem
SCHEMAS: dict[str, str] = {
    "rule": "rule",
    "job": "ml_job",
    "datafeed": "datafeed",
    "scenario": "scenario",
    "hunting-query": "hunting_query",
    "filter": "ml_filter",
}


def schema_path(name: str) -> Path:
    """Path of the schema called ``name`` (a CLI name such as ``hunting-query`` or a file stem)."""
    stem = SCHEMAS.get(name, name)
    return SCHEMA_DIR / f"{stem}.json"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema called ``name``; raises ``KeyError`` for an unknown name."""
    if name not in SCHEMAS and name not in SCHEMAS.values():
        raise KeyError(name)
    return json.loads(schema_path(name).read_text(encoding="utf-8"))
