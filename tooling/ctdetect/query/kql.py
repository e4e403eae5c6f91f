"""KQL (Kibana Query Language, "kuery") parser.

The grammar follows Kibana's kuery grammar: ``or`` binds loosest, then ``and``, then
``not``; parentheses group; ``field: value``, ``field: (a or b and not c)`` (the field is
distributed over the value list), ``field < value`` ranges, ``field: *`` existence,
``field: { nested query }``, quoted phrases, ``*`` wildcards in values and field names,
backslash escapes, and free text without a field.

How values map to AST, as Kibana maps them to Elasticsearch queries:

- unquoted value -> ``Match`` (exact on keyword, analysed on text); with an unescaped
  ``*`` -> ``Wildcard``; a lone ``*`` -> ``Exists`` (or ``MatchAll`` without a field);
- quoted value -> ``Phrase`` (``*`` inside quotes is literal);
- ``field: { q }`` -> ``q`` with its fields prefixed by ``field.`` (documents are flat, so
  a nested query reads the same dotted names).

Lexing is done by lark with one token per whitespace-separated word; a multi-word
unquoted value (``message: quick brown fox``) is re-read from the source text between its
first and last word, as Kibana keeps the inner whitespace.
"""

from __future__ import annotations

from typing import Any

from ctdetect.query import ast
from ctdetect.query._larkutil import first_token, line_col, run_parser
from ctdetect.query.errors import QueryParseError

LANGUAGE = "kuery"

GRAMMAR = r"""
start: or_query?

?or_query: and_query (OR and_query)*
?and_query: not_query (AND not_query)*
?not_query: NOT not_query            -> negation
          | sub_query
?sub_query: LPAR or_query RPAR       -> group
          | field COLON LBRACE or_query RBRACE -> nested
          | field RANGE_OP literal   -> range
          | field COLON value_list   -> field_value
          | value                    -> free_value

field: words | STRING
literal: words | STRING
value: words | STRING

?value_list: LPAR or_values RPAR     -> value_group
           | value
?or_values: and_values (OR and_values)*
?and_values: not_values (AND not_values)*
?not_values: NOT not_values          -> value_negation
           | value_list

words: WORD+

OR: "or"i
AND: "and"i
NOT: "not"i
LPAR: "("
RPAR: ")"
LBRACE: "{"
RBRACE: "}"
COLON: ":"
RANGE_OP: "<=" | ">=" | "<" | ">"
STRING: /"(?:\\.|[^"\\])*"/
WORD: /(?:\\.|[^\s\\():<>"{}])+/i

%import common.WS
%ignore WS
"""

_SPECIAL = set('\\():<>"*{}')
_KEYWORDS = ("or", "and", "not")


def parse_kql(text: str) -> ast.Node:
    """Parse a KQL query into AST; an empty query matches everything."""
    return run_parser(GRAMMAR, text, LANGUAGE, lambda tree, source: _Builder(source).build(tree))


class _Builder:
    """Walks the lark tree into AST nodes, reading raw value text from the source."""

    def __init__(self, source: str) -> None:
        self.source = source

    # ----------------------------------------------------------------- helpers

    def _pos(self, item: Any) -> ast.Position | None:
        if hasattr(item, "line") and item.line is not None:
            return ast.Position(item.line, item.column)
        tok = first_token(item)
        return ast.Position(tok.line, tok.column) if tok is not None and tok.line is not None else None

    def _error(self, message: str, offset: int) -> QueryParseError:
        line, col = line_col(self.source, offset)
        return QueryParseError(message, line, col, LANGUAGE)

    def _raw_words(self, words_tree: Any) -> tuple[str, int]:
        toks = words_tree.children
        start, end = toks[0].start_pos, toks[-1].end_pos
        return self.source[start:end], start

    def _unquoted(self, raw: str, offset: int) -> tuple[str, str, bool]:
        """(literal value, Lucene wildcard pattern, has an unescaped ``*``)."""
        literal: list[str] = []
        pattern: list[str] = []
        wild = False
        i = 0
        n = len(raw)
        while i < n:
            ch = raw[i]
            if ch == "\\":
                if i + 1 >= n:
                    raise self._error("a backslash must escape a character", offset + i)
                nxt = raw[i + 1]
                if nxt in "trn":
                    real = {"t": "\t", "r": "\r", "n": "\n"}[nxt]
                    i += 2
                elif nxt == "u" and len(raw[i + 2 : i + 6]) == 4 and all(c in "0123456789abcdefABCDEF" for c in raw[i + 2 : i + 6]):
                    real = chr(int(raw[i + 2 : i + 6], 16))
                    i += 6
                elif nxt in _SPECIAL:
                    real = nxt
                    i += 2
                elif any(raw[i + 1 : i + 1 + len(k)].lower() == k for k in _KEYWORDS):
                    # An escaped keyword (``\\or``) is the plain word.
                    real = ""
                    i += 1
                    continue
                else:
                    raise self._error(f"invalid escape sequence '\\{nxt}'", offset + i)
                literal.append(real)
                pattern.append("\\" + real if real in "*?\\" else real)
                continue
            if ch == "*":
                wild = True
                pattern.append("*")
                literal.append("*")
            else:
                literal.append(ch)
                pattern.append("\\" + ch if ch in "?\\" else ch)
            i += 1
        return "".join(literal), "".join(pattern), wild

    def _quoted(self, token: Any) -> str:
        body = token.value[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                if nxt in "trn":
                    out.append({"t": "\t", "r": "\r", "n": "\n"}[nxt])
                    i += 2
                    continue
                if nxt in '\\"':
                    out.append(nxt)
                    i += 2
                    continue
            out.append(ch)
            i += 1
        return "".join(out)

    def _field_name(self, tree: Any) -> str:
        (item,) = tree.children
        if getattr(item, "type", None) == "STRING":
            return self._quoted(item)
        raw, offset = self._raw_words(item)
        literal, _, _ = self._unquoted(raw, offset)
        if not literal.strip():
            raise self._error("empty field name", offset)
        return literal

    def _literal(self, tree: Any) -> str:
        (item,) = tree.children
        if getattr(item, "type", None) == "STRING":
            return self._quoted(item)
        raw, offset = self._raw_words(item)
        literal, _, _ = self._unquoted(raw, offset)
        return literal

    def _value(self, tree: Any, field: str | None) -> ast.Node:
        (item,) = tree.children
        pos = self._pos(item) if getattr(item, "type", None) else self._pos(item.children[0])
        if getattr(item, "type", None) == "STRING":
            return ast.Phrase(field, self._quoted(item), pos=pos)
        raw, offset = self._raw_words(item)
        literal, pattern, wild = self._unquoted(raw, offset)
        if wild:
            if pattern == "*":
                return ast.MatchAll(pos=pos) if field is None else ast.Exists(field, pos=pos)
            return ast.Wildcard(field, pattern, pos=pos)
        return ast.Match(field, literal, pos=pos)

    # ----------------------------------------------------------------- tree walk

    def build(self, tree: Any) -> ast.Node:
        if not tree.children:
            return ast.MatchAll(pos=ast.Position(1, 1))
        return self.node(tree.children[0], "")

    def node(self, tree: Any, prefix: str) -> ast.Node:
        kind = tree.data
        if kind == "or_query":
            return ast.Or(tuple(self.node(c, prefix) for c in tree.children if not _is_token(c)), pos=self._pos(tree))
        if kind == "and_query":
            return ast.And(tuple(self.node(c, prefix) for c in tree.children if not _is_token(c)), pos=self._pos(tree))
        if kind == "negation":
            return ast.Not(self.node(tree.children[1], prefix), pos=self._pos(tree))
        if kind == "group":
            return self.node(tree.children[1], prefix)
        if kind == "nested":
            field = prefix + self._field_name(tree.children[0])
            return self.node(tree.children[3], field + ".")
        if kind == "range":
            field_tree, op, lit = tree.children
            field = prefix + self._field_name(field_tree)
            bound = self._literal(lit)
            key = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[op.value]
            return ast.Range(field, **{key: bound}, pos=self._pos(field_tree))
        if kind == "field_value":
            field = prefix + self._field_name(tree.children[0])
            return self.values(tree.children[2], field)
        if kind == "free_value":
            return self._value(tree.children[0], None)
        raise self._error(f"unexpected construct {kind}", 0)  # pragma: no cover

    def values(self, tree: Any, field: str) -> ast.Node:
        kind = tree.data
        if kind == "value":
            return self._value(tree, field)
        if kind == "value_group":
            return self.values(tree.children[1], field)
        if kind == "or_values":
            return ast.Or(tuple(self.values(c, field) for c in tree.children if not _is_token(c)), pos=self._pos(tree))
        if kind == "and_values":
            return ast.And(tuple(self.values(c, field) for c in tree.children if not _is_token(c)), pos=self._pos(tree))
        if kind == "value_negation":
            return ast.Not(self.values(tree.children[1], field), pos=self._pos(tree))
        raise self._error(f"unexpected construct {kind}", 0)  # pragma: no cover


def _is_token(item: Any) -> bool:
    return hasattr(item, "type")
