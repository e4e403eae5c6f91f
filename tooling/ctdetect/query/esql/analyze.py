"""Static analysis of an ES|QL query: the columns each command sees, and what is wrong.

Why: Elasticsearch resolves an ES|QL query before running it (unknown columns, unknown
functions, wrong argument types are errors, not empty results). Doing the same offline
tells a rule author at ``validate`` time what a cluster would say at deploy time.

The analysis walks the pipeline with a schema, an ordered ``{column: ES|QL type}``:
``FROM`` starts it from the package's data sources (``sources.source_columns``) plus the
``METADATA`` fields; ``EVAL`` adds or replaces columns; ``STATS`` replaces the schema by
its aggregates then its groups; ``KEEP``/``DROP``/``RENAME`` reshape it; ``DISSECT``/``GROK``
add their keys; ``ENRICH`` and ``LOOKUP JOIN`` add columns of an index the package does
not describe, so after them unknown names are no longer judged. Every expression is typed
bottom-up; a function call is checked against its definition (``functions``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterator

from ctdetect.query._larkutil import line_col
from ctdetect.query.esql import ast as e
from ctdetect.query.esql.functions import NUMERIC_TYPES, STRING_TYPES, accepts, load_functions
from ctdetect.query.esql.patterns import PatternError, compile_dissect, compile_grok
from ctdetect.query.esql.sources import METADATA_FIELDS, fully_covered

#: Problem codes (each becomes a named ``validate`` check).
UNKNOWN_COLUMN = "unknown-column"
UNKNOWN_FUNCTION = "unknown-function"
ARGUMENTS = "arguments"
ARGUMENT_TYPE = "argument-type"
MISPLACED_AGGREGATE = "aggregate"
PATTERN = "pattern"


@dataclass(frozen=True)
class EsqlProblem:
    code: str
    message: str
    pos: int
    severity: str = "error"

    def position(self, text: str) -> tuple[int, int]:
        """1-based (line, column) inside the query text."""
        return line_col(text, self.pos)


@dataclass
class Schema:
    columns: dict[str, str | None]
    open: bool = False  # columns of an unknown index were added: unknown names are not errors
    removed: dict[str, tuple[str, int]] = field(default_factory=dict)  # column -> (command, pos) that removed it

    def copy(self) -> "Schema":
        return Schema(dict(self.columns), self.open, dict(self.removed))

    def set(self, name: str, type_: str | None) -> None:
        self.columns.pop(name, None)
        self.columns[name] = type_
        self.removed.pop(name, None)

    def matching(self, pattern: str) -> list[str]:
        if "*" not in pattern:
            return [pattern] if pattern in self.columns else []
        return [c for c in self.columns if fnmatchcase(c, pattern)]


SourceColumns = Callable[[tuple[str, ...]], "dict[str, str] | None"]


def analyze(query: e.Query, source_columns: SourceColumns) -> list[EsqlProblem]:
    """Every problem of ``query``; ``source_columns(indices)`` gives the columns of a ``FROM``
    (``None``: the indices are unknown, and so are the columns)."""
    return _Analyzer(source_columns).run(query)


def output_schema(query: e.Query, source_columns: SourceColumns) -> dict[str, str | None]:
    """The columns the query returns (name -> ES|QL type, ``None`` when unknown)."""
    analyzer = _Analyzer(source_columns)
    analyzer.run(query)
    return dict(analyzer.final.columns)


class _Analyzer:
    def __init__(self, source_columns: SourceColumns) -> None:
        self.source_columns = source_columns
        self.functions = load_functions()
        self.problems: list[EsqlProblem] = []
        self.final = Schema({})
        self.text = ""

    def report(self, code: str, message: str, pos: int, severity: str = "error") -> None:
        self.problems.append(EsqlProblem(code, message, pos, severity))

    def run(self, query: e.Query) -> list[EsqlProblem]:
        self.text = query.text
        schema = self.source(query.source)
        schema = self.pipeline(query.commands, schema)
        self.final = schema
        return self.problems

    # ------------------------------------------------------------------ commands
    def source(self, cmd: e.Command) -> Schema:
        if isinstance(cmd, e.From):
            columns = self.source_columns(cmd.indices)
            # Columns are only judged when every pattern reads package data sources alone.
            schema = Schema(dict(columns or {}), open=columns is None or not fully_covered(cmd.indices))
            for meta in cmd.metadata:
                if meta not in METADATA_FIELDS:
                    self.report(UNKNOWN_COLUMN, f"unknown metadata field [{meta}] (expected one of {', '.join(sorted(METADATA_FIELDS))})", cmd.pos)
                schema.set(meta, METADATA_FIELDS.get(meta))
            return schema
        if isinstance(cmd, e.Row):
            schema = Schema({})
            for f in cmd.fields:
                schema.set(f.name, self.type_of(f.expr, schema))
            return schema
        return Schema({}, open=True)

    def pipeline(self, commands: tuple[e.Command, ...], schema: Schema) -> Schema:
        for cmd in commands:
            handler = getattr(self, "c_" + type(cmd).__name__.lower(), None)
            if handler is not None:
                schema = handler(cmd, schema)
        return schema

    def c_where(self, cmd: e.Where, schema: Schema) -> Schema:
        found = self.type_of(cmd.condition, schema)
        if found not in (None, "boolean", "null"):
            self.report(ARGUMENT_TYPE, f"WHERE needs a boolean condition, not {found}", cmd.condition.pos)
        return schema

    def c_eval(self, cmd: e.Eval, schema: Schema) -> Schema:
        schema = schema.copy()
        for f in cmd.fields:
            schema.set(f.name, self.type_of(f.expr, schema))
        return schema

    def c_stats(self, cmd: e.Stats, schema: Schema) -> Schema:
        out = schema.copy() if cmd.inline else Schema({}, schema.open)
        for agg in cmd.aggregates:
            if not self._has_aggregate(agg.expr):
                self.report(MISPLACED_AGGREGATE, f"[{agg.name}] in STATS must use an aggregate function (e.g. COUNT, VALUES)", agg.pos)
            typ = self.type_of(agg.expr, schema, in_stats=True)
            if agg.where is not None:
                self.type_of(agg.where, schema)
            out.set(agg.name, typ)
        for group in cmd.groups:
            if self._has_aggregate(group.expr):
                self.report(MISPLACED_AGGREGATE, f"aggregate function in STATS ... BY [{group.name}]", group.pos)
            out.set(group.name, self.type_of(group.expr, schema))
        if not cmd.inline:
            for name in schema.columns:
                if name not in out.columns:
                    out.removed[name] = ("STATS", cmd.pos)
        return out

    def c_keep(self, cmd: e.Keep, schema: Schema) -> Schema:
        kept: dict[str, str | None] = {}
        for pattern, pos in cmd.patterns:
            names = schema.matching(pattern)
            if not names:
                self._missing(pattern, pos, schema, "KEEP")
            for n in names:
                kept.setdefault(n, schema.columns[n])
        out = Schema(kept, schema.open, dict(schema.removed))
        for name in schema.columns:
            if name not in kept:
                out.removed[name] = ("KEEP", cmd.pos)
        return out

    def c_drop(self, cmd: e.Drop, schema: Schema) -> Schema:
        out = schema.copy()
        for pattern, pos in cmd.patterns:
            names = schema.matching(pattern)
            if not names:
                self._missing(pattern, pos, schema, "DROP")
            for n in names:
                out.columns.pop(n, None)
                out.removed[n] = ("DROP", cmd.pos)
        return out

    def c_rename(self, cmd: e.Rename, schema: Schema) -> Schema:
        out = schema.copy()
        for old, new, pos in cmd.pairs:
            if old not in out.columns:
                self._missing(old, pos, out, "RENAME")
                continue
            typ = out.columns.pop(old)
            renamed: dict[str, str | None] = {}
            for name, t in out.columns.items():
                if name != new:
                    renamed[name] = t
            renamed[new] = typ
            out.columns = renamed
            out.removed[old] = ("RENAME", pos)
        return out

    def c_sort(self, cmd: e.Sort, schema: Schema) -> Schema:
        for key in cmd.keys:
            self.type_of(key.expr, schema)
        return schema

    def c_mvexpand(self, cmd: e.MvExpand, schema: Schema) -> Schema:
        if cmd.field not in schema.columns:
            self._missing(cmd.field, cmd.pos, schema, "MV_EXPAND")
        return schema

    def c_dissect(self, cmd: e.Dissect, schema: Schema) -> Schema:
        self._string_input(cmd.source, schema, "DISSECT")
        out = schema.copy()
        try:
            for name in compile_dissect(cmd.pattern).columns:
                out.set(name, "keyword")
        except PatternError as exc:
            self.report(PATTERN, f"DISSECT pattern: {exc}", cmd.pos)
        return out

    def c_grok(self, cmd: e.Grok, schema: Schema) -> Schema:
        self._string_input(cmd.source, schema, "GROK")
        out = schema.copy()
        for pattern in cmd.patterns:
            try:
                for name, _, typ in compile_grok(pattern).columns:
                    out.set(name, typ)
            except PatternError as exc:
                self.report(PATTERN, f"GROK pattern: {exc}", cmd.pos)
        return out

    def c_enrich(self, cmd: e.Enrich, schema: Schema) -> Schema:
        out = schema.copy()
        if cmd.match_field and cmd.match_field not in schema.columns:
            self._missing(cmd.match_field, cmd.pos, schema, "ENRICH")
        for new, _ in cmd.fields:
            out.set(new, None)
        out.open = out.open or not cmd.fields
        return out

    def c_lookupjoin(self, cmd: e.LookupJoin, schema: Schema) -> Schema:
        for on in cmd.on:
            if isinstance(on, e.FieldRef) and on.name not in schema.columns:
                self._missing(on.name, on.pos, schema, "LOOKUP JOIN")
        out = schema.copy()
        out.open = True
        return out

    def c_changepoint(self, cmd: e.ChangePoint, schema: Schema) -> Schema:
        for name in (cmd.value, cmd.key):
            if name and name not in schema.columns:
                self._missing(name, cmd.pos, schema, "CHANGE_POINT")
        out = schema.copy()
        out.set(cmd.type_name, "keyword")
        out.set(cmd.pvalue_name, "double")
        return out

    def c_completion(self, cmd: e.Completion, schema: Schema) -> Schema:
        self._string_input(cmd.prompt, schema, "COMPLETION")
        out = schema.copy()
        out.set(cmd.target, "keyword")
        return out

    def c_fork(self, cmd: e.Fork, schema: Schema) -> Schema:
        out = Schema({}, schema.open, dict(schema.removed))
        for branch in cmd.branches:
            for name, typ in self.pipeline(branch, schema.copy()).columns.items():
                out.columns.setdefault(name, typ)
        out.set("_fork", "keyword")
        return out

    # ------------------------------------------------------------------ helpers
    def _missing(self, name: str, pos: int, schema: Schema, command: str | None) -> None:
        """Report a name no column answers to (``command``: the command that named it, or
        ``None`` for a column read inside an expression)."""
        if schema.open or name.startswith("?"):
            return
        where = f"{command}: " if command else ""
        kind = "pattern" if "*" in name else "column"
        gone = schema.removed.get(name)
        if gone is None and "*" in name:
            gone = next((schema.removed[n] for n in schema.removed if fnmatchcase(n, name)), None)
        if gone is not None:
            line, _ = line_col(self.text, gone[1])
            self.report(UNKNOWN_COLUMN, f"{where}unknown {kind} [{name}]: {gone[0]} at line {line} of the query removed it", pos)
            return
        self.report(UNKNOWN_COLUMN, f"{where}unknown {kind} [{name}]: no data source of the package has it and no earlier command creates it", pos)

    def _string_input(self, expr: e.Expr, schema: Schema, command: str) -> None:
        typ = self.type_of(expr, schema)
        if typ is not None and typ not in STRING_TYPES and typ != "null":
            self.report(ARGUMENT_TYPE, f"{command} input must be a string, not {typ}", expr.pos)

    def _has_aggregate(self, expr: e.Expr) -> bool:
        return any(isinstance(n, e.Call) and self.functions.get(n.name) is not None and self.functions[n.name].kind == "agg" for n in expr.walk())

    # ------------------------------------------------------------------ expressions
    def type_of(self, expr: e.Expr, schema: Schema, *, in_stats: bool = False, in_agg: bool = False) -> str | None:
        """The ES|QL type of ``expr`` (``None`` when it cannot be known), reporting problems."""
        t = self.type_of
        if isinstance(expr, e.Literal):
            return expr.type
        if isinstance(expr, e.TimeSpan):
            return expr.type
        if isinstance(expr, (e.Param, e.MapLit)):
            return None if isinstance(expr, e.Param) else "map"
        if isinstance(expr, e.ListLit):
            types = {t(i, schema) for i in expr.items}
            return types.pop() if len(types) == 1 else None
        if isinstance(expr, e.FieldRef):
            if expr.name in schema.columns:
                return schema.columns[expr.name]
            self._missing(expr.name, expr.pos, schema, None)
            return None
        if isinstance(expr, e.Call):
            return self.call_type(expr, schema, in_stats=in_stats, in_agg=in_agg)
        kw = {"in_stats": in_stats, "in_agg": in_agg}
        if isinstance(expr, e.Binary):
            left, right = t(expr.left, schema, **kw), t(expr.right, schema, **kw)
            if expr.op in ("and", "or"):
                return "boolean"
            if expr.op in ("==", "!=", "<", "<=", ">", ">=", "=~"):
                return "boolean"
            return _arith_type(expr.op, left, right)
        if isinstance(expr, (e.Not, e.IsNull)):
            t(expr.operand, schema, **kw)
            return "boolean"
        if isinstance(expr, e.Neg):
            return t(expr.operand, schema, **kw)
        if isinstance(expr, e.In):
            for node in (expr.operand, *expr.items):
                t(node, schema, **kw)
            return "boolean"
        if isinstance(expr, e.Like):
            typ = t(expr.operand, schema, **kw)
            if typ is not None and typ not in STRING_TYPES and typ != "null":
                op = "RLIKE" if expr.regex else "LIKE"
                self.report(ARGUMENT_TYPE, f"{op} needs a string operand, not {typ}", expr.operand.pos)
            return "boolean"
        if isinstance(expr, e.MatchOp):
            t(expr.field, schema, **kw)
            t(expr.query, schema, **kw)
            return "boolean"
        if isinstance(expr, e.Cast):
            t(expr.operand, schema, **kw)
            return _CAST_TYPES.get(expr.type, expr.type)
        return None

    def call_type(self, call: e.Call, schema: Schema, *, in_stats: bool, in_agg: bool) -> str | None:
        fn = self.functions.get(call.name)
        arg_types = [self.type_of(a, schema, in_stats=in_stats, in_agg=in_agg or (fn is not None and fn.kind == "agg")) for a in call.args]
        if fn is None:
            self.report(UNKNOWN_FUNCTION, f"unknown function [{call.name}]", call.pos)
            return None
        if fn.kind == "agg":
            if not in_stats:
                self.report(MISPLACED_AGGREGATE, f"aggregate function [{call.name}] is only allowed in STATS", call.pos)
            elif in_agg:
                self.report(MISPLACED_AGGREGATE, f"aggregate function [{call.name}] cannot be nested in another aggregate", call.pos)
        count = len(call.args) + (1 if call.star else 0)
        if call.star and call.name != "count":
            self.report(ARGUMENTS, f"[{call.name}] does not take *", call.pos)
        if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
            want = f"{fn.min_args}" if fn.max_args == fn.min_args else f"{fn.min_args} to {fn.max_args}" if fn.max_args is not None else f"at least {fn.min_args}"
            self.report(ARGUMENTS, f"[{call.name}] takes {want} argument(s), got {count}", call.pos)
            return fn.return_type(arg_types)
        if call.name == "case":
            return self._case_type(call, arg_types)
        for i, (arg, typ) in enumerate(zip(call.args, arg_types)):
            param = fn.param_for(i)
            if param is None:
                continue
            literal = isinstance(arg, (e.Literal, e.TimeSpan))
            if param.types == frozenset({"map"}):
                if not isinstance(arg, (e.MapLit, e.Param)):
                    self.report(ARGUMENT_TYPE, f"argument {i + 1} ({param.name}) of [{call.name}] must be a map of options {{...}}", arg.pos)
                continue
            if not accepts(param, typ, literal=literal):
                self.report(ARGUMENT_TYPE, f"argument {i + 1} ({param.name}) of [{call.name}] must be {param.describe()}, not {typ}", arg.pos)
        return fn.return_type(arg_types)

    def _case_type(self, call: e.Call, arg_types: list[str | None]) -> str | None:
        pairs = len(call.args) // 2
        result = None
        for i in range(pairs):
            cond, cond_type = call.args[2 * i], arg_types[2 * i]
            if cond_type not in (None, "boolean", "null"):
                self.report(ARGUMENT_TYPE, f"condition {i + 1} of [case] must be boolean, not {cond_type}", cond.pos)
            result = result or (arg_types[2 * i + 1] if arg_types[2 * i + 1] != "null" else None)
        if len(call.args) % 2 and result is None:
            result = arg_types[-1] if arg_types[-1] != "null" else None
        return result


_CAST_TYPES = {"int": "integer", "bool": "boolean", "datetime": "date", "string": "keyword", "text": "keyword"}


def _arith_type(op: str, left: str | None, right: str | None) -> str | None:
    if left in ("date", "date_nanos") and right in ("time_duration", "date_period"):
        return left
    if right in ("date", "date_nanos") and left in ("time_duration", "date_period") and op == "+":
        return right
    if left in NUMERIC_TYPES and right in NUMERIC_TYPES:
        order = ["integer", "long", "unsigned_long", "double"]
        return max(left, right, key=order.index)  # type: ignore[arg-type]
    return None


def iter_fields(query: e.Query) -> Iterator[e.FieldRef]:
    """Every column reference of the query, in order."""
    for cmd in query.pipeline:
        for expr in cmd.expressions():
            for node in expr.walk():
                if isinstance(node, e.FieldRef):
                    yield node
