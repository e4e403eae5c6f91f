"""Schema checks: every document against its shipped JSON Schema.

One jsonschema pass per document is shared (``Context.schema_errors``); each class here
reports one kind of failure under its own id. Values that a more specific check judges with
a better message (a rule_id that is not a UUID, a malformed ``from``/``interval`` or date)
are left to that check, so each fault is reported once.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Iterable, Iterator

from ctdetect.validate.checks.base import Check, Problem
from ctdetect.validate.context import Context, problem

#: (schema name, dotted path) pairs judged by a specific check instead of the generic ones.
CLAIMED: set[tuple[str, str]] = {
    ("rule", "rule.rule_id"),
    ("rule", "rule.from"),
    ("rule", "rule.interval"),
    ("rule", "metadata.creation_date"),
    ("rule", "metadata.updated_date"),
    ("rule", "metadata.deprecation_date"),
    ("ml_job", "analysis_config.bucket_span"),
}


def documents(ctx: Context) -> Iterator[tuple[str, Any]]:
    """(schema name, object) for every loaded document that has a schema."""
    pkg = ctx.package
    for rule in pkg.rules:
        yield "rule", rule
    for job in pkg.jobs:
        yield "ml_job", job
    for feed in pkg.datafeeds:
        yield "datafeed", feed
    for flt in pkg.filters:
        yield "ml_filter", flt
    for query in pkg.hunting_queries:
        yield "hunting_query", query
    for scenario in pkg.scenarios:
        yield "scenario", scenario


def dotted(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path)


class _SchemaKind(Check):
    """Report the jsonschema errors whose validator keyword is in ``keywords``."""

    keywords: ClassVar[frozenset[str]] = frozenset()

    def run(self, ctx: Context) -> Iterator[Problem]:
        for schema_name, obj in documents(ctx):
            for error in ctx.schema_errors(obj, schema_name):
                if error.validator not in self.keywords:
                    continue
                path = dotted(error.absolute_path)
                if (schema_name, path) in CLAIMED:
                    continue
                yield from self.report(obj, path, error)

    def report(self, obj: Any, path: str, error: Any) -> Iterator[Problem]:
        where = f"'{path}'" if path else "the document"
        yield problem(obj.source, path or None, self.id, self.severity, f"{where}: {error.message}", line=None if path else 1)


class SchemaRequired(_SchemaKind):
    id = "schema.required"
    description = "Every required key is present (per document type and rule type)."
    keywords = frozenset({"required"})

    def report(self, obj: Any, path: str, error: Any) -> Iterator[Problem]:
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else "?"
        table = f"[{path}]" if path else "the top level"
        line = obj.source.line_of(path) if path else 1
        yield problem(obj.source, None, self.id, self.severity, f"missing required key '{name}' in {table}", line=line or 1)


class SchemaType(_SchemaKind):
    id = "schema.type"
    description = "Every value has the type its key needs."
    keywords = frozenset({"type", "anyOf", "oneOf"})

    def report(self, obj: Any, path: str, error: Any) -> Iterator[Problem]:
        if error.validator == "oneOf" and re.fullmatch(r"expect\.\d+", path):
            message = f"'{path}': an expectation needs exactly one of 'rule' or 'job'"
        else:
            expected = error.validator_value if error.validator == "type" else "one of the allowed forms"
            message = f"'{path}': {_short(error.instance)} is not of type {expected}"
        yield problem(obj.source, path or None, self.id, self.severity, message, line=None if path else 1)


class SchemaEnum(_SchemaKind):
    id = "schema.enum"
    description = "Values with a fixed set of choices use one of them."
    keywords = frozenset({"enum", "const"})

    def report(self, obj: Any, path: str, error: Any) -> Iterator[Problem]:
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        choices = ", ".join(repr(a) for a in allowed)
        yield problem(obj.source, path or None, self.id, self.severity, f"'{path}': {_short(error.instance)} is not one of {choices}")


class SchemaValue(_SchemaKind):
    id = "schema.value"
    description = "Values are well formed (patterns, lengths, numeric bounds)."
    keywords = frozenset({"pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "format"})


class SchemaUnknownKey(_SchemaKind):
    id = "schema.unknown-key"
    description = "No key outside the format (Elastic's own tooling rejects unknown keys)."
    keywords = frozenset({"additionalProperties"})

    def report(self, obj: Any, path: str, error: Any) -> Iterator[Problem]:
        known = set((error.schema or {}).get("properties", {}))
        instance = error.instance if isinstance(error.instance, dict) else {}
        for key in sorted(k for k in instance if k not in known):
            full = f"{path}.{key}" if path else key
            where = f"[{path}]" if path else "the top level"
            yield problem(obj.source, full, self.id, self.severity, f"unknown key '{key}' in {where}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
