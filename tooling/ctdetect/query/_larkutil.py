"""Lark plumbing shared by the text parsers: lazy parser construction and error mapping.

Why: building a LALR table costs milliseconds, which matters when ``ctdetect --help`` or a
command that never parses a query imports this package. Each grammar is therefore compiled
once, on first use. And every failure inside lark (unexpected token, unexpected
character, an exception raised by a transformer callback) must reach callers as one
``QueryParseError`` with a 1-based line and column, never as a lark exception.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from ctdetect.query.errors import QueryParseError


@lru_cache(maxsize=None)
def build_parser(grammar: str, start: str = "start", lexer: str = "contextual") -> Any:
    """The LALR parser for ``grammar``, built once per process."""
    from lark import Lark

    # cache=True keeps the compiled tables in the temp directory, keyed by grammar and
    # lark version, so a fresh process builds a parser in milliseconds.
    return Lark(grammar, parser="lalr", lexer=lexer, start=start, propagate_positions=False, maybe_placeholders=False, cache=True)


def first_token(tree: Any) -> Any:
    """The first token under ``tree`` (positions are read from tokens: propagating them
    onto every tree node would double parse time)."""
    node = tree
    while hasattr(node, "children"):
        if not node.children:
            return None
        node = node.children[0]
    return node


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


#: How grammar terminals read in an error message (rule authors do not know LPAR or WORD).
_TERMINAL_TEXT = {
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'", "RBRACE": "'}'",
    "COLON": "':'", "COMMA": "','", "TILDE": "'~'", "QMARK": "'?'", "PIPE": "'|'", "PLUS": "'+'", "MINUS": "'-'",
    "WORD": "a value", "STRING": "a quoted string", "RAWSTRING": "a quoted string", "SQSTRING": "a quoted string",
    "PHRASE": "a quoted phrase", "TERM": "a term", "NAME": "a name", "BQNAME": "a `field`", "INT": "a number",
    "DECIMAL": "a number", "REGEX": "a /regex/", "RANGEOP": "a comparison", "RANGE_OP": "a comparison",
    "CMP": "a comparison", "ADDOP": "'+' or '-'", "MULOP": "'*', '/' or '%'", "RANGE_START": "'[' or '{'",
    "RANGE_END": "']' or '}'", "RANGE_GOOP": "a range bound", "BOOST": "a boost", "FUZZY": "'~'",
    "AMPS": "'&&'", "PIPES": "'||'", "BANG": "'!'", "$END": "the end of the query",
}


def _describe_expected(expected: Any) -> str:
    names = sorted({_TERMINAL_TEXT.get(str(e), str(e)) for e in (expected or ())})
    if not names:
        return ""
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f" (expected one of: {shown})"


def run_parser(grammar: str, text: str, language: str, build: Callable[[Any, str], Any], *, lexer: str = "contextual") -> Any:
    """Parse ``text`` with ``grammar`` and turn the tree into AST with ``build(tree, text)``.

    Any lark error, or a ``QueryParseError`` raised by ``build``, becomes a
    ``QueryParseError`` tagged with ``language`` and a position in ``text``. ``lexer``
    ``basic`` suits a grammar whose tokens never depend on the parser state (a quarter
    faster than ``contextual`` on Elastic's EQL rules).
    """
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

    if not isinstance(text, str):
        raise QueryParseError(f"query must be text, not {type(text).__name__}", 1, 1, language)
    parser = build_parser(grammar, lexer=lexer)
    try:
        tree = parser.parse(text)
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            line, col = line_col(text, len(text))
            raise QueryParseError("unexpected end of query" + _describe_expected(exc.accepts or exc.expected), line, col, language) from None
        line, col = line_col(text, tok.start_pos if tok.start_pos is not None else 0)
        raise QueryParseError(f"unexpected {str(tok)!r}" + _describe_expected(exc.accepts or exc.expected), line, col, language) from None
    except UnexpectedCharacters as exc:
        line, col = line_col(text, exc.pos_in_stream)
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        raise QueryParseError(f"unexpected character {ch!r}", line, col, language) from None
    except UnexpectedEOF:
        line, col = line_col(text, len(text))
        raise QueryParseError("unexpected end of query", line, col, language) from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark input errors
        line, col = line_col(text, getattr(exc, "pos_in_stream", 0) or 0)
        raise QueryParseError(str(exc).splitlines()[0], line, col, language) from None
    except RecursionError:
        raise QueryParseError("query nested too deeply", 1, 1, language) from None
    try:
        return build(tree, text)
    except QueryParseError as exc:
        if not exc.language:
            raise QueryParseError(exc.message, exc.line or 1, exc.column or 1, language) from None
        raise
    except VisitError as exc:  # pragma: no cover - build code wraps its own errors
        orig = exc.orig_exc
        if isinstance(orig, QueryParseError):
            raise QueryParseError(orig.message, orig.line or 1, orig.column or 1, language) from None
        raise QueryParseError(str(orig), 1, 1, language) from None
    except RecursionError:
        raise QueryParseError("query nested too deeply", 1, 1, language) from None
