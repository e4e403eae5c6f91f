"""One abstract syntax tree for every query language ctdetect reads.

KQL (kuery), EQL, Lucene query_string and Elasticsearch query DSL all parse into these
node types. One evaluator runs them over ECS documents and one translator turns them into
Elasticsearch query DSL, so a new language is only a new parser.

Why the nodes look like this: the leaves keep the *intent* of the source language rather
than a normalised form, because Elasticsearch's answer depends on it. ``Match`` (KQL
``field: value``, DSL ``match``) is exact on a keyword field but analysed on a text field;
``Term`` is exact everywhere; ``Phrase`` is a match_phrase. The evaluator decides with the
field catalogue's type, as Elasticsearch decides with the mapping.

Documents are flat dicts keyed by dotted ECS field names (``"event.action"``); a value is
a scalar or a list of scalars (ECS arrays). Positions (line, column; 1-based) are kept for
error messages but do not take part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

Scalar = Union[str, int, float, bool, None]


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line and column of a node in its source text."""

    line: int
    column: int


def _pos() -> Position | None:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


class Node:
    """Base of every AST node."""

    __slots__ = ()

    def children(self) -> tuple["Node", ...]:
        return ()

    def walk(self) -> Iterator["Node"]:
        """Pre-order traversal of this node and every descendant."""
        yield self
        for child in self.children():
            yield from child.walk()


# --------------------------------------------------------------------------- boolean


@dataclass(frozen=True, slots=True)
class MatchAll(Node):
    """Matches every document (KQL ``*``, DSL ``match_all``, an empty query)."""

    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class MatchNone(Node):
    """Matches no document (DSL ``match_none``)."""

    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class And(Node):
    items: tuple[Node, ...]
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class Or(Node):
    items: tuple[Node, ...]
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class AtLeast(Node):
    """At least ``minimum`` of ``items`` match (DSL ``bool.should`` with ``minimum_should_match``)."""

    minimum: int
    items: tuple[Node, ...]
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class Not(Node):
    item: Node
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return (self.item,)


# --------------------------------------------------------------------------- field leaves
# ``field`` is a dotted ECS name; it may contain ``*`` (KQL/Lucene field wildcards, e.g.
# ``aws.cloudtrail.*``), and is ``None`` for a default-field / free-text query.


@dataclass(frozen=True, slots=True)
class Match(Node):
    """KQL ``field: value`` / DSL ``match``: exact on keyword-like fields, analysed on text.

    ``operator`` (``or``/``and``) says whether any or all of the analysed tokens must occur,
    as in the DSL ``match`` query; it only matters on text fields.
    """

    field: str | None
    value: Scalar
    operator: str = "or"
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Phrase(Node):
    """KQL ``field: "quoted value"`` / DSL ``match_phrase`` / Lucene ``"..."``."""

    field: str | None
    text: str
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Term(Node):
    """Exact value (DSL ``term``, EQL ``==``); ``case_insensitive`` for EQL ``:`` and DSL flag."""

    field: str
    value: Scalar
    case_insensitive: bool = False
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Terms(Node):
    """Any of several exact values (DSL ``terms``, EQL ``in`` / ``in~``)."""

    field: str
    values: tuple[Scalar, ...]
    case_insensitive: bool = False
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Wildcard(Node):
    """``*`` (any run) and ``?`` (one character) pattern on the whole value."""

    field: str | None
    pattern: str
    case_insensitive: bool = False
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Prefix(Node):
    field: str
    prefix: str
    case_insensitive: bool = False
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Regexp(Node):
    """Lucene regular expression (anchored at both ends, as Elasticsearch does)."""

    field: str | None
    pattern: str
    case_insensitive: bool = False
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Range(Node):
    """Numeric, date or string range. Bounds left as ``None`` are open."""

    field: str
    gt: Scalar = None
    gte: Scalar = None
    lt: Scalar = None
    lte: Scalar = None
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Exists(Node):
    """The field has at least one non-null value."""

    field: str
    pos: Position | None = _pos()


# --------------------------------------------------------------------------- EQL expressions


@dataclass(frozen=True, slots=True)
class FieldRef(Node):
    """A field used as a value inside an EQL expression (``optional`` for EQL ``?field``)."""

    name: str
    optional: bool = False
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Scalar
    pos: Position | None = _pos()


@dataclass(frozen=True, slots=True)
class FunctionCall(Node):
    """EQL function (``startsWith``, ``stringContains``, ``cidrMatch``, ``length``, ...).

    A trailing ``~`` in the source sets ``case_insensitive``.
    """

    name: str
    args: tuple[Node, ...]
    case_insensitive: bool = False
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True, slots=True)
class Arithmetic(Node):
    """EQL ``+ - * / %`` between expressions."""

    op: str
    left: Node
    right: Node
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """EQL comparison between two expressions (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``:``).

    Used when a side is not a plain field-vs-literal (those become ``Term``/``Range``).
    """

    op: str
    left: Node
    right: Node
    case_insensitive: bool = False
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Predicate(Node):
    """A boolean-valued expression used as a condition (a function call, a bare field)."""

    expr: Node
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return (self.expr,)


# --------------------------------------------------------------------------- EQL structure


@dataclass(frozen=True, slots=True)
class EventQuery(Node):
    """``<category> where <condition>``; category ``any`` matches every event."""

    category: str
    condition: Node
    optional_fields: tuple[str, ...] = ()
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return (self.condition,)


@dataclass(frozen=True, slots=True)
class SequenceStep(Node):
    """One ``[...]`` of a sequence, with its own ``by`` keys and an optional ``with runs=N``."""

    query: EventQuery
    by: tuple[str, ...] = ()
    runs: int = 1
    pos: Position | None = _pos()
    missing: bool = False  # ``![...]``: the sequence needs this event to be absent

    def children(self) -> tuple[Node, ...]:
        return (self.query,)


@dataclass(frozen=True, slots=True)
class Sequence(Node):
    """``sequence [by k...] [with maxspan=...] [...] [...] [until [...]]``."""

    steps: tuple[SequenceStep, ...]
    by: tuple[str, ...] = ()
    maxspan_ms: int | None = None
    until: SequenceStep | None = None
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return self.steps + ((self.until,) if self.until else ())


@dataclass(frozen=True, slots=True)
class Sample(Node):
    """``sample [by k...] [...] [...]``: events sharing join keys, in any order and at any distance."""

    steps: tuple[SequenceStep, ...]
    by: tuple[str, ...] = ()
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return self.steps


@dataclass(frozen=True, slots=True)
class Pipe(Node):
    """A trailing EQL pipe (``| head 5``, ``| tail 5``, ``| filter ...``)."""

    name: str
    args: tuple[Node, ...]
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True, slots=True)
class Piped(Node):
    query: Node
    pipes: tuple[Pipe, ...]
    pos: Position | None = _pos()

    def children(self) -> tuple[Node, ...]:
        return (self.query,) + self.pipes


# --------------------------------------------------------------------------- field usage


@dataclass(frozen=True, slots=True)
class FieldUse:
    """How a query reads a field: the validator checks it against the field catalogue.

    ``usage`` is one of: ``match``, ``phrase``, ``term``, ``wildcard``, ``prefix``,
    ``regexp``, ``range``, ``exists``, ``compare``, ``function``, ``sequence_by``.
    """

    field: str
    usage: str
    pos: Position | None = None
    optional: bool = False


_LEAF_USAGE: dict[type, str] = {
    Match: "match",
    Phrase: "phrase",
    Term: "term",
    Terms: "term",
    Wildcard: "wildcard",
    Prefix: "prefix",
    Regexp: "regexp",
    Range: "range",
    Exists: "exists",
}


def field_uses(root: Node) -> list[FieldUse]:
    """Every field the query reads, in source order, with how it is used.

    A field read inside an EQL function call is reported as ``function``; one compared in
    an EQL expression as ``compare``; sequence join keys as ``sequence_by``.
    """
    uses: list[FieldUse] = []
    _collect_uses(root, uses, "compare")
    optional = {name for node in root.walk() if isinstance(node, EventQuery) for name in node.optional_fields}
    if optional:
        uses = [FieldUse(u.field, u.usage, u.pos, True) if u.field in optional else u for u in uses]
    return uses


def _collect_uses(node: Node, uses: list[FieldUse], ref_usage: str) -> None:
    usage = _LEAF_USAGE.get(type(node))
    if usage is not None:
        name = getattr(node, "field")
        if name is not None:
            uses.append(FieldUse(name, usage, getattr(node, "pos", None)))
        return
    if isinstance(node, FieldRef):
        uses.append(FieldUse(node.name, ref_usage, node.pos))
        return
    if isinstance(node, (Sequence, Sample, SequenceStep)):
        for key in node.by:
            uses.append(FieldUse(key, "sequence_by", node.pos))
    child_usage = "function" if isinstance(node, FunctionCall) else ref_usage
    for child in node.children():
        _collect_uses(child, uses, child_usage)


def fields(root: Node) -> set[str]:
    """The set of field names the query reads."""
    return {use.field for use in field_uses(root)}
