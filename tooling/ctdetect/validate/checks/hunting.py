"""Hunting-query checks beyond syntax (which ``query.HuntingQuerySyntax`` does)."""

from __future__ import annotations

from typing import Iterator

from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem


class HuntingUniqueId(Check):
    id = "hunting.unique-id"
    description = "No two hunting queries share a saved-query id (the later one would overwrite the first in Kibana)."

    def run(self, ctx: Context) -> Iterator[Problem]:
        seen: dict[str, object] = {}
        for hunt in ctx.package.hunting_queries:
            if not hunt.id:
                continue
            if hunt.id in seen:
                yield problem(hunt.source, "id", self.id, self.severity, f"hunting query id '{hunt.id}' is already used by {seen[hunt.id].source.path}")  # type: ignore[attr-defined]
            else:
                seen[hunt.id] = hunt
