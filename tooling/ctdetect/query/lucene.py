"""Lucene query_string syntax parser (Kibana "lucene" rules, ES ``query_string``).

Covers ``field:value``, ``AND``/``OR``/``NOT`` and ``&&``/``||``/``!``, ``+``/``-``
modifiers, grouping (also ``field:(a b)``), quoted phrases, ``*``/``?`` wildcards,
``/regex/``, ranges ``[a TO b]``, ``{a TO b}`` (mixed brackets, ``*`` open ends) and
``field:>=x``, ``_exists_:field``, backslash escapes, boosts (ignored: they only score),
and terms without a field (the default field(s), or every field).

Why the boolean logic looks odd: Elasticsearch uses Lucene's classic parser, which does
not give ``AND`` precedence over ``OR``. Each clause gets an occurrence (must, should,
must_not) from the conjunction before it and its modifier, and the default operator;
``a AND b OR c`` is ``+a +b c``, i.e. ``a AND b``. When a group has a required clause its
optional clauses do not affect matching; a group of only negated clauses matches every
other document (Elasticsearch adds a match-all). This module reproduces that.
"""

from __future__ import annotations

from typing import Any

from ctdetect.query import ast
from ctdetect.query._larkutil import line_col, run_parser
from ctdetect.query.errors import QueryParseError

LANGUAGE = "lucene"

GRAMMAR = r"""
start: query?
query: clause+
clause: conj? modifier? operand
conj: AND | AMPS | OR | PIPES
modifier: PLUS | MINUS | NOT | BANG
?operand: TERM COLON value                -> fielded
        | value                           -> bare
value: LPAR query RPAR BOOST?             -> group
     | TERM FUZZY? BOOST?                 -> term
     | PHRASE FUZZY? BOOST?               -> phrase
     | REGEX BOOST?                       -> regex
     | RANGE_START rbound TO rbound RANGE_END BOOST? -> range
     | RANGEOP rvalue                     -> half_range
rbound: RANGE_GOOP | PHRASE
rvalue: TERM | PHRASE

AND: "AND"
AMPS: "&&"
OR: "OR"
PIPES: "||"
NOT: "NOT"
BANG: "!"
TO: "TO"
PLUS: "+"
MINUS: "-"
LPAR: "("
RPAR: ")"
COLON: ":"
RANGE_START: "[" | "{"
RANGE_END: "]" | "}"
RANGEOP.2: /[<>]=?/
BOOST: /\^\d+(?:\.\d+)?/
FUZZY: /~\d*(?:\.\d+)?/
PHRASE: /"(?:\\.|[^"\\])*"/
REGEX: /\/(?:\\.|[^\/\\])*\//
TERM: /(?:\\.|[^\s+\-!():^\[\]"{}~\\\/<>])(?:\\.|[^\s!():^\[\]"{}~\\\/])*/
RANGE_GOOP: /[^\s\]}"]+/

%import common.WS
%ignore WS
%ignore /\u3000/
"""

_MUST, _SHOULD, _MUST_NOT = "must", "should", "must_not"


def parse_lucene(
    text: str,
    default_fields: tuple[str | None, ...] = (None,),
    default_operator: str = "or",
) -> ast.Node:
    """Parse a query_string query. ``default_fields`` (None: every field) receive bare terms."""
    if default_operator not in ("or", "and"):
        raise QueryParseError(f"default operator must be 'or' or 'and', not {default_operator!r}", 1, 1, LANGUAGE)
    fields = tuple(default_fields) or (None,)
    return run_parser(GRAMMAR, text, LANGUAGE, lambda tree, source: _Builder(source, default_operator).build(tree, fields))


def _is_token(item: Any) -> bool:
    return hasattr(item, "type")


class _Builder:
    def __init__(self, source: str, default_operator: str) -> None:
        self.source = source
        self.operator = default_operator

    def error(self, message: str, token: Any) -> QueryParseError:
        if _is_token(token) and token.start_pos is not None:
            line, col = line_col(self.source, token.start_pos)
            return QueryParseError(message, line, col, LANGUAGE)
        return QueryParseError(message, 1, 1, LANGUAGE)

    def build(self, tree: Any, fields: tuple[str | None, ...]) -> ast.Node:
        if not tree.children:
            return ast.MatchNone(pos=ast.Position(1, 1))
        return self.query(tree.children[0], fields)

    # ----------------------------------------------------------------- boolean structure

    def query(self, tree: Any, fields: tuple[str | None, ...]) -> ast.Node:
        clauses: list[tuple[str, ast.Node]] = []
        for i, clause in enumerate(tree.children):
            conj = mod = None
            operand = None
            for part in clause.children:
                if part.data == "conj":
                    conj = {"AMPS": "AND", "PIPES": "OR"}.get(part.children[0].type, part.children[0].type)
                elif part.data == "modifier":
                    mod = {"BANG": "NOT"}.get(part.children[0].type, part.children[0].type)
                else:
                    operand = part
            if conj is not None and i == 0:
                raise self.error("a query cannot start with AND or OR", clause.children[0].children[0])
            node = self.operand(operand, fields)
            self._add_clause(clauses, conj, mod, node)
        return self._combine(clauses)

    def _add_clause(self, clauses: list[tuple[str, ast.Node]], conj: str | None, mod: str | None, node: ast.Node) -> None:
        """Lucene classic QueryParser.addClause: occurrence from conjunction, modifier, default operator."""
        if clauses and conj == "AND":
            occur, prev = clauses[-1]
            if occur != _MUST_NOT:
                clauses[-1] = (_MUST, prev)
        if clauses and self.operator == "and" and conj == "OR":
            occur, prev = clauses[-1]
            if occur != _MUST_NOT:
                clauses[-1] = (_SHOULD, prev)
        prohibited = mod in ("MINUS", "NOT")
        if self.operator == "or":
            required = mod == "PLUS" or (conj == "AND" and not prohibited)
        else:
            required = not prohibited and conj != "OR"
        if required and not prohibited:
            clauses.append((_MUST, node))
        elif not prohibited:
            clauses.append((_SHOULD, node))
        else:
            clauses.append((_MUST_NOT, node))

    def _combine(self, clauses: list[tuple[str, ast.Node]]) -> ast.Node:
        must = [n for o, n in clauses if o == _MUST]
        should = [n for o, n in clauses if o == _SHOULD]
        must_not = [ast.Not(n, pos=n.pos) for o, n in clauses if o == _MUST_NOT]
        if len(clauses) == 1 and clauses[0][0] != _MUST_NOT:
            return clauses[0][1]
        items: list[ast.Node] = list(must)
        if not must and should:
            items.append(should[0] if len(should) == 1 else ast.Or(tuple(should), pos=should[0].pos))
        items.extend(must_not)
        if len(items) == 1:
            return items[0]
        return ast.And(tuple(items), pos=items[0].pos)

    # ----------------------------------------------------------------- leaves

    def operand(self, tree: Any, fields: tuple[str | None, ...]) -> ast.Node:
        if tree.data == "fielded":
            field_tok, _colon, value = tree.children
            field = self.unescape(field_tok.value)
            if field == "_exists_":
                return self.exists_clause(value)
            target: tuple[str | None, ...] = (None,) if field == "*" else (field,)
            return self.value(value, target)
        return self.value(tree.children[0], fields)

    def exists_clause(self, value: Any) -> ast.Node:
        if value.data != "term":
            raise self.error("_exists_ takes a field name", value.children[0])
        tok = value.children[0]
        return ast.Exists(self.unescape(tok.value), pos=self.pos(tok))

    def pos(self, tok: Any) -> ast.Position | None:
        return ast.Position(tok.line, tok.column) if _is_token(tok) and tok.line is not None else None

    def unescape(self, text: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(text):
            if text[i] == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def wildcard_pattern(self, text: str) -> tuple[str, bool]:
        """Lucene wildcard pattern (escapes kept only for ``* ? \\``) and whether it has wildcards."""
        out: list[str] = []
        wild = False
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                out.append("\\" + nxt if nxt in "*?\\" else nxt)
                i += 2
                continue
            if ch in "*?":
                wild = True
            out.append(ch)
            i += 1
        return "".join(out), wild

    def _over(self, fields: tuple[str | None, ...], make: Any) -> ast.Node:
        nodes = [make(f) for f in fields]
        return nodes[0] if len(nodes) == 1 else ast.Or(tuple(nodes), pos=nodes[0].pos)

    def value(self, tree: Any, fields: tuple[str | None, ...]) -> ast.Node:
        kind = tree.data
        toks = tree.children
        if kind == "group":
            return self.query(toks[1], fields)
        if kind == "term":
            tok = toks[0]
            if len(toks) > 1 and toks[1].type == "FUZZY":
                raise self.error("fuzzy queries (~) are not supported", toks[1])
            pos = self.pos(tok)
            raw = tok.value
            if raw == "*":
                if fields == (None,):
                    return ast.MatchAll(pos=pos)
                return self._over(fields, lambda f: ast.MatchAll(pos=pos) if f is None else ast.Exists(f, pos=pos))
            pattern, wild = self.wildcard_pattern(raw)
            if wild:
                return self._over(fields, lambda f: ast.Wildcard(f, pattern, pos=pos))
            literal = self.unescape(raw)
            return self._over(fields, lambda f: ast.Match(f, literal, operator=self.operator, pos=pos))
        if kind == "phrase":
            tok = toks[0]
            if len(toks) > 1 and toks[1].type == "FUZZY" and toks[1].value not in ("~", "~0"):
                raise self.error("phrase slop (~N) is not supported", toks[1])
            text = self.unescape(tok.value[1:-1])
            pos = self.pos(tok)
            return self._over(fields, lambda f: ast.Phrase(f, text, pos=pos))
        if kind == "regex":
            tok = toks[0]
            body = tok.value[1:-1].replace("\\/", "/")
            from ctdetect.query.regex import RegexSyntaxError, lucene_regex

            try:
                lucene_regex(body)
            except RegexSyntaxError as exc:
                raise self.error(f"invalid regular expression: {exc}", tok) from None
            pos = self.pos(tok)
            return self._over(fields, lambda f: ast.Regexp(f, body, pos=pos))
        if kind == "range":
            start, low, _to, high, end = toks[:5]
            lo, hi = self.bound(low), self.bound(high)
            bounds: dict[str, Any] = {}
            if lo is not None:
                bounds["gte" if start.value == "[" else "gt"] = lo
            if hi is not None:
                bounds["lte" if end.value == "]" else "lt"] = hi
            return self._ranged(fields, bounds, start)
        if kind == "half_range":
            op, rvalue = toks
            (vtok,) = rvalue.children
            bound = self.unescape(vtok.value[1:-1]) if vtok.type == "PHRASE" else self.unescape(vtok.value)
            key = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[op.value]
            return self._ranged(fields, {key: bound}, op)
        raise self.error(f"unexpected {kind}", toks[0] if toks else None)  # pragma: no cover

    def _ranged(self, fields: tuple[str | None, ...], bounds: dict[str, Any], tok: Any) -> ast.Node:
        if any(f is None for f in fields):
            raise self.error("a range needs a field", tok)
        pos = self.pos(tok)
        return self._over(fields, lambda f: ast.Range(f, pos=pos, **bounds))

    def bound(self, tree: Any) -> str | None:
        (tok,) = tree.children
        if tok.type == "PHRASE":
            return self.unescape(tok.value[1:-1])
        return None if tok.value == "*" else self.unescape(tok.value)
