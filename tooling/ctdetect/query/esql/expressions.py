"""ES|QL expressions compiled into column functions ``(table, ctx) -> list``.

One method per node type. Semantics (null propagation, multi-values as null for single-
value operators, literal casts next to date and IP columns, LIKE/RLIKE as whole-value
matches, full-text functions over the row's source document) are described in
``evaluate``'s docstring, which owns the pipeline these expressions run in.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from ctdetect.query.eql_runtime import java_div, java_mod
from ctdetect.query.esql import ast as e
from ctdetect.query.esql.analyze import Schema
from ctdetect.query.esql.scalars import SCALARS, EsqlRuntimeError, Span, to_date
from ctdetect.query.esql.table import Table, normalise
from ctdetect.query.values import simple_wildcard_test, to_ip, wildcard_regex

DATE_TYPES = ("date", "date_nanos")
# string methods for simple LIKE patterns and STARTS_WITH/ENDS_WITH, cached regex answers, one
# membership test in IN: off = the general forms, cell by cell (tests compare the two)
FAST_PATHS = True
Column = Callable[[Table, "Context"], list]


class EsqlUnsupported(Exception):
    """The query uses something the embedded evaluator does not run (message says what)."""


@dataclass
class Context:
    """What expressions read besides the table: the time and the rows' source documents."""

    now_ms: int
    docs: list[dict] = field(default_factory=list)
    full_text: dict[str, Callable[[dict], bool]] = field(default_factory=dict)



class TypeOracle(Protocol):
    """What types an expression: the analyzer's ``type_of``, so evaluation and analysis agree."""

    def type_of(self, expr: e.Expr, schema: Schema, *, in_stats: bool = False, in_agg: bool = False) -> str | None: ...


class ExpressionOwner(Protocol):
    """What expressions need from the pipeline compiler that owns them (``evaluate``).

    Declared here so this module never imports the pipeline compiler, which imports it.
    """

    analyzer: TypeOracle
    source_types: Mapping[str, str | None]
    functions: Mapping[str, Any]
    referenced: set[str]


# ------------------------------------------------------------------------------ expressions
class ExprCompiler:
    def __init__(self, owner: ExpressionOwner, schema: Schema, replace: Mapping[int, str]) -> None:
        self.owner = owner
        self.schema = schema
        self.replace = replace

    def type_of(self, node: e.Expr) -> str | None:
        return self.owner.analyzer.type_of(node, self.schema, in_stats=True)

    def compile(self, node: e.Expr) -> Column:
        if id(node) in self.replace:
            name = self.replace[id(node)]
            return lambda table, ctx: table.column(name)
        method = getattr(self, "x_" + type(node).__name__.lower())
        return method(node)

    def x_literal(self, node: e.Literal) -> Column:
        value = node.value
        return lambda table, ctx: [value] * table.size

    def x_timespan(self, node: e.TimeSpan) -> Column:
        span = Span(node.amount, node.unit)
        return lambda table, ctx: [span] * table.size

    def x_param(self, node: e.Param) -> Column:
        raise EsqlUnsupported(f"parameter {node.name} has no value (the embedded evaluator runs queries without parameters)")

    def x_maplit(self, node: e.MapLit) -> Column:
        value = {k: getattr(v, "value", None) for k, v in node.entries}
        return lambda table, ctx: [value] * table.size

    def x_listlit(self, node: e.ListLit) -> Column:
        items = [getattr(i, "value", None) for i in node.items]
        value = normalise(items)
        return lambda table, ctx: [value] * table.size

    def x_fieldref(self, node: e.FieldRef) -> Column:
        name = node.name
        self.owner.referenced.add(name)
        return lambda table, ctx: table.column(name)

    def _coerced(self, node: e.Expr, other: e.Expr) -> Column:
        """``node``, with a string literal cast to ``other``'s date type when compared to one."""
        if isinstance(node, e.Literal) and node.type == "keyword" and self.type_of(other) in DATE_TYPES:
            ms = to_date(node.value)
            return lambda table, ctx: [ms] * table.size
        return self.compile(node)

    def x_binary(self, node: e.Binary) -> Column:
        op = node.op
        left, right = self._coerced(node.left, node.right), self._coerced(node.right, node.left)
        if op == "and":
            return lambda t, c: [_and(a, b) for a, b in zip(left(t, c), right(t, c))]
        if op == "or":
            return lambda t, c: [_or(a, b) for a, b in zip(left(t, c), right(t, c))]
        ip = "ip" in (self.type_of(node.left), self.type_of(node.right))
        fn = _COMPARE.get(op) or _ARITH[op]
        if ip and op in _ORDER:
            order = _ORDER[op]
            return lambda t, c: [_ip_compare(order, a, b) for a, b in zip(left(t, c), right(t, c))]
        if op in _ORDER:
            for column, constant, swapped in ((node.left, node.right, False), (node.right, node.left, True)):
                value = self._constant(constant, column)
                if value is not None:
                    return _compare_constant(_ORDER[op], self._coerced(column, constant), value, swapped)
        return lambda t, c: [_apply2(fn, a, b) for a, b in zip(left(t, c), right(t, c))]

    def _constant(self, node: e.Expr, other: e.Expr) -> Any:
        """The value of a literal ``node`` as compared with ``other`` (a date string cast to
        epoch ms), or None when ``node`` is not a non-null literal."""
        if not isinstance(node, e.Literal) or node.value is None or isinstance(node.value, list):
            return None
        if node.type == "keyword" and self.type_of(other) in DATE_TYPES:
            return to_date(node.value)
        return node.value

    def x_not(self, node: e.Not) -> Column:
        inner = self.compile(node.operand)
        return lambda t, c: [None if v is None or isinstance(v, list) else not v for v in inner(t, c)]

    def x_neg(self, node: e.Neg) -> Column:
        inner = self.compile(node.operand)
        return lambda t, c: [-v if isinstance(v, (int, float)) and not isinstance(v, bool) else None for v in inner(t, c)]

    def x_isnull(self, node: e.IsNull) -> Column:
        inner = self.compile(node.operand)
        negated = node.negated
        return lambda t, c: [(v is None) != negated for v in inner(t, c)]

    def x_in(self, node: e.In) -> Column:
        operand = self.compile(node.operand)
        negated = node.negated
        if all(isinstance(i, e.Literal) and i.value is not None for i in node.items) and self.type_of(node.operand) not in DATE_TYPES:
            values = frozenset(i.value for i in node.items)  # the common case: a list of constants

            def member(v: Any) -> Any:
                if v is None or isinstance(v, list):
                    return None
                return (v in values) != negated

            return lambda t, c: [member(v) for v in operand(t, c)]
        items = [self._coerced(i, node.operand) for i in node.items]
        fast = FAST_PATHS

        def run(t: Table, c: Context) -> list:
            cols = [i(t, c) for i in items]
            out = []
            for v, candidates in zip(operand(t, c), zip(*cols)):
                if v is None or v.__class__ is list:
                    out.append(None)
                elif fast and (v.__class__ is str or v.__class__ is bool):
                    # ``in`` compares by ``==`` as the loop below does (a list never equals a
                    # string or a boolean); exact classes only, so no NaN or odd ``__eq__``
                    out.append(not negated if v in candidates else None if None in candidates else negated)
                elif any(x == v for x in candidates if not isinstance(x, list)):
                    out.append(not negated)
                elif any(x is None for x in candidates):
                    out.append(None)
                else:
                    out.append(negated)
            return out

        return run

    def x_like(self, node: e.Like) -> Column:
        operand = self.compile(node.operand)
        if node.regex:
            from ctdetect.query.regex import lucene_regex

            regexes = [lucene_regex(p) for p in node.patterns]
        else:
            regexes = [wildcard_regex(p) for p in node.patterns]
        negated = node.negated

        def test(v: Any) -> Any:
            if v is None or isinstance(v, list):
                return None
            text = v if isinstance(v, str) else str(v)
            return any(r.match(text) for r in regexes) != negated

        if not FAST_PATHS:
            return lambda t, c: [test(v) for v in operand(t, c)]
        plain = None if node.regex else simple_wildcard_test(node.patterns)
        if plain is not None:  # ``x*``, ``*x``, ``*x*``, ``x``: a string method, no regex
            return lambda t, c: [(plain(v) != negated) if v.__class__ is str else test(v) for v in operand(t, c)]
        answers: dict[str, Any] = {}  # the same values recur (an ARN per principal): one match each

        def cached(v: Any) -> Any:
            found = answers.get(v)
            if found is None:
                if len(answers) >= LIKE_CACHE:
                    answers.clear()
                found = answers[v] = test(v)
            return found

        return lambda t, c: [cached(v) if v.__class__ is str else test(v) for v in operand(t, c)]

    def x_cast(self, node: e.Cast) -> Column:
        target = {"int": "integer", "bool": "boolean", "datetime": "date", "string": "keyword", "text": "keyword"}.get(node.type, node.type)
        name = {"integer": "to_integer", "long": "to_long", "double": "to_double", "boolean": "to_boolean", "date": "to_datetime", "keyword": "to_string", "ip": "to_ip", "version": "to_version"}.get(target)
        if name is None:
            raise EsqlUnsupported(f"cast to {node.type} is not run by the embedded evaluator")
        return self._scalar(name, [node.operand])

    def x_matchop(self, node: e.MatchOp) -> Column:
        if not isinstance(node.field, e.FieldRef):
            raise EsqlUnsupported("the match operator needs a field on its left")
        query = getattr(node.query, "value", None)
        return self._full_text("kuery", f"{node.field.name}:{_kql_quote(query)}")

    def x_call(self, node: e.Call) -> Column:
        name = node.name
        if name == "case":
            return self._case(node)
        if name in ("kql", "qstr"):
            text = getattr(node.args[0], "value", None) if node.args else None
            if not isinstance(text, str):
                raise EsqlUnsupported(f"{name.upper()} needs a string literal")
            return self._full_text("kuery" if name == "kql" else "lucene", text)
        if name in ("match", "match_phrase"):
            if len(node.args) < 2 or not isinstance(node.args[0], e.FieldRef):
                raise EsqlUnsupported(f"{name.upper()} needs a field and a value")
            return self._full_text("kuery", f"{node.args[0].name}:{_kql_quote(getattr(node.args[1], 'value', None))}")
        if name == "now":
            return lambda t, c: [c.now_ms] * t.size
        fn = self.owner.functions.get(name)
        if fn is not None and fn.kind == "agg":
            raise EsqlUnsupported(f"aggregate function {name.upper()} outside STATS")
        if name not in SCALARS:
            raise EsqlUnsupported(f"function {name.upper()} is not run by the embedded evaluator")
        return self._scalar(name, list(node.args))

    def _scalar(self, name: str, args: list[e.Expr]) -> Column:
        spec = SCALARS[name]
        compiled = [self.compile(a) for a in args]
        if FAST_PATHS and name in ("starts_with", "ends_with") and len(args) == 2 and isinstance(args[1], e.Literal) and isinstance(args[1].value, str):
            return _affix_test(name, compiled[0], args[1].value, self._call(spec))
        return self._per_row(name, args, compiled, spec)

    def _per_row(self, name: str, args: list[e.Expr], compiled: list[Column], spec: Any) -> Column:
        """A scalar function called row by row, with ES|QL's null and multi-value rules."""
        if name in ("date_diff",) and len(args) == 3:
            compiled = [compiled[0]] + [self._as_date(a) for a in args[1:]]
        elif name == "date_trunc" and len(args) == 2:
            compiled = [compiled[0], self._as_date(args[1])]
        call = self._call(spec)

        def run(t: Table, c: Context) -> list:
            cols = [f(t, c) for f in compiled]
            if not cols:
                return [call() for _ in range(t.size)]
            return [call(*row) for row in zip(*cols)]

        return run

    @staticmethod
    def _call(spec: Any) -> Callable[..., Any]:
        """One call of a scalar function on one row's values (null in, null out unless it takes nulls)."""
        fn = spec.fn
        nulls, per_value, multi = spec.nulls, spec.per_value, spec.multi

        def call(*values: Any) -> Any:
            # `None in` and `list in map(type, ...)` test every argument without a Python-level loop
            if not nulls and None in values:
                return None
            if per_value and values[0].__class__ is list:
                out = [call(v, *values[1:]) for v in values[0]]
                out = [v for v in out if v is not None]
                return out[0] if len(out) == 1 else (out or None)
            if not multi and list in map(type, values):
                return None
            try:
                return fn(*values)
            except (EsqlRuntimeError, TypeError, ValueError, ArithmeticError, AttributeError):
                return None

        return call

    def _as_date(self, node: e.Expr) -> Column:
        inner = self.compile(node)
        if isinstance(node, e.Literal) and node.type == "keyword":
            return lambda t, c: [to_date(v) for v in inner(t, c)]
        return inner

    def _case(self, node: e.Call) -> Column:
        compiled = [self.compile(a) for a in node.args]
        pairs = len(compiled) // 2
        has_else = len(compiled) % 2 == 1

        def run(t: Table, c: Context) -> list:
            # A column at a time, last pair first: each pass keeps a row's value where its
            # condition is true and what the later pairs (or the else) gave it otherwise, so
            # the first true pair wins, as row by row. One list comprehension per pair (the
            # rules' CASEs read a condition per event: ``MAX(CASE(flag, @timestamp, null))``
            # is not memoised, a date is a time per event), not a Python loop per row and pair.
            cols = [f(t, c) for f in compiled]
            out = list(cols[-1]) if has_else else [None] * t.size
            for i in reversed(range(pairs)):
                out = [v if cond is True else rest for cond, v, rest in zip(cols[2 * i], cols[2 * i + 1], out)]
            return out

        return run

    def _full_text(self, language: str, text: str) -> Column:
        from ctdetect.query import parse_query
        from ctdetect.query.errors import QueryParseError
        from ctdetect.query.predicate import compile_query

        try:
            predicate = compile_query(parse_query(text, language), {k: v for k, v in self.owner.source_types.items() if v})
        except QueryParseError as exc:
            raise EsqlUnsupported(f"{language} inside ES|QL does not parse: {exc}") from None

        def run(t: Table, c: Context) -> list:
            if t.source_rows is None:
                return [None] * t.size
            return [predicate(c.docs[r]) for r in t.source_rows]

        return run


LIKE_CACHE = 65_536  # distinct strings a LIKE/RLIKE remembers its answer for (memory stays flat)


def _affix_test(name: str, column: Column, affix: str, call: Callable[..., Any]) -> Column:
    """``STARTS_WITH``/``ENDS_WITH`` of a column and a string: the string method on a string
    cell, the function's general call (nulls, multi-values, other types) on anything else."""
    if name == "starts_with":
        return lambda t, c: [v.startswith(affix) if v.__class__ is str else call(v, affix) for v in column(t, c)]
    return lambda t, c: [v.endswith(affix) if v.__class__ is str else call(v, affix) for v in column(t, c)]


def _kql_quote(value: Any) -> str:
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _single(a: Any, b: Any) -> bool:
    return a is not None and b is not None and not isinstance(a, list) and not isinstance(b, list)


def _ip_key(v: Any) -> Any:
    addr = to_ip(v)
    return (addr.version, int(addr)) if addr is not None else None


def _ip_compare(order: Callable[[Any, Any], bool], a: Any, b: Any) -> Any:
    if not _single(a, b):
        return None
    ka, kb = _ip_key(a), _ip_key(b)
    return None if ka is None or kb is None else order(ka, kb)


def _and(a: Any, b: Any) -> Any:
    a = None if isinstance(a, list) else a
    b = None if isinstance(b, list) else b
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return bool(a and b)


def _or(a: Any, b: Any) -> Any:
    a = None if isinstance(a, list) else a
    b = None if isinstance(b, list) else b
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _apply2(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if not _single(a, b):
        return None
    try:
        return fn(a, b)
    except (TypeError, ArithmeticError, ValueError):
        return None


def _compare_constant(order: Callable[[Any, Any], bool], column: Column, constant: Any, swapped: bool) -> Column:
    """A column compared with a constant, a column at a time: the common ``field == "x"``.

    Same results as ``_apply2(_cmp(order), ...)`` cell by cell (a null, a multi-value or a
    value of another kind than the constant gives null), without its calls per cell: the
    kinds ``_comparable`` accepts are tested by exact class (document values are plain
    JSON types), booleans only with booleans and numbers (int, float) with numbers.
    """
    if constant.__class__ is bool:
        kinds: tuple[type, ...] = (bool,)
    elif constant.__class__ in (int, float):
        kinds = (int, float)
    elif constant.__class__ is str:
        kinds = (str,)
    else:
        return lambda t, c: [_apply2(_cmp(order), constant, v) if swapped else _apply2(_cmp(order), v, constant) for v in column(t, c)]
    if len(kinds) == 1:
        kind = kinds[0]
        if swapped:
            return lambda t, c: [order(constant, v) if v.__class__ is kind else None for v in column(t, c)]
        return lambda t, c: [order(v, constant) if v.__class__ is kind else None for v in column(t, c)]
    if swapped:
        return lambda t, c: [order(constant, v) if v.__class__ is int or v.__class__ is float else None for v in column(t, c)]
    return lambda t, c: [order(v, constant) if v.__class__ is int or v.__class__ is float else None for v in column(t, c)]


def _comparable(a: Any, b: Any) -> bool:
    num = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, num) and isinstance(b, num)) or (isinstance(a, str) and isinstance(b, str))


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    return lambda a, b: op(a, b) if _comparable(a, b) else None


def _eq_ci(a: Any, b: Any) -> Any:
    return a.lower() == b.lower() if isinstance(a, str) and isinstance(b, str) else None


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {**{op: _cmp(fn) for op, fn in _ORDER.items()}, "=~": _eq_ci}


def _add(a: Any, b: Any) -> Any:
    if isinstance(b, Span) and isinstance(a, int):
        return b.add_to(a)
    if isinstance(a, Span) and isinstance(b, int):
        return a.add_to(b)
    return a + b if not isinstance(a, (str, Span)) and not isinstance(b, (str, Span)) else None


def _sub(a: Any, b: Any) -> Any:
    if isinstance(b, Span) and isinstance(a, int):
        return b.add_to(a, -1)
    return a - b if not isinstance(a, (str, Span)) and not isinstance(b, (str, Span)) else None


_ARITH: dict[str, Callable[[Any, Any], Any]] = {"+": _add, "-": _sub, "*": lambda a, b: a * b, "/": java_div, "%": java_mod}
