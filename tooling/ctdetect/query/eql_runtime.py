"""EQL expressions at evaluation time: functions, comparisons, arithmetic, null semantics.

Elasticsearch runs an EQL condition as a query where it can and as a script where it
must, and the two differ on missing fields (null):

- a *query leaf* (``field == "x"``, ``field : "x*"``, ``field in (...)``, and a function
  over one field with literal arguments that Elasticsearch folds into a query:
  ``stringContains``/``endsWith`` become wildcard queries with the literal pasted between
  ``*`` *unescaped* (so ``*`` inside the literal is a wildcard), ``startsWith`` a prefix
  query, ``cidrMatch`` a terms query on the ip) is two-valued: a missing field does not
  match, and ``not`` of it does;
- a *script* (a function over two fields, a comparison between fields, arithmetic, any
  other function) is three-valued: a function of null is null, a comparison with null is
  null, ``not null`` is null, and a null condition does not match.

Function semantics follow Elastic's EQL function reference: ``add``, ``between``,
``cidrMatch``, ``concat``, ``divide``, ``endsWith``, ``indexOf``, ``length``, ``modulo``,
``multiply``, ``number``, ``startsWith``, ``string``, ``stringContains``, ``substring``,
``subtract``; a trailing ``~`` makes the string functions case-insensitive. Integer
division and modulo truncate toward zero as in Java.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from ctdetect.query import ast
from ctdetect.query.values import escape_wildcard, ip_in, keyword_str, to_ip, to_network, to_number, wildcard_regex

Doc = Mapping[str, Any]
Expr = Callable[[Doc], Any]

#: name (lower-case) -> (canonical name, min args, max args or None, accepts ``~``)
FUNCTIONS: dict[str, tuple[str, int, int | None, bool]] = {
    "add": ("add", 2, 2, False),
    "between": ("between", 3, 4, True),
    "cidrmatch": ("cidrMatch", 2, None, False),
    "concat": ("concat", 1, None, False),
    "divide": ("divide", 2, 2, False),
    "endswith": ("endsWith", 2, 2, True),
    "indexof": ("indexOf", 2, 3, True),
    "length": ("length", 1, 1, False),
    "modulo": ("modulo", 2, 2, False),
    "multiply": ("multiply", 2, 2, False),
    "number": ("number", 1, 2, False),
    "startswith": ("startsWith", 2, 2, True),
    "string": ("string", 1, 1, False),
    "stringcontains": ("stringContains", 2, 2, True),
    "substring": ("substring", 2, 3, False),
    "subtract": ("subtract", 2, 2, False),
}

_FOLDABLE = {"stringContains", "endsWith", "startsWith", "cidrMatch"}


class EqlEvalError(ValueError):
    """An EQL expression that cannot run (e.g. an unknown function)."""


# --------------------------------------------------------------------------- helpers


def _first(value: Any) -> Any:
    """A multi-valued field used as a scalar reads its first value."""
    if value.__class__ is list:
        for item in value:
            if item is not None:
                return item
        return None
    return value


def _is_num(x: Any) -> bool:
    return (x.__class__ is int or x.__class__ is float) and x.__class__ is not bool


def java_div(a: Any, b: Any) -> Any:
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    return a / b


def java_mod(a: Any, b: Any) -> Any:
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return int(math.fmod(a, b))
    return math.fmod(a, b)


def _number(text: Any, base: Any = 10) -> Any:
    if text is None or base is None:
        return None
    if _is_num(text):
        return text
    if not isinstance(text, str):
        return None
    s = text.strip()
    try:
        if base == 10:
            try:
                return int(s)
            except ValueError:
                return float(s)
        if base == 16 and s.lower().startswith(("0x", "-0x")):
            s = s.replace("0x", "", 1).replace("0X", "", 1)
        return int(s, int(base))
    except (ValueError, TypeError):
        return None


def _between(source: Any, left: Any, right: Any, greedy: Any = False, ci: bool = False) -> Any:
    if source is None or left is None or right is None:
        return None
    s, l, r = str(source), str(left), str(right)
    hs, hl, hr = (s.lower(), l.lower(), r.lower()) if ci else (s, l, r)
    start = hs.find(hl)
    if start < 0:
        return ""
    start += len(hl)
    end = hs.rfind(hr) if greedy else hs.find(hr, start)
    if end < start:
        return ""
    return s[start:end]


def _substring(source: Any, start: Any, end: Any = None) -> Any:
    if source is None or start is None:
        return None
    s = str(source)
    return s[int(start) :] if end is None else s[int(start) : int(end)]


def _index_of(source: Any, sub: Any, start: Any = 0, ci: bool = False) -> Any:
    if source is None or sub is None:
        return None
    s, t = str(source), str(sub)
    if ci:
        s, t = s.lower(), t.lower()
    found = s.find(t, max(0, int(start or 0)))
    return None if found < 0 else found


def _cidr(ip: Any, *cidrs: Any) -> Any:
    if ip is None:
        return None
    addr = to_ip(keyword_str(ip))
    if addr is None:
        return False
    for c in cidrs:
        net = to_network(c) if c is not None else None
        if net is not None and ip_in(addr, net):
            return True
    return False


def _string_fn(name: str, ci: bool) -> Callable[..., Any]:
    def norm(x: Any) -> str:
        s = keyword_str(x)
        return s.lower() if ci else s

    if name == "startsWith":
        return lambda a, b: None if a is None or b is None else norm(a).startswith(norm(b))
    if name == "endsWith":
        return lambda a, b: None if a is None or b is None else norm(a).endswith(norm(b))
    if name == "stringContains":
        return lambda a, b: None if a is None or b is None else norm(b) in norm(a)
    raise EqlEvalError(name)  # pragma: no cover


def _arith(op: str) -> Callable[[Any, Any], Any]:
    def run(a: Any, b: Any) -> Any:
        if a is None or b is None or not _is_num(a) or not _is_num(b):
            return None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return java_div(a, b)
        return java_mod(a, b)

    return run


def function_impl(name: str, ci: bool) -> Callable[..., Any]:
    """The Python implementation of EQL function ``name`` (canonical spelling)."""
    if name in ("startsWith", "endsWith", "stringContains"):
        return _string_fn(name, ci)
    if name == "between":
        return lambda s, l, r, g=False: _between(s, l, r, g, ci)
    if name == "indexOf":
        return lambda s, t, start=0: _index_of(s, t, start, ci)
    if name == "cidrMatch":
        return _cidr
    if name == "concat":
        return lambda *xs: None if any(x is None for x in xs) else "".join(keyword_str(x) for x in xs)
    if name == "length":
        return lambda s: None if s is None else len(keyword_str(s))
    if name == "number":
        return _number
    if name == "string":
        return lambda x: None if x is None else keyword_str(x)
    if name == "substring":
        return _substring
    if name in ("add", "subtract", "multiply", "divide", "modulo"):
        return _arith({"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "modulo": "%"}[name])
    raise EqlEvalError(f"unknown EQL function {name!r}")


# --------------------------------------------------------------------------- compilation


def compile_expr(node: ast.Node, kind_of: Callable[[str], str] | None = None) -> Expr:
    """A function doc -> value (None for null) for an EQL value expression.

    ``kind_of`` gives a field's kind (see ``fields.field_kind``): numeric fields are read
    as numbers, as Elasticsearch's doc values would be even when the source held text.
    """
    if isinstance(node, ast.Literal):
        value = node.value
        return lambda doc: value
    if isinstance(node, ast.FieldRef):
        name = node.name
        if kind_of is not None and kind_of(name) == "number":

            def numeric(doc: Doc) -> Any:
                value = doc.get(name)
                if value is None:
                    return None
                if value.__class__ is list:
                    return [to_number(v) for v in value if v is not None] or None
                return to_number(value)

            return numeric
        return lambda doc: doc.get(name)
    if isinstance(node, ast.Arithmetic):
        left, right, fn = compile_expr(node.left, kind_of), compile_expr(node.right, kind_of), _arith(node.op)
        return lambda doc: fn(_first(left(doc)), _first(right(doc)))
    if isinstance(node, ast.FunctionCall):
        impl = function_impl(node.name, node.case_insensitive)
        args = tuple(compile_expr(a, kind_of) for a in node.args)
        boolean = node.name in ("startsWith", "endsWith", "stringContains", "cidrMatch")

        def call(doc: Doc) -> Any:
            values = [a(doc) for a in args]
            if boolean and values and values[0].__class__ is list:
                # Multi-valued input: true if any value satisfies the function.
                rest = [_first(v) for v in values[1:]]
                results = [impl(item, *rest) for item in values[0] if item is not None]
                if any(r is True for r in results):
                    return True
                return None if not results else False
            return impl(*[_first(v) for v in values])

        return call
    if isinstance(node, ast.Compare):
        return compile_compare(node, kind_of)
    if isinstance(node, ast.Predicate):
        return compile_expr(node.expr, kind_of)
    raise EqlEvalError(f"{type(node).__name__} is not an EQL value expression")


def _cmp_values(op: str, a: Any, b: Any, ci: bool) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        return None
    if _is_num(a) and _is_num(b):
        pass
    elif isinstance(a, str) and isinstance(b, str):
        if ci or op == ":":
            a, b = a.lower(), b.lower()
    elif isinstance(a, str) and _is_num(b) or isinstance(b, str) and _is_num(a):
        return None
    try:
        if op in ("==", ":"):
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        if op == ">=":
            return a >= b
    except TypeError:
        return None
    raise EqlEvalError(f"unknown comparison {op!r}")


def compile_compare(node: ast.Compare, kind_of: Callable[[str], str] | None = None) -> Expr:
    left, right = compile_expr(node.left, kind_of), compile_expr(node.right, kind_of)
    op, ci = node.op, node.case_insensitive
    if op == ":" and isinstance(node.right, ast.Literal) and isinstance(node.right.value, str) and any(c in node.right.value for c in "*?"):
        regex = wildcard_regex(node.right.value, True)

        def like(doc: Doc) -> Any:
            a = left(doc)
            items = a if a.__class__ is list else (a,)
            seen = False
            for item in items:
                if item is None:
                    continue
                seen = True
                if regex.match(keyword_str(item)):
                    return True
            return False if seen else None

        return like

    def compare(doc: Doc) -> Any:
        a, b = left(doc), right(doc)
        if a.__class__ is list:
            results = [_cmp_values(op, x, _first(b), ci) for x in a if x is not None]
            return True if any(r is True for r in results) else (None if not results else False)
        return _cmp_values(op, a, _first(b), ci)

    return compare


def fold_function(node: ast.Node) -> ast.Node | None:
    """The query leaf Elasticsearch folds an EQL function call into, or None if it runs as a script.

    The one place that decides folding: the predicate compiler evaluates the leaf, the
    translator writes it as query DSL, the exact-value analysis reads its values.
    ``node`` is a ``FunctionCall`` or the ``Predicate`` wrapping one.
    """
    expr = node.expr if isinstance(node, ast.Predicate) else node
    if not isinstance(expr, ast.FunctionCall) or expr.name not in _FOLDABLE:
        return None
    if not expr.args or not isinstance(expr.args[0], ast.FieldRef):
        return None
    literals = expr.args[1:]
    if not literals or not all(isinstance(a, ast.Literal) and isinstance(a.value, str) for a in literals):
        return None
    field = expr.args[0].name
    values = [a.value for a in literals]  # type: ignore[attr-defined]
    if expr.name == "cidrMatch":
        return ast.Terms(field, tuple(values), pos=expr.pos)
    if expr.name == "startsWith":
        return ast.Prefix(field, values[0], expr.case_insensitive, pos=expr.pos)
    # Elasticsearch pastes the literal into a wildcard pattern without escaping it.
    pattern = "*" + values[0] + ("*" if expr.name == "stringContains" else "")
    return ast.Wildcard(field, pattern, expr.case_insensitive, pos=expr.pos)


def script_of(node: ast.Node, kind_of: Callable[[str], str]) -> Callable[[Doc], Any] | None:
    """A three-valued function for ``node`` if Elasticsearch would run it as a script, else None.

    ``kind_of`` gives a field's kind (``fields.FieldAccess.kind``).
    """
    if isinstance(node, ast.Not):
        inner = script_of(node.item, kind_of)
        if inner is None:
            return None

        def negate(doc: Doc) -> Any:
            r = inner(doc)
            return None if r is None else not r

        return negate
    if isinstance(node, (ast.Compare, ast.Predicate, ast.FunctionCall)):
        if fold_function(node) is not None:
            return None
        return _truth(compile_expr(node, kind_of))
    return None


def _truth(expr: Expr) -> Callable[[Doc], Any]:
    def run(doc: Doc) -> Any:
        value = expr(doc)
        if value is None:
            return None
        if value.__class__ is list:
            value = _first(value)
            if value is None:
                return None
        return value is True
    return run


def script_predicate(node: ast.Node, kind_of: Callable[[str], str]) -> Callable[[Doc], bool]:
    """A two-valued predicate of a script expression: null means no match (fold leaves first)."""
    tri = _truth(compile_expr(node, kind_of))
    return lambda doc: tri(doc) is True


def literal_pattern(text: str) -> str:
    """A wildcard pattern matching ``text`` literally (for translators)."""
    return escape_wildcard(text)
