"""Run a parsed ES|QL query over documents: a pipeline of operations on column tables.

``Program.prepare(query, source_columns)`` checks once that every command and function of
the query can be run here (else ``EsqlUnsupported`` names what cannot: ``ENRICH``,
``LOOKUP JOIN``, ``FORK``, ``SAMPLE``, ``CHANGE_POINT``, ``COMPLETION`` and functions without an
implementation need a cluster's data or randomness). ``program.run(docs, now_ms=...)``
turns flat documents into a ``Table`` (only the columns the query names) and applies each
command in turn. ``program.split()`` gives the leading ``WHERE``s over source fields as a
filter of its own, so the rule engine can drop non-matching events as they stream in.

Semantics carried over from Elastic's ES|QL reference:
- three-valued logic: comparisons with null are null, ``WHERE`` keeps only true rows;
- multi-valued cells: single-value operators and functions give null for them;
  ``IS NULL``, ``MV_*``, ``COALESCE``, conversions and aggregates take every value;
  ``STATS ... BY`` a multi-valued key puts the row in the group of each value;
- a string literal compared with a date, IP or version column is cast to that type;
  integer division truncates; division by zero is null;
- ``SORT`` puts nulls last ascending and first descending; multi-values sort by their
  minimum ascending and maximum descending;
- without ``LIMIT`` a query returns at most 1,000 rows (ES|QL's default limit);
- ``KQL()``, ``QSTR()``, ``MATCH()`` and ``:`` run the project's KQL/Lucene evaluator on
  the source document of the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from itertools import repeat
from typing import Any, Callable, Iterable, Mapping

from ctdetect.query.esql import ast as e
from ctdetect.query.esql.aggregates import AGGREGATES
from ctdetect.query.esql.analyze import Schema, _Analyzer
from ctdetect.query.esql.functions import load_functions
from ctdetect.query.esql.expressions import DATE_TYPES, Column, Context, EsqlUnsupported, ExprCompiler
from ctdetect.query.esql.memo import memoised
from ctdetect.query.esql.patterns import compile_dissect, compile_grok, run_dissect
from ctdetect.query.esql.sources import document_index
from ctdetect.query.esql.scalars import to_date
from ctdetect.query.esql.table import Table, normalise, values_of

DEFAULT_LIMIT = 1000
UNSUPPORTED_COMMANDS = {e.Enrich: "ENRICH (needs a cluster's enrich policy)", e.LookupJoin: "LOOKUP JOIN (needs a lookup index)", e.Fork: "FORK", e.Sample: "SAMPLE (random)", e.ChangePoint: "CHANGE_POINT", e.Completion: "COMPLETION (needs an inference endpoint)", e.Show: "SHOW"}



# ------------------------------------------------------------------------------ program
@dataclass
class Program:
    query: e.Query
    source_types: dict[str, str | None]
    steps: list[Callable[[Table, Context], Table]]
    prefilter: list[Column]  # conditions over source fields only: every row the query can return passes them
    prefilter_fields: set[str]
    covered: int  # leading steps the prefilter fully applies (skipped on prefiltered input)
    referenced: set[str]
    patterns: list[str]
    has_limit: bool
    prefilter_exprs: tuple[e.Expr, ...] = ()  # the conditions of ``prefilter``, as written (rule routing reads them)

    def __post_init__(self) -> None:
        # the fields each prefilter condition reads (``filter_docs`` builds only those columns)
        self.prefilter_reads = [{n.name for n in x.walk() if isinstance(n, e.FieldRef)} for x in self.prefilter_exprs]
        # the order ``filter_docs`` runs the conditions in, and how many documents each saw and kept so far
        self.prefilter_order = list(range(len(self.prefilter_reads)))
        self._prefilter_seen = [0] * len(self.prefilter_reads)
        self._prefilter_kept = [0] * len(self.prefilter_reads)

    def __deepcopy__(self, memo: dict) -> "Program":
        # Compiled once: a copied rule engine shares it (``EmbeddedBackend.prepare``), as it
        # shares compiled predicates. A run changes only the prefilter's learnt order
        # (``filter_docs``), which never changes which documents are kept.
        return self

    @classmethod
    def prepare(cls, query: e.Query, source_columns: Callable[[tuple[str, ...]], dict[str, str] | None]) -> "Program":
        if not isinstance(query.source, (e.From, e.Row)):
            raise EsqlUnsupported(f"{query.source.keyword} is not run by the embedded evaluator")
        analyzer = _Analyzer(source_columns)
        analyzer.text = query.text
        schema = analyzer.source(query.source)
        source_types = dict(schema.columns)
        compiler = _Compiler(analyzer, source_types)
        steps: list[Callable[[Table, Context], Table]] = []
        prefilter: list[Column] = []
        prefilter_fields: set[str] = set()
        prefilter_exprs: list[e.Expr] = []
        covered = 0
        leading = True
        for cmd in query.commands:
            for kind, why in UNSUPPORTED_COMMANDS.items():
                if isinstance(cmd, kind):
                    raise EsqlUnsupported(f"{why} is not run by the embedded evaluator")
            if leading and isinstance(cmd, e.Where):
                # The conjuncts that read only source fields (not a column an EVAL made, not
                # NOW(), which moves with each execution) can drop events as they stream in;
                # the WHERE still runs in full.
                parts = conjuncts(cmd.condition)
                usable = 0
                for part in parts:
                    fields = {n.name for n in part.walk() if isinstance(n, e.FieldRef)}
                    if not reads_now(part) and not fields & compiler.created:
                        prefilter.append(compiler.expr(part, schema))
                        prefilter_exprs.append(part)
                        prefilter_fields |= fields
                        usable += 1
                if usable == len(parts) and covered == len(steps):
                    covered += 1
            elif not isinstance(cmd, e.Eval):
                leading = False
            step, schema = compiler.command(cmd, schema)
            steps.append(step)
        if isinstance(query.source, e.Row):
            row = compiler.row(query.source)
            steps.insert(0, row)
        if isinstance(query.source, e.Row):
            covered = 0
        return cls(query, source_types, steps, prefilter, prefilter_fields, covered, compiler.referenced, compiler.patterns, compiler.has_limit, tuple(prefilter_exprs))

    # -------------------------------------------------------------------- running
    def table(self, docs: list[dict], names: set[str] | None = None, *, exact: bool = False,
              cells: dict[str, list] | None = None) -> Table:
        """The ``FROM`` table of ``docs``: the columns the query names (or ``names``; with
        ``exact`` only those, not the columns a DISSECT/GROK wildcard could name), as ES|QL cells.

        ``cells``: columns already read from these very ``docs`` (name -> each document's
        cell), taken instead of reading the documents again, and where the columns read here
        are left for the next caller. Why: reading a field from every document of a batch
        (a dict lookup in a large dict per document) is most of what a rule's batch costs, and
        the prefilter, the row-level part and the time bounds read many of the same fields
        (``filter_docs``). A cell depends on its document alone, except ``_id``'s fallback (its
        position), which is never shared."""
        if names is None:
            names = set(self.referenced) | set(self.query.metadata)
        if self.patterns and not exact:
            names = set(names)
            keys: set[str] = set()
            for doc in docs:
                keys.update(doc)
            names |= {k for k in keys if any(fnmatchcase(k, p) for p in self.patterns)}
        columns: dict[str, list] = {}
        types: dict[str, str | None] = {}
        for name in sorted(names):
            if name.startswith("_") and name not in self.query.metadata:
                continue
            typ = self.source_types.get(name)
            known = cells.get(name) if cells is not None else None
            if known is not None:
                values = known
            elif name == "@timestamp":  # the parsed time the engine set (``_ts``), else the field's
                values = list(map(dict.get, docs, repeat("_ts", len(docs))))
                if None in values:
                    values = [ts if ts is not None else to_date(normalise(doc.get("@timestamp"))) for ts, doc in zip(values, docs)]
            elif name == "_id":
                values = [doc.get("_id") or doc.get("event.id") or f"ctdetect-event-{i}" for i, doc in enumerate(docs)]
            elif name == "_index":
                values = [document_index(doc) for doc in docs]
            elif name == "_version":
                values = [doc.get("_version") or 1 for doc in docs]
            elif typ in DATE_TYPES:
                values = [_cell(normalise(doc.get(name)), to_date) for doc in docs]
            elif typ in ("long", "integer", "double", "unsigned_long"):
                values = [_cell(normalise(doc.get(name)), _number) for doc in docs]
            elif typ == "boolean":
                values = [_cell(normalise(doc.get(name)), _boolean) for doc in docs]
            else:
                values = _plain_column(docs, name)
            if cells is not None and known is None and name != "_id":
                cells[name] = values
            if name in self.source_types or values.count(None) != len(values):
                columns[name] = values
                types[name] = typ
        return Table(columns, types, len(docs), list(range(len(docs))))

    def filter_docs(self, docs: list[dict], now_ms: int, cells: dict[str, list] | None = None) -> list[int]:
        """Indices of the documents the leading ``WHERE``s keep (all, when there are none).

        ``cells`` (an empty dict): filled with the columns the conditions read, each cell of a
        kept document in the order of the indices returned, for the caller's next ``table``
        of those documents (``table``'s ``cells``)."""
        rows = list(range(len(docs)))
        read: dict[str, list] = {} if cells is None else cells  # columns of the documents still kept
        # One condition at a time, each over the documents the earlier ones kept, reading only
        # its own fields: a selective first condition spares the others most of the batch.
        # Which is selective is learnt as batches pass (``prefilter_order``): a query's
        # leading ``data_stream.dataset == "aws.cloudtrail"`` keeps every document, while a
        # later ``... IS NULL`` may keep none. The order never changes which documents are
        # kept (each condition is read per document, every one must be true), only how many
        # cells are read: Elastic's ES|QL rules read a quarter fewer prefilter cells so (200k events).
        seen, kept_counts = self._prefilter_seen, self._prefilter_kept
        order = self.prefilter_order
        for k in order:
            if not rows:
                break
            kept = docs if len(rows) == len(docs) else [docs[i] for i in rows]
            mask = self.prefilter[k](self.table(kept, self.prefilter_reads[k], exact=True, cells=read), Context(now_ms, kept))
            keep = [i for i, passes in enumerate(mask) if passes is True]
            seen[k] += len(rows)
            kept_counts[k] += len(keep)
            if len(keep) < len(rows):
                rows = [rows[i] for i in keep]
                for name, column in read.items():
                    read[name] = [column[i] for i in keep]
        if len(order) > 1:  # the most dropping first (stable: ties and the unseen keep the query's order)
            order.sort(key=lambda k: kept_counts[k] / seen[k] if seen[k] else 1.0)
        return rows

    def run(self, docs: list[dict], now_ms: int, *, limit: int | None = None, unbounded: bool = False, prefiltered: bool = False) -> Table:
        """Run the whole query over ``docs``; at most ``limit`` rows (default: ES|QL's 1,000
        when the query has no ``LIMIT``; ``unbounded``: every row, as a caller that pages
        through the results sees them). ``prefiltered``: every doc passed ``filter_docs``,
        so the leading WHEREs it fully applies are not run again."""
        ctx = Context(now_ms, docs)
        table = self.table(docs) if isinstance(self.query.source, e.From) else Table.empty()
        for step in self.steps[self.covered if prefiltered else 0:]:
            table = step(table, ctx)
        return self.capped(table, limit=limit, unbounded=unbounded)

    def capped(self, table: Table, *, limit: int | None = None, unbounded: bool = False) -> Table:
        """The rows of ``table`` a request returns (``run``'s ``limit`` and ``unbounded``)."""
        cap = limit if limit is not None else (None if self.has_limit or unbounded else DEFAULT_LIMIT)
        if cap is not None and table.size > cap:
            table = table.take(list(range(cap)))
        return table


NAMES_KEPT = 64  # column lists a KEEP or DROP remembers its answer for (``_by_columns``)


def _by_columns(names_of: Callable[[tuple[str, ...]], list[str]]) -> Callable[[Table], list[str]]:
    """``names_of`` the table's column names, remembered per list of names.

    Why: a rule's ``KEEP ..., Esql.*`` after its ``STATS`` meets the same columns at every
    execution (an hourly rule over a week: every hour), and matched every name against every
    pattern each time (``fnmatchcase``, 4 % of the ES|QL rules' executions). The answer is a
    function of the names and their order alone. A new list when more than ``NAMES_KEPT``
    column lists were seen (a query whose columns vary per batch stays bounded)."""
    seen: dict[tuple[str, ...], list[str]] = {}

    def picked(table: Table) -> list[str]:
        columns = tuple(table.columns)
        names = seen.get(columns)
        if names is None:
            if len(seen) >= NAMES_KEPT:
                seen.clear()
            names = seen[columns] = names_of(columns)
        return list(names)  # the caller's own list: ``select`` may keep it

    return picked


def conjuncts(expr: e.Expr) -> list[e.Expr]:
    """``a and (b and c)`` -> ``[a, b, c]``."""
    if isinstance(expr, e.Binary) and expr.op == "and":
        return conjuncts(expr.left) + conjuncts(expr.right)
    return [expr]


def reads_now(expr: e.Expr) -> bool:
    """Whether ``expr`` calls ``NOW()`` (its value depends on the execution, not the event)."""
    return any(isinstance(n, e.Call) and n.name == "now" for n in expr.walk())


def _plain_column(docs: list[dict], name: str) -> list[Any]:
    """The cells of an untyped or string column: the documents' values as they are, arrays
    normalised. One C-level pass (``map`` of ``dict.get``) when no value is an array, which
    is nearly always: this runs for every field a rule reads, on every event it is offered."""
    values = list(map(dict.get, docs, repeat(name, len(docs))))
    kinds = set(map(type, values))
    if list in kinds or tuple in kinds:
        values = [normalise(v) if v.__class__ is list or v.__class__ is tuple else v for v in values]
    return values


def _cell(value: Any, convert: Callable[[Any], Any]) -> Any:
    if value is None:
        return None
    if value.__class__ is list:
        out = [convert(v) for v in value]
        out = [v for v in out if v is not None]
        return out[0] if len(out) == 1 else (out or None)
    return convert(value)


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        text = str(value)
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        return None


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    return True if text == "true" else False if text == "false" else None


# ------------------------------------------------------------------------------ commands
class _Compiler:
    """Turns each command into a step ``(table, ctx) -> table``, tracking the schema as
    the analyzer does (it is the analyzer's, so both agree on every column's type)."""

    def __init__(self, analyzer: _Analyzer, source_types: dict[str, str | None]) -> None:
        self.analyzer = analyzer
        self.source_types = source_types
        self.functions = load_functions()
        self.referenced: set[str] = set()
        self.patterns: list[str] = []
        self.created: set[str] = set()
        self.has_limit = False

    def command(self, cmd: e.Command, schema: Schema) -> tuple[Callable[[Table, Context], Table], Schema]:
        method = getattr(self, "c_" + type(cmd).__name__.lower(), None)
        if method is None:
            raise EsqlUnsupported(f"{cmd.keyword} is not run by the embedded evaluator")
        step = method(cmd, schema)
        handler = getattr(self.analyzer, "c_" + type(cmd).__name__.lower(), None)
        new_schema = handler(cmd, schema) if handler is not None else schema
        return step, new_schema

    def row(self, cmd: e.Row) -> Callable[[Table, Context], Table]:
        schema = Schema({})
        compiled = []
        for f in cmd.fields:
            compiled.append((f.name, self.expr(f.expr, schema), self.analyzer.type_of(f.expr, schema)))
            schema.set(f.name, compiled[-1][2])

        def step(table: Table, ctx: Context) -> Table:
            out = Table({}, {}, 1, None)
            for name, fn, typ in compiled:
                out = out.with_column(name, fn(out, ctx), typ)
            return out

        return step

    def c_where(self, cmd: e.Where, schema: Schema) -> Callable[[Table, Context], Table]:
        cond = self.expr(cmd.condition, schema)
        return lambda table, ctx: table.where(cond(table, ctx))

    def c_eval(self, cmd: e.Eval, schema: Schema) -> Callable[[Table, Context], Table]:
        compiled = []
        current = schema.copy()
        for f in cmd.fields:
            typ = self.analyzer.type_of(f.expr, current)
            compiled.append((f.name, self.expr(f.expr, current), typ))
            current.set(f.name, typ)
            self.created.add(f.name)

        def step(table: Table, ctx: Context) -> Table:
            for name, fn, typ in compiled:
                table = table.with_column(name, fn(table, ctx), typ)
            return table

        return step

    def c_stats(self, cmd: e.Stats, schema: Schema) -> Callable[[Table, Context], Table]:
        groups = [(g.name, self.expr(g.expr, schema), self.analyzer.type_of(g.expr, schema)) for g in cmd.groups]
        aggs = [self._aggregate(a, schema) for a in cmd.aggregates]
        for a in cmd.aggregates:
            self.created.add(a.name)
        for g in cmd.groups:
            self.created.add(g.name)
        return StatsStep(cmd, groups, aggs)

    def _aggregate(self, assign: e.Assign, schema: Schema) -> "_Aggregate":
        calls = [n for n in assign.expr.walk() if isinstance(n, e.Call) and n.name in self.functions and self.functions[n.name].kind == "agg"]
        inner = []
        for call in calls:
            if call.name not in AGGREGATES:
                raise EsqlUnsupported(f"aggregate function {call.name.upper()} is not run by the embedded evaluator")
            args = [self.expr(a, schema) for a in call.args]
            inner.append((call, args))
        where = self.expr(assign.where, schema) if assign.where is not None else None
        replace = {id(call): f"\x00agg{i}" for i, (call, _) in enumerate(inner)}
        outer = self.expr(assign.expr, schema, replace=replace)
        typ = self.analyzer.type_of(assign.expr, schema, in_stats=True)
        return _Aggregate(inner, where, outer, replace, typ)

    def c_keep(self, cmd: e.Keep, schema: Schema) -> Callable[[Table, Context], Table]:
        patterns = [p for p, _ in cmd.patterns]
        self.patterns.extend(p for p in patterns if "*" in p)
        self.referenced.update(p for p in patterns if "*" not in p)

        def kept(columns: tuple[str, ...]) -> list[str]:
            names: list[str] = []
            for pattern in patterns:
                for name in columns:
                    if (name == pattern or ("*" in pattern and fnmatchcase(name, pattern))) and name not in names:
                        names.append(name)
            return names

        picked = _by_columns(kept)

        def step(table: Table, ctx: Context) -> Table:
            return table.select(picked(table))

        return step

    def c_drop(self, cmd: e.Drop, schema: Schema) -> Callable[[Table, Context], Table]:
        patterns = [p for p, _ in cmd.patterns]
        picked = _by_columns(lambda columns: [n for n in columns if not any(n == p or fnmatchcase(n, p) for p in patterns)])

        def step(table: Table, ctx: Context) -> Table:
            return table.select(picked(table))

        return step

    def c_rename(self, cmd: e.Rename, schema: Schema) -> Callable[[Table, Context], Table]:
        pairs = [(old, new) for old, new, _ in cmd.pairs]
        self.referenced.update(old for old, _ in pairs)
        self.created.update(new for _, new in pairs)

        def step(table: Table, ctx: Context) -> Table:
            for old, new in pairs:
                if old in table.columns:
                    values, typ = table.columns[old], table.types.get(old)
                    table = table.select([n for n in table.columns if n not in (old, new)]).with_column(new, values, typ)
            return table

        return step

    def c_sort(self, cmd: e.Sort, schema: Schema) -> Callable[[Table, Context], Table]:
        keys = [(self.expr(k.expr, schema), k.descending, k.nulls_first if k.nulls_first is not None else k.descending) for k in cmd.keys]

        def step(table: Table, ctx: Context) -> Table:
            rows = list(range(table.size))
            for fn, desc, nulls_first in reversed(keys):
                col = fn(table, ctx)
                present = [r for r in rows if col[r] is not None]
                missing = [r for r in rows if col[r] is None]
                present.sort(key=lambda r: _sort_key(col[r], desc), reverse=desc)
                rows = missing + present if nulls_first else present + missing
            return table.take(rows)

        return step

    def c_limit(self, cmd: e.Limit, schema: Schema) -> Callable[[Table, Context], Table]:
        if not isinstance(cmd.count, int):
            raise EsqlUnsupported("LIMIT with a parameter is not run by the embedded evaluator")
        self.has_limit = True
        count = cmd.count
        return lambda table, ctx: table.take(list(range(min(count, table.size))))

    def c_mvexpand(self, cmd: e.MvExpand, schema: Schema) -> Callable[[Table, Context], Table]:
        name = cmd.field
        self.referenced.add(name)

        def step(table: Table, ctx: Context) -> Table:
            col = table.column(name)
            rows, values = [], []
            for r in range(table.size):
                for v in (values_of(col[r]) or [None]):
                    rows.append(r)
                    values.append(v)
            out = table.take(rows)
            return out.with_column(name, values, table.types.get(name))

        return step

    def c_dissect(self, cmd: e.Dissect, schema: Schema) -> Callable[[Table, Context], Table]:
        source = self.expr(cmd.source, schema)
        pattern = compile_dissect(cmd.pattern)
        sep = cmd.append_separator
        self.created.update(pattern.columns)

        def step(table: Table, ctx: Context) -> Table:
            found = [run_dissect(pattern, v, sep) if isinstance(v, str) else None for v in source(table, ctx)]
            for name in pattern.columns:
                table = table.with_column(name, [f.get(name) if f else None for f in found], "keyword")
            return table

        return step

    def c_grok(self, cmd: e.Grok, schema: Schema) -> Callable[[Table, Context], Table]:
        source = self.expr(cmd.source, schema)
        groks = [compile_grok(p) for p in cmd.patterns]
        for g in groks:
            self.created.update(name for name, _, _ in g.columns)

        def step(table: Table, ctx: Context) -> Table:
            values = source(table, ctx)
            for grok in groks:
                matches = [grok.regex.search(v) if isinstance(v, str) else None for v in values]
                for name, group, typ in grok.columns:
                    convert = _GROK_CONVERT.get(typ, str)
                    table = table.with_column(name, [_convert_or_none(convert, m.group(group)) if m and m.group(group) is not None else None for m in matches], typ)
            return table

        return step

    # ------------------------------------------------------------------ expressions
    def expr(self, node: e.Expr, schema: Schema, replace: Mapping[int, str] | None = None) -> Column:
        """A function computing ``node`` for every row of a table (once per distinct tuple of
        the cells it reads, when that is exact and pays: ``memo``)."""
        column = ExprCompiler(self, schema, replace or {}).compile(node)
        return column if replace else memoised(node, column, schema.columns)


_GROK_CONVERT: dict[str, Callable[[str], Any]] = {"integer": int, "long": int, "double": float, "boolean": lambda s: s.lower() == "true"}


def _convert_or_none(convert: Callable[[str], Any], text: str) -> Any:
    try:
        return convert(text)
    except ValueError:
        return None


def group_keys(values: list[Any]) -> list[tuple]:
    """The group keys of one row: one per combination of the values of multi-valued keys."""
    keys: list[tuple] = [()]
    for v in values:
        options = values_of(v) or [None]
        keys = [k + (o,) for k in keys for o in options]
    return keys


def _sort_key(cell: Any, desc: bool) -> Any:
    if isinstance(cell, list):
        cell = max(cell) if desc else min(cell)
    return (0, cell) if isinstance(cell, (int, float)) and not isinstance(cell, bool) else (1, str(cell)) if not isinstance(cell, bool) else (0, int(cell))


@dataclass
class StatsStep:
    """A ``STATS`` (or ``INLINE STATS``) command, compiled: group keys, then aggregates.

    A class rather than a closure so that the incremental evaluation of a rule
    (``query.esql.incremental``) can compute the same group keys and aggregate inputs row
    by row and build the same result table from merged partial aggregates (``assemble``).
    """

    cmd: e.Stats
    groups: list[tuple[str, Column, str | None]]  # (name, key expression, type)
    aggs: list["_Aggregate"]

    def __call__(self, table: Table, ctx: Context) -> Table:
        keys_cols = [fn(table, ctx) for _, fn, _ in self.groups]
        order: dict[tuple, list[int]] = {}
        if keys_cols:
            for row, key in enumerate(zip(*keys_cols)):
                if any(v.__class__ is list for v in key):  # a multi-valued key: a group a value
                    for each in group_keys(list(key)):
                        order.setdefault(each, []).append(row)
                elif key in order:
                    order[key].append(row)
                else:
                    order[key] = [row]
        elif table.size:
            order[()] = list(range(table.size))
        if not self.groups and not order:
            order[()] = []
        keys = list(order)
        results = [agg(table, ctx, [order[k] for k in keys]) for agg in self.aggs]
        if self.cmd.inline:
            group_of = {r: i for i, k in enumerate(keys) for r in order[k]}
            out = table
            for a, agg, values in zip(self.cmd.aggregates, self.aggs, results):
                out = out.with_column(a.name, [values[group_of[r]] if r in group_of else None for r in range(table.size)], agg.type)
            return out
        return self.assemble(keys, results, table.notes)

    def assemble(self, keys: list[tuple], results: list[list[Any]], notes: list[str]) -> Table:
        """The result table of a (not inline) ``STATS``: one row per group key, the aggregate
        columns (in the command's order) then the group columns."""
        columns: dict[str, list] = {}
        types: dict[str, str | None] = {}
        for a, agg, values in zip(self.cmd.aggregates, self.aggs, results):
            columns[a.name] = values
            types[a.name] = agg.type
        for i, (name, _, typ) in enumerate(self.groups):
            columns.pop(name, None)
            columns[name] = [k[i] for k in keys]
            types[name] = typ
        return Table(columns, types, len(keys), None, notes)


@dataclass
class _Aggregate:
    inner: list[tuple[e.Call, list[Column]]]
    where: Column | None
    outer: Column
    replace: Mapping[int, str]
    type: str | None

    def __call__(self, table: Table, ctx: Context, groups: list[list[int]]) -> list[Any]:
        mask = self.where(table, ctx) if self.where is not None else None
        columns: dict[str, list] = {}
        for call, args in self.inner:
            arg_cols = [a(table, ctx) for a in args]
            fn = AGGREGATES[call.name]
            out = []
            for rows in groups:
                if mask is not None:
                    rows = [r for r in rows if mask[r] is True]
                if call.star or (call.name == "count" and not arg_cols):
                    out.append(len(rows))
                    continue
                extra = [col[rows[0]] if rows else None for col in arg_cols[1:]]
                out.append(fn([arg_cols[0][r] for r in rows], *extra))
            columns[self.replace[id(call)]] = out
        return self.finish(columns, len(groups), ctx)

    def finish(self, inner_values: dict[str, list[Any]], groups: int, ctx: Context) -> list[Any]:
        """The aggregate's value per group from its inner aggregates' values per group
        (keyed by their placeholder names, ``replace``): ``SUM(x) / COUNT(*)`` divides here."""
        return self.outer(Table(inner_values, {}, groups, None), ctx)


