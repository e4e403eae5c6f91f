"""One HTTP request a plan will send, in the shape ``--dry-run --format json`` prints.

The path says which service it goes to: Kibana paths start with ``/api/`` or
``/s/<space>/api/``; everything else is Elasticsearch. So the printed list is enough to
replay a deployment with curl, and nothing else (hosts, credentials) is in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ctdetect.elastic.confirm import Confirm


@dataclass(frozen=True, slots=True)
class Request:
    """``repeatable``: sending it twice leaves the same result as once (reads, updates that
    set values, stops); such a request is retried after an uncertain outcome. Any other
    write is retried only when known not applied, or when ``confirm`` shows it was not."""

    method: str
    path: str
    body: Any = None
    confirm: Confirm | None = field(default=None, compare=False)
    repeatable: bool = field(default=False, compare=False)

    @property
    def safe_to_repeat(self) -> bool:
        reads = ("/_search", "/_refresh", "/_count")  # POSTed reads
        return self.method in ("GET", "HEAD") or self.repeatable or self.path.split("?", 1)[0].endswith(reads)

    @property
    def service(self) -> str:
        return "kibana" if is_kibana_path(self.path) else "elasticsearch"

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body}


def is_kibana_path(path: str) -> bool:
    return path.startswith("/api/") or path.startswith("/s/")


def kibana_path(space: str | None, path: str) -> str:
    """``path`` inside ``space`` (``default`` or None: no prefix), as Kibana spaces address it."""
    if not space or space == "default":
        return path
    return f"/s/{quote(space, safe='')}{path}"


def seg(value: str) -> str:
    """One URL path segment (ids are user content: never let them add a ``/`` or ``?``)."""
    return quote(value, safe="")


def kql_quote(value: str) -> str:
    """``value`` as one quoted KQL string: ``\\`` and ``"`` escaped, so an id can never end
    the string early and add a clause to a ``_find`` filter."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
