"""Which source fields an ES|QL query reads: the one analysis behind every projection.

The fields every command up to the first ``STATS`` (not ``INLINE``) or ``KEEP`` refers to.
That command bounds the columns a row can carry, so no other field of a source document
can reach a result row (or an alert made from it). Used by ``engine.needed_fields`` (what
the input side must produce) and by the ES|QL rule, which keeps only these fields of the
events it holds for later executions.

Conservative: a query whose fields cannot all be listed raises ``FieldsNotListed`` with the
reason (no ``STATS``/``KEEP``: rows carry every column; ``KEEP *``; a command whose reads
are not analysed here, such as ``ENRICH``, ``LOOKUP JOIN`` or ``FORK``), because a field
left out would silently change results.
"""

from __future__ import annotations

import dataclasses

from ctdetect.query.esql import ast as esql_ast


class FieldsNotListed(Exception):
    """The query may read fields this analysis cannot list (the message says why)."""


# commands whose reads are their expressions' field references and which keep every column
_PASS_THROUGH = (esql_ast.Where, esql_ast.Eval, esql_ast.Sort, esql_ast.Limit, esql_ast.Dissect, esql_ast.Grok,
                 esql_ast.Drop, esql_ast.Sample)


def source_fields(query: esql_ast.Query) -> set[str]:
    """The source fields ``query`` reads (module docstring); raises ``FieldsNotListed``.
    A ``KEEP`` pattern with a wildcard is returned as it is written."""
    source = query.source
    if not isinstance(source, esql_ast.From):
        raise FieldsNotListed(f"ES|QL source {type(source).__name__.upper()} is not analysed")
    out: set[str] = set()
    for command in query.commands:
        if isinstance(command, esql_ast.Keep):
            names = [pattern for pattern, _ in command.patterns]
            if any(name.strip("*") == "" for name in names):
                raise FieldsNotListed("KEEP * keeps every column")
            return out | set(names)
        if isinstance(command, esql_ast.Stats) and not command.inline:
            return out | field_refs(command)
        if isinstance(command, esql_ast.Rename):
            out.update(old for old, _, _ in command.pairs)
        elif isinstance(command, esql_ast.MvExpand):
            out.add(command.field)
        elif isinstance(command, _PASS_THROUGH) or (isinstance(command, esql_ast.Stats) and command.inline):
            out |= field_refs(command)
        else:
            raise FieldsNotListed(f"ES|QL {type(command).__name__.upper()} is not analysed")
    raise FieldsNotListed("ES|QL rule without STATS or KEEP: its alerts carry every column of its source")


def field_refs(node: object) -> set[str]:
    """Every field name an ES|QL command or expression refers to (a walk of its dataclass fields)."""
    out: set[str] = set()
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, esql_ast.FieldRef):
            out.add(item.name)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return out
