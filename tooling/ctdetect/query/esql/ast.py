"""ES|QL syntax tree: commands of a pipeline, and the expressions inside them.

Why its own nodes rather than the boolean-query AST of ``ctdetect.query.ast``: an ES|QL
query is a pipeline that reshapes a table (new columns, groups, renames), not a filter
over documents. Its ``WHERE`` expressions are richer than a filter (arithmetic, functions,
three-valued logic). Every node keeps ``pos``, the character offset in the query text,
so validation can name the line and column of a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator


# ----------------------------------------------------------------------------- expressions
@dataclass(frozen=True)
class Expr:
    pos: int

    def children(self) -> tuple["Expr", ...]:
        return ()

    def walk(self) -> Iterator["Expr"]:
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True)
class Literal(Expr):
    """A constant. ``type`` is the ES|QL type: keyword, integer, long, double, boolean, null."""

    value: Any
    type: str


@dataclass(frozen=True)
class TimeSpan(Expr):
    """``10 seconds``: ``unit`` normalised to Elastic's names; ``type`` time_duration or date_period."""

    amount: int
    unit: str
    type: str


@dataclass(frozen=True)
class Param(Expr):
    """``?``, ``?1``, ``?name`` (a value) or ``??name`` (an identifier)."""

    name: str


@dataclass(frozen=True)
class ListLit(Expr):
    items: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.items


@dataclass(frozen=True)
class MapLit(Expr):
    """Named options of a function (``{"fuzziness": 1}``)."""

    entries: tuple[tuple[str, Expr], ...]

    def children(self) -> tuple[Expr, ...]:
        return tuple(v for _, v in self.entries)


@dataclass(frozen=True)
class FieldRef(Expr):
    name: str


@dataclass(frozen=True)
class Call(Expr):
    """A function call; ``star`` for ``COUNT(*)``."""

    name: str
    args: tuple[Expr, ...]
    star: bool = False

    def children(self) -> tuple[Expr, ...]:
        return self.args


@dataclass(frozen=True)
class Binary(Expr):
    """``op``: and, or, ==, !=, <, <=, >, >=, =~, +, -, *, /, %."""

    op: str
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class IsNull(Expr):
    operand: Expr
    negated: bool

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class In(Expr):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool

    def children(self) -> tuple[Expr, ...]:
        return (self.operand, *self.items)


@dataclass(frozen=True)
class Like(Expr):
    """``LIKE`` (wildcards ``*`` ``?``) or ``RLIKE`` (Lucene regex), whole-value matches."""

    operand: Expr
    patterns: tuple[str, ...]
    regex: bool
    negated: bool

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class MatchOp(Expr):
    """``field : "query"``, the full-text match operator."""

    field: Expr
    query: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.field, self.query)


@dataclass(frozen=True)
class Cast(Expr):
    operand: Expr
    type: str

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


# ------------------------------------------------------------------------------- commands
@dataclass(frozen=True)
class Assign:
    """A column a command creates: ``name = expr`` (``name`` is the expression text when unnamed)."""

    name: str
    expr: Expr
    pos: int
    where: Expr | None = None  # STATS ... WHERE filter of one aggregate


@dataclass(frozen=True)
class Command:
    pos: int

    @property
    def keyword(self) -> str:
        return type(self).__name__.upper()

    def expressions(self) -> Iterator[Expr]:
        return iter(())


@dataclass(frozen=True)
class From(Command):
    indices: tuple[str, ...]
    metadata: tuple[str, ...] = ()
    time_series: bool = False


@dataclass(frozen=True)
class Row(Command):
    fields: tuple[Assign, ...]

    def expressions(self) -> Iterator[Expr]:
        return (f.expr for f in self.fields)


@dataclass(frozen=True)
class Show(Command):
    item: str


@dataclass(frozen=True)
class Where(Command):
    condition: Expr

    def expressions(self) -> Iterator[Expr]:
        yield self.condition


@dataclass(frozen=True)
class Eval(Command):
    fields: tuple[Assign, ...]

    def expressions(self) -> Iterator[Expr]:
        return (f.expr for f in self.fields)


@dataclass(frozen=True)
class Stats(Command):
    aggregates: tuple[Assign, ...]
    groups: tuple[Assign, ...]
    inline: bool = False

    def expressions(self) -> Iterator[Expr]:
        for a in self.aggregates:
            yield a.expr
            if a.where is not None:
                yield a.where
        for g in self.groups:
            yield g.expr


@dataclass(frozen=True)
class Keep(Command):
    patterns: tuple[tuple[str, int], ...]  # (pattern, pos)


@dataclass(frozen=True)
class Drop(Command):
    patterns: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Rename(Command):
    pairs: tuple[tuple[str, str, int], ...]  # (old, new, pos)


@dataclass(frozen=True)
class SortKey:
    expr: Expr
    descending: bool = False
    nulls_first: bool | None = None  # None: Elastic's default (nulls last ascending, first descending)


@dataclass(frozen=True)
class Sort(Command):
    keys: tuple[SortKey, ...]

    def expressions(self) -> Iterator[Expr]:
        return (k.expr for k in self.keys)


@dataclass(frozen=True)
class Limit(Command):
    count: int | Param


@dataclass(frozen=True)
class MvExpand(Command):
    field: str


@dataclass(frozen=True)
class Dissect(Command):
    source: Expr
    pattern: str
    append_separator: str = ""

    def expressions(self) -> Iterator[Expr]:
        yield self.source


@dataclass(frozen=True)
class Grok(Command):
    source: Expr
    patterns: tuple[str, ...]

    def expressions(self) -> Iterator[Expr]:
        yield self.source


@dataclass(frozen=True)
class Enrich(Command):
    policy: str
    match_field: str | None
    fields: tuple[tuple[str, str], ...]  # (new name, enrich field)


@dataclass(frozen=True)
class LookupJoin(Command):
    index: str
    on: tuple[Expr, ...]

    def expressions(self) -> Iterator[Expr]:
        return iter(self.on)


@dataclass(frozen=True)
class ChangePoint(Command):
    value: str
    key: str | None
    type_name: str
    pvalue_name: str


@dataclass(frozen=True)
class Completion(Command):
    """``COMPLETION [target =] prompt WITH {"inference_id": ...}``: a column of an LLM's answers."""

    target: str
    prompt: Expr

    def expressions(self) -> Iterator[Expr]:
        yield self.prompt


@dataclass(frozen=True)
class Sample(Command):
    probability: float


@dataclass(frozen=True)
class Fork(Command):
    branches: tuple[tuple[Command, ...], ...]


@dataclass(frozen=True)
class Query:
    """A parsed ES|QL query: the source command then the processing commands, in order."""

    source: Command
    commands: tuple[Command, ...] = field(default_factory=tuple)
    text: str = ""

    @property
    def pipeline(self) -> tuple[Command, ...]:
        return (self.source, *self.commands)

    @property
    def aggregating(self) -> bool:
        """Kibana's test for an aggregating ES|QL rule: the query has a ``STATS`` command."""
        return any(isinstance(c, Stats) and not c.inline for c in self.commands)

    @property
    def indices(self) -> tuple[str, ...]:
        return self.source.indices if isinstance(self.source, From) else ()

    @property
    def metadata(self) -> tuple[str, ...]:
        return self.source.metadata if isinstance(self.source, From) else ()
