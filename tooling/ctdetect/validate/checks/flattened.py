"""Sub-keys of ``flattened`` fields must be declared in the non-ECS schema.

Elasticsearch searches any sub-key of a ``flattened`` field
(``aws.cloudtrail.flattened.request_parameters.documentName``), so the embedded engine
runs such a query; but Elastic's detection-rules tooling validates every field a rule
reads against ECS, the integrations' field definitions and its non-ECS schema, and
rejects a rule whose flattened sub-key nobody declared. The package keeps its
declarations in ``ctdetect/data/non-ecs-schema.json`` (detection-rules' own shape), which
the field catalogue reads; this check names each undeclared key with the line to add.
"""

from __future__ import annotations

from typing import Any, Iterator

from ctdetect.content.model import Located
from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.checks.ml import job_fields, script_fields
from ctdetect.validate.checks.query import extra_fields, position, query_fields, rule_queries
from ctdetect.validate.context import Context, problem

#: where the convention comes from (detection-rules validates rule fields against this file)
REFERENCE = "https://github.com/elastic/detection-rules/blob/main/detection_rules/etc/non-ecs-schema.json"


def _pattern_for(index: Any) -> str:
    """The index pattern to declare a key under: the rule's first data-stream pattern."""
    patterns = [p for p in index or [] if isinstance(p, str) and p.startswith("logs-")]
    return patterns[0] if patterns else "logs-aws.cloudtrail-*"


class UndeclaredFlattenedKey(Check):
    id = "fields.undeclared-flattened-key"
    description = f"Every sub-key of a flattened field that a rule or job reads is declared in the non-ECS schema ({REFERENCE})."
    uses = ("catalogue",)

    def run(self, ctx: Context) -> Iterator[Problem]:
        catalogue = ctx.catalogue
        for rule, text, language in rule_queries(ctx):
            parsed = ctx.parse(text, language)
            if parsed.node is None:
                continue
            seen: set[str] = set()
            for name, node in query_fields(parsed.node):
                if name not in seen and catalogue.undeclared_subkey(name) is not None:
                    seen.add(name)
                    line, column = position(rule.source, "rule.query", node)
                    yield from self._check(catalogue, rule.source, "rule.query", name, _pattern_for(rule.index), line, column)
        for rule in ctx.package.rules:
            for name, key in extra_fields(rule):
                yield from self._check(catalogue, rule.source, key, name, _pattern_for(rule.index))
        feeds = {feed.job_id: feed for feed in ctx.package.datafeeds}
        for job in ctx.package.jobs:
            feed = feeds.get(job.job_id)
            own = script_fields(feed)
            pattern = _pattern_for(feed.indices if feed is not None else None)
            for name, key in job_fields(job):
                if name not in own:
                    yield from self._check(catalogue, job.source, key, name, pattern)
        for feed in ctx.package.datafeeds:
            parsed = ctx.parse(feed.query, "dsl") if "query" in feed.raw else None
            if parsed is None or parsed.node is None:
                continue
            from ctdetect.query.ast import field_uses

            own = script_fields(feed)
            for name in sorted({use.field for use in field_uses(parsed.node)} - own):
                yield from self._check(catalogue, feed.source, "query", name, _pattern_for(feed.indices))

    def _check(
        self, catalogue: Any, source: Located, key: str, name: str, pattern: str, line: int | None = None, column: int | None = None
    ) -> Iterator[Problem]:
        container = catalogue.undeclared_subkey(name)
        if container is None:
            return
        yield problem(
            source,
            key,
            self.id,
            self.severity,
            f"'{name}' is a sub-key of the flattened field '{container}' that no schema declares, so Elastic's "
            f"detection-rules tooling rejects it; declare it: add \"{name}\": \"keyword\" under \"{pattern}\" in "
            f"{catalogue.schema_origin}",
            line=line,
            column=column,
        )
