"""EQL (Elastic Event Query Language) parser.

Reads event queries (``<category> where <condition>``, ``any where``), sequences
(``sequence [by k, ...] [with maxspan=5m] [q] [by k] [with runs=N] ... [until [q]]``) and
the ``head``/``tail``/``filter`` pipes, into the common AST.

Why conditions become field leaves where possible: Elasticsearch turns
``field == "x"`` into a term query, ``field : "x*"`` into a case-insensitive wildcard
query, ``field in (...)`` into a terms query, ``like``/``regex`` into wildcard/regexp
queries and ``field < 5`` into a range, and those have two-valued logic on missing fields
(``not`` of a missing field matches). Anything else (a comparison between two fields,
arithmetic, functions) stays an expression node (``Compare``, ``Predicate``) and is run
with null semantics by the evaluator (see ``eql_runtime``). Function names are checked
against Elastic's EQL function reference here, so a typo is a parse error with a position.
"""

from __future__ import annotations

import re
from typing import Any

from ctdetect.query import ast
from ctdetect.query._larkutil import first_token, line_col, run_parser
from ctdetect.query.eql_runtime import FUNCTIONS
from ctdetect.query.errors import QueryParseError
from ctdetect.timeutil import es_time_ms

LANGUAGE = "eql"

#: one segment of a field path with backtick-quoted parts (a.`0`.b): a quoted or a plain name
_BQ_SEGMENT = re.compile(r"`(?:``|[^`])+`|[^.`]+")

GRAMMAR = r"""
start: query pipe*

?query: event_query
      | sequence
      | sample

event_query: category WHERE expr
category: NAME | STRING

sequence: SEQUENCE seq_opt* step+ until?
seq_opt: BY field_list                       -> seq_by
       | WITH MAXSPAN "=" INT NAME?          -> seq_maxspan
sample: SAMPLE (BY field_list)? step+
step: BANG? LSQB event_query RSQB step_opt*
step_opt: BY field_list                      -> step_by
        | WITH RUNS "=" INT                  -> step_runs
until: UNTIL LSQB event_query RSQB (BY field_list)?
field_list: field ("," field)*

pipe: PIPE NAME (expr ("," expr)*)?

?expr: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: not_expr (AND not_expr)*
?not_expr: NOT not_expr                      -> negation
         | predicate
?predicate: sum CMP sum                      -> compare
          | sum COLON sum                    -> ci_equals
          | sum NOT IN TILDE? sum            -> not_in
          | sum IN TILDE? sum                -> in_list
          | sum LIKE TILDE? sum              -> like
          | sum REGEX TILDE? sum             -> regex
          | sum
?sum: product (ADDOP product)*
?product: unary (MULOP unary)*
?unary: ADDOP unary                          -> unary_sign
      | atom
?atom: literal
     | field
     | call
     | LPAR expr ("," expr)* RPAR            -> paren
call: NAME TILDE? LPAR (expr ("," expr)*)? RPAR
field: QMARK? (NAME | BQNAME)
literal: STRING | RAWSTRING | SQSTRING | INT | DECIMAL | TRUE | FALSE | NULL

AND: "and"i
OR: "or"i
NOT: "not"i
IN: "in"i
LIKE: "like"i
REGEX: "regex"i
WHERE: "where"i
SEQUENCE: "sequence"i
SAMPLE: "sample"i
BY: "by"i
WITH: "with"i
UNTIL: "until"i
MAXSPAN: "maxspan"i
RUNS: "runs"i
TRUE: "true"i
FALSE: "false"i
NULL: "null"i

CMP: "==" | "!=" | "<=" | ">=" | "<" | ">"
COLON: ":"
TILDE: "~"
QMARK: "?"
BANG: "!"
PIPE: "|"
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"
ADDOP: "+" | "-"
MULOP: "*" | "/" | "%"
NAME: /[a-z_@][a-z0-9_@.]*/i
BQNAME.2: /(?:[a-z_@][a-z0-9_@]*\.)*`(?:``|[^`])+`(?:\.(?:[a-z0-9_@]+|`(?:``|[^`])+`))*/i
RAWSTRING.3: /\"\"\"(?:.|\n)*?\"\"\"/
STRING.2: /"(?:\\.|[^"\\\n])*"/
SQSTRING: /'(?:\\.|[^'\\\n])*'/
DECIMAL.2: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/
INT: /\d+/
COMMENT: /\/\*(?:.|\n)*?\*\// | /\/\/[^\n]*/

%import common.WS
%ignore WS
%ignore COMMENT
"""

_SPAN_UNITS = ("ms", "s", "m", "h", "d")  # an Elasticsearch time value, read by ctdetect.timeutil
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "'": "'", "\\": "\\"}
_UNICODE = re.compile(r"u\{([0-9a-fA-F]{2,8})\}")
_PIPES = {"head", "tail", "filter"}


def parse_eql(text: str) -> ast.Node:
    """Parse an EQL query into AST (``EventQuery``, ``Sequence``, or ``Piped``)."""
    return run_parser(GRAMMAR, text, LANGUAGE, lambda tree, source: _Builder(source).build(tree), lexer="basic")


def _is_token(item: Any) -> bool:
    return hasattr(item, "type")


class _List:
    """A parenthesised list of values (only valid after ``in``, ``:``, ``like``, ``regex``)."""

    def __init__(self, items: list[ast.Node], pos: ast.Position | None) -> None:
        self.items = items
        self.pos = pos


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.optional: list[str] = []

    # ----------------------------------------------------------------- helpers

    def error(self, message: str, item: Any) -> QueryParseError:
        pos = self.pos(item)
        if pos is None:
            return QueryParseError(message, 1, 1, LANGUAGE)
        return QueryParseError(message, pos.line, pos.column, LANGUAGE)

    def pos(self, item: Any) -> ast.Position | None:
        if isinstance(item, ast.Position):
            return item
        if isinstance(item, (ast.Node, _List)):
            return getattr(item, "pos", None)
        if _is_token(item) and item.line is not None:
            return ast.Position(item.line, item.column)
        tok = first_token(item)
        return ast.Position(tok.line, tok.column) if tok is not None and tok.line is not None else None

    def string(self, token: Any) -> str:
        raw = token.value
        if token.type == "RAWSTRING":
            return raw[3:-3]
        if token.type == "SQSTRING":
            raise self.error("strings take double quotes in EQL", token)
        body = raw[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            m = _UNICODE.match(body, i + 1)
            if m:
                code = int(m.group(1), 16)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise self._offset_error("invalid unicode escape", token, i + 1)
                out.append(chr(code))
                i = m.end()
                continue
            raise self._offset_error(f"invalid escape sequence '\\{nxt}'", token, i + 1)
        return "".join(out)

    def _offset_error(self, message: str, token: Any, offset_in_token: int) -> QueryParseError:
        line, col = line_col(self.source, token.start_pos + offset_in_token)
        return QueryParseError(message, line, col, LANGUAGE)

    # ----------------------------------------------------------------- structure

    def build(self, tree: Any) -> ast.Node:
        children = tree.children
        query = self.query(children[0])
        pipes = [self.pipe(p) for p in children[1:]]
        if not pipes:
            return query
        if isinstance(query, ast.Sequence) and any(p.name == "filter" for p in pipes):
            raise self.error("the filter pipe applies to event queries, not sequences", children[1])
        return ast.Piped(query, tuple(pipes), pos=query.pos)

    def query(self, tree: Any) -> ast.Node:
        if tree.data == "event_query":
            return self.event_query(tree)
        if tree.data == "sample":
            return self.sample(tree)
        return self.sequence(tree)

    def sample(self, tree: Any) -> ast.Sample:
        parts = [c for c in tree.children if not _is_token(c)]
        by = self.field_list(parts[0]) if parts and parts[0].data == "field_list" else ()
        steps = [self.step(c) for c in parts if c.data == "step"]
        if len(steps) < 2:
            raise self.error("a sample needs at least two queries", tree)
        if any(s.missing for s in steps):
            raise self.error("a sample cannot have missing-event steps (![...])", tree)
        return ast.Sample(tuple(steps), by, pos=self.pos(tree))

    def event_query(self, tree: Any) -> ast.EventQuery:
        category_tree, _where, expr = tree.children
        (tok,) = category_tree.children
        category = self.string(tok) if tok.type == "STRING" else tok.value
        saved = self.optional
        self.optional = []
        condition = self.condition(expr)
        optional = tuple(dict.fromkeys(self.optional))
        self.optional = saved + list(optional)
        return ast.EventQuery(category, condition, optional, pos=self.pos(tok))

    def field_list(self, tree: Any) -> tuple[str, ...]:
        return tuple(self.field(f).name for f in tree.children if not _is_token(f))

    def sequence(self, tree: Any) -> ast.Sequence:
        by: tuple[str, ...] = ()
        maxspan: int | None = None
        steps: list[ast.SequenceStep] = []
        until: ast.SequenceStep | None = None
        for child in tree.children:
            if _is_token(child):
                continue
            if child.data == "seq_by":
                by = by + self.field_list(child.children[1])
            elif child.data == "seq_maxspan":
                toks = child.children
                amount = int(toks[2].value)
                unit = toks[3].value if len(toks) > 3 else None
                if unit is None:
                    raise self.error("maxspan needs a time unit (ms, s, m, h, d)", toks[2])
                if unit not in _SPAN_UNITS:
                    raise self.error(f"unknown time unit {unit!r} (expected ms, s, m, h or d)", toks[3])
                maxspan = es_time_ms(f"{amount}{unit}")
            elif child.data == "step":
                steps.append(self.step(child))
            elif child.data == "until":
                parts = [c for c in child.children if not _is_token(c)]
                query = self.event_query(parts[0])
                until_by = self.field_list(parts[1]) if len(parts) > 1 else ()
                until = ast.SequenceStep(query, until_by, pos=query.pos)
        total = sum(s.runs for s in steps)
        if total < 2 or all(s.missing for s in steps):
            raise self.error("a sequence needs at least two queries", tree)
        widths = {len(s.by) for s in steps} | ({len(until.by)} if until else set())
        if len(widths) > 1:
            raise self.error("every sequence step must have the same number of join keys", tree)
        return ast.Sequence(tuple(steps), by, maxspan, until, pos=self.pos(tree))

    def step(self, tree: Any) -> ast.SequenceStep:
        missing = any(_is_token(c) and c.type == "BANG" for c in tree.children)
        parts = [c for c in tree.children if not _is_token(c)]
        query = self.event_query(parts[0])
        by: tuple[str, ...] = ()
        runs = 1
        for opt in parts[1:]:
            if opt.data == "step_by":
                by = by + self.field_list(opt.children[1])
            else:
                runs = int(opt.children[-1].value)
                if not 1 <= runs <= 100:
                    raise self.error("runs must be between 1 and 100", opt.children[-1])
        return ast.SequenceStep(query, by, runs, pos=query.pos, missing=missing)

    def pipe(self, tree: Any) -> ast.Pipe:
        name_tok = tree.children[1]
        name = name_tok.value.lower()
        args_trees = [c for c in tree.children[2:] if not _is_token(c)]
        if name not in _PIPES:
            raise self.error(f"unsupported pipe {name_tok.value!r} (expected head, tail or filter)", name_tok)
        if name in ("head", "tail"):
            args = [self.value(a) for a in args_trees]
            if len(args) != 1 or not isinstance(args[0], ast.Literal) or type(args[0].value) is not int or args[0].value < 0:
                raise self.error(f"{name} takes one non-negative integer", name_tok)
            return ast.Pipe(name, (args[0],), pos=self.pos(name_tok))
        if len(args_trees) != 1:
            raise self.error("filter takes one condition", name_tok)
        return ast.Pipe(name, (self.condition(args_trees[0]),), pos=self.pos(name_tok))

    # ----------------------------------------------------------------- conditions

    def condition(self, tree: Any) -> ast.Node:
        kind = getattr(tree, "data", None)
        if kind == "or_expr":
            return ast.Or(tuple(self.condition(c) for c in tree.children if not _is_token(c)), pos=self.pos(tree))
        if kind == "and_expr":
            return ast.And(tuple(self.condition(c) for c in tree.children if not _is_token(c)), pos=self.pos(tree))
        if kind == "negation":
            return ast.Not(self.condition(tree.children[1]), pos=self.pos(tree))
        if kind == "paren":
            items = [c for c in tree.children if not _is_token(c)]
            if len(items) == 1:
                return self.condition(items[0])
            raise self.error("a list of values is not a condition", tree)
        if kind == "compare":
            left, op, right = tree.children
            return self.comparison(op.value, self.value(left), self.value(right), op)
        if kind == "ci_equals":
            left, op, right = tree.children
            return self.ci_equals(self.value(left), self.value_or_list(right), op)
        if kind in ("in_list", "not_in"):
            toks = [c for c in tree.children if _is_token(c)]
            vals = [c for c in tree.children if not _is_token(c)]
            ci = any(t.type == "TILDE" for t in toks)
            node = self.in_list(self.value(vals[0]), self.value_or_list(vals[1], force_list=True), ci, tree)
            return ast.Not(node, pos=node.pos) if kind == "not_in" else node
        if kind in ("like", "regex"):
            toks = [c for c in tree.children if _is_token(c)]
            vals = [c for c in tree.children if not _is_token(c)]
            ci = any(t.type == "TILDE" for t in toks)
            return self.pattern(kind, self.value(vals[0]), self.value_or_list(vals[1]), ci, tree)
        value = self.value(tree)
        if isinstance(value, ast.Literal):
            if value.value is True:
                return ast.MatchAll(pos=value.pos)
            if value.value is False or value.value is None:
                return ast.MatchNone(pos=value.pos)
            raise self.error(f"{value.value!r} is not a condition", tree)
        if isinstance(value, ast.Arithmetic):
            raise self.error("an arithmetic expression is not a condition", tree)
        if isinstance(value, ast.FunctionCall) and value.name not in _BOOLEAN_FUNCTIONS:
            raise self.error(f"{value.name} does not return a boolean", tree)
        return ast.Predicate(value, pos=value.pos)

    def comparison(self, op: str, left: ast.Node, right: ast.Node, tok: Any) -> ast.Node:
        if isinstance(left, ast.Literal) and isinstance(right, ast.FieldRef):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            return self.comparison(flipped, right, left, tok)
        if isinstance(left, ast.FieldRef) and isinstance(right, ast.Literal):
            field, value, pos = left.name, right.value, left.pos
            if value is None:
                if op == "==":
                    return ast.Not(ast.Exists(field, pos=pos), pos=pos)
                if op == "!=":
                    return ast.Exists(field, pos=pos)
                raise self.error("null can only be compared with == or !=", tok)
            if op == "==":
                return ast.Term(field, value, pos=pos)
            if op == "!=":
                return ast.Not(ast.Term(field, value, pos=pos), pos=pos)
            key = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[op]
            return ast.Range(field, **{key: value}, pos=pos)
        self.check_comparable(left, right, tok)
        return ast.Compare(op, left, right, pos=self.pos(left) or self.pos(tok))

    def check_comparable(self, left: ast.Node, right: ast.Node, tok: Any) -> None:
        if isinstance(left, ast.Literal) and isinstance(right, ast.Literal):
            lv, rv = left.value, right.value
            if isinstance(lv, str) != isinstance(rv, str) and lv is not None and rv is not None:
                raise self.error("cannot compare a string with a number", tok)

    def ci_equals(self, left: ast.Node, right: ast.Node | _List, tok: Any) -> ast.Node:
        items = right.items if isinstance(right, _List) else [right]
        nodes: list[ast.Node] = []
        for item in items:
            if isinstance(left, ast.FieldRef) and isinstance(item, ast.Literal):
                value = item.value
                if value is None:
                    nodes.append(ast.Not(ast.Exists(left.name, pos=left.pos), pos=left.pos))
                elif isinstance(value, str) and ("*" in value or "?" in value):
                    nodes.append(ast.Wildcard(left.name, value, case_insensitive=True, pos=left.pos))
                else:
                    nodes.append(ast.Term(left.name, value, case_insensitive=True, pos=left.pos))
            else:
                if not isinstance(item, ast.Literal):
                    raise self.error("the right side of ':' must be a literal", tok)
                nodes.append(ast.Compare(":", left, item, case_insensitive=True, pos=self.pos(left)))
        return nodes[0] if len(nodes) == 1 else ast.Or(tuple(nodes), pos=self.pos(left))

    def in_list(self, left: ast.Node, right: ast.Node | _List, ci: bool, tree: Any) -> ast.Node:
        items = right.items if isinstance(right, _List) else [right]
        if isinstance(left, ast.FieldRef) and all(isinstance(i, ast.Literal) and i.value is not None for i in items):
            return ast.Terms(left.name, tuple(i.value for i in items), case_insensitive=ci, pos=left.pos)  # type: ignore[attr-defined]
        nodes = [ast.Compare("==", left, item, case_insensitive=ci, pos=self.pos(left)) for item in items]
        return nodes[0] if len(nodes) == 1 else ast.Or(tuple(nodes), pos=self.pos(left))

    def pattern(self, kind: str, left: ast.Node, right: ast.Node | _List, ci: bool, tree: Any) -> ast.Node:
        items = right.items if isinstance(right, _List) else [right]
        if not isinstance(left, ast.FieldRef):
            raise self.error(f"the left side of {kind} must be a field", tree)
        nodes: list[ast.Node] = []
        for item in items:
            if not isinstance(item, ast.Literal) or not isinstance(item.value, str):
                raise self.error(f"{kind} takes string patterns", tree)
            if kind == "like":
                nodes.append(ast.Wildcard(left.name, item.value, case_insensitive=ci, pos=left.pos))
            else:
                from ctdetect.query.regex import RegexSyntaxError, lucene_regex

                try:
                    lucene_regex(item.value, ci)
                except RegexSyntaxError as exc:
                    raise self.error(f"invalid regular expression: {exc}", item.pos or tree) from None
                nodes.append(ast.Regexp(left.name, item.value, case_insensitive=ci, pos=left.pos))
        return nodes[0] if len(nodes) == 1 else ast.Or(tuple(nodes), pos=left.pos)

    # ----------------------------------------------------------------- values

    def value_or_list(self, tree: Any, force_list: bool = False) -> ast.Node | _List:
        if getattr(tree, "data", None) == "paren":
            items = [self.value(c) for c in tree.children if not _is_token(c)]
            if len(items) > 1 or force_list:
                return _List(items, self.pos(tree))
            return items[0]
        if force_list:
            raise self.error("in takes a parenthesised list of values", tree)
        return self.value(tree)

    def field(self, tree: Any) -> ast.FieldRef:
        toks = tree.children
        optional = toks[0].type == "QMARK"
        name_tok = toks[-1]
        name = name_tok.value
        if name_tok.type == "BQNAME":
            name = ".".join(seg[1:-1].replace("``", "`") if seg.startswith("`") else seg for seg in _BQ_SEGMENT.findall(name))
        if not name or name.endswith(".") or ".." in name:
            raise self.error(f"invalid field name {name!r}", name_tok)
        if optional:
            self.optional.append(name)
        return ast.FieldRef(name, optional, pos=self.pos(toks[0]))

    def value(self, tree: Any) -> ast.Node:
        kind = getattr(tree, "data", None)
        if kind == "literal":
            return self.literal(tree.children[0])
        if kind == "field":
            return self.field(tree)
        if kind == "call":
            return self.call(tree)
        if kind == "paren":
            items = [c for c in tree.children if not _is_token(c)]
            if len(items) != 1:
                raise self.error("a list of values is only allowed after in, :, like or regex", tree)
            return self.value(items[0])
        if kind == "sum" or kind == "product":
            children = tree.children
            node = self.value(children[0])
            for i in range(1, len(children), 2):
                node = self.arith(children[i].value, node, self.value(children[i + 1]), children[i])
            return node
        if kind == "unary_sign":
            sign, operand = tree.children
            inner = self.value(operand)
            if isinstance(inner, ast.Literal) and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                return ast.Literal(-inner.value if sign.value == "-" else inner.value, pos=self.pos(sign))
            if sign.value == "+":
                return inner
            return self.arith("*", ast.Literal(-1, pos=self.pos(sign)), inner, sign)
        if kind in ("compare", "ci_equals", "in_list", "not_in", "like", "regex", "negation", "or_expr", "and_expr"):
            raise self.error("a condition cannot be used as a value here", tree)
        raise self.error("unexpected expression", tree)  # pragma: no cover

    def arith(self, op: str, left: ast.Node, right: ast.Node, tok: Any) -> ast.Node:
        for side in (left, right):
            if isinstance(side, ast.Literal) and not (isinstance(side.value, (int, float)) and not isinstance(side.value, bool)):
                raise self.error(f"arithmetic needs numbers, got {side.value!r}", tok)
        if op in "/%" and isinstance(right, ast.Literal) and right.value == 0:
            raise self.error("division by zero", tok)
        return ast.Arithmetic(op, left, right, pos=self.pos(left) or self.pos(tok))

    def literal(self, tok: Any) -> ast.Literal:
        pos = self.pos(tok)
        t = tok.type
        if t in ("STRING", "RAWSTRING", "SQSTRING"):
            return ast.Literal(self.string(tok), pos=pos)
        if t == "INT":
            value = int(tok.value)
            if value > 2**63 - 1:
                raise self.error("number too large", tok)
            return ast.Literal(value, pos=pos)
        if t == "DECIMAL":
            value_f = float(tok.value)
            if value_f != value_f or value_f in (float("inf"), float("-inf")):
                raise self.error("number out of range", tok)
            return ast.Literal(value_f, pos=pos)
        if t == "TRUE":
            return ast.Literal(True, pos=pos)
        if t == "FALSE":
            return ast.Literal(False, pos=pos)
        return ast.Literal(None, pos=pos)

    def call(self, tree: Any) -> ast.FunctionCall:
        name_tok = tree.children[0]
        ci = any(_is_token(c) and c.type == "TILDE" for c in tree.children)
        args = tuple(self.value(c) for c in tree.children if not _is_token(c))
        spec = FUNCTIONS.get(name_tok.value.lower())
        if spec is None:
            raise self.error(f"unknown function {name_tok.value!r}", name_tok)
        canonical, low, high, allows_ci = spec
        if name_tok.value != canonical and name_tok.value.lower() != canonical.lower():
            raise self.error(f"unknown function {name_tok.value!r}", name_tok)  # pragma: no cover
        if ci and not allows_ci:
            raise self.error(f"{canonical} has no case-insensitive (~) form", name_tok)
        if len(args) < low or (high is not None and len(args) > high):
            expected = f"{low}" if low == high else (f"{low} or more" if high is None else f"{low} to {high}")
            raise self.error(f"{canonical} takes {expected} arguments, got {len(args)}", name_tok)
        return ast.FunctionCall(canonical, args, ci, pos=self.pos(name_tok))


_BOOLEAN_FUNCTIONS = {"startsWith", "endsWith", "stringContains", "cidrMatch"}
